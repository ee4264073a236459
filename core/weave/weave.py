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
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
from core.weave.legs import (
    SAME_PLACE_KM,
    least_trip_price,
    trips_to_carry,
    way_prices,
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
    pack,
    packable,
    source_location,
    unpack,
    vehicle_risk,
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
        # The graph sees the weave through a weak reference: no cycle between them, so a weave
        # let go is freed at once, though `graph_walk` puts what it made out of the young
        # generations' reach.
        seen = weakref.proxy(self)
        self._graph = _Soonest(seen) if ranking.soonest else _Hypergraph(seen)

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
        self._limited = isinstance(weave.index, LimitedIndex)  # capacity: what is left counts
        self._places: dict[int, Location | None] = {}
        self._kms: dict[tuple[int, str], float] = {}
        self._risks: dict[int, float] = {}  # by the id of a source or a vehicle
        self._bounds: dict[tuple, list[tuple]] = {}
        self._groups: dict[tuple, list[tuple]] = {}
        # The best plans found by dynamic programming (`_first`), keys packed in integers.
        self._firsts: dict[tuple, tuple | None] = {}
        self._by_origin: dict[tuple, list] = {}
        self._origin_firsts: dict[tuple, tuple | None] = {}
        self._run_firsts: dict[tuple, int | None] = {}
        self._moves_memo: dict[tuple, tuple] = {}
        self._price_keys: dict[tuple, int] = {}
        self._risk_keys: dict[int, int] = {}
        self._leasts: dict[tuple, int | None] = {}
        self._run_bounds: dict[tuple, int | None] = {}
        self._representatives: dict[str, list] = {}
        self._trees: dict[tuple, PlanNode] = {}  # sub-plans built, by node and rank
        self._moved_anywheres: dict[tuple[int, str], int | None] = {}
        self._ordered = {demand.item for demand in weave.demands}
        self._loads: dict[tuple[str, int], tuple] = {}
        self._moved_bounds: dict[tuple[int, str], int | None] = {}
        self.root = ("@order",)
        self.nodes[self.root] = _Node({-1: (ZERO, NO_KEY, -1, None, None, lines)})

    def plan(self, rank: int) -> Plan | None:
        derivation = self._kth(self.root, rank - 1)
        if derivation is None:
            return None
        key, _, _, positions, score = derivation
        lines = tuple(
            self._tree(tail, j, self.weave.deliver_to)
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
        """The best derivation: of an item's node, found by `_first`, or (with a window) by
        trying its sources in the order of their bounds (see `_bounded`):
        once a bound exceeds the best found, no source left can beat it. A design run and the
        order have one edge each."""
        if len(key) != 5:
            return self._least(self._edges_of(key, node).values())
        item_id, quantity, context, destination, budget = key
        if budget is None:
            first = self._first(item_id, quantity, context, destination)
            if first is None:
                return None
            _, source, option = first
            edges = self._source_edges(key, source)
            return self._least(edge for edge in edges if edge[2][1] == option)
        best = None
        for bound, _, source, _ in self._bounded(item_id, quantity, context):
            if best is not None:
                least = pack(best[0])
                if bound > least:
                    break
                # Nearer, for this destination: what moving the goods here adds at the least.
                moved = self._moved_bound(source, destination)
                if moved is None or bound + moved > least:
                    continue  # they cannot come here, or not for less than the best found
            best = self._least(self._source_edges(key, source), best)
        return best

    def _first(
        self, item_id: str, quantity: int, context: frozenset[str], destination: str
    ) -> tuple | None:
        """(packed key, source, leg option) of a node's best plan, or None when it has none;
        without a window, where a node's key is its source's own part,
        its design run's and its moving part, and the moving part depends only on the source's
        origin (place, sender, delivery terms) and the trips: the best source of each origin
        is found once for every destination (`_origin_first`), then its moves here are added.
        Origins are tried least bound first, and an origin whose bound with its least move
        exceeds the best found is not woven. Keys are packed in integers (`pack`); on equal
        keys the lesser (source, option) wins, as the ties of the derivations do. The memos
        are read before each call: this runs for every node of a big network."""
        memo = (item_id, quantity, context, destination)
        found = self._firsts.get(memo, _UNSEEN)
        if found is not _UNSEEN:
            return found
        found = best = None
        load = self._loads.get((item_id, quantity))
        if load is None:
            load = self._load(item_id, quantity)
        moves_memo, origin_firsts = self._moves_memo, self._origin_firsts
        for bound, origin, members in self._origins(item_id, quantity, context):
            if best is not None and bound > best:
                break  # no origin left can give less
            moving = moves_memo.get((origin, destination, load))
            if moving is None:
                moving = self._moves(origin, members[0][2], item_id, quantity, destination, load)
            moved, option = moving
            if moved is None or (best is not None and bound + moved > best):
                continue  # nothing moves these sources' goods here, or not for less
            first = origin_firsts.get((item_id, quantity, context, origin), _UNSEEN)
            if first is _UNSEEN:
                first = self._origin_first(item_id, quantity, context, origin, members)
            if first is None:
                continue
            key, source = first
            total = key + moved
            if (
                best is None
                or total < best
                or (total == best and (source.index, option) < (found[1].index, found[2]))
            ):
                best = total
                found = (total, source, option)
        self._firsts[memo] = found
        return found

    def _origins(self, item_id: str, quantity: int, context: frozenset[str]) -> list:
        """The item's sources that may give it by origin (`LegOptions.number`): (least bound,
        origin, [(bound, index, source, own part)] least first), least bound first (see
        `_bounded`). With learned risks offers of one origin are told apart by what the risk
        of moving their goods reads (`SourceRisks.moving_key`: how reliably the offer says its
        supplier ships; a facility's runs share theirs)."""
        group = (item_id, quantity, context)
        found = self._by_origin.get(group)
        if found is None:
            number = self.weave.legs.number
            reliability = self.weave.ranking.reliability
            learned = reliability is not None
            members: dict = {}
            for entry in self._bounded(item_id, quantity, context):
                source = entry[2]
                origin = number(source)
                if learned and type(source) is Bought:
                    origin = (origin, reliability.moving_key(source))
                members.setdefault(origin, []).append(entry)
            ordered = sorted(  # by least bound, then index: no two origins share their first
                (listed[0][0], listed[0][1], origin, listed) for origin, listed in members.items()
            )
            found = [(bound, origin, listed) for bound, _, origin, listed in ordered]
            self._by_origin[group] = found
        return found

    def _origin_first(
        self,
        item_id: str,
        quantity: int,
        context: frozenset[str],
        origin,
        members: list,
    ) -> tuple | None:
        """(packed key without moving, source) of the best of the sources leaving from one
        origin, wherever their goods go; equal keys by the sources' index."""
        found = None
        run_firsts = self._run_firsts
        for bound, _, source, own in members:
            if found is not None and bound > found[0]:
                break
            key = own  # with declared risks, its bound's own part is its own part
            if type(source) is not Bought:
                design, where = source.design, source.facility.id
                run = run_firsts.get((design.id, where, quantity, context), _UNSEEN)
                if run is _UNSEEN:
                    run = self._run_first(design, where, quantity, context)
                if run is None:
                    continue
                key += run
            if (
                found is None
                or key < found[0]
                or (key == found[0] and source.index < found[1].index)
            ):
                found = (key, source)
        self._origin_firsts[(item_id, quantity, context, origin)] = found
        return found

    def _run_first(self, design, where: str, quantity: int, context: frozenset[str]) -> int | None:
        """The packed key of the best plan of a design's run at a facility: its inputs' best
        there, summed; None when an input has no plan."""
        found = 0
        firsts = self._firsts
        for input_id, needed, below in self._input_groups(design, quantity, context):
            first = firsts.get((input_id, needed, below, where), _UNSEEN)
            if first is _UNSEEN:
                first = self._first(input_id, needed, below, where)
            if first is None:
                found = None
                break
            found += first[0]
        self._run_firsts[(design.id, where, quantity, context)] = found
        return found

    @staticmethod
    def _packed(key: tuple) -> int:
        if not packable(key):
            raise WeaveError("a price, risk or distance here is too large to rank plans by")
        return pack(key)

    def _load(self, item_id: str, quantity: int) -> tuple:
        """What moving `quantity` of the item costs depends on: the trips each vehicle makes
        (and their mass, for a haul). Most items share every destination's moves."""
        network = self.weave.network
        mass = network.items[item_id].mass_kg
        kg = None if mass is None else mass * quantity
        trips = tuple(trips_to_carry(vehicle, kg) for vehicle in network.transport.values())
        found = self._loads[(item_id, quantity)] = (trips, kg if self.weave.ranking.haul else None)
        return found

    def _moves(
        self, origin, source, item_id: str, quantity: int, destination: str, load: tuple
    ) -> tuple:
        """(packed moving key, leg option) of the cheapest way to move the goods of the
        sources of an `origin` (`_origins`; `source` one of them) to `destination`, for a
        `load` (`_load`): the first of equals; (None, None) when nothing moves them there."""
        weave = self.weave
        network, ranking = weave.network, weave.ranking
        stop, delivery, sender = weave.legs.origin(source)
        to = weave.legs.destinations.stop(destination)
        mass = network.items[item_id].mass_kg
        kg = None if mass is None else mass * quantity
        prices = way_prices(network, stop, to, delivery, sender, kg)
        km = self._km(source, destination, to.location)
        learned = ranking.reliability is not None
        if prices is None:  # nothing moves: the one option, no leg
            risk = self._moving_risk(source, None, to.participant) if learned else 0.0
            moved = ranking.moved_part(mass, quantity, False, None, km, risk)[1]
            found = (self._packed(moved), 0)
        else:
            # Learned risks read the legs (who carries, who receives); declared, the vehicle.
            ways = weave.legs.shape(source, destination) if learned else None
            found = (None, None)
            for option, (price, vehicle) in enumerate(prices):
                if learned:
                    risk = self._moving_risk(source, ways[option], to.participant)
                else:
                    risk = self._vehicle_risk(vehicle)
                moved = self._packed(ranking.moved_part(mass, quantity, True, price, km, risk)[1])
                if found[0] is None or moved < found[0]:  # the first of equals: the least option
                    found = (moved, option)
        self._moves_memo[(origin, destination, load)] = found
        return found

    def _moved_bound(self, source, destination: str) -> int | None:
        """What moving the source's goods to `destination` adds to a node's key at the least
        (`Ranking.moved_part`), packed: the cheapest option's price for one trip and the
        distance; None when nothing can move them there."""
        weave = self.weave
        memo = (weave.legs.number(source), destination)
        found = self._moved_bounds.get(memo, _UNSEEN)
        if found is not _UNSEEN:
            return found
        stop, delivery, sender = weave.legs.origin(source)
        to = weave.legs.destinations.stop(destination)
        prices = way_prices(weave.network, stop, to, delivery, sender)
        if prices == ():
            self._moved_bounds[memo] = None
            return None
        weight = weave.ranking.price
        if prices is None or not weight:  # nothing moves, or what it costs does not count
            unknown, value = 0, 0
        else:
            unknown = min(int(price is None) for price, _ in prices)
            value = min(0 if price is None else exact(weight * price) for price, _ in prices)
        km = self._km(source, destination, to.location)
        exact_km = 0 if km is None else exact(km)
        found = (unknown, value, 0, 1 if km is None else 0, exact_km)
        found = self._moved_bounds[memo] = self._packed(found)
        return found

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
        first = self._run_firsts.get(made[1:5], _UNSEEN) if made[5] is None else _UNSEEN
        if first is not _UNSEEN:  # its best, found by `_first`
            return None if first is None else unpack(first)
        total = 0
        for group in self._input_groups(self.weave.network.designs[made[1]], made[3], made[4]):
            least = self._least_bound(group)
            if least is None:
                return None
            total += least
        return unpack(total)

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

    def _sources(self, item_id: str, quantity: int, context: frozenset[str]) -> Sequence:
        """The item's sources that may give it: not a design on a cycle of its own path, not
        a source with too little left (capacity)."""
        weave = self.weave
        index = weave.index
        limited = self._limited
        if not limited and item_id not in context:
            return index.sources(item_id, weave.criteria)
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
        own_score, own_key = ranking.own_part(source, quantity, self._own_risk(source))
        mass = network.items[item_id].mass_kg
        edges = []
        for leg in options:
            left = None
            if budget is not None:
                left = budget - own_minutes(source, quantity, leg)[0]
                if left < 0:
                    continue  # this way alone takes longer than the window
            km = self._km(source, destination, place)
            price = None if leg is None else leg.price
            risk = self._moving_risk(source, leg, receiver)
            moved_score, moved_key = ranking.moved_part(
                mass, quantity, leg is not None, price, km, risk
            )
            local = (own_score[0] + moved_score[0], own_score[1] + moved_score[1])
            own = add_keys(own_key, moved_key)
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
        """The item's sources as (bound, index, source, own part), least bound first, packed
        (see `pack`). A bound is at most the key of any plan through that source, wherever the
        item goes and whenever: its own part (`_own`), plus its inputs' least bounds
        (`_run_bound`); its moving, distances and learned risks are left out, as none is
        ever below nothing. Keys add in any order and a sum keeps the order of its parts, so a
        plan is never below its source's bound. No entry: no plan comes from that source."""
        group = (item_id, quantity, context)
        found = self._bounds.get(group)
        if found is not None:
            return found
        bounded = []
        for source in self._sources(item_id, quantity, context):
            own = bound = self._own(source, quantity)
            if type(source) is not Bought:
                design = source.design
                run = self._run_bounds.get((design.id, quantity, context), _UNSEEN)
                if run is _UNSEEN:
                    run = self._run_bound(design, source, quantity, context)
                if run is None:
                    continue
                bound = run + self._risk_key(source)
            bounded.append((bound, source.index, source, own))
        bounded.sort()  # by bound, then index: no two sources of an item share an index
        self._bounds[group] = bounded
        return bounded

    def _own(self, source, quantity: int) -> int:
        """A source's own part (`Ranking.own_part`, its parts exact apart), packed: the price,
        the same for every run of a design, and the risk of its own stages, the same for every
        run at a facility."""
        return self._price_key(source, quantity) + self._risk_key(source)

    def _price_key(self, source, quantity: int) -> int:
        """The packed key of a source's own price, found once per design or offer."""
        memo = (source.design.id if type(source) is not Bought else id(source.offer), quantity)
        found = self._price_keys.get(memo)
        if found is None:
            priced = self.weave.ranking.priced_key(source, quantity)
            found = self._price_keys[memo] = self._packed(priced)
        return found

    def _risk_key(self, source) -> int:
        """The packed key of the risk of a source's own stages, found once per facility or
        offer."""
        owner = id(source.offer if type(source) is Bought else source.facility)
        risk = self._risk_keys.get(owner)
        if risk is None:
            risk = self.weave.ranking.risk_key(self._own_risk(source))
            risk = self._risk_keys[owner] = self._packed(risk)
        return risk

    def _run_bound(self, design, source, quantity: int, context: frozenset[str]) -> int | None:
        """A design's price for `quantity` (`source` one of its runs) plus its inputs' least
        bounds, packed: the same at every facility. None: an input has no plan."""
        found = self._price_key(source, quantity)
        for group in self._input_groups(design, quantity, context):
            least = self._leasts.get(group, _UNSEEN)
            if least is _UNSEEN:
                least = self._least_bound(group)
            if least is None:
                found = None
                break
            found += least
        self._run_bounds[(design.id, quantity, context)] = found
        return found

    def _least_bound(self, group: tuple) -> int | None:
        """At most the key of any plan of an item's node, wherever it is used: the least of
        its sources' bounds (see `_bounded`), a bought one's with what moving its goods to any
        place using the item costs at the least (`_moved_anywhere`); what a facility makes may
        be used where it is. None: no plan."""
        found = self._leasts.get(group, _UNSEEN)
        if found is not _UNSEEN:
            return found
        item_id, quantity, context = group
        moving = self.weave.network.plans_transport
        found = None
        runs = self._run_bounds
        for source in self._least_sources(item_id, quantity, context):
            if type(source) is not Bought:
                design = source.design
                run = runs.get((design.id, quantity, context), _UNSEEN)
                if run is _UNSEEN:
                    run = self._run_bound(design, source, quantity, context)
                if run is None:
                    continue
                bound = run + self._risk_key(source)
            else:
                bound = self._own(source, quantity)
                if moving:
                    if found is not None and bound >= found:
                        continue  # moving is never below nothing
                    moved = self._moved_anywhere(source, item_id)
                    if moved is None:
                        continue  # nothing can move it where it is used
                    bound += moved
            if found is None or bound < found:
                found = bound
        self._leasts[group] = found
        return found

    def _least_sources(self, item_id: str, quantity: int, context: frozenset[str]) -> Sequence:
        """The sources that may give the least bound of an item's node (`_least_bound`):
        its offers and, of each design, the run of least own part (the price is the design's,
        so the least risk), which all runs' inputs share — or every source that may give it
        when some may not (capacity, cycles)."""
        if self._limited or item_id in context:
            return self._sources(item_id, quantity, context)
        found = self._representatives.get(item_id)
        if found is None:
            sources = self.weave.index.sources(item_id, self.weave.criteria)
            found, runs = [], {}
            risks = self._risk_keys
            for source in sources:
                if type(source) is Bought:
                    found.append(source)
                    continue
                risk = risks.get(id(source.facility))
                if risk is None:
                    risk = self._risk_key(source)
                least = runs.get(source.design.id)
                if least is None or risk < least[0]:
                    runs[source.design.id] = (risk, source)
            found += [source for _, source in runs.values()]
            self._representatives[item_id] = found
        return found

    def _moved_anywhere(self, source, item_id: str) -> int | None:
        """At most what moving the source's goods to wherever the item may be used adds."""
        weave = self.weave
        memo = (weave.legs.number(source), item_id)
        found = self._moved_anywheres.get(memo, _UNSEEN)
        if found is not _UNSEEN:
            return found
        places = weave.index.consumers.get(item_id, ())
        if item_id in self._ordered:
            places = [*places, BUYER]
        found = self._moved_anywheres[memo] = self._moved_least(source, places)
        return found

    def _moved_least(self, source, places) -> int | None:
        """At most what moving the source's goods to any of `places` adds to a node's key:
        nothing if one of them is where the goods are, or unlocated (the parties arrange it);
        else the least price of one trip of the least distance (`least_trip_price`) and that
        distance, each part at most what any of the places' moves has."""
        weave = self.weave
        stop, delivery, _ = weave.legs.origin(source)
        stops = [weave.legs.destinations.stop(place) for place in places]
        if not stops:
            return None  # used nowhere
        if stop.location is None:
            return 0
        km = None
        for place, to in zip(places, stops, strict=True):
            if to.location is None or (stop.facility is not None and stop.facility == to.facility):
                return 0
            between = self._km(source, place, to.location)
            if between < SAME_PLACE_KM:  # `same_place`, from the distance found once
                return 0
            km = between if km is None else min(km, between)
        least = least_trip_price(weave.network, km, (to.participant for to in stops), delivery)
        if least is None:
            return None
        unknown, price = least
        weight = weave.ranking.price
        return self._packed((unknown, exact(weight * price) if weight else 0, 0, 0, exact(km)))

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

    def _vehicle_risk(self, vehicle) -> float:
        """The declared risk of a vehicle (none without one), found once a vehicle."""
        if vehicle is None:
            return 0.0
        moved = self._risks.get(id(vehicle))
        if moved is None:
            moved = self._risks[id(vehicle)] = vehicle_risk(self.weave.network, vehicle)
        return moved

    def _own_risk(self, source) -> float:
        """The risk of a source's own part (`Ranking.own_risk`), found once a source."""
        own = self._risks.get(id(source))
        if own is None:
            own = self._risks[id(source)] = self.weave.ranking.own_risk(self.weave.network, source)
        return own

    def _moving_risk(self, source, leg, receiver: str | None) -> float:
        """The risk of moving a source's goods by `leg` to `receiver` (`Ranking.moving_risk`):
        declared, its vehicle's, found once a vehicle; learned, found once by the figures."""
        reliability = self.weave.ranking.reliability
        if reliability is not None:
            return reliability.moving_risk(source, leg, receiver)
        return self._vehicle_risk(None if leg is None else leg.transport)

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

    def _tree(self, key: tuple, rank: int, destination: Location | None) -> PlanNode:
        """The plan of a node's derivation of that rank (0 the best). Plans share most of
        their sub-plans: each is built once (a node's key holds where its goods go)."""
        built = self._trees.get((key, rank))
        if built is None:
            built = self._trees[(key, rank)] = self._build(key, rank, destination)
        return built

    def _build(self, key: tuple, rank: int, destination: Location | None) -> PlanNode:
        derivation = self.nodes[key].derivations[rank]
        _, _, _, source, leg, tails = self._edges_of(key, self.nodes[key])[derivation[2]]
        positions = derivation[3]
        if tails:  # made: its one tail is the design's run, whose tails are the inputs
            made = self.nodes[tails[0]]
            tails = self._edges_of(tails[0], made)[-1][5]
            positions = made.derivations[positions[0]][3]
        network = self.weave.network
        here = None if isinstance(source, Bought) else network.location_of_facility(source.facility)
        children = tuple(
            self._tree(tail, j, here) for tail, j in zip(tails, positions, strict=True)
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
        self._layers = self._walk(weave)  # a generator holding the weave, not this graph

    def plan(self, rank: int) -> Plan | None:
        while len(self.found) < rank:
            plan = next(self._layers, None)
            if plan is None:
                return None
            self.found.append(plan)
        return self.found[rank - 1]

    @staticmethod
    def _walk(weave: Weave) -> Iterator[Plan]:
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
