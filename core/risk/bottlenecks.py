"""Bottlenecks: the resources every plan of an item uses, and its separable supply paths.

Must-use resources (ARCHITECTURE.md, Risk). A resource is an offer, a facility, or a participant
(the supplier of an offer, the operator of a facility); a plan uses the resources of every source it
picks. A resource every plan of an item uses is a single point of failure: lose it and no plan
is left. Over the AND-OR graph of the weave (same sources, same criteria filtering, same
path-local cycle cut) by dynamic programming, never listing a plan:

    must(T, path) = ∩_(S source of T with plans) own(S) ∪ ⋃_(inputs I of S) must(I, path ∪ {T})

A source is skipped exactly where the plan count (core.weave.count) finds no plan below it, with
the same cycle contexts, so an alternative that cannot be carried out relieves nothing. An item
without any plan has no must-use set at all (not "every resource"): it is reported as
having no plans. Sets are bitsets (Python integers), one bit per resource, so that unions and
intersections over thousands of resources stay cheap. Quantities play no part: a plan uses a
resource whatever amount it asks of it.

Separable paths (the paper, "Theorems and Proofs": "a path is separable from another path if they
share no nodes"; "10 routes home, all take the bridge → one route"). The supply graph of an item
T has a node per item, offer and facility that occurs in at least one plan of T, and an edge from
what supplies to what is supplied: offer → the item it sells, input item → the facility that
makes something from it, facility → the item it makes there. A supply path is a simple directed
path in that graph from an offer (where goods enter) to T; it follows one input at each facility,
so it is a route goods travel, not a plan (a plan needs every input). Separable paths share no
node — items included: goods that all pass through "leg" converge there. Their largest number
equals, by Menger's theorem, the fewest nodes whose loss cuts every offer off from T; both come
from networkx's node connectivity with a super-source wired to every offer.

Two readings to keep in mind. Participants are not nodes of the graph (they are attributes of
their offers and facilities): two offers of one supplier are two paths; the must-use sets account
for participants exactly. A facility is one node whatever it makes, as a place that can fail, so
a path may enter it with one item and leave with another it makes from something else: such a
path is not a route any plan takes, and it can raise the count when the facility makes several
items of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
from networkx.algorithms.connectivity import (
    build_auxiliary_node_connectivity,
    minimum_st_node_cut,
    node_disjoint_paths,
)
from networkx.algorithms.flow import build_residual_network, shortest_augmenting_path

from core.network.model import Network
from core.weave.count import PlanCounter, graph_walk
from core.weave.plan import Demand
from core.weave.sources import Bought, Made, Source, SupplyIndex
from core.weave.weave import WeaveError

OFFER, FACILITY, PARTICIPANT, ITEM = "offer", "facility", "participant", "item"

_NO_PLAN = None  # the must-use "set" of an item that has no plan: not a set at all


@dataclass(frozen=True)
class Resource:
    """An offer, facility or participant, with the name a person knows it by."""

    kind: str
    id: str
    name: str


@dataclass(frozen=True)
class Bottlenecks:
    """The resources every plan uses, by kind, in the network's declaration order.

    `plans` is the exact number of plans; with none, every tuple is empty: nothing is a single
    point of failure of what cannot be done at all (`has_plans` says which case it is).
    """

    plans: int
    offers: tuple[Resource, ...] = ()
    facilities: tuple[Resource, ...] = ()
    participants: tuple[Resource, ...] = ()

    @property
    def has_plans(self) -> bool:
        return self.plans > 0

    @property
    def resources(self) -> tuple[Resource, ...]:
        return self.offers + self.facilities + self.participants


@dataclass(frozen=True)
class OrderBottlenecks:
    """The single points of failure of a whole order, and of each of its lines (same order)."""

    order: Bottlenecks
    lines: tuple[Bottlenecks, ...]


class MustUse:
    """The must-use resources of items and orders of one network under one set of criteria.

    Results are memoised per (item, cycle context), like the plan count's, so asking for many
    items of one network costs one pass over the part of the graph they reach.
    """

    def __init__(
        self,
        network: Network,
        criteria: Iterable[str] = (),
        index: SupplyIndex | None = None,
        counter: PlanCounter | None = None,
    ):
        self.network = network
        self.criteria = frozenset(criteria)
        self.index = index or SupplyIndex(network)
        self.counter = counter or PlanCounter(self.index, self.criteria)
        if self.counter.criteria != self.criteria:
            raise ValueError("the plan counter must count under the same criteria")
        self._resources: list[tuple[str, str]] = []
        self._bit: dict[tuple[str, str], int] = {}
        # Declaration order first, so that decoded sets come out in the network's order.
        for kind, ids in (
            (OFFER, network.offers),
            (FACILITY, network.facilities),
            (PARTICIPANT, network.participants),
        ):
            for resource_id in ids:
                self._bit_of(kind, resource_id)
        self._own: dict[tuple[str, str], int] = {}
        self._memo: dict[tuple[str, frozenset[str]], int | None] = {}

    def of_item(self, item_id: str) -> Bottlenecks:
        """The resources every plan of the item uses (of any quantity of it)."""
        if item_id not in self.network.items:
            raise WeaveError(f"unknown item {item_id!r}")
        plans = self.counter.count(item_id)
        with graph_walk():
            mask = self._must(item_id, frozenset())
        return self._bottlenecks(plans, mask)

    def of_order(self, demands: Sequence[Demand]) -> OrderBottlenecks:
        """An order's plans are the cross product of its lines' plans, so a resource is used by
        every plan of the order exactly when every plan of some line uses it (when every line
        has a plan): the order's set is the union of the lines'."""
        if not demands:
            raise WeaveError("an order needs at least one line")
        lines = tuple(self.of_item(d.item) for d in demands)
        plans = 1
        for line in lines:
            plans *= line.plans
        if plans == 0:
            return OrderBottlenecks(Bottlenecks(0), lines)
        with graph_walk():
            mask = 0
            for demand in demands:
                mask |= self._must(demand.item, frozenset())
        return OrderBottlenecks(self._bottlenecks(plans, mask), lines)

    def has_plan(self, item_id: str, context: frozenset[str] = frozenset()) -> bool:
        """Whether the item has a plan below a path whose cycle context is `context`."""
        with graph_walk():
            return self._must(item_id, context) is not _NO_PLAN

    def _must(self, item_id: str, context: frozenset[str]) -> int | None:
        key = (item_id, context)
        if key in self._memo:
            return self._memo[key]
        common = _NO_PLAN
        below_design: dict[str, int | None] = {}  # a design's inputs are the same everywhere
        for source in self.index.sources(item_id, self.criteria):
            if isinstance(source, Bought):
                used = self._own_mask(source)
            elif item_id in context:
                continue  # the path-local cycle cut: only bought again below itself
            else:
                design_id = source.design.id
                if design_id not in below_design:
                    below_design[design_id] = self._inputs_must(source, item_id, context)
                below = below_design[design_id]
                if below is _NO_PLAN:
                    continue  # a source without sub-plans is in no plan: it constrains nothing
                used = self._own_mask(source) | below
            common = used if common is _NO_PLAN else common & used
        self._memo[key] = common
        return common

    def _inputs_must(self, source: Made, item_id: str, context: frozenset[str]) -> int | None:
        union = 0
        for input_id, _ in source.design.inputs:
            below = self._must(input_id, self.index.child_context(context, item_id, input_id))
            if below is _NO_PLAN:
                return _NO_PLAN
            union |= below
        return union

    def _own_mask(self, source: Source) -> int:
        if isinstance(source, Bought):
            key, participant = (OFFER, source.offer.id), source.offer.supplier
        else:
            key, participant = (FACILITY, source.facility.id), source.facility.operator
        mask = self._own.get(key)
        if mask is None:
            mask = 1 << self._bit_of(*key)
            if participant is not None:
                mask |= 1 << self._bit_of(PARTICIPANT, participant)
            self._own[key] = mask
        return mask

    def _bit_of(self, kind: str, resource_id: str) -> int:
        key = (kind, resource_id)
        bit = self._bit.get(key)
        if bit is None:
            bit = self._bit[key] = len(self._resources)
            self._resources.append(key)
        return bit

    def _bottlenecks(self, plans: int, mask: int | None) -> Bottlenecks:
        if plans == 0 or mask is _NO_PLAN:
            return Bottlenecks(plans)
        by_kind: dict[str, list[Resource]] = {OFFER: [], FACILITY: [], PARTICIPANT: []}
        for bit, digit in enumerate(reversed(bin(mask)[2:])):
            if digit == "1":
                kind, resource_id = self._resources[bit]
                by_kind[kind].append(
                    Resource(kind, resource_id, name(self.network, kind, resource_id))
                )
        return Bottlenecks(
            plans,
            tuple(by_kind[OFFER]),
            tuple(by_kind[FACILITY]),
            tuple(by_kind[PARTICIPANT]),
        )


def bottlenecks(network: Network, item_id: str, criteria: Iterable[str] = ()) -> Bottlenecks:
    """The resources every plan of one unit (or any amount) of the item uses."""
    return MustUse(network, criteria).of_item(item_id)


def single_points_of_failure(
    network: Network, demands: Sequence[Demand], criteria: Iterable[str] = ()
) -> OrderBottlenecks:
    """The resources every plan of the order uses, overall and per line."""
    return MustUse(network, criteria).of_order(demands)


def name(network: Network, kind: str, resource_id: str) -> str:
    """How a person knows the resource: its name, for an offer what it sells and who sells it."""
    if kind == PARTICIPANT:
        participant = network.participants.get(resource_id)
        return participant.name if participant else resource_id
    if kind == FACILITY:
        facility = network.facilities[resource_id]
        return facility.name or facility.id
    if kind == ITEM:
        return network.items[resource_id].name
    offer = network.offers[resource_id]
    what = network.items[offer.item].name if offer.item in network.items else offer.item
    if offer.supplier is None:
        return f"{what} ({offer.id})"
    return f"{what} from {name(network, PARTICIPANT, offer.supplier)} ({offer.id})"


# -- separable paths --------------------------------------------------------------------------

Node = tuple[str, str]
"""A node of a supply graph: (kind, id) with kind "item", "offer" or "facility"."""

_ENTRY: Node = ("entry", "")  # the super-source: wired to every offer of the graph

# Few augmenting paths, each long and thin: the fastest of networkx's on supply graphs.
FLOW = shortest_augmenting_path


@dataclass(frozen=True)
class SeparablePaths:
    """How many separable supply paths reach the item, a witness set of that many, and a
    smallest set of nodes (offers, facilities, items) whose loss would leave none."""

    count: int
    paths: tuple[tuple[Node, ...], ...]
    cut: tuple[Node, ...]


def supply_graph(
    network: Network,
    item_id: str,
    criteria: Iterable[str] = (),
    must_use: MustUse | None = None,
) -> nx.DiGraph:
    """The union of every plan of the item: each node and edge occurs in at least one plan.

    Walks the same (item, cycle context) nodes as the weave, following only sources that have
    plans there, so nothing enters the graph that no plan would use. Nodes carry `kind`, `id`,
    `name`, and for offers and facilities the `participant` behind them.
    """
    if item_id not in network.items:
        raise WeaveError(f"unknown item {item_id!r}")
    engine = must_use or MustUse(network, criteria)
    index, criteria_ = engine.index, engine.criteria
    graph = nx.DiGraph()
    _add(graph, network, ITEM, item_id)
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [(item_id, frozenset())] if engine.has_plan(item_id) else []
    with graph_walk():
        while pending:
            current, context = pending.pop()
            if (current, context) in seen:
                continue
            seen.add((current, context))
            below_design: dict[str, list | None] = {}  # a design's inputs are the same anywhere
            for source in index.sources(current, criteria_):
                if isinstance(source, Bought):
                    offer = _add(graph, network, OFFER, source.offer.id, source.offer.supplier)
                    graph.add_edge(offer, (ITEM, current))
                    continue
                if current in context:
                    continue
                design = source.design
                if design.id not in below_design:
                    below = [
                        (input_id, index.child_context(context, current, input_id))
                        for input_id, _ in design.inputs
                    ]
                    if all(engine._must(i, c) is not _NO_PLAN for i, c in below):
                        below_design[design.id] = below
                        pending.extend(below)
                    else:
                        below_design[design.id] = None
                below = below_design[design.id]
                if below is None:
                    continue
                facility = source.facility
                place = _add(graph, network, FACILITY, facility.id, facility.operator)
                graph.add_edge(place, (ITEM, current))
                for input_id, _ in below:
                    graph.add_edge(_add(graph, network, ITEM, input_id), place)
    return graph


def separable_paths(graph: nx.DiGraph, item_id: str) -> SeparablePaths:
    """The separable supply paths of a supply graph into the item (see the module's docstring).

    The super-source touches only offers and the item has no edge to it, so the pair is never
    adjacent and the cut never has to contain either end; an offer selling the item itself is
    an inner node of its one-edge path, and can be cut.
    """
    target: Node = (ITEM, item_id)
    offers = [node for node in graph if node[0] == OFFER]
    if target not in graph or not offers:
        return SeparablePaths(0, (), ())
    flow = graph.copy()
    flow.add_edges_from((_ENTRY, offer) for offer in offers)
    # One split-node flow network serves both the paths and the cut (Menger: same size).
    auxiliary = build_auxiliary_node_connectivity(flow)
    shared = {
        "auxiliary": auxiliary,
        "residual": build_residual_network(auxiliary, "capacity"),
        "flow_func": FLOW,
    }
    try:
        paths = tuple(
            tuple(path[1:]) for path in node_disjoint_paths(flow, _ENTRY, target, **shared)
        )
    except nx.NetworkXNoPath:
        return SeparablePaths(0, (), ())
    cut = minimum_st_node_cut(flow, _ENTRY, target, **shared)
    order = {node: position for position, node in enumerate(graph)}
    return SeparablePaths(len(paths), paths, tuple(sorted(cut, key=order.__getitem__)))


def _add(
    graph: nx.DiGraph, network: Network, kind: str, node_id: str, participant: str | None = None
) -> Node:
    node = (kind, node_id)
    if node not in graph:
        graph.add_node(
            node, kind=kind, id=node_id, name=name(network, kind, node_id), participant=participant
        )
    return node
