"""Notices of the negotiation (core/service/negotiation.py): a party's frame, a price set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.frames import Frame, Term
from core.service.notices import Notice


@dataclass(frozen=True)
class FrameSent(Notice):
    """A party's frame of the plan: what it must do, with whom, for what price. `platforms`:
    where the reader chats, in their preference (the one contact shown of each other party is
    one they can use); `agreed`: the reader has agreed (the buyer, by choosing); `awaited`:
    the names of those who have not. `whole`: every term and contact (/terms), not the first
    short frame."""

    kind: ClassVar[str] = "frame"
    frame: Frame
    reader: str
    platforms: tuple[str, ...] = ()
    agreed: bool = False
    awaited: tuple[str, ...] = ()
    whole: bool = False


@dataclass(frozen=True)
class PriceSet(Notice):
    """To the other parties: one of the equation's letters has a new value."""

    kind: ClassVar[str] = "frame"
    order_id: int
    setter_name: str
    term: Term
    total: str  # what P comes to now: "26.10", or "33.00 + B"
    unknowns: tuple[str, ...]  # letters nobody has quoted yet


@dataclass(frozen=True)
class PriceRecorded(PriceSet):
    """To whoever quoted: their price is recorded and the others have been told."""

    kind: ClassVar[str] = "noted"
