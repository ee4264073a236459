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
summed over the nodes. Integers add exactly in any order, so two plans of the same price — 10.1 +
20.0 and 10.0 + 20.1 — tie exactly and their risk decides, which floats would not promise; and the
key stays additive, as the lazy k-best needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import log
from typing import Protocol

from core.network.geo import haversine_km
from core.network.model import Location, Network
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


def add(a: Score, b: Score) -> Score:
    return (a[0] + b[0], a[1] + b[1])


def add_keys(a: Key, b: Key) -> Key:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4])


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
        km = delivery_distance_km(network, source, destination)
        risk = self.node_risk(network, source, leg, receiver) if self.risk else 0.0
        return self._score(network, source, quantity, leg, km, risk)

    def key(
        self,
        network: Network,
        source: Source,
        quantity: int,
        destination: Location | None,
        score: Score | None = None,
        leg: Leg | None = None,
        receiver: str | None = None,
    ) -> Key:
        """The node's part of a plan's `Key`: its score (`local`, given when known), then its
        risk (its source's and its leg's) and its distance, which break ties."""
        km = delivery_distance_km(network, source, destination)
        risk = self.node_risk(network, source, leg, receiver)
        if score is None:
            score = self._score(network, source, quantity, leg, km, risk)
        return _key(score, risk, km)

    def scored(
        self,
        network: Network,
        source: Source,
        quantity: int,
        leg: Leg | None,
        km: float | None,
        risk: float,
    ) -> tuple[Score, Key]:
        """`local` and `key` at once, from the node's distance and risk as the caller found
        them (the weave finds each once per source and destination)."""
        score = self._score(network, source, quantity, leg, km, risk)
        return score, _key(score, risk, km)

    def _score(
        self,
        network: Network,
        source: Source,
        quantity: int,
        leg: Leg | None,
        km: float | None,
        risk: float,
    ) -> Score:
        unknown, value = self._priced(source, quantity)
        if self.price and leg is not None:
            if leg.price is None:
                unknown += 1
            else:
                value += self.price * leg.price
        if self.distance:
            if km is None:
                unknown += 1
            else:
                value += self.distance * km
        if self.risk:
            value += self.risk * risk
        if self.haul:
            mass = _mass_kg(network, source)
            if mass is None or km is None:
                unknown += 1
            else:
                value += self.haul * (mass * quantity * km)
        return (unknown, value)

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

    def source_bound(self, source: Source, quantity: int, source_risk: float | None) -> Key:
        """At most the key of any node of this source, wherever it goes and however it is
        moved: its own price and, when given, its source's risk; legs, distances, learned
        risks and hauls are left out, as none of them is ever below nothing."""
        unknown, value = self._priced(source, quantity)
        risk = 0 if source_risk is None else exact(source_risk)
        return (unknown, exact(value), risk, 0, 0)

    def node_risk(
        self, network: Network, source: Source, leg: Leg | None, receiver: str | None
    ) -> float:
        """−log of the probability that the node's source and leg carry it through: learned
        over its stages with a `reliability`, else the declared figures of its source and its
        vehicle."""
        if self.reliability is not None:
            return self.reliability.node_risk(source, leg, receiver)
        return self.source_risk(network, source) + leg_risk(network, leg)

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
    failure = network.failure_probability_of_transport(leg.transport)
    return -log(max(1e-12, 1.0 - failure))


def _key(score: Score, risk: float, km: float | None) -> Key:
    return (
        score[0],
        exact(score[1]),
        exact(risk),
        1 if km is None else 0,
        0 if km is None else exact(km),
    )


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
