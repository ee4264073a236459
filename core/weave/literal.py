"""The weave as the paper writes it: build every plan, then filter, score and sort them.

W(T, SN): for each source S of T, if S is an OKH, weave each of its inputs and take the cross
product; otherwise S itself is a plan. Exponential, and meant to be: it is the oracle the tests
hold the real weave to, and the baseline the benchmark measures it against.
"""

from __future__ import annotations

from itertools import product

from core.network.model import Location, Network
from core.weave.plan import Demand, Plan, PlanNode
from core.weave.ranking import NO_KEY, PRICE, Ranking, add, add_keys, batches, delivery_distance_km
from core.weave.sources import Bought, Made, asserts, source_properties


def literal_plans(
    network: Network,
    demands: list[Demand],
    criteria: frozenset[str] = frozenset(),
    ranking: Ranking = PRICE,
    deliver_to: Location | None = None,
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

    def weave(item_id: str, quantity: int, path: frozenset[str]) -> list[PlanNode]:
        plans = []
        for source in sources(item_id):
            if isinstance(source, Bought):
                plans.append(PlanNode(item_id, quantity, source))
            elif item_id not in path:
                runs = batches(source, quantity)
                options = [
                    weave(input_id, per_batch * runs, path | {item_id})
                    for input_id, per_batch in source.design.inputs
                ]
                plans.extend(
                    PlanNode(item_id, quantity, source, tuple(inputs))
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
        )

    def score(node: PlanNode, destination: Location | None):
        """The node's own score plus the sum of its inputs' (summed first, then added)."""
        here = (
            None
            if isinstance(node.source, Bought)
            else network.location_of_facility(node.source.facility)
        )
        inputs = (0, 0.0)
        for child in node.inputs:
            inputs = add(inputs, score(child, here))
        return add(ranking.local(network, node.source, node.quantity, destination), inputs)

    def key(node: PlanNode, destination: Location | None):
        """The node's key plus its inputs' (integers: the order of the sum does not matter)."""
        here = (
            None
            if isinstance(node.source, Bought)
            else network.location_of_facility(node.source.facility)
        )
        total = ranking.key(network, node.source, node.quantity, destination)
        for child in node.inputs:
            total = add_keys(total, key(child, here))
        return total

    def tie(node: PlanNode) -> tuple:
        return (node.source.index, *(tie(child) for child in node.inputs))

    per_line = [
        [placed(p, deliver_to) for p in weave(d.item, d.quantity, frozenset()) if qualifies(p)]
        for d in demands
    ]
    scored = []
    for lines in product(*per_line):
        total, ordered = (0, 0.0), NO_KEY
        for line in lines:
            total = add(total, score(line, deliver_to))
            ordered = add_keys(ordered, key(line, deliver_to))
        scored.append((ordered, (-1, *(tie(line) for line in lines)), total, lines))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    return [
        Plan(lines=lines, score=s, rank=r, key=k) for r, (k, _, s, lines) in enumerate(scored, 1)
    ]
