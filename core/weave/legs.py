"""Legs: how a plan node's goods get from where they are made or sold to where they are used.

ARCHITECTURE.md, Logistics. Between two different places a leg is served by one of, in this
order (which fixes tie-breaks): the supplier's own delivery (an offer that says it delivers,
within its range), a transporter's vehicle (each in declaration order, within its range, in
⌈kg / capacity_kg⌉ trips), or pick-up by the receiver (a participant that says it fetches,
within its range). A leg between one place and itself is degenerate: no leg, no stages. A
network that says nothing about how goods move (no vehicle, delivery or pick-up anywhere)
leaves every leg to be arranged by the parties: each node has the one option `None`, as
before legs were woven. In a network that does, a leg with an end whose place is unknown is
`ARRANGED`: the sender ships, the receiver receives, nothing is priced and the plan says so.

Prices: a vehicle trip costs `base_price` + `price_per_km` × km; a delivery `price` +
`price_per_km` × km; a pick-up `price_per_km` × km, or nothing when the receiver states no
rate (it pays nobody). A per-km rate over an unknown distance, or a vehicle with no rate, is
an unknown price. Mass unknown: one trip, and the leg says so (`kg` None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import ceil

from core.network.geo import haversine_km
from core.network.model import Delivery, Facility, Location, Network, Transport
from core.weave.sources import Bought, Source

DELIVERY, VEHICLE, PICKUP = "delivery", "vehicle", "pickup"
# A leg with an end nobody located (a buyer who registered in chat gives no address): no range
# can be checked and no distance priced, so the sender and the receiver arrange it between them.
ARRANGED = "arranged"
DEFAULT_SPEED_KMH = 40.0  # a van in a city, door to door, when the mover gives no speed
SAME_PLACE_KM = 0.05  # closer than this, two records are one place: nothing travels


@dataclass(frozen=True)
class Stop:
    """One end of a leg: who is there, which facility (if any), and where it is."""

    participant: str | None
    facility: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class Leg:
    """One way to move a node's goods: `kind` (delivery, vehicle, pickup), the participant who
    moves them (`carrier`), the vehicle for a vehicle leg, and what it takes.

    `km`, `kg`, `price` and `minutes` are None when unknown; `trips` is 1 when the mass or the
    vehicle's capacity is unknown. `index` is the option's position among the leg's options.
    """

    kind: str
    carrier: str | None
    origin: Stop
    destination: Stop
    km: float | None
    kg: float | None
    trips: int
    price: float | None
    minutes: int | None
    index: int
    transport: Transport | None = None

    @property
    def id(self) -> str:
        """What identifies the option in a plan's signature and in its price variable."""
        if self.kind == VEHICLE:
            return f"{VEHICLE}:{self.transport.id}"
        if self.kind == ARRANGED:
            return ARRANGED
        return f"{self.kind}:{self.carrier}"


def same_place(a: Stop, b: Stop) -> bool:
    if a.facility is not None and a.facility == b.facility:
        return True
    if a.location is not None and b.location is not None:
        return haversine_km(a.location, b.location) < SAME_PLACE_KM
    return (
        a.location is None
        and b.location is None
        and a.participant is not None
        and (a.participant == b.participant)
    )


def leg_options(
    network: Network,
    item_id: str,
    quantity: int,
    origin: Stop,
    destination: Stop,
    delivery: Delivery | None = None,
    sender: str | None = None,
) -> tuple[Leg | None, ...]:
    """Every way to move `quantity` of the item from `origin` to `destination`, in order.

    `delivery` is the offer's own delivery terms and `sender` its supplier, for a bought node.
    `(None,)`: nothing to choose (one place, or a network that plans no transport); `()`: the
    goods cannot be moved, so no plan goes this way.
    """
    ways = leg_ways(network, origin, destination, delivery, sender)
    if not ways or ways[0] is None:
        return ways
    item = network.items.get(item_id)
    kg = item.mass_kg * quantity if item is not None and item.mass_kg is not None else None
    return tuple(loaded(way, kg) for way in ways)


def leg_ways(
    network: Network,
    origin: Stop,
    destination: Stop,
    delivery: Delivery | None = None,
    sender: str | None = None,
) -> tuple[Leg | None, ...]:
    """The options between two places whatever they carry (one trip, no mass): which movers
    reach and how long they take depend on the places alone (see `loaded`)."""
    km = _span(network, origin, destination)
    if km is _ONE_PLACE:
        return (None,)
    if km is _UNLOCATED:
        carrier = origin.participant
        return (Leg(ARRANGED, carrier, origin, destination, None, None, 1, 0.0, None, 0),)
    return tuple(
        Leg(
            kind,
            carrier,
            origin,
            destination,
            km,
            None,
            1,
            price(1),
            ceil(km / (speed or DEFAULT_SPEED_KMH) * 60),
            index,
            transport,
        )
        for index, (kind, carrier, price, speed, transport) in enumerate(
            _movers(network, km, destination, delivery, sender)
        )
    )


def way_prices(
    network: Network,
    origin: Stop,
    destination: Stop,
    delivery: Delivery | None = None,
    sender: str | None = None,
    kg: float | None = None,
) -> tuple[tuple[float | None, Transport | None], ...] | None:
    """(price carrying `kg`, vehicle) of each of `leg_ways`' options, in order, without
    building the legs (the prices `loaded` gives them): None when there is nothing to choose
    (one place, or a network that plans no transport), () when nothing can move the goods."""
    km = _span(network, origin, destination)
    if km is _ONE_PLACE:
        return None
    if km is _UNLOCATED:
        return ((0.0, None),)  # arranged between the parties, unpriced
    return tuple(
        (price(1 if vehicle is None else trips_to_carry(vehicle, kg)), vehicle)
        for _, _, price, _, vehicle in _movers(network, km, destination, delivery, sender)
    )


def least_trip_price(
    network: Network,
    km: float,
    receivers: Iterable[str | None],
    delivery: Delivery | None = None,
) -> tuple[int, float] | None:
    """(unknown, price) at the least for one trip of at least `km` to any of `receivers`, by
    the sender's `delivery`, any vehicle or a receiver's pick-up, ranges left out: a price
    grows with the distance, and a range only takes options away. None: nobody moves goods."""
    prices = []
    if delivery is not None:
        prices.append(_price(km, delivery.price, delivery.price_per_km, 1))
    prices.extend(_trip_price(vehicle, km, 1) for vehicle in network.transport.values())
    for receiver_id in set(receivers):
        receiver = network.participants.get(receiver_id) if receiver_id else None
        fetch = receiver.pickup if receiver is not None else None
        if fetch is not None:
            prices.append(_price(km, fetch.price or 0.0, fetch.price_per_km, 1))
    if not prices:
        return None
    known = [price for price in prices if price is not None]
    return (0, min(known)) if known else (1, 0.0)


def way_count(
    network: Network,
    origin: Stop,
    destination: Stop,
    delivery: Delivery | None = None,
    sender: str | None = None,
) -> int:
    """len(leg_ways(…)), without building the legs: all that counting plans reads."""
    km = _span(network, origin, destination)
    if km is _ONE_PLACE or km is _UNLOCATED:
        return 1
    return len(_movers(network, km, destination, delivery, sender))


_ONE_PLACE = "one place"  # or a network that plans no transport: nothing to choose
_UNLOCATED = "unlocated"  # an end nobody located: arranged between the parties


def _span(network: Network, origin: Stop, destination: Stop) -> float | str:
    """The km between two stops, or `_ONE_PLACE`, or `_UNLOCATED` (as `same_place` tells one
    place, with the distance found once)."""
    if not network.plans_transport:
        return _ONE_PLACE
    if origin.facility is not None and origin.facility == destination.facility:
        return _ONE_PLACE
    if origin.location is not None and destination.location is not None:
        km = haversine_km(origin.location, destination.location)
        return _ONE_PLACE if km < SAME_PLACE_KM else km
    if same_place(origin, destination):
        return _ONE_PLACE
    return _UNLOCATED


def _movers(
    network: Network,
    km: float,
    destination: Stop,
    delivery: Delivery | None,
    sender: str | None,
) -> list[tuple]:
    """(kind, carrier, its price called with the trips (a vehicle's; a delivery or a pick-up
    is one trip), speed, vehicle) of every mover within range of a leg of `km`, in the order
    that fixes tie-breaks."""
    movers = []
    if delivery is not None and _within(km, delivery.range_km):
        movers.append(
            (
                DELIVERY,
                sender,
                lambda trips: _price(km, delivery.price, delivery.price_per_km, 1),
                delivery.speed_kmh,
                None,
            )
        )
    for vehicle in network.transport.values():
        if _within(km, vehicle.range_km):
            movers.append(
                (
                    VEHICLE,
                    vehicle.operator,
                    lambda trips, vehicle=vehicle: _trip_price(vehicle, km, trips),
                    vehicle.speed_kmh,
                    vehicle,
                )
            )
    receiver = (
        network.participants.get(destination.participant) if destination.participant else None
    )
    fetch = receiver.pickup if receiver is not None else None
    if fetch is not None and _within(km, fetch.range_km):
        movers.append(
            (
                PICKUP,
                receiver.id,
                lambda trips: _price(km, fetch.price or 0.0, fetch.price_per_km, 1),
                fetch.speed_kmh,
                None,
            )
        )
    return movers


def loaded(way: Leg, kg: float | None) -> Leg:
    """A way between two places carrying `kg`: a vehicle makes ⌈kg / capacity⌉ trips, each
    paid; a delivery or a pick-up is one trip at its price."""
    if way.kind == ARRANGED:
        return way
    vehicle = way.transport
    trips = trips_to_carry(vehicle, kg) if way.kind == VEHICLE else 1
    price = _trip_price(vehicle, way.km, trips) if trips > 1 else way.price
    return Leg(
        way.kind,
        way.carrier,
        way.origin,
        way.destination,
        way.km,
        kg,
        trips,
        price,
        way.minutes,
        way.index,
        vehicle,
    )


def trips_to_carry(vehicle: Transport, kg: float | None) -> int:
    """How many trips the vehicle makes to carry `kg`: one when either is unknown."""
    if kg is not None and vehicle.capacity_kg:
        return max(1, ceil(kg / vehicle.capacity_kg))
    return 1


def _trip_price(vehicle: Transport, km: float, trips: int) -> float | None:
    if vehicle.price_per_km is None:
        return None
    return _price(km, vehicle.base_price or 0.0, vehicle.price_per_km, trips)


def _within(km: float | None, range_km: float | None) -> bool:
    """A mover with a range serves only legs known to be within it."""
    if range_km is None:
        return True
    return km is not None and km <= range_km


def _price(
    km: float | None, per_trip: float | None, per_km: float | None, trips: int
) -> float | None:
    if per_trip is None and per_km is None:
        return None
    if per_km and km is None:
        return None
    # To the cent: a price is what someone is paid, and sums of cents stay exact enough to read.
    return round(trips * ((per_trip or 0.0) + (per_km or 0.0) * (km or 0.0)), 2)


# -- the ends of a leg: one rule for the weave, its oracle's counts and rebuilding a plan -------


def facility_stop(network: Network, facility: Facility) -> Stop:
    return Stop(facility.operator, facility.id, network.location_of_facility(facility))


def origin_of(network: Network, source: Source) -> tuple[Stop, Delivery | None, str | None]:
    """Where a source's goods start from, the sender's own delivery terms, and the sender:
    a supplier's stock at its place (held stock: its holder's, sent on as the holder delivers),
    or what a facility made, at the facility."""
    if type(source) is Bought:
        offer = source.offer
        stop = Stop(offer.supplier, None, network.location_of_offer(offer))
        return stop, offer.delivery, offer.supplier
    facility = source.facility
    return facility_stop(network, facility), facility.delivery, facility.operator
