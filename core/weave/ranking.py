"""How plans are compared: additive scores summed over the nodes of a plan.

A node's score depends only on its own source, its quantity and where it delivers, so the weave
can rank plans best-first without enumerating them. Scores are pairs (unknown terms, value): a
term is unknown when the ranking needs a price nobody has quoted yet or a distance from or to a
place nobody has given. A plan the ranking can fully value comes before one it cannot, whatever
their known parts; then the lower value wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import log

from core.network.geo import haversine_km
from core.network.model import Location, Network
from core.weave.sources import Bought, Source

Score = tuple[int, float]
ZERO: Score = (0, 0.0)


def add(a: Score, b: Score) -> Score:
    return (a[0] + b[0], a[1] + b[1])


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
    """A weighted mix of price, distance (km) and risk (−log of the probability of success).

    The weights say how much one kilometre and one unit of −log p are worth in money.
    """

    name: str
    price: float = 0.0
    distance: float = 0.0
    risk: float = 0.0

    @property
    def needs_destination(self) -> bool:
        return self.distance > 0

    def local(
        self, network: Network, source: Source, quantity: int, destination: Location | None
    ) -> Score:
        unknown, value = 0, 0.0
        bought = type(source) is Bought
        if self.price:
            if bought:
                price = source.offer.price
                known = None if price is None else quantity * price
            else:
                labor = source.design.labor
                known = None if labor is None else -(-quantity // source.design.yield_) * labor
            if known is None:
                unknown = 1
            else:
                value += self.price * known
        if self.distance:
            km = delivery_distance_km(network, source, destination)
            if km is None:
                unknown += 1
            else:
                value += self.distance * km
        if self.risk:
            failure = (
                network.failure_probability_of_offer(source.offer)
                if bought
                else network.failure_probability_of_facility(source.facility)
            )
            value += self.risk * -log(max(1e-12, 1.0 - failure))
        return (unknown, value)


PRICE = Ranking("price", price=1.0)
DISTANCE = Ranking("distance", distance=1.0)
RISK = Ranking("risk", risk=1.0)
# One km costs 0.5 and a certain failure (−log p → 1 nat ≈ 63 %) costs 50, in price units.
BALANCED = Ranking("balanced", price=1.0, distance=0.5, risk=50.0)

RANKINGS = {r.name: r for r in (PRICE, DISTANCE, RISK, BALANCED)}
