"""What a deployment sets for the conversation: values a declared command passes on to its
command class (`Command.from_settings`), such as how long the codes of /invite work."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core.service.commands import INVITE_DAYS
from core.service.participants import MAX_INVITE_DAYS


@dataclass(frozen=True)
class ChatSettings:
    invite_days: int = INVITE_DAYS  # how many days an invite code works


def invite_days_from_environment(environ: Mapping[str, str] = os.environ) -> int:
    """SCIS_INVITE_DAYS: how many days an invite code works (default 7, at most 365)."""
    text = environ.get("SCIS_INVITE_DAYS", "").strip()
    if not text:
        return INVITE_DAYS
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_INVITE_DAYS):
        raise ValueError(
            f"SCIS_INVITE_DAYS should be a whole number of days from 1 to {MAX_INVITE_DAYS}, "
            f"not {text!r}"
        )
    return int(text)
