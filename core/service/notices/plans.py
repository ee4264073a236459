"""Notices about an order's plans (core/service/weaving.py, core/service/plan_pages.py): the
plans offered to the buyer, each described by who makes and supplies what, who moves it, its
price, its risk and when it can arrive — the same lines `/plans` pages through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class Moved:
    """How a part's goods get to where they are used: `mover` (a vehicle's name, or the party
    who delivers or fetches them) over `km` (None: a place nobody gave)."""

    kind: str  # "vehicle", "delivery" or "pickup" (core.weave.legs)
    mover: str
    km: float | None = None


@dataclass(frozen=True)
class Arrives:
    """When a plan can arrive: `days` after it was woven, on `on` (None when the day it counts
    from is not known); `unknown` times nobody gave counted as none: "at the earliest"."""

    days: float
    on: date | None = None
    unknown: int = 0


@dataclass(frozen=True)
class PlanPart:
    """One node of a plan, named: `item` made by `party` (at `place`, by `design`), bought from
    it, or held by it for the order already. `source` is the network id that tells two
    look-alike parts apart (an offer, or design@facility)."""

    item: str
    party: str
    how: str  # "made", "bought" or "held"
    place: str | None = None  # the facility's name, when made
    design: str | None = None  # the design's name, when made
    source: str = ""
    depth: int = 0  # 0: an order line's root
    moved: Moved | None = None  # its leg, when the network plans how goods move


@dataclass(frozen=True)
class RiskiestStage:
    kind: str  # make, ship, confirm, receive, inspect, accept
    item: str  # the item's name
    owner: str  # the owner's name
    failure: float


@dataclass(frozen=True)
class PlanLine:
    """One plan as a person compares it with the others."""

    rank: int
    price: float | None
    equation: str
    unknowns: tuple[str, ...]
    parts: tuple[PlanPart, ...]
    remaining: str = ""  # what the price comes to so far: "71.00 + 2·B" (or the equation)
    failure: float | None = None
    riskiest: RiskiestStage | None = None
    local_share: float | None = None  # of the weight, made within radius_km of the buyer
    radius_km: float | None = None
    arrives: Arrives | None = None  # None: a plan stored before arrivals were


@dataclass(frozen=True)
class RateNote:
    """For a standing order: what the declared capacities make of an item in a period."""

    item: str  # the item's name
    can: float
    asked: int


@dataclass(frozen=True)
class SplitShare:
    """Part of an order line split over several sources (core.weave.capacity): `quantity` of
    `item` (a name) from `by` (the supplier's or maker's name)."""

    item: str
    quantity: int
    by: str


@dataclass(frozen=True)
class PlansOffered(Notice):
    """To the buyer: the best plans of an order, woven (again). `count` is every way there is
    (by the due date, when the order has one); `declined_by` (a name) and `reason` say why it
    was woven again when a party declined; `cause` is the reason a re-plan gave, as it was
    given. With a due date: `too_late` plans cannot make it, and when none can, `soonest` is
    when the soonest plan could arrive (None: no plan at all)."""

    kind: ClassVar[str] = "plans"
    order_id: int
    count: int
    plans: tuple[PlanLine, ...]
    per: str | None = None
    rates: tuple[RateNote, ...] = ()
    declined_by: str | None = None
    reason: str = ""
    cause: str = ""
    due: date | None = None
    too_late: int = 0
    soonest: Arrives | None = None
    # The plan offered splits a line no one source has capacity for: over whom.
    split: tuple[SplitShare, ...] = ()
