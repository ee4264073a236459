"""The weave as the paper writes it: build every plan, then filter, score and sort them.

W(T, SN): for each source S of T, if S is an OKH, weave each of its inputs and take the cross
product; otherwise S itself is a plan. Every node's goods then go to where they are used by
each of the leg's options (core.weave.legs), one plan per option. Exponential, and meant to be:
it is the oracle the tests hold the real weave to, and the baseline the benchmark measures it
against. A window keeps the plans whose known arrival (core.weave.timing) is within it; SOONEST
sorts by arrival first.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import product

from core.network.model import Location, Network
from core.weave.capacity import resource_of
from core.weave.legs import Stop, leg_options
from core.weave.plan import Demand, Plan, PlanNode
from core.weave.ranking import NO_KEY, PRICE, Ranking, add, add_keys, batches, delivery_distance_km
from core.weave.sources import Bought, Made, asserts, source_properties
from core.weave.timing import node_arrival


def literal_plans(
    network: Network,
    demands: list[Demand],
    criteria: frozenset[str] = frozenset(),
    ranking: Ranking = PRICE,
    deliver_to: Location | None = None,
    buyer: str | None = None,
    within_minutes: int | None = None,
    limits: Mapping[str, float] | None = None,
) -> list[Plan]:
    def sources(item_id: str) -> list[Bought | Made]:
        """Every offer of T; every pair (design D making T, facility F that can carry it out:
        `Network.can_make`), D saying what goes in; in declaration order."""
        found: list[Bought | Made] = []
        for offer in network.offers.values():
            if offer.item == item_id:
                found.append(Bought(offer, len(found)))
        for design in network.designs.values():
            if design.makes != item_id or not design.inputs_known:
                continue
            for facility in network.facilities.values():
                if network.can_make(design, facility):
                    found.append(Made(design, facility, len(found)))
        return found

    def facility_stop(facility) -> Stop:
        return Stop(facility.operator, facility.id, network.location_of_facility(facility))

    def legs(source: Bought | Made, item_id: str, quantity: int, destination: Stop):
        """The leg's options: from the supplier's place (its own delivery, unless it is stock
        held for the order) or the facility (the maker's delivery) to the destination."""
        if isinstance(source, Bought):
            offer = source.offer
            origin = Stop(offer.supplier, None, network.location_of_offer(offer))
            delivery = offer.delivery
            sender = offer.supplier
        else:
            origin = facility_stop(source.facility)
            delivery, sender = source.facility.delivery, source.facility.operator
        return leg_options(network, item_id, quantity, origin, destination, delivery, sender)

    def enough(item_id: str, source: Bought | Made, quantity: int) -> bool:
        """What is left of the source (core.weave.capacity) takes the node's quantity."""
        resource = None if limits is None else resource_of(item_id, source)
        return resource is None or limits.get(resource, quantity) >= quantity

    def weave(item_id: str, quantity: int, path: frozenset[str], to: Stop) -> list[PlanNode]:
        plans = []
        for source in sources(item_id):
            if not enough(item_id, source, quantity):
                continue
            if isinstance(source, Bought):
                plans.extend(
                    PlanNode(item_id, quantity, source, leg=leg)
                    for leg in legs(source, item_id, quantity, to)
                )
            elif item_id not in path:
                runs = batches(source, quantity)
                here = facility_stop(source.facility)
                options = [
                    weave(input_id, per_batch * runs, path | {item_id}, here)
                    for input_id, per_batch in source.design.inputs
                ]
                plans.extend(
                    PlanNode(item_id, quantity, source, tuple(inputs), leg=leg)
                    for leg in legs(source, item_id, quantity, to)
                    for inputs in product(*options)
                )
        return plans

    def qualifies(node: PlanNode) -> bool:
        """F(A(P1..Pn)) = F(A) ∧ F(P1) ∧ … ∧ F(Pn), for every criterion."""
        item_properties = network.items[node.item].properties
        own = source_properties(node.source)
        return all(asserts(own, item_properties, c) for c in criteria) and all(
            qualifies(child) for child in node.inputs
        )

    def placed(node: PlanNode, destination: Location | None) -> PlanNode:
        here = (
            None
            if isinstance(node.source, Bought)
            else network.location_of_facility(node.source.facility)
        )
        return PlanNode(
            node.item,
            node.quantity,
            node.source,
            tuple(placed(child, here) for child in node.inputs),
            delivery_distance_km(network, node.source, destination),
            node.leg,
        )

    def below(node: PlanNode) -> Stop | None:
        """Where a node's inputs go: its facility (a bought node has none)."""
        return None if isinstance(node.source, Bought) else facility_stop(node.source.facility)

    def score(node: PlanNode, to: Stop):
        """The node's own score plus the sum of its inputs' (summed first, then added)."""
        inputs = (0, 0.0)
        for child in node.inputs:
            inputs = add(inputs, score(child, below(node)))
        own = ranking.local(
            network, node.source, node.quantity, to.location, node.leg, to.participant
        )
        return add(own, inputs)

    def key(node: PlanNode, to: Stop):
        """The node's key plus its inputs' (integers: the order of the sum does not matter)."""
        total = ranking.key(
            network,
            node.source,
            node.quantity,
            to.location,
            leg=node.leg,
            receiver=to.participant,
        )
        for child in node.inputs:
            total = add_keys(total, key(child, below(node)))
        return total

    def tie(node: PlanNode) -> tuple:
        option = 0 if node.leg is None else node.leg.index
        return ((node.source.index, option), *(tie(child) for child in node.inputs))

    to_buyer = Stop(buyer, None, deliver_to)
    per_line = [
        [
            placed(p, deliver_to)
            for p in weave(d.item, d.quantity, frozenset(), to_buyer)
            if qualifies(p)
        ]
        for d in demands
    ]
    scored = []
    for lines in product(*per_line):
        arrival = max(node_arrival(line).minutes for line in lines)
        if within_minutes is not None and arrival > within_minutes:
            continue
        total, ordered = (0, 0.0), NO_KEY
        for line in lines:
            total = add(total, score(line, to_buyer))
            ordered = add_keys(ordered, key(line, to_buyer))
        if ranking.soonest:
            ordered = (arrival, *ordered)
        scored.append((ordered, (-1, *(tie(line) for line in lines)), total, lines))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    return [
        Plan(lines=lines, score=s, rank=r, key=k) for r, (k, _, s, lines) in enumerate(scored, 1)
    ]
