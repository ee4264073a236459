"""Locality: how much of a plan is made near its buyer, and how far its goods travel.

"What is light is global, what is heavy is local": a plan is judged by the share of its value
and of its mass produced within a radius of the buyer, and by the distance and the tonne-km its
goods travel. Each node of a plan counts for what it does itself: its value is what it adds
(an offer's quantity × price, a design's batches × labour), its mass what it ships (its item's
mass × quantity — so a leg's mass counts for the leg's node and again inside the chair's), its
place the supplier's or the facility's, its distance from there to where its goods are used.

What is unknown is left out of the figures and counted beside them: a node without a price,
without a mass or without a place gives no value, mass or distance, rather than a guess.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from core.network.geo import haversine_km
from core.network.model import Location, Network
from core.weave.plan import Plan, PlanNode
from core.weave.ranking import delivery_distance_km, source_location
from core.weave.sources import Bought


@dataclass(frozen=True)
class Locality:
    """The locality figures of one plan for a buyer at a place, within `radius_km`.

    `value_local` of `value_known`: the value of nodes with a known value and place, and of
    those within the radius; `value_unknown` nodes have no known value. The same for mass, in
    kg. `unplaced` nodes have no known place: they are in no share. `distance_km` and
    `tonne_km` sum over the nodes whose legs are known; `distance_unknown` and
    `tonne_km_unknown` count the others.
    """

    radius_km: float
    nodes: int
    value_local: float
    value_known: float
    value_unknown: int
    mass_local_kg: float
    mass_known_kg: float
    mass_unknown: int
    unplaced: int
    distance_km: float
    distance_unknown: int
    tonne_km: float
    tonne_km_unknown: int

    @property
    def value_share(self) -> float | None:
        """The share of the known value made within the radius; None when none is known."""
        return self.value_local / self.value_known if self.value_known else None

    @property
    def mass_share(self) -> float | None:
        """The share of the known mass made within the radius; None when none is known."""
        return self.mass_local_kg / self.mass_known_kg if self.mass_known_kg else None


def node_value(node: PlanNode) -> float | None:
    """What the node adds to the plan's price: bought goods, or a design's labour."""
    if isinstance(node.source, Bought):
        price = node.source.offer.price
        return None if price is None else node.quantity * price
    labor = node.source.design.labor
    return None if labor is None else node.batches * labor


def node_mass_kg(network: Network, node: PlanNode) -> float | None:
    item = network.items.get(node.item)
    mass = item.mass_kg if item is not None else None
    return None if mass is None else mass * node.quantity


def locality(
    network: Network, plan: Plan | PlanNode, buyer_at: Location | None, radius_km: float
) -> Locality:
    """How local `plan` is for a buyer at `buyer_at`: shares within `radius_km` and transport.

    Distances are measured again from the network — from each node's place to its parent's
    facility, or to `buyer_at` for a root — so a plan woven without a delivery place still gets
    its roots' legs. With no `buyer_at`, every node is unplaced and the roots' legs unknown.
    """
    if radius_km < 0:
        raise ValueError(f"the radius must not be negative, not {radius_km}")
    lines = (plan,) if isinstance(plan, PlanNode) else plan.lines
    legs = [leg for line in lines for leg in _legs(network, line, buyer_at)]
    value_local = value_known = mass_local = mass_known = distance = tonne_km = 0.0
    value_unknown = mass_unknown = unplaced = distance_unknown = tonne_km_unknown = 0
    for node, place, km in legs:
        value = node_value(node)
        mass = node_mass_kg(network, node)
        value_unknown += value is None
        mass_unknown += mass is None
        if place is None or buyer_at is None:
            unplaced += 1
        else:
            near = haversine_km(place, buyer_at) <= radius_km
            if value is not None:
                value_known += value
                value_local += value if near else 0.0
            if mass is not None:
                mass_known += mass
                mass_local += mass if near else 0.0
        if km is None:
            distance_unknown += 1
        else:
            distance += km
        if km is None or mass is None:
            tonne_km_unknown += 1
        else:
            tonne_km += mass / 1000.0 * km
    return Locality(
        radius_km=radius_km,
        nodes=len(legs),
        value_local=value_local,
        value_known=value_known,
        value_unknown=value_unknown,
        mass_local_kg=mass_local,
        mass_known_kg=mass_known,
        mass_unknown=mass_unknown,
        unplaced=unplaced,
        distance_km=distance,
        distance_unknown=distance_unknown,
        tonne_km=tonne_km,
        tonne_km_unknown=tonne_km_unknown,
    )


def _legs(
    network: Network, node: PlanNode, destination: Location | None
) -> Iterator[tuple[PlanNode, Location | None, float | None]]:
    """Every node under `node` with its place and the length of the leg to its destination."""
    place = source_location(network, node.source)
    yield node, place, delivery_distance_km(network, node.source, destination)
    here = None if isinstance(node.source, Bought) else place
    for child in node.inputs:
        yield from _legs(network, child, here)
