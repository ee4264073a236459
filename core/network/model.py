"""The supply network SN: participants, items, designs (OKH), facilities (OKW), offers, transport.

Plain immutable records; every record remembers where it was read from (`Origin`) so that an
error about it can name the file and the line. Indexes the weave needs live in `core.weave`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType

ROLES = ("buyer", "maker", "supplier", "transporter", "coordinator")

# The failure probability assumed for a source whose operator declared none (ARCHITECTURE.md, Risk).
DEFAULT_FAILURE_PROBABILITY = 0.05


def frozen_mapping(data: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True)
class Origin:
    """Where a record was declared: file and 1-based line, both optional."""

    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        if self.file is None:
            return "<memory>"
        return f"{self.file}:{self.line}" if self.line else self.file


NOWHERE = Origin()


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    place: str | None = None


@dataclass(frozen=True)
class Delivery:
    """How a mover serves a leg: a supplier's own delivery, or a receiver's pick-up.

    `range_km` None: any distance; `price` per trip and `price_per_km` None: not stated (a
    receiver fetching its own goods states none: it pays nobody); `speed_kmh` None: the default.
    """

    range_km: float | None = None
    price: float | None = None
    price_per_km: float | None = None
    speed_kmh: float | None = None


@dataclass(frozen=True)
class Participant:
    id: str
    name: str
    roles: tuple[str, ...] = ()
    location: Location | None = None
    contacts: Mapping[str, str] = field(default_factory=frozen_mapping)
    failure_probability: float | None = None
    # The participant fetches what is sent to it itself, within its range (Logistics).
    pickup: Delivery | None = None
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    unit: str = "each"
    properties: Mapping[str, object] = field(default_factory=frozen_mapping)
    aliases: tuple[str, ...] = ()
    mass_kg: float | None = None
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Design:
    """An OKH: how to make `yield_` units of `makes` from `inputs` with `processes`."""

    id: str
    makes: str
    inputs: tuple[tuple[str, int], ...] = ()
    yield_: int = 1
    processes: frozenset[str] = frozenset()
    labor: float | None = None
    properties: Mapping[str, object] = field(default_factory=frozen_mapping)
    name: str | None = None
    # False when a published manifest does not say what goes in: such a design documents the
    # item but cannot be planned, or every facility would seem able to make it from nothing.
    inputs_known: bool = True
    # False when a published manifest names no process (a LOSH part without tsdc, an OKH without
    # tools): such a design is made at no facility (`Network.can_make`) until one is stated. In
    # the native format an empty list is a statement: the design needs none.
    processes_known: bool = True
    # Days one batch takes to make (OKH make time); None when nobody said.
    make_days: float | None = None
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Facility:
    """An OKW: a place run by `operator` that can carry out `processes`."""

    id: str
    operator: str | None
    processes: frozenset[str] = frozenset()
    capacity: Mapping[str, float] = field(default_factory=frozen_mapping)
    location: Location | None = None
    name: str | None = None
    failure_probability: float | None = None
    # False when the place's record names no process (the fab-lab directory says nothing about
    # equipment): it makes no design until it says what it can do.
    processes_known: bool = True
    # The maker brings what it makes to where it is used (within a range, at a price).
    delivery: Delivery | None = None
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Offer:
    """A material supplier selling `item` ready-made; `price` per unit, None when not listed."""

    id: str
    supplier: str | None
    item: str
    price: float | None = None
    capacity: float | None = None
    lead_time_days: float | None = None
    properties: Mapping[str, object] = field(default_factory=frozen_mapping)
    failure_probability: float | None = None
    # The supplier brings the goods itself (within a range, at a price): one way to serve a leg.
    delivery: Delivery | None = None
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Transport:
    """An OKT: a vehicle or carrier. It serves a leg up to `range_km` long (None: any), in
    ⌈kg / capacity_kg⌉ trips, each at `base_price` + `price_per_km` × km."""

    id: str
    operator: str | None
    capacity_kg: float | None = None
    price_per_km: float | None = None
    range_km: float | None = None
    base_price: float | None = None
    speed_kmh: float | None = None
    name: str | None = None
    failure_probability: float | None = None
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Substitute:
    item: str
    by: str
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Network:
    """A supply network. Dicts keep declaration order, which fixes the weave's tie-breaks."""

    participants: Mapping[str, Participant] = field(default_factory=frozen_mapping)
    items: Mapping[str, Item] = field(default_factory=frozen_mapping)
    designs: Mapping[str, Design] = field(default_factory=frozen_mapping)
    facilities: Mapping[str, Facility] = field(default_factory=frozen_mapping)
    offers: Mapping[str, Offer] = field(default_factory=frozen_mapping)
    transport: Mapping[str, Transport] = field(default_factory=frozen_mapping)
    substitutes: tuple[Substitute, ...] = ()
    # A network file may say `assume: {unknown-processes: any}`: then a design whose processes
    # are unknown needs none, and a facility whose processes are unknown runs what needs none.
    unknown_processes_match_any: bool = False
    # Set on a network taken from one that planned transport (`without`), which still does.
    transport_declared: bool = False

    @classmethod
    def of(
        cls,
        participants: Iterable[Participant] = (),
        items: Iterable[Item] = (),
        designs: Iterable[Design] = (),
        facilities: Iterable[Facility] = (),
        offers: Iterable[Offer] = (),
        transport: Iterable[Transport] = (),
        substitutes: Iterable[Substitute] = (),
    ) -> Network:
        """Build from records; a later record with the same id replaces an earlier one."""
        return cls().with_records(
            participants=participants,
            items=items,
            designs=designs,
            facilities=facilities,
            offers=offers,
            transport=transport,
            substitutes=substitutes,
        )

    @cached_property
    def plans_transport(self) -> bool:
        """Whether the network says how goods move: a vehicle, a supplier's delivery or a
        pick-up. One that says nothing leaves every leg to be arranged by the parties, as
        plans did before legs were woven; one that says anything needs a way for every leg."""
        return bool(
            self.transport_declared
            or self.transport
            or any(o.delivery is not None for o in self.offers.values())
            or any(f.delivery is not None for f in self.facilities.values())
            or any(p.pickup is not None for p in self.participants.values())
        )

    def item_name(self, item_id: str) -> str:
        """What people call the item; its id when the network does not know it (any more)."""
        found = self.items.get(item_id)
        return found.name if found else item_id

    def participant_name(self, participant_id: str | None) -> str:
        """What people call the participant; the id when the network does not know them."""
        found = self.participants.get(participant_id) if participant_id else None
        return found.name if found else str(participant_id)

    def with_records(self, **kinds: Iterable) -> Network:
        """A copy with the given records added or replaced, e.g. `with_records(offers=[o])`."""
        changes = {}
        for kind, records in kinds.items():
            if kind == "substitutes":
                changes[kind] = self.substitutes + tuple(records)
            else:
                merged = dict(getattr(self, kind))
                merged.update((r.id, r) for r in records)
                changes[kind] = frozen_mapping(merged)
        return replace(self, **changes)

    def without(
        self,
        participants: Iterable[str] = (),
        facilities: Iterable[str] = (),
        offers: Iterable[str] = (),
        transport: Iterable[str] = (),
    ) -> Network:
        """The network without these resources, nor anything a removed participant runs. It
        still plans transport if this one did: legs nobody can serve any more are no plans,
        not legs for the parties to arrange."""
        people, places, sold, vehicles = (
            set(participants),
            set(facilities),
            set(offers),
            set(transport),
        )
        if not (people or places or sold or vehicles):
            return self
        return replace(
            self,
            transport_declared=self.plans_transport,
            facilities=frozen_mapping(
                {
                    k: f
                    for k, f in self.facilities.items()
                    if k not in places and f.operator not in people
                }
            ),
            offers=frozen_mapping(
                {k: o for k, o in self.offers.items() if k not in sold and o.supplier not in people}
            ),
            transport=frozen_mapping(
                {
                    k: t
                    for k, t in self.transport.items()
                    if k not in vehicles and t.operator not in people
                }
            ),
        )

    def find_item(self, text: str) -> Item | None:
        """The item a person means by `text`: its id, else its name or an alias (any case)."""
        if text in self.items:
            return self.items[text]
        wanted = text.strip().casefold()
        for item in self.items.values():
            if item.id.casefold() == wanted or item.name.casefold() == wanted:
                return item
            if any(a.casefold() == wanted for a in item.aliases):
                return item
        return None

    def can_make(self, design: Design, facility: Facility) -> bool:
        """Whether `facility` can carry out `design` (ARCHITECTURE.md, Weave): it offers all of
        the design's processes, and both say what they are unless the network assumes any."""
        if not (design.processes_known and facility.processes_known):
            if not self.unknown_processes_match_any:
                return False
        return design.processes <= facility.processes

    def location_of_offer(self, offer: Offer) -> Location | None:
        supplier = self.participants.get(offer.supplier) if offer.supplier else None
        return supplier.location if supplier else None

    def location_of_facility(self, facility: Facility) -> Location | None:
        if facility.location is not None:
            return facility.location
        operator = self.participants.get(facility.operator) if facility.operator else None
        return operator.location if operator else None

    def failure_probability_of_offer(self, offer: Offer) -> float:
        return _first_declared(offer.failure_probability, self._participant_failure(offer.supplier))

    def failure_probability_of_transport(self, transport: Transport) -> float:
        return _first_declared(
            transport.failure_probability, self._participant_failure(transport.operator)
        )

    def failure_probability_of_facility(self, facility: Facility) -> float:
        return _first_declared(
            facility.failure_probability, self._participant_failure(facility.operator)
        )

    def _participant_failure(self, participant_id: str | None) -> float | None:
        participant = self.participants.get(participant_id) if participant_id else None
        return participant.failure_probability if participant else None


# A network's records that have an id, by the name of the field that holds them (substitutes,
# which have none, are a tuple of their own).
KEYED_RECORDS = {
    "participants": Participant,
    "items": Item,
    "designs": Design,
    "facilities": Facility,
    "offers": Offer,
    "transport": Transport,
}


def _first_declared(*values: float | None) -> float:
    for value in values:
        if value is not None:
            return value
    return DEFAULT_FAILURE_PROBABILITY
