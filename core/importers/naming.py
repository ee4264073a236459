"""Ids for records that published manifests name only in prose."""

from __future__ import annotations

import re
import unicodedata


def slug(text: str, fallback: str = "unnamed") -> str:
    """'M8 Nuts with Rubber' -> 'm8-nuts-with-rubber'; accents folded, never empty."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return cleaned or fallback
