"""Notices of the negotiation thread (core/service/talk.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class Said(Notice):
    """A party's words, relayed to another party of the order. `handle` is how the platform
    vouches for the speaker (names may look alike); `origin` where the words were typed, so a
    platform that shows them there already does not post them twice."""

    kind: ClassVar[str] = "said"
    order_id: int
    event_id: int
    speaker: str
    speaker_name: str
    handle: str
    text: str
    origin: dict | None = None


@dataclass(frozen=True)
class PassedOn(Notice):
    """To the speaker: who heard them."""

    kind: ClassVar[str] = "passed"
    said: Said
    listeners: tuple[str, ...]  # names
