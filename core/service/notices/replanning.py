"""Notices of re-planning (core/service/adopting.py, replan.py, reweaving.py): a part of an
order's plan replaced, a substitute proposed or decided, an order that waits for a source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice

Held = tuple[tuple[int, str], ...]  # (quantity, item name) a party holds for the order


@dataclass(frozen=True)
class PartReleased(Notice):
    """To a party the re-plan no longer needs (`held`: what they keep until told)."""

    kind: ClassVar[str] = "released"
    order_id: int
    cause: str
    held: Held = ()


@dataclass(frozen=True)
class PartSmaller(Notice):
    kind: ClassVar[str] = "changed"
    order_id: int
    cause: str


@dataclass(frozen=True)
class Forwarded:
    """A supplier who forwards goods they hold, in the new plan."""

    supplier: str  # name
    quantity: int
    item: str  # name


@dataclass(frozen=True)
class Replanned(Notice):
    """To the buyer: a part of the plan was replaced (`joined`: names of who joined)."""

    kind: ClassVar[str] = "replanned"
    order_id: int
    cause: str
    joined: tuple[str, ...]
    forwarded: tuple[Forwarded, ...]
    waiting: str  # the order's state, as its reason says it


@dataclass(frozen=True)
class Choice:
    """A substitute the buyer may approve: `by` instead of `item` (names)."""

    substitution_id: int
    by: str
    item: str


@dataclass(frozen=True)
class SubstitutesProposed(Notice):
    """To the buyer: no source of `what` is left, but a substitute could do."""

    kind: ClassVar[str] = "substitution"
    order_id: int
    cause: str
    what: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class NothingReplaces(Notice):
    kind: ClassVar[str] = "blocked"
    order_id: int
    cause: str
    what: str


@dataclass(frozen=True)
class WaitsForDecision(Notice):
    """To the plan's other parties while the buyer or a coordinator decides."""

    kind: ClassVar[str] = "alert"
    order_id: int
    cause: str


@dataclass(frozen=True)
class Rewoven(Notice):
    """To whoever asked for a re-plan: how it ended. `state`: "open" (new plans to choose),
    "waiting" (still no way), "replanned", or "unchanged" (nothing was missing)."""

    kind: ClassVar[str] = "noted"
    order_id: int
    state: str
    reason: str = ""


@dataclass(frozen=True)
class SubstitutionProposed(Notice):
    """To the buyer: a party proposes a substitute (`proposer`, `by`, `item`: names)."""

    kind: ClassVar[str] = "substitution"
    order_id: int
    choice: Choice
    proposer: str
    reason: str = ""


@dataclass(frozen=True)
class ProposalPassed(Notice):
    """To the party who proposed a substitute: the buyer decides."""

    kind: ClassVar[str] = "noted"
    order_id: int
    by: str
    item: str


@dataclass(frozen=True)
class SubstituteRejected(Notice):
    kind: ClassVar[str] = "noted"
    order_id: int
    by: str
    waits: bool  # the order waits for a source to come back


@dataclass(frozen=True)
class SubstituteAdopted(Notice):
    kind: ClassVar[str] = "noted"
    order_id: int
    cause: str
    reason: str
