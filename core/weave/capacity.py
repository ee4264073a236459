"""Capacity across orders: what a plan uses of each source, per week, what is left, and how an
order larger than any one source can take is split over several.

Rules (ARCHITECTURE.md, Weave):

- **Periods are weeks**, seven days from Monday 00:00 UTC. An offer's `capacity` and a
  facility's `capacity[item]` are units per week; a source that states none is unlimited.
  Held stock (work in progress, `held:s5`) belongs to its order and is no resource.
- **A plan's usage.** Every bought node uses its offer (`offer:ID`) for its quantity, and every
  made node its facility's capacity of the item (`facility:ID:ITEM`) for its quantity, in the
  week its source's own work ends: the node starts when its last input has arrived
  (core.weave.timing, counted from the moment the contract is agreed) and ends its source's
  time later — the offer's lead time (it is confirmed then), the design's make time (it is made
  then). A node whose work spans weeks is counted whole in the week it ends; a time nobody gave
  counts 0. Uses of one resource in one week are summed over the plan.
- **What is left** of a resource = its capacity − the live reservations of the weeks to come:
  at weave time the week the plan would use is not known yet (it depends on the plan), so the
  weave sees the fullest week from the current one on; the reservation made when the contract
  is agreed is exact, week by week; when it does not fit, nothing is reserved and the order
  waits (blocked, with the reason) until a reweave finds a plan over what is left.
- **The weave skips a source without enough left** (`LimitedIndex`, `Weave(limits=…)`): at
  every node, a source whose resource has less left than the node's quantity is no option
  (the counts and the literal oracle skip the same). Each node is judged alone: two nodes of
  one plan on one resource may together need more than is left — the agreement then finds it
  short, exactly, week by week, and the order waits for a reweave.
- **Split rule** (`split`): when no single source of a line's item has enough left for the
  line's quantity but together they do, the line is split into chunks. The sources are taken
  cheapest first by the price per unit of their own best plan (plans with unknown prices
  after priced ones; ties by the source's index), each takes min(what it has left, what remains
  of the line; two designs at one facility share its capacity: the cheaper one takes it).
  Each chunk is woven with its root pinned to its source; the order's plan is the
  chunks' best plans side by side, as lines of one plan, and its count is the product of the
  chunks' counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from core.network.model import Network
from core.weave.sources import Bought, Source, SupplyIndex, is_held
from core.weave.timing import source_minutes

WEEK = timedelta(days=7)


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the week `moment` falls in: the week a reservation is counted in."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    day = moment.date()
    return day - timedelta(days=day.weekday())


def source_id(source: Source) -> str:
    """How a plan names its source: "offer:ID", "design:ID@FACILITY"."""
    if isinstance(source, Bought):
        return f"offer:{source.offer.id}"
    return f"design:{source.design.id}@{source.facility.id}"


def resource_of(item_id: str, source: Source) -> str | None:
    """The resource a source uses: "offer:ID", "facility:ID:ITEM"; None for held stock."""
    if isinstance(source, Bought):
        return None if is_held(source) else f"offer:{source.offer.id}"
    return f"facility:{source.facility.id}:{item_id}"


def capacity_of(network: Network, resource: str) -> float | None:
    """Units a week the network declares for the resource; None: unlimited (or unknown)."""
    kind, _, rest = resource.partition(":")
    if kind == "offer":
        offer = network.offers.get(rest)
        return None if offer is None else offer.capacity
    if kind == "facility":
        facility_id, _, item_id = rest.partition(":")
        facility = network.facilities.get(facility_id)
        return None if facility is None else facility.capacity.get(item_id)
    return None


def resources(network: Network) -> dict[str, float]:
    """Every resource of the network with a stated capacity, and that capacity."""
    found = {f"offer:{o.id}": o.capacity for o in network.offers.values() if o.capacity is not None}
    for facility in network.facilities.values():
        for item_id, units in facility.capacity.items():
            found[f"facility:{facility.id}:{item_id}"] = units
    return found


@dataclass(frozen=True, order=True)
class Use:
    """`quantity` units of `resource` in the week starting `week`."""

    resource: str
    week: date
    quantity: int


def plan_usage(plan, agreed_at: datetime) -> tuple[Use, ...]:
    """What the plan (core.weave.plan.Plan) uses of every resource, week by week, when its
    contract is agreed at `agreed_at`; summed per resource and week, sorted."""
    used: dict[tuple[str, date], int] = defaultdict(int)

    def visit(node) -> int:
        """Walks the node; returns when its goods have arrived (minutes from agreement)."""
        start = max((visit(child) for child in node.inputs), default=0)
        ends = start + (source_minutes(node.source, node.quantity) or 0)
        resource = resource_of(node.item, node.source)
        if resource is not None:
            used[(resource, week_of(agreed_at + timedelta(minutes=ends)))] += node.quantity
        moved = 0 if node.leg is None else (node.leg.minutes or 0)
        return ends + moved

    for line in plan.lines:
        visit(line)
    return tuple(Use(r, w, q) for (r, w), q in sorted(used.items()))


@dataclass(frozen=True)
class Overbooked:
    """A use that does not fit: `reserved` already of `capacity` in its week."""

    use: Use
    capacity: float
    reserved: float


def overbooked(
    network: Network, usage: Iterable[Use], reserved: Mapping[tuple[str, date], float]
) -> list[Overbooked]:
    """The uses that do not fit in what is left of their week (`reserved`: live reservations
    per (resource, week))."""
    short = []
    for use in usage:
        capacity = capacity_of(network, use.resource)
        if capacity is None:
            continue
        taken = reserved.get((use.resource, use.week), 0)
        if taken + use.quantity > capacity:
            short.append(Overbooked(use, capacity, taken))
    return short


def left_now(
    network: Network, reserved: Mapping[tuple[str, date], float], now: datetime
) -> dict[str, float]:
    """What is left of every limited resource for an order woven at `now`: its capacity less the
    fullest week from this week on (see the module's rules)."""
    this_week = week_of(now)
    fullest: dict[str, float] = defaultdict(float)
    for (resource, week), units in reserved.items():
        if week >= this_week:
            fullest[resource] = max(fullest[resource], units)
    return {r: max(0.0, c - fullest.get(r, 0.0)) for r, c in resources(network).items()}


class LimitedIndex(SupplyIndex):
    """The network's sources with what is left of each (`limits`: units left per resource;
    absent: unlimited). The weave and its counts skip, at every node, a source whose resource
    has less left than the node's quantity (`fits`). `pinned`: item → the one source its nodes
    must use (`source_id`: a split's chunk)."""

    def __init__(
        self,
        network: Network,
        limits: Mapping[str, float],
        pinned: Mapping[str, str] | None = None,
    ):
        super().__init__(network)
        self.limits = dict(limits)
        self.pinned = dict(pinned or {})
        self._kept: dict[tuple[str, frozenset[str]], tuple[Source, ...]] = {}

    def sources(self, item_id: str, criteria: frozenset[str] = frozenset()) -> tuple[Source, ...]:
        pin = self.pinned.get(item_id)
        if pin is None:
            return super().sources(item_id, criteria)
        key = (item_id, criteria)
        kept = self._kept.get(key)
        if kept is None:
            every = super().sources(item_id, criteria)
            kept = self._kept[key] = tuple(s for s in every if source_id(s) == pin)
        return kept

    def every_source(self, item_id: str, criteria: frozenset[str] = frozenset()):
        """The item's sources, pinned or not."""
        return super().sources(item_id, criteria)

    def fits(self, item_id: str, source: Source, quantity: int) -> bool:
        """Whether the source has `quantity` left for a node of the item."""
        return self.left(item_id, source) >= quantity

    def left(self, item_id: str, source: Source) -> float:
        resource = resource_of(item_id, source)
        if resource is None:
            return float("inf")
        return self.limits.get(resource, float("inf"))


@dataclass(frozen=True)
class Candidate:
    """A source of a line's item for the split (`index`: its place among the item's sources,
    which breaks ties): what it has left, and the price per unit of its own best plan as
    (unknown terms, value per unit)."""

    source: str
    index: int
    left: float
    per_unit: tuple[int, float]
    resource: str = ""  # what its `left` is of; "" its own


def split(quantity: int, candidates: Sequence[Candidate]) -> list[tuple[str, int]] | None:
    """The split rule: (source, units) chunks, cheapest per unit first, each taking
    min(left, what remains); None when together they cannot take `quantity`. Sources sharing
    one resource (two designs at one facility) count it once, for the cheaper of them. Whole
    units: a source with 2.5 left takes 2."""
    remaining = quantity
    chunks: list[tuple[str, int]] = []
    shared: set[str] = set()
    for candidate in sorted(candidates, key=lambda c: (c.per_unit, c.index)):
        if remaining == 0:
            break
        if (candidate.resource or candidate.source) in shared:
            continue  # a maker's cheaper design already took what it has left
        shared.add(candidate.resource or candidate.source)
        take = min(int(candidate.left), remaining)
        if take > 0:
            chunks.append((candidate.source, take))
            remaining -= take
    return chunks if remaining == 0 else None
