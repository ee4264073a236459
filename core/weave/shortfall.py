"""Why an item has no plan: going down from it, where every way of getting it stops.

The weave counts 0 plans and says no more. A person who asked for the item wants the reason:
nobody sells it and nothing makes it; a design could make it but no facility has its
processes, or the design names none, or no facility says what it can do; or it has sources,
but none states the criteria asked for; or its goods cannot be moved from where they are to
where they are used, because no delivery, vehicle or pick-up reaches that far (or none serves
the leg at all). Items whose designs have sources of their own but whose inputs have no plan
are gone through to those inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.network.geo import haversine_km
from core.network.model import Design, Location, Network
from core.weave.count import (
    BUYER,
    Destinations,
    LegCounter,
    LegOptions,
    PlanCounter,
    graph_walk,
)
from core.weave.legs import Stop
from core.weave.sources import Made, Source, SupplyIndex, asserts, source_properties


@dataclass(frozen=True)
class Unsourced:
    """Nobody offers the item and no design that says what goes in makes it."""

    item: str
    undescribed: tuple[str, ...] = ()  # designs of it that do not say what goes in


# Why no facility can run a design (`Unequipped.why`).
MISSING = "missing"  # no facility offers its processes (together)
UNSTATED = "unstated"  # the design names no process: it is made nowhere until one is stated
FACILITIES_UNKNOWN = "facilities-unknown"  # no facility's processes are known


@dataclass(frozen=True)
class Unequipped:
    """A design could make the item, but no facility can run it."""

    item: str
    design: str
    # The processes no facility has; all of the design's when each is somewhere but never
    # together in one facility. Empty when the design names none.
    processes: tuple[str, ...]
    why: str = MISSING


@dataclass(frozen=True)
class Unqualified:
    """The item has sources, but none states every criterion asked for."""

    item: str
    criteria: tuple[str, ...]  # those no source states; all asked when each is stated apart


# Why goods cannot be moved (`Unmovable.why`).
OUT_OF_RANGE = "out-of-range"  # every delivery, vehicle and pick-up that serves it is shorter
NO_MOVER = "no-mover"  # nobody delivers, no vehicle runs and the receiver does not fetch


@dataclass(frozen=True)
class Unmovable:
    """The item could be had from `origin`, but its goods cannot be moved to `destination`
    (a facility that uses them, or the buyer): `km` apart, and the longest range of the
    sender's delivery, the vehicles and the receiver's pick-up is `longest_range_km` (None:
    nothing serves this leg at all)."""

    item: str
    origin: Stop
    destination: Stop
    km: float | None
    longest_range_km: float | None
    why: str = OUT_OF_RANGE


Blocker = Unsourced | Unequipped | Unqualified | Unmovable


def stated_criteria(network: Network) -> list[str]:
    """The criteria a plan can be asked to meet: the yes/no properties the network's items,
    designs and offers state. A criterion nothing states would filter every plan away."""
    stating = (*network.items.values(), *network.designs.values(), *network.offers.values())
    return sorted({k for r in stating for k, v in r.properties.items() if isinstance(v, bool)})


def shortfall(
    network: Network,
    item_id: str,
    criteria: frozenset[str] = frozenset(),
    index: SupplyIndex | None = None,
    buyer: str | None = None,
    deliver_to: Location | None = None,
) -> tuple[Blocker, ...]:
    """The blockers below `item_id`, nearest first; empty when it has a plan (or when only a
    cycle of designs stands in the way, which no single blocker names). `buyer` and
    `deliver_to` say where the item goes, as the weave's do."""
    index = index or SupplyIndex(network)
    counter = PlanCounter(index, criteria)
    legs = LegOptions(network, Destinations(network, buyer, deliver_to))
    moved = LegCounter(index, criteria, legs)
    processes = {p for f in _able(network) for p in f.processes}
    found: list[Blocker] = []
    seen: set[str] = set()
    stuck: set[tuple] = set()

    def moving(item: str, destination: str, above: frozenset[str]) -> None:
        """The item has plans, but none whose goods reach `destination`: which legs fail, and
        below the designs whose own legs are served, which inputs cannot reach them."""
        if (item, destination) in stuck or moved.count(item, 1, destination) > 0:
            return
        stuck.add((item, destination))
        for source in index.sources(item, criteria):
            if not legs.shape(source, destination):
                found.append(_unmovable(network, legs, source, item, destination))
            elif isinstance(source, Made):
                for input_id, _ in source.design.inputs:
                    if input_id not in above:
                        visit(input_id, above | {item}, source.facility.id)

    def visit(item: str, above: frozenset[str], destination: str = BUYER) -> None:
        if counter.count(item) > 0:
            if network.plans_transport:
                moving(item, destination, above)
            return
        if item in seen:
            return
        seen.add(item)
        every = index.sources(item)
        if not every:
            found.extend(_unsourced(network, item, processes))
            return
        qualifying = index.sources(item, criteria)
        if not qualifying:
            found.append(Unqualified(item, _unmet(network, item, every, criteria)))
            return
        designs = {s.design.id: s.design for s in qualifying if isinstance(s, Made)}
        for design in designs.values():
            for input_id, _ in design.inputs:
                if input_id not in above:
                    visit(input_id, above | {item})

    with graph_walk():
        visit(item_id, frozenset({item_id}))
    return tuple(found)


def _unmovable(
    network: Network, legs: LegOptions, source: Source, item: str, destination: str
) -> Unmovable:
    origin, delivery, _ = legs.origin(source)
    to = legs.destinations.stop(destination)
    km = (
        haversine_km(origin.location, to.location)
        if origin.location is not None and to.location is not None
        else None
    )
    receiver = network.participants.get(to.participant) if to.participant else None
    movers = [
        delivery,
        *network.transport.values(),
        receiver.pickup if receiver is not None else None,
    ]
    ranges = [m.range_km for m in movers if m is not None and m.range_km is not None]
    if not ranges:
        return Unmovable(item, origin, to, km, None, NO_MOVER)
    return Unmovable(item, origin, to, km, max(ranges))


def _unsourced(network: Network, item: str, processes: set[str]) -> list[Blocker]:
    designs = [d for d in network.designs.values() if d.makes == item]
    described = [d for d in designs if d.inputs_known]
    if not described:
        return [Unsourced(item, tuple(d.id for d in designs))]
    return [_unequipped(network, item, d, processes) for d in described]


def _unequipped(network: Network, item: str, design: Design, processes: set[str]) -> Unequipped:
    assumed = network.unknown_processes_match_any
    if not (design.processes_known or assumed):
        return Unequipped(item, design.id, (), UNSTATED)
    missing = _missing(design, processes)
    if network.facilities and not (assumed or any(_able(network))):
        return Unequipped(item, design.id, missing, FACILITIES_UNKNOWN)
    return Unequipped(item, design.id, missing)


def _able(network: Network) -> list:
    """The facilities that can run some design: those that say what they can do, or all when
    the network assumes any."""
    assumed = network.unknown_processes_match_any
    return [f for f in network.facilities.values() if f.processes_known or assumed]


def _unmet(network: Network, item: str, sources, criteria: frozenset[str]) -> tuple[str, ...]:
    """The criteria no source of the item states; all asked, when each is stated by some
    source but never all by one."""
    properties = network.items[item].properties

    def stated(source: Source, criterion: str) -> bool:
        return asserts(source_properties(source), properties, criterion)

    unmet = [c for c in sorted(criteria) if not any(stated(s, c) for s in sources)]
    return tuple(unmet or sorted(criteria))


def _missing(design: Design, processes: set[str]) -> tuple[str, ...]:
    absent = sorted(p for p in design.processes if p not in processes)
    return tuple(absent or sorted(design.processes))
