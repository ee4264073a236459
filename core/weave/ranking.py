"""How plans are compared: additive scores summed over the nodes of a plan.

A node's score depends only on its own source, its quantity and where it delivers, so the weave
can rank plans best-first without enumerating them. Scores are pairs (unknown terms, value): a
term is unknown when the ranking needs a price nobody has quoted yet or a distance from or to a
place nobody has given. A plan the ranking can fully value comes before one it cannot, whatever
their known parts; then the lower value wins.

Risk is −log of the probability of success, which adds up over independent parts. Without a
`reliability` it is one term per node, from the failure probability the network declares for its
source; with one (`SourceRisks`, which core.risk.reliability implements) it is the sum over the
stages the source's own party carries, each with its probability learned from history (see
`Reliability.source_risk`).

Haul is mass × distance (kg·km) of each node's goods to where they are used: "what is light is
global, what is heavy is local" — the LOCAL ranking brings heavy goods from near and lets light
ones come from anywhere. A node whose item has no mass, or whose places are unknown, has an
unknown haul.

A node's leg (core.weave.legs: how its goods reach where they are used) is part of its own
score: a leg's price adds to the price (a leg nobody priced is an unknown term), and a vehicle
that may fail adds its risk. Distance and haul stay the node's: how far its goods travel,
whoever moves them.

SOONEST orders plans by their arrival (core.weave.timing) before anything else: arrivals are a
maximum over a plan's inputs, not a sum, so the weave ranks them by layers of equal arrival,
each layer by the PRICE key (see `Weave`).

Plans the ranking values the same are told apart by their risk, then by their distance (plans of
one price: the likelier to succeed first, then the nearer). So plans are ordered by a `Key`:
(unknown terms, value, risk, unknown distances, distance), each an integer count of millionths
summed over the nodes, a node's being the sum of three parts each made exact apart: its source's
price, its source's risk and its moving (the leg, the distance). Integers add exactly in any
order, so two plans of the same price — 10.1 + 20.0 and 10.0 + 20.1 — tie exactly and their risk
decides, which floats would not promise; the key stays additive, as the lazy k-best needs; the
runs of one design share their price's part, and sources that leave from one place share their
moving part towards any destination.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import log
from typing import Protocol

from core.network.geo import haversine_km
from core.network.model import Location, Network, Transport
from core.weave.legs import VEHICLE, Leg
from core.weave.sources import Bought, Source

Score = tuple[int, float]
ZERO: Score = (0, 0.0)
Key = tuple[int, int, int, int, int]
"""(unknown terms, value, risk, unknown distances, distance), in millionths: how plans are
ordered, ties broken by risk, then distance."""
NO_KEY: Key = (0, 0, 0, 0, 0)
MILLIONTHS = 10**6


class SourceRisks(Protocol):
    """Learned risks of sources, as the risk term reads them.

    core.risk.reliability.Reliability is one. It is declared here, in the lower layer, because
    core.risk builds on the weave's plans: the weave names what it asks for, not who answers.
    """

    def source_risk(self, source: Source) -> float:
        """−log of the probability that `source`'s own party carries its stages through."""
        ...

    def node_risk(self, source: Source, leg: Leg | None, receiver: str | None) -> float:
        """−log of the probability that a node's stages go through: its source's own, then
        those moving its goods by `leg` to `receiver` (who uses them: the parent facility's
        operator, or the buyer)."""
        ...

    def own_risk(self, source: Source) -> float:
        """`node_risk`'s share of the source's own stages."""
        ...

    def moving_risk(self, source: Source, leg: Leg | None, receiver: str | None) -> float:
        """`node_risk`'s share of the stages moving the goods: the same for every source of
        one `moving_key`."""
        ...

    def moving_key(self, source: Source) -> tuple:
        """What `moving_risk` reads of a source besides its leg and receiver."""
        ...


def add(a: Score, b: Score) -> Score:
    return (a[0] + b[0], a[1] + b[1])


def add_keys(a: Key, b: Key) -> Key:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4])


# A Key packed in one integer, each part in its own field of PACK_BITS bits (two's complement,
# so that a sum of packed keys is the packed sum and integers compare as the tuples do): one
# addition and one comparison instead of five. A node whose parts are each below PACKABLE in
# magnitude (10^33 in money, km or risk) may be packed: plans of up to 2^27 such nodes stay
# within their fields.
PACK_BITS = 160
PACKABLE = 1 << 130
_FIELD = (1 << PACK_BITS) - 1
_HALF = 1 << (PACK_BITS - 1)


def pack(key: Key) -> int:
    unknown, value, risk, unknown_km, km = key
    packed = unknown
    for part in (value, risk, unknown_km, km):
        packed = (packed << PACK_BITS) + part
    return packed


def packable(key: Key) -> bool:
    unknown, value, risk, unknown_km, km = key
    return (
        -PACKABLE < value < PACKABLE
        and -PACKABLE < risk < PACKABLE
        and -PACKABLE < km < PACKABLE
        and -PACKABLE < unknown < PACKABLE
        and -PACKABLE < unknown_km < PACKABLE
    )


def unpack(packed: int) -> Key:
    parts = []
    for _ in range(4):
        low = ((packed + _HALF) & _FIELD) - _HALF
        parts.append(low)
        packed = (packed - low) >> PACK_BITS
    return (packed, parts[3], parts[2], parts[1], parts[0])


def exact(value: float) -> int:
    """`value` in whole millionths: prices typed to the cent add up to the same integer whatever
    the order of the sum."""
    return round(value * MILLIONTHS)


def batches(source: Source, quantity: int) -> int:
    """How many times a design runs to yield `quantity` (an offer is bought in one go)."""
    if isinstance(source, Bought):
        return 1
    return -(-quantity // source.design.yield_)


def source_location(network: Network, source: Source) -> Location | None:
    if isinstance(source, Bought):
        return network.location_of_offer(source.offer)
    return network.location_of_facility(source.facility)


def delivery_distance_km(
    network: Network, source: Source, destination: Location | None
) -> float | None:
    """From the source to the place it delivers to; None when either place is unknown."""
    origin = source_location(network, source)
    if origin is None or destination is None:
        return None
    return haversine_km(origin, destination)


@dataclass(frozen=True)
class Ranking:
    """A weighted mix of price, distance (km), risk (−log of the probability of success) and
    haul (kg·km).

    The weights say how much one kilometre, one unit of −log p and one kg·km are worth in money.
    `reliability`, when given, supplies learned failure probabilities for the risk term.
    """

    name: str
    price: float = 0.0
    distance: float = 0.0
    risk: float = 0.0
    haul: float = 0.0
    reliability: SourceRisks | None = field(default=None, repr=False)
    # Earliest arrival first, then this ranking's key (SOONEST: the PRICE key).
    soonest: bool = False

    @property
    def needs_destination(self) -> bool:
        """Whether a node's score depends on where its goods go: always, since distance breaks
        ties (a node's key is (item, quantity, context, destination) in the weave)."""
        return True

    def with_reliability(self, reliability: SourceRisks | None) -> Ranking:
        """The same ranking, its risk term from `reliability` (None: the declared figures)."""
        return replace(self, reliability=reliability)

    def local(
        self,
        network: Network,
        source: Source,
        quantity: int,
        destination: Location | None,
        leg: Leg | None = None,
        receiver: str | None = None,
    ) -> Score:
        """The node's own score: `leg` is how its goods go to `destination`, where `receiver`
        (a facility's operator, or the buyer) takes them."""
        return self._node(network, source, quantity, destination, leg, receiver)[0]

    def key(
        self,
        network: Network,
        source: Source,
        quantity: int,
        destination: Location | None,
        leg: Leg | None = None,
        receiver: str | None = None,
    ) -> Key:
        """The node's part of a plan's `Key`: its score, then its risk (its source's and its
        leg's) and its distance, which break ties."""
        return self._node(network, source, quantity, destination, leg, receiver)[1]

    def _node(
        self,
        network: Network,
        source: Source,
        quantity: int,
        destination: Location | None,
        leg: Leg | None,
        receiver: str | None,
    ) -> tuple[Score, Key]:
        km = delivery_distance_km(network, source, destination)
        own_risk = self.own_risk(network, source)
        moved_risk = self.moving_risk(network, source, leg, receiver)
        own = self.own_part(source, quantity, own_risk)
        mass = _mass_kg(network, source)
        price = None if leg is None else leg.price
        moved = self.moved_part(mass, quantity, leg is not None, price, km, moved_risk)
        return add(own[0], moved[0]), add_keys(own[1], moved[1])

    def own_part(self, source: Source, quantity: int, risk: float) -> tuple[Score, Key]:
        """A node's score and key for its source's own part: its price and its `risk` (the
        source's declared risk, or the learned risk of its own stages). With `moved_part` it
        makes the node's. Each part is made exact apart — price, risk, moving — so that the
        runs of one design share their price's key, and sources leaving from one place share
        the moving part's towards any destination."""
        unknown, value = self._priced(source, quantity)
        if self.risk:
            value += self.risk * risk
        return (unknown, value), add_keys(self.priced_key(source, quantity), self.risk_key(risk))

    def priced_key(self, source: Source, quantity: int) -> Key:
        """The key of a source's own price: for a design, the same at every facility."""
        unknown, value = self._priced(source, quantity)
        return (unknown, exact(value), 0, 0, 0)

    def risk_key(self, risk: float) -> Key:
        """The key of a source's own risk, weighted (in the value) and as the tie-break."""
        return (0, exact(self.risk * risk) if self.risk else 0, exact(risk), 0, 0)

    def moved_part(
        self,
        mass_kg: float | None,
        quantity: int,
        moved: bool,
        price: float | None,
        km: float | None,
        risk: float,
    ) -> tuple[Score, Key]:
        """A node's score and key for moving its goods: whether a leg `moved` them and at what
        `price`, the distance, the vehicle's `risk` and the haul of `quantity` items of
        `mass_kg`."""
        unknown, value = 0, 0.0
        if self.price and moved:
            if price is None:
                unknown += 1
            else:
                value += self.price * price
        if self.distance:
            if km is None:
                unknown += 1
            else:
                value += self.distance * km
        if self.risk:
            value += self.risk * risk
        if self.haul:
            if mass_kg is None or km is None:
                unknown += 1
            else:
                value += self.haul * (mass_kg * quantity * km)
        return (unknown, value), (
            unknown,
            exact(value),
            exact(risk),
            1 if km is None else 0,
            0 if km is None else exact(km),
        )

    def _priced(self, source: Source, quantity: int) -> Score:
        """The price of the source's own part, weighted: unknown when nobody quoted it."""
        if not self.price:
            return (0, 0.0)
        if type(source) is Bought:
            price = source.offer.price
            known = None if price is None else quantity * price
        else:
            labor = source.design.labor
            known = None if labor is None else -(-quantity // source.design.yield_) * labor
        return (1, 0.0) if known is None else (0, 0.0 + self.price * known)

    def node_risk(
        self, network: Network, source: Source, leg: Leg | None, receiver: str | None
    ) -> float:
        """−log of the probability that the node's source and leg carry it through: learned
        over its stages with a `reliability`, else the declared figures of its source and its
        vehicle."""
        if self.reliability is not None:
            return self.reliability.node_risk(source, leg, receiver)
        return self.source_risk(network, source) + leg_risk(network, leg)

    def own_risk(self, network: Network, source: Source) -> float:
        """The risk of a node's own part: learned over its own stages with a `reliability`,
        else its source's declared figure."""
        if self.reliability is not None:
            return self.reliability.own_risk(source)
        return self.source_risk(network, source)

    def moving_risk(
        self, network: Network, source: Source, leg: Leg | None, receiver: str | None
    ) -> float:
        """The risk of moving a node's goods: learned over those stages with a
        `reliability`, else the declared figure of its vehicle."""
        if self.reliability is not None:
            return self.reliability.moving_risk(source, leg, receiver)
        return leg_risk(network, leg)

    def source_risk(self, network: Network, source: Source) -> float:
        """−log of the probability that the source's own party carries its part through."""
        if self.reliability is not None:
            return self.reliability.source_risk(source)
        failure = (
            network.failure_probability_of_offer(source.offer)
            if type(source) is Bought
            else network.failure_probability_of_facility(source.facility)
        )
        return -log(max(1e-12, 1.0 - failure))


def leg_risk(network: Network, leg: Leg | None) -> float:
    """−log of the probability that the leg's vehicle carries the goods through; a supplier's
    delivery or a receiver's pick-up is its own party's risk, already counted."""
    if leg is None or leg.kind != VEHICLE:
        return 0.0
    return vehicle_risk(network, leg.transport)


def vehicle_risk(network: Network, vehicle: Transport) -> float:
    """−log of the probability that the vehicle carries goods through."""
    failure = network.failure_probability_of_transport(vehicle)
    return -log(max(1e-12, 1.0 - failure))


def _mass_kg(network: Network, source: Source) -> float | None:
    item_id = source.offer.item if type(source) is Bought else source.design.makes
    item = network.items.get(item_id)
    return item.mass_kg if item is not None else None


PRICE = Ranking("price", price=1.0)
DISTANCE = Ranking("distance", distance=1.0)
RISK = Ranking("risk", risk=1.0)
# One km costs 0.5 and a certain failure (−log p → 1 nat ≈ 63 %) costs 50, in price units.
BALANCED = Ranking("balanced", price=1.0, distance=0.5, risk=50.0)
LOCAL = Ranking("local", haul=1.0)
# The earliest arrival first; plans arriving at the same minute, the cheapest first.
SOONEST = Ranking("soonest", price=1.0, soonest=True)

RANKINGS = {r.name: r for r in (PRICE, DISTANCE, RISK, BALANCED, LOCAL, SOONEST)}
