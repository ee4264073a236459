"""Where an item can come from: offers, and designs carried out at facilities.

Sources of an item T (ARCHITECTURE.md, Weave): every offer of T; every pair (design D making T,
facility F whose processes include all of D's, both saying which processes they are:
`Network.can_make`). Their order is fixed (offers, then designs ×
facilities, each in declaration order) and gives every source a stable index, which breaks ties
between equally good plans the same way every time.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import NamedTuple

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from core.network.model import Delivery, Design, Facility, Network, Offer


class Bought(NamedTuple):
    """The item is bought ready-made through an offer."""

    offer: Offer
    index: int

    @property
    def kind(self) -> str:
        return "offer"


class Made(NamedTuple):
    """The item is made from a design at a facility."""

    design: Design
    facility: Facility
    index: int

    @property
    def kind(self) -> str:
        return "design"


Source = Bought | Made

# Work in progress (ARCHITECTURE.md, Stages): goods an order's party already made or received, held
# at their place for that order. A re-plan offers them to the weave as an offer at no price,
# sold by their holder, named after the stage that put them there: `held:s5`.
HELD = "held:"


def is_held(source: Source) -> bool:
    return isinstance(source, Bought) and source.offer.id.startswith(HELD)


def held_offer(
    stage: str, holder: str | None, item: str, quantity: int, criteria=(), delivery=None
) -> Offer:
    """The stock a done stage left with its holder, as the weave sees it: free, limited to what
    is held, qualifying for the order's criteria (it was made or bought under them), sent on
    as the holder delivers what it makes or sells (`delivery`), if it does."""
    return Offer(
        id=f"{HELD}{stage}",
        supplier=holder,
        item=item,
        price=0.0,
        capacity=quantity,
        properties={criterion: True for criterion in criteria},
        delivery=delivery,
    )


def holder_delivery(network: Network, holder: str | None) -> Delivery | None:
    """How a holder sends stock on: as it delivers what it makes or sells (its facility's
    terms, else its offers'), whether or not that facility is in service: the goods are out
    of it. `network` is the network as loaded, disruptions aside."""
    for facility in network.facilities.values():
        if facility.operator == holder and facility.delivery is not None:
            return facility.delivery
    for offer in network.offers.values():
        if offer.supplier == holder and offer.delivery is not None:
            return offer.delivery
    return None


def asserts(record_properties, item_properties, criterion: str) -> bool:
    """A record asserts a property itself; silent, it inherits what its item asserts."""
    if criterion in record_properties:
        return record_properties[criterion] is True
    return item_properties.get(criterion) is True


class SupplyIndex:
    """The sources of every item of a network, computed once per network."""

    def __init__(self, network: Network):
        self.network = network
        offers: dict[str, list[Offer]] = defaultdict(list)
        for offer in network.offers.values():
            offers[offer.item].append(offer)
        assumed = network.unknown_processes_match_any
        designs: dict[str, list[Design]] = defaultdict(list)
        for design in network.designs.values():
            if design.inputs_known and (design.processes_known or assumed):
                designs[design.makes].append(design)
        facilities = list(network.facilities.values())
        # A facility whose processes are unknown runs no design unless the network assumes any.
        able = [k for k, f in enumerate(facilities) if f.processes_known or assumed]
        by_process: dict[str, set[int]] = defaultdict(set)
        for position in able:
            for process in facilities[position].processes:
                by_process[process].add(position)
        self._sources: dict[str, tuple[Source, ...]] = {}
        consumers: dict[str, set[str]] = defaultdict(set)
        for item_id in network.items:
            sources: list[Source] = [Bought(o, i) for i, o in enumerate(offers[item_id])]
            for design in designs[item_id]:
                capable = [facilities[position] for position in _capable(design, by_process, able)]
                for facility in capable:
                    sources.append(Made(design, facility, len(sources)))
                places = [facility.id for facility in capable]
                for input_id, _ in design.inputs:
                    consumers[input_id].update(places)
            self._sources[item_id] = tuple(sources)
        self.consumers: dict[str, set[str]] = consumers
        """The facilities where each item may be used: those able to run a design taking it."""
        self._filtered: dict[tuple[str, frozenset[str]], tuple[Source, ...]] = {}

    def sources(self, item_id: str, criteria: frozenset[str] = frozenset()) -> tuple[Source, ...]:
        """Sources of the item that can qualify under `criteria`.

        A design source is kept when the design asserts every criterion; whether its inputs
        qualify too is the weave's business (the property is checked over the whole plan).
        """
        every = self._sources.get(item_id, ())
        if not criteria:
            return every
        key = (item_id, criteria)
        if key not in self._filtered:
            item_properties = self.network.items[item_id].properties
            self._filtered[key] = tuple(
                s
                for s in every
                if all(asserts(source_properties(s), item_properties, c) for c in criteria)
            )
        return self._filtered[key]

    @cached_property
    def design_depth(self) -> int:
        """How many designs deep the network nests at most (a cycle counts as its items): how
        deep the weave recurses. Computed without recursion (networkx's condensation)."""
        graph = nx.DiGraph()
        graph.add_nodes_from(self.network.items)
        for design in self.network.designs.values():
            graph.add_edges_from((design.makes, input_id) for input_id, _ in design.inputs)
        condensed = nx.condensation(graph)
        for node in condensed.nodes:
            condensed.nodes[node]["size"] = len(condensed.nodes[node]["members"])
        for a, b in condensed.edges:
            condensed.edges[a, b]["weight"] = condensed.nodes[b]["size"]
        return nx.dag_longest_path_length(condensed, weight="weight") + 1

    @cached_property
    def recursive_groups(self) -> dict[str, frozenset[str]]:
        """For each item on a cycle of designs, the items of its cycle (strongly connected)."""
        items = list(self.network.items)
        position = {item_id: k for k, item_id in enumerate(items)}
        rows, columns, looped = [], [], set()
        for design in self.network.designs.values():
            for input_id, _ in design.inputs:
                rows.append(position[design.makes])
                columns.append(position[input_id])
                if input_id == design.makes:
                    looped.add(input_id)
        # SciPy's strong components run in C: this is on the path of every weave.
        graph = csr_matrix(
            (np.ones(len(rows), dtype=np.int8), (rows, columns)), shape=(len(items), len(items))
        )
        _, labels = connected_components(graph, directed=True, connection="strong")
        members: dict[int, list[str]] = defaultdict(list)
        for item_id, label in zip(items, labels, strict=True):
            members[label].append(item_id)
        groups: dict[str, frozenset[str]] = {}
        for component in members.values():
            if len(component) > 1 or component[0] in looped:
                frozen = frozenset(component)
                for item_id in component:
                    groups[item_id] = frozen
        return groups

    def child_context(self, context: frozenset[str], parent: str, child: str) -> frozenset[str]:
        """The items above `child` on its path that it could lead back to.

        Only they matter for the path-local cycle cut: an ancestor reachable from `child` lies
        on a cycle with it, so everything else in the path can be forgotten, and the weave can
        share one sub-result among all the paths that reach `child`.
        """
        group = self.recursive_groups.get(child)
        if group is None:
            return frozenset()
        return (context | {parent}) & group


def source_properties(source: Source):
    return source.offer.properties if isinstance(source, Bought) else source.design.properties


def _capable(design: Design, by_process: dict[str, set[int]], able: list[int]) -> list[int]:
    """Positions of the facilities offering all of the design's processes, in order, among
    those `able` to run any design."""
    if not design.processes:
        return able
    capable = set.intersection(*(by_process.get(p, set()) for p in design.processes))
    return sorted(capable)
