"""The weave W: every fulfilment plan of a demand over a network, counted and ranked lazily.

Plans are enumerated best-first with the lazy k-best algorithm over the AND-OR hypergraph
(Huang & Chiang, "Better k-best parsing", 2005, algorithm 3): a node is (item, quantity, cycle
context, destination); each of its sources is a hyperedge whose tails are the input nodes. The
k-th best plan costs a few heap operations per node on its tree once the best plan is known, so
asking for the top ten of 10^30 plans touches little more than the graph itself.

Plans are ordered by their `Key` (core.weave.ranking: the ranking's score, then risk, then
distance, in exact integers); plans still equal are ordered by their nested source indices,
which keeps the order total and monotone (replacing a sub-plan by a better one always gives a
better plan), so the order is exactly the sorted order of the brute-force enumeration that the
tests keep as an oracle.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from itertools import count as counter
from itertools import islice

from core.network.model import Location, Network
from core.weave.count import PlanCounter, deep_recursion
from core.weave.plan import Demand, Plan, PlanNode
from core.weave.ranking import NO_KEY, PRICE, ZERO, Ranking, add_keys, delivery_distance_km
from core.weave.sources import Bought, SupplyIndex

BUYER = "@buyer"  # the destination of the root of every order line
# No plan needs more units of anything; far beyond, prices overflow floats (10^9 a batch, 200
# designs deep, would be 10^1800 units).
MAX_UNITS = 10**15
_NO_CONTEXT: frozenset[str] = frozenset()


class WeaveError(ValueError):
    """A demand the weave cannot take (unknown item, quantity that is not a positive integer)."""


class Weave:
    def __init__(
        self,
        network: Network,
        demands: Iterable[Demand],
        criteria: Iterable[str] = (),
        ranking: Ranking = PRICE,
        deliver_to: Location | None = None,
        index: SupplyIndex | None = None,
    ):
        self.network = network
        self.demands = tuple(demands)
        if not self.demands:
            raise WeaveError("an order needs at least one line")
        for demand in self.demands:
            if demand.item not in network.items:
                raise WeaveError(f"unknown item {demand.item!r}")
            quantity = demand.quantity
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
                raise WeaveError(f"quantity must be a positive whole number, not {quantity!r}")
            if quantity > MAX_UNITS:
                raise WeaveError(f"quantity must be at most {MAX_UNITS:,}")
        self.criteria = frozenset(criteria)
        self.ranking = ranking
        self.deliver_to = deliver_to
        self.index = index or SupplyIndex(network)
        self._counter = PlanCounter(self.index, self.criteria)
        self._graph = _Hypergraph(self)

    def count(self) -> int:
        """The exact number of plans: the product of the counts of the order's lines."""
        total = 1
        for demand in self.demands:
            total *= self._counter.count(demand.item)
        return total

    def plans(self) -> Iterator[Plan]:
        """Every plan, best first, produced only as far as it is read."""
        for rank in counter(1):
            with deep_recursion():
                plan = self._graph.plan(rank)
            if plan is None:
                return
            yield plan

    def best(self, k: int) -> list[Plan]:
        return list(islice(self.plans(), k))

    def plan(self, rank: int) -> Plan | None:
        """The plan of `rank` (1 the best), or None when there are fewer: the plans before it
        are found lazily, the ones after it not at all."""
        if rank < 1:
            return None
        with deep_recursion():
            return self._graph.plan(rank)


class _Node:
    __slots__ = ("edges", "derivations", "candidates", "seen")

    def __init__(self, edges):
        # edge = (local score, local key, source, tails); a derivation =
        # (key, tie, edge, positions, score): ordered by key, then tie; the score rides along.
        self.edges = edges
        self.derivations: list[tuple] = []
        self.candidates: list[tuple] | None = None
        self.seen: set[tuple] = set()


class _Hypergraph:
    def __init__(self, weave: Weave):
        self.weave = weave
        self.nodes: dict[tuple, _Node] = {}
        lines = tuple(
            (d.item, d.quantity, frozenset(), BUYER if weave.ranking.needs_destination else None)
            for d in weave.demands
        )
        self.root = ("@order",)
        self.nodes[self.root] = _Node([(ZERO, NO_KEY, None, lines)])

    def plan(self, rank: int) -> Plan | None:
        derivation = self._kth(self.root, rank - 1)
        if derivation is None:
            return None
        key, _, _, positions, score = derivation
        lines = tuple(
            self._tree(tail, self.nodes[tail].derivations[j], self.weave.deliver_to)
            for tail, j in zip(self.nodes[self.root].edges[0][3], positions, strict=True)
        )
        return Plan(lines=lines, score=score, rank=rank, key=key)

    # -- the lazy k-best -------------------------------------------------------------------

    def _kth(self, key: tuple, k: int):
        """The k-th best derivation (0-based) of a node, or None if it has fewer."""
        node = self.nodes.get(key) or self._node(key)
        if k < len(node.derivations):
            return node.derivations[k]
        if node.candidates is None:
            self._first_candidates(node)
        while len(node.derivations) <= k:
            if node.derivations:
                self._push_successors(node, node.derivations[-1])
            if not node.candidates:
                return None
            node.derivations.append(heapq.heappop(node.candidates))
        return node.derivations[k]

    def _first_candidates(self, node: _Node) -> None:
        """Each edge with the best sub-plan of every input: the heap a node starts from.

        One design at many facilities has one tuple of inputs (see `_edges`), so their best
        sub-plans are summed once and only the local scores differ.
        """
        candidates = []
        best_inputs: dict[int, tuple | None] = {}
        for position, (local, own, source, tails) in enumerate(node.edges):
            summed = best_inputs.get(id(tails), False)
            if summed is False:
                summed = best_inputs[id(tails)] = self._best_inputs(tails)
            if summed is None:
                continue
            key, unknown, value, ties = summed
            first = (0,) * len(tails)
            node.seen.add((position, first))
            candidates.append(
                (
                    add_keys(own, key),
                    (_index(source), *ties),
                    position,
                    first,
                    (local[0] + unknown, local[1] + value),
                )
            )
        heapq.heapify(candidates)
        node.candidates = candidates

    def _best_inputs(self, tails: tuple) -> tuple | None:
        key, unknown, value, ties = NO_KEY, 0, 0.0, []
        for tail in tails:
            child = self._kth(tail, 0)
            if child is None:
                return None
            key = add_keys(key, child[0])
            unknown += child[4][0]
            value += child[4][1]
            ties.append(child[1])
        return key, unknown, value, ties

    def _push_successors(self, node: _Node, derivation: tuple) -> None:
        position, positions = derivation[2], derivation[3]
        for i in range(len(positions)):
            successor = positions[:i] + (positions[i] + 1,) + positions[i + 1 :]
            self._push(node, position, successor)

    def _push(self, node: _Node, position: int, positions: tuple[int, ...]) -> None:
        # The hot loop of the weave: every hyperedge passes here at least once.
        seen = (position, positions)
        if seen in node.seen:
            return
        node.seen.add(seen)
        local, key, source, tails = node.edges[position]
        unknown, value = 0, 0.0
        tie = [_index(source)]
        nodes = self.nodes
        for tail, j in zip(tails, positions, strict=True):
            below = nodes.get(tail)
            if below is not None and j < len(below.derivations):
                child = below.derivations[j]
            else:
                child = self._kth(tail, j)
                if child is None:
                    return
            key = add_keys(key, child[0])
            unknown += child[4][0]
            value += child[4][1]
            tie.append(child[1])
        score = (local[0] + unknown, local[1] + value)
        heapq.heappush(node.candidates, (key, tuple(tie), position, positions, score))

    # -- the graph, built as it is reached ---------------------------------------------------

    def _node(self, key: tuple) -> _Node:
        node = self.nodes.get(key)
        if node is None:
            node = self.nodes[key] = _Node(self._edges(key))
        return node

    def _edges(self, key: tuple) -> list[tuple]:
        item_id, quantity, context, destination = key
        weave = self.weave
        index, ranking, network = weave.index, weave.ranking, weave.network
        place = self._place(destination)
        by_place = ranking.needs_destination
        groups = index.recursive_groups
        edges = []
        tails_of: dict[tuple, tuple] = {}  # one design at many facilities shares its inputs
        for source in index.sources(item_id, weave.criteria):
            local = ranking.local(network, source, quantity, place)
            own = ranking.key(network, source, quantity, place, local)
            if type(source) is Bought:
                edges.append((local, own, source, ()))
                continue
            if item_id in context:
                continue
            design = source.design
            where = source.facility.id if by_place else None
            tails = tails_of.get((design.id, where))
            if tails is None:
                runs = -(-quantity // design.yield_)
                for input_id, per_batch in design.inputs:
                    if per_batch * runs > MAX_UNITS:
                        raise WeaveError(
                            f"{quantity:,} {network.item_name(item_id)} would need more than "
                            f"{MAX_UNITS:,} {network.item_name(input_id)} (design {design.id})"
                        )
                tails = tails_of[(design.id, where)] = tuple(
                    (
                        input_id,
                        per_batch * runs,
                        index.child_context(context, item_id, input_id)
                        if input_id in groups
                        else _NO_CONTEXT,
                        where,
                    )
                    for input_id, per_batch in design.inputs
                )
            edges.append((local, own, source, tails))
        return edges

    def _place(self, destination: str | None) -> Location | None:
        if destination is None:
            return None
        if destination == BUYER:
            return self.weave.deliver_to
        return self.weave.network.location_of_facility(self.weave.network.facilities[destination])

    def _tree(self, key: tuple, derivation: tuple, destination: Location | None) -> PlanNode:
        node = self.nodes[key]
        _, _, source, tails = node.edges[derivation[2]]
        network = self.weave.network
        here = None if isinstance(source, Bought) else network.location_of_facility(source.facility)
        children = tuple(
            self._tree(tail, self.nodes[tail].derivations[j], here)
            for tail, j in zip(tails, derivation[3], strict=True)
        )
        return PlanNode(
            item=key[0],
            quantity=key[1],
            source=source,
            inputs=children,
            distance_km=delivery_distance_km(network, source, destination),
        )


def _index(source) -> int:
    """The source's position among its item's sources; the order's root comes first."""
    return -1 if source is None else source.index
