"""The weave W: every fulfilment plan of a demand over a network, counted and ranked lazily.

Plans are enumerated best-first with the lazy k-best algorithm over the AND-OR hypergraph
(Huang & Chiang, "Better k-best parsing", 2005, algorithm 3): a node is (item, quantity, cycle
context, destination, minutes left); each pair (source, leg option) is a hyperedge — the leg
(core.weave.legs) is how the node's goods reach the destination, and a leg that cannot be
served leaves no edge. A bought source's edge has no tails; a made one's has one, the design's
run at its facility, a node whose one edge has the inputs as tails: what a facility makes does
not depend on where it goes next, so that run is shared by every destination and leg option.
The k-th best plan costs a few heap operations per node on its tree once the best plan is
known, so asking for the top ten of 10^30 plans touches little more than the graph itself; the
best of each node is found without a heap, and only nodes asked for more keep their edges.

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

from core.network.geo import haversine_km
from core.network.model import Location, Network
from core.weave.capacity import LimitedIndex
from core.weave.count import (
    BUYER,
    Arrivals,
    Destinations,
    LegCounter,
    LegOptions,
    graph_walk,
)
from core.weave.plan import Demand, Plan, PlanNode
from core.weave.ranking import (
    NO_KEY,
    PRICE,
    ZERO,
    Ranking,
    add_keys,
    delivery_distance_km,
    exact,
    leg_risk,
    source_location,
)
from core.weave.sources import Bought, SupplyIndex
from core.weave.timing import own_minutes, plan_arrival

# No plan needs more units of anything; far beyond, prices overflow floats (10^9 a batch, 200
# designs deep, would be 10^1800 units).
MAX_UNITS = 10**15
MAX_DEPTH = 2_000  # designs within designs: real bills of materials nest tens deep
_NO_CONTEXT: frozenset[str] = frozenset()
_UNSEEN = object()
_MADE = "@made"  # the key of a design run at a facility: (_MADE, design, facility, quantity,
# cycle context, minutes left)


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
            with graph_walk():
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
        with graph_walk():
            return self._graph.plan(rank)


class _Node:
    __slots__ = ("edges", "derivations", "candidates", "seen")

    def __init__(self, edges: dict[object, tuple] | None = None):
        # edges by tie: edge = (local score, local key, tie, source, leg, tails); a derivation
        # = (key, ties, tie of its edge, positions, score): ordered by key, then ties; the
        # score rides along. An item's node finds its best without its edges (`_best`); they
        # are found only for the few nodes asked for more, or read into a plan.
        self.edges = edges
        self.derivations: list[tuple] = []
        self.candidates: list[tuple] | None = None
        self.seen: set[tuple] | None = None


class _Hypergraph:
    """Nodes are (item, quantity, cycle context, destination, minutes left): the destination a
    facility's id or BUYER, the minutes None without a window; and design runs (_MADE, design,
    facility, quantity, cycle context, minutes left). Each (source, leg option) is a hyperedge;
    the options of one made source share its run."""

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
        self._places: dict[int, Location | None] = {}
        self._kms: dict[tuple[int, str], float] = {}
        self._risks: dict[int, float] = {}  # by the id of a source or a vehicle
        self._bounds: dict[tuple, list[tuple]] = {}
        self._groups: dict[tuple, list[tuple]] = {}
        self.root = ("@order",)
        self.nodes[self.root] = _Node({-1: (ZERO, NO_KEY, -1, None, None, lines)})

    def plan(self, rank: int) -> Plan | None:
        derivation = self._kth(self.root, rank - 1)
        if derivation is None:
            return None
        key, _, _, positions, score = derivation
        lines = tuple(
            self._tree(tail, self.nodes[tail].derivations[j], self.weave.deliver_to)
            for tail, j in zip(self.nodes[self.root].edges[-1][5], positions, strict=True)
        )
        return Plan(lines=lines, score=score, rank=rank, key=key)

    # -- the lazy k-best -------------------------------------------------------------------

    def _kth(self, key: tuple, k: int):
        """The k-th best derivation (0-based) of a node, or None if it has fewer."""
        node = self.nodes.get(key) or self._node(key)
        if k < len(node.derivations):
            return node.derivations[k]
        if node.candidates is None:
            if not node.derivations:
                # Most nodes are only ever asked for their best: found without a heap.
                best = self._best(key, node)
                if key is not self.root:
                    node.edges = None
                if best is None:
                    node.candidates = []
                    return None
                node.derivations.append(best)
                if k == 0:
                    return best
            self._first_candidates(key, node)
        while len(node.derivations) <= k:
            if node.derivations:
                self._push_successors(key, node, node.derivations[-1])
            derivation = self._pop(key, node)
            if derivation is None:
                return None
            node.derivations.append(derivation)
        return node.derivations[k]

    def _pop(self, key: tuple, node: _Node) -> tuple | None:
        """The least candidate, as a derivation. A candidate is (key, 1, ties, tie, positions,
        score), or an edge whose inputs' best is not known yet, (bound, 0, tie): at most the
        key it will have, so it comes out first among equals and is then found and put back."""
        candidates = node.candidates
        while candidates:
            entry = heapq.heappop(candidates)
            if entry[1]:
                return (entry[0], *entry[2:])
            edge = self._edges_of(key, node)[entry[2]]
            self._push(node, edge, (0,) * len(edge[5]))
        return None

    def _edges_of(self, key: tuple, node: _Node) -> dict[object, tuple]:
        if node.edges is None:
            node.edges = {edge[2]: edge for edge in self._edges(key)}
        return node.edges

    def _best(self, key: tuple, node: _Node) -> tuple | None:
        """The best derivation. An item's sources are tried in the order of their bounds (see
        `_bounded`), and once a bound exceeds the best found, no source left can beat it:
        most of a big network's alternatives are never woven. A design run and the order have
        one edge each."""
        if len(key) != 5:
            return self._least(self._edges_of(key, node).values())
        best = None
        item_id, quantity, context, destination = key[:4]
        for bound, source in self._bounded(item_id, quantity, context):
            if best is not None:
                if bound > best[0]:
                    break
                # Nearer, for this destination: what moving the goods here adds at the least.
                moved = self._moved_bound(source, destination, bound)
                if moved is None or add_keys(bound, moved) > best[0]:
                    continue  # they cannot come here, or not for less than the best found
            best = self._least(self._source_edges(key, source), best)
        return best

    def _moved_bound(self, source, destination: str, bound: tuple) -> tuple | None:
        """What moving the source's goods to `destination` adds to a node's key at the least:
        the cheapest option's price for one trip and the distance; None when nothing can move
        them there. A node's own value is one sum of floats made exact once: moving's share,
        made exact apart, may round a little higher — the more, the larger the node's own
        price, which its `bound` holds."""
        weave = self.weave
        shape = weave.legs.shape(source, destination) if weave.network.plans_transport else (None,)
        if not shape:
            return None
        weight = weave.ranking.price
        if shape[0] is None or not weight:  # nothing moves, or what it costs does not count
            unknown, value = 0, 0
        else:
            unknown = min(int(way.price is None) for way in shape)
            value = min(0 if way.price is None else exact(weight * way.price) for way in shape)
            value = max(0, value - 2 - (bound[1] >> 40))
        km = self._km(source, destination, weave.legs.destinations.stop(destination).location)
        exact_km = 0 if km is None else exact(km)
        return (unknown, value, 0, 1 if km is None else 0, exact_km)

    def _least(self, edges, best: tuple | None = None) -> tuple | None:
        """The least of `best` and each edge with the best sub-plan of every input (a made
        edge's one input is its design run, see `_edges`), by key, then ties."""
        for local, own, tie, _, _, tails in edges:
            summed = self._best_inputs(tails)
            if summed is None:
                continue
            key = add_keys(own, summed[0])
            if best is not None and key > best[0]:
                continue
            ties = (tie, *summed[3])
            if best is None or key < best[0] or ties < best[1]:
                score = (local[0] + summed[1], local[1] + summed[2])
                best = (key, ties, tie, (0,) * len(tails), score)
        return best

    def _first_candidates(self, key: tuple, node: _Node) -> None:
        """The heap a node goes on from once its best is taken: every other edge, by the bound
        of its inputs (their best is found only if the edge comes near the top)."""
        taken = node.derivations[0][2]
        node.seen = {(taken, node.derivations[0][3])}
        candidates = []
        for tie, (_, own, _, _, _, tails) in self._edges_of(key, node).items():
            if tie == taken:
                continue
            bound = self._tails_bound(tails)
            if bound is not None:
                candidates.append((add_keys(own, bound), 0, tie))
        heapq.heapify(candidates)
        node.candidates = candidates

    def _tails_bound(self, tails: tuple) -> tuple | None:
        """At most the key of an item edge's inputs' best: none, or its design run's, whose
        inputs' least bounds (see `_bounded`) add up to it; None when one has no plan."""
        if not tails:
            return NO_KEY
        (made,) = tails
        run = self.nodes.get(made)
        if run is not None and run.derivations:
            return run.derivations[0][0]
        total = NO_KEY
        for group in self._input_groups(self.weave.network.designs[made[1]], made[3], made[4]):
            least = self._bounded(*group)
            if not least:
                return None
            total = add_keys(total, least[0][0])
        return total

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

    def _push_successors(self, key: tuple, node: _Node, derivation: tuple) -> None:
        tie, positions = derivation[2], derivation[3]
        edge = self._edges_of(key, node)[tie]
        for i in range(len(positions)):
            successor = positions[:i] + (positions[i] + 1,) + positions[i + 1 :]
            self._push(node, edge, successor)

    def _push(self, node: _Node, edge: tuple, positions: tuple[int, ...]) -> None:
        # The hot loop of the k-best beyond the first: every successor tried passes here.
        seen = (edge[2], positions)
        if seen in node.seen:
            return
        node.seen.add(seen)
        local, key, tie, _, _, tails = edge
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
        heapq.heappush(node.candidates, (key, 1, tuple(ties), tie, positions, score))

    # -- the graph, built as it is reached ---------------------------------------------------

    def _node(self, key: tuple) -> _Node:
        node = self.nodes.get(key)
        if node is None:
            node = self.nodes[key] = _Node()
        return node

    def _edges(self, key: tuple) -> list[tuple]:
        if len(key) == 6:  # a design run at a facility (_MADE, …)
            return [(ZERO, NO_KEY, -1, None, None, self._inputs(key))]
        item_id, quantity, context = key[:3]
        return [
            edge
            for source in self._sources(item_id, quantity, context)
            for edge in self._source_edges(key, source)
        ]

    def _sources(self, item_id: str, quantity: int, context: frozenset[str]) -> list:
        """The item's sources that may give it: not a design on a cycle of its own path, not
        a source with too little left (capacity)."""
        weave = self.weave
        index = weave.index
        limited = isinstance(index, LimitedIndex)
        return [
            source
            for source in index.sources(item_id, weave.criteria)
            if not (type(source) is not Bought and item_id in context)
            and not (limited and not index.fits(item_id, source, quantity))
        ]

    def _source_edges(self, key: tuple, source) -> list[tuple]:
        """The edges of one source of an item's node: one per leg option that fits."""
        item_id, quantity, context, destination, budget = key
        weave = self.weave
        ranking, network, legs = weave.ranking, weave.network, weave.legs
        stop = legs.destinations.stop(destination)
        place, receiver = stop.location, stop.participant
        made = type(source) is not Bought
        if network.plans_transport:
            options = legs.options(source, item_id, quantity, destination)
        else:
            options = (None,)
        edges = []
        for leg in options:
            left = None
            if budget is not None:
                left = budget - own_minutes(source, quantity, leg)[0]
                if left < 0:
                    continue  # this way alone takes longer than the window
            km = self._km(source, destination, place)
            risk = self._risk(source, leg, receiver)
            local, own = ranking.scored(network, source, quantity, leg, km, risk)
            tie = (source.index, 0 if leg is None else leg.index)
            if not made:
                edges.append((local, own, tie, source, leg, ()))
                continue
            # What a design at a facility makes does not depend on where it goes next: one
            # node of its inputs serves every destination and every leg option.
            made_at = (_MADE, source.design.id, source.facility.id, quantity, context, left)
            edges.append((local, own, tie, source, leg, (made_at,)))
        return edges

    def _bounded(self, item_id: str, quantity: int, context: frozenset[str]) -> list[tuple]:
        """The item's sources as (bound, source), least bound first. A bound is at most the key
        of any plan through that source, wherever the item goes and whenever:
        `Ranking.source_bound` for its own part, plus its inputs' least bounds. Keys add in any
        order and a sum keeps the order of its parts, so a plan is never below its source's
        bound. No entry: no plan comes from that source."""
        group = (item_id, quantity, context)
        found = self._bounds.get(group)
        if found is not None:
            return found
        ranking = self.weave.ranking
        declared = ranking.reliability is None
        below: dict[str, tuple | None] = {}  # a design's inputs, the same at every facility
        bounded = []
        for source in self._sources(item_id, quantity, context):
            risk = self._source_risk(source) if declared else None
            bound = ranking.source_bound(source, quantity, risk)
            if type(source) is not Bought:
                design = source.design
                inputs = below.get(design.id, _UNSEEN)
                if inputs is _UNSEEN:
                    inputs = NO_KEY
                    for input_group in self._input_groups(design, quantity, context):
                        least = self._bounded(*input_group)
                        if not least:
                            inputs = None
                            break
                        inputs = add_keys(inputs, least[0][0])
                    below[design.id] = inputs
                if inputs is None:
                    continue
                bound = add_keys(bound, inputs)
            bounded.append((bound, source.index, source))
        bounded.sort(key=lambda entry: entry[:2])
        found = self._bounds[group] = [(bound, source) for bound, _, source in bounded]
        return found

    def _km(self, source, destination: str, place: Location | None) -> float | None:
        """From the source to the destination, found once per pair of places."""
        origin = self._places.get(id(source), _UNSEEN)  # the index keeps every source alive
        if origin is _UNSEEN:
            origin = self._places[id(source)] = source_location(self.weave.network, source)
        if origin is None or place is None:
            return None
        pair = (id(origin), destination)  # places live as long as the network
        km = self._kms.get(pair)
        if km is None:
            km = self._kms[pair] = haversine_km(origin, place)
        return km

    def _risk(self, source, leg, receiver: str | None) -> float:
        ranking, network = self.weave.ranking, self.weave.network
        if ranking.reliability is not None:
            return ranking.node_risk(network, source, leg, receiver)  # learned, and kept there
        # Declared: the source's own risk and its vehicle's, each found once.
        own = self._source_risk(source)
        if leg is None or leg.transport is None:
            return own + 0.0
        moved = self._risks.get(id(leg.transport))
        if moved is None:
            moved = self._risks[id(leg.transport)] = leg_risk(network, leg)
        return own + moved

    def _source_risk(self, source) -> float:
        own = self._risks.get(id(source))
        if own is None:
            own = self._risks[id(source)] = self.weave.ranking.source_risk(
                self.weave.network, source
            )
        return own

    def _inputs(self, key: tuple) -> tuple:
        """The input nodes of a design run at a facility: the tails of its one hyperedge."""
        _, design_id, where, quantity, context, left = key
        window = self.weave.arrivals.window
        design = self.weave.network.designs[design_id]
        # Each input's minutes as the latest arrival it can make within them: the inputs of
        # windows that differ only in slack are the same nodes.
        return tuple(
            (*group, where, None if left is None else window((*group, where), left))
            for group in self._input_groups(design, quantity, context)
        )

    def _input_groups(self, design, quantity: int, context: frozenset[str]) -> list[tuple]:
        """(input, quantity, cycle context) of each input of `quantity` made by `design`."""
        memo = (design.id, quantity, context)
        found = self._groups.get(memo)
        if found is None:
            found = self._groups[memo] = self._input_groups_of(design, quantity, context)
        return found

    def _input_groups_of(self, design, quantity: int, context: frozenset[str]) -> list[tuple]:
        network, index = self.weave.network, self.weave.index
        item_id = design.makes
        groups = index.recursive_groups
        runs = -(-quantity // design.yield_)
        found = []
        for input_id, per_batch in design.inputs:
            needed = per_batch * runs
            if needed > MAX_UNITS:
                raise WeaveError(
                    f"{quantity:,} {network.item_name(item_id)} would need more "
                    f"than {MAX_UNITS:,} {network.item_name(input_id)} "
                    f"(design {design.id})"
                )
            below = (
                index.child_context(context, item_id, input_id)
                if input_id in groups
                else _NO_CONTEXT
            )
            found.append((input_id, needed, below))
        return found

    def _tree(self, key: tuple, derivation: tuple, destination: Location | None) -> PlanNode:
        _, _, _, source, leg, tails = self._edges_of(key, self.nodes[key])[derivation[2]]
        positions = derivation[3]
        if tails:  # made: its one tail is the design's run, whose tails are the inputs
            made = self.nodes[tails[0]]
            tails = self._edges_of(tails[0], made)[-1][5]
            positions = made.derivations[positions[0]][3]
        network = self.weave.network
        here = None if isinstance(source, Bought) else network.location_of_facility(source.facility)
        children = tuple(
            self._tree(tail, self.nodes[tail].derivations[j], here)
            for tail, j in zip(tails, positions, strict=True)
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
