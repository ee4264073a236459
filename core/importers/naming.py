"""Ids for records that published manifests name only in prose, unique within one import."""

from __future__ import annotations

import re
import unicodedata


def slug(text: str, fallback: str = "unnamed") -> str:
    """'M8 Nuts with Rubber' -> 'm8-nuts-with-rubber'; accents folded, never empty."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return cleaned or fallback


def unique_id(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3` … when it is taken already; the id is then taken."""
    candidate, n = wanted, 2
    while candidate in taken:
        candidate, n = f"{wanted}-{n}", n + 1
    taken.add(candidate)
    return candidate
