"""The weave W: every fulfilment plan of a demand over a network, counted and ranked lazily.

Plans are enumerated best-first with the lazy k-best algorithm over the AND-OR hypergraph
(Huang & Chiang, "Better k-best parsing", 2005, algorithm 3): a node is (item, quantity, cycle
context, destination, minutes left); each pair (source, leg option) is a hyperedge whose tails
are the input nodes — the leg (core.weave.legs) is how the node's goods reach the destination,
and a leg that cannot be served leaves no edge. The k-th best plan costs a few heap operations
per node on its tree once the best plan is known, so asking for the top ten of 10^30 plans
touches little more than the graph itself.

Plans are ordered by their `Key` (core.weave.ranking: the ranking's score, then risk, then
distance, in exact integers); plans still equal are ordered by their nested (source index, leg
option index) pairs, which keeps the order total and monotone (replacing a sub-plan by a better
one always gives a better plan), so the order is exactly the sorted order of the brute-force
enumeration that the tests keep as an oracle.

Time (core.weave.timing): a node's arrival is its own minutes (source, then leg) after the last
of its inputs'. A deadline window gives every node the minutes left: an edge whose own known
minutes exceed them is dropped, and its inputs get what remains. SOONEST is not additive (a
maximum), so `_Soonest` walks it by layers of equal arrival, each a windowed PRICE weave.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from itertools import count as counter
from itertools import islice

from core.network.model import Location, Network
from core.weave.capacity import LimitedIndex
from core.weave.count import (
    BUYER,
    Arrivals,
    Destinations,
    LegCounter,
    LegOptions,
    deep_recursion,
)
from core.weave.plan import Demand, Plan, PlanNode
from core.weave.ranking import NO_KEY, PRICE, ZERO, Ranking, add_keys, delivery_distance_km
from core.weave.sources import Bought, SupplyIndex
from core.weave.timing import own_minutes, plan_arrival

# No plan needs more units of anything; far beyond, prices overflow floats (10^9 a batch, 200
# designs deep, would be 10^1800 units).
MAX_UNITS = 10**15
MAX_DEPTH = 2_000  # designs within designs: real bills of materials nest tens deep
_NO_CONTEXT: frozenset[str] = frozenset()


class WeaveError(ValueError):
    """A demand the weave cannot take (unknown item, quantity that is not a positive integer)."""


class Weave:
    """The plans of an order: `buyer` and `deliver_to` say where its lines go (the last leg);
    `within_minutes` keeps only the plans whose known arrival is within that many minutes
    (times nobody gave count 0)."""

    def __init__(
        self,
        network: Network,
        demands: Iterable[Demand],
        criteria: Iterable[str] = (),
        ranking: Ranking = PRICE,
        deliver_to: Location | None = None,
        index: SupplyIndex | None = None,
        buyer: str | None = None,
        within_minutes: int | None = None,
        limits: Mapping[str, float] | None = None,
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
        if within_minutes is not None and (
            isinstance(within_minutes, bool)
            or not isinstance(within_minutes, int)
            or within_minutes < 0
        ):
            raise WeaveError(f"a window is a whole number of minutes, not {within_minutes!r}")
        self.criteria = frozenset(criteria)
        self.ranking = ranking
        self.deliver_to = deliver_to
        self.buyer = buyer
        self.within_minutes = within_minutes
        if limits is not None and not isinstance(index, LimitedIndex):
            # What is left of each source (core.weave.capacity): too little, and it is no option.
            index = LimitedIndex(network, limits)
        self.index = index or SupplyIndex(network)
        if self.index.design_depth > MAX_DEPTH:
            # The weave recurses once a level; far deeper than any bill of materials, Python's
            # stack would overflow (a crash, not an error) before the recursion limit is hit.
            raise WeaveError("the network's designs nest too deeply to plan")
        self.legs = LegOptions(network, Destinations(network, buyer, deliver_to))
        self.arrivals = Arrivals(self.index, self.criteria, self.legs)
        self._counter = LegCounter(self.index, self.criteria, self.legs, self.arrivals)
        self._graph = _Soonest(self) if ranking.soonest else _Hypergraph(self)

    def count(self) -> int:
        """The exact number of plans within the window: the product of the counts of the
        order's lines (every line must arrive within it)."""
        return self._count(self.within_minutes)

    def count_unwindowed(self) -> int:
        """The exact number of plans, whenever they arrive."""
        return self._count(None)

    def _count(self, budget: int | None) -> int:
        total = 1
        for demand in self.demands:
            total *= self._counter.count(demand.item, demand.quantity, BUYER, budget)
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
        # edge = (local score, local key, tie, source, leg, tails); a derivation =
        # (key, tie, edge, positions, score): ordered by key, then tie; the score rides along.
        self.edges = edges
        self.derivations: list[tuple] = []
        self.candidates: list[tuple] | None = None
        self.seen: set[tuple] = set()


class _Hypergraph:
    """Nodes are (item, quantity, cycle context, destination, minutes left): the destination a
    facility's id or BUYER, the minutes None without a window. Each (source, leg option) is a
    hyperedge; the options of one source share its tails."""

    def __init__(self, weave: Weave):
        self.weave = weave
        self.nodes: dict[tuple, _Node] = {}
        lines = tuple(
            (d.item, d.quantity, _NO_CONTEXT, BUYER, within)
            for d in weave.demands
            for within in [
                weave.arrivals.window(
                    (d.item, d.quantity, _NO_CONTEXT, BUYER), weave.within_minutes
                )
            ]
        )
        self.root = ("@order",)
        self.nodes[self.root] = _Node([(ZERO, NO_KEY, -1, None, None, lines)])

    def plan(self, rank: int) -> Plan | None:
        derivation = self._kth(self.root, rank - 1)
        if derivation is None:
            return None
        key, _, _, positions, score = derivation
        lines = tuple(
            self._tree(tail, self.nodes[tail].derivations[j], self.weave.deliver_to)
            for tail, j in zip(self.nodes[self.root].edges[0][5], positions, strict=True)
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

        One design at many facilities, or one source by many legs, has one tuple of inputs
        (see `_edges`), so their best sub-plans are summed once and only the local scores
        differ.
        """
        candidates = []
        best_inputs: dict[int, tuple | None] = {}
        for position, (local, own, tie, _, _, tails) in enumerate(node.edges):
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
                    (tie, *ties),
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
        local, key, tie, _, _, tails = node.edges[position]
        unknown, value = 0, 0.0
        ties = [tie]
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
            ties.append(child[1])
        score = (local[0] + unknown, local[1] + value)
        heapq.heappush(node.candidates, (key, tuple(ties), position, positions, score))

    # -- the graph, built as it is reached ---------------------------------------------------

    def _node(self, key: tuple) -> _Node:
        node = self.nodes.get(key)
        if node is None:
            node = self.nodes[key] = _Node(self._edges(key))
        return node

    def _edges(self, key: tuple) -> list[tuple]:
        item_id, quantity, context, destination, budget = key
        weave = self.weave
        window = weave.arrivals.window
        index, ranking, network, legs = weave.index, weave.ranking, weave.network, weave.legs
        moves = network.plans_transport
        stop = legs.destinations.stop(destination)
        place, receiver = stop.location, stop.participant
        groups = index.recursive_groups
        edges = []
        # One design at one facility has one tuple of inputs for all its leg options (and for
        # all of them that leave the same minutes to its inputs).
        tails_of: dict[tuple, tuple] = {}
        limited = isinstance(index, LimitedIndex)
        for source in index.sources(item_id, weave.criteria):
            made = type(source) is not Bought
            if made and item_id in context:
                continue
            if limited and not index.fits(item_id, source, quantity):
                continue
            options = legs.options(source, item_id, quantity, destination) if moves else (None,)
            for leg in options:
                left = None
                if budget is not None:
                    left = budget - own_minutes(source, quantity, leg)[0]
                    if left < 0:
                        continue  # this way alone takes longer than the window
                local = ranking.local(network, source, quantity, place, leg, receiver)
                own = ranking.key(network, source, quantity, place, local, leg, receiver)
                tie = (source.index, 0 if leg is None else leg.index)
                if not made:
                    edges.append((local, own, tie, source, leg, ()))
                    continue
                design = source.design
                where = source.facility.id
                tails = tails_of.get((design.id, where, left))
                if tails is None:
                    runs = -(-quantity // design.yield_)
                    for input_id, per_batch in design.inputs:
                        if per_batch * runs > MAX_UNITS:
                            raise WeaveError(
                                f"{quantity:,} {network.item_name(item_id)} would need more "
                                f"than {MAX_UNITS:,} {network.item_name(input_id)} "
                                f"(design {design.id})"
                            )
                    inputs = [
                        (
                            input_id,
                            per_batch * runs,
                            index.child_context(context, item_id, input_id)
                            if input_id in groups
                            else _NO_CONTEXT,
                            where,
                        )
                        for input_id, per_batch in design.inputs
                    ]
                    # Each input's minutes as the latest arrival it can make within them: the
                    # inputs of windows that differ only in slack are the same nodes.
                    tails = tails_of[(design.id, where, left)] = tuple(
                        (*tail, None if left is None else window(tail, left)) for tail in inputs
                    )
                edges.append((local, own, tie, source, leg, tails))
        return edges

    def _tree(self, key: tuple, derivation: tuple, destination: Location | None) -> PlanNode:
        node = self.nodes[key]
        _, _, _, source, leg, tails = node.edges[derivation[2]]
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
            leg=leg,
        )


class _Soonest:
    """SOONEST, exactly, by layers of equal arrival: the plans arriving at minute t are the
    plans of a PRICE weave windowed at t that arrive at t, in its order (those before t were
    given by earlier layers and are skipped, which costs at most what was given); the next t
    is the earliest achievable arrival after it, up to the window."""

    def __init__(self, weave: Weave):
        self.weave = weave
        self.found: list[Plan] = []
        self._layers = self._walk()

    def plan(self, rank: int) -> Plan | None:
        while len(self.found) < rank:
            plan = next(self._layers, None)
            if plan is None:
                return None
            self.found.append(plan)
        return self.found[rank - 1]

    def _walk(self) -> Iterator[Plan]:
        weave = self.weave
        by_price = replace(weave.ranking, soonest=False)
        arrivals = weave.arrivals
        order = (0, tuple((d.item, d.quantity, _NO_CONTEXT, BUYER) for d in weave.demands))
        window = weave.within_minutes
        rank = 0
        layer = arrivals.edge_earliest(order)
        while layer is not None and (window is None or layer <= window):
            windowed = Weave(
                weave.network,
                weave.demands,
                weave.criteria,
                by_price,
                weave.deliver_to,
                weave.index,
                weave.buyer,
                within_minutes=layer,
            )
            for plan in windowed.plans():
                if plan_arrival(plan).minutes < layer:
                    continue
                rank += 1
                yield replace(plan, rank=rank, key=(layer, *plan.key))
            layer = arrivals.edge_after(order, layer)
