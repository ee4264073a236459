"""Notices of agreeing to a plan (core/service/agreement.py, core/service/orders.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class PartyAgreed(Notice):
    """To the other parties: `who` agreed; `awaited` (names of others) have not yet, nor has
    the reader when `reader_awaited`."""

    kind: ClassVar[str] = "noted"
    order_id: int
    who: str
    awaited: tuple[str, ...]
    reader_awaited: bool = False


@dataclass(frozen=True)
class AgreementNoted(Notice):
    """To whoever agreed: recorded; the order waits for `awaited` (names)."""

    kind: ClassVar[str] = "noted"
    order_id: int
    awaited: tuple[str, ...]


@dataclass(frozen=True)
class AgreedByChoosing(Notice):
    """To a buyer who says /agree: choosing the plan was their agreement; `awaited` (names)
    are the parties the order still waits for (none: it is under way)."""

    kind: ClassVar[str] = "noted"
    order_id: int
    awaited: tuple[str, ...]


@dataclass(frozen=True)
class AllAgreed(Notice):
    """Every party agreed: the stages are made. `stages`: the reader's own stage ids."""

    kind: ClassVar[str] = "agreed"
    order_id: int
    stages: tuple[str, ...]


@dataclass(frozen=True)
class AgreedButBlocked(Notice):
    """Everyone agreed, but part of the plan is gone: to the buyer, who can look for another
    way (a coordinator has been told)."""

    kind: ClassVar[str] = "blocked"
    order_id: int
    reason: str


@dataclass(frozen=True)
class AgreementBlocked(Notice):
    """To the party whose agreement was the last: noted, but the order is blocked."""

    kind: ClassVar[str] = "noted"
    order_id: int
    reason: str
