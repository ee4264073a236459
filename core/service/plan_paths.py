"""Positions in a plan's tree ("0" the first line's root, "0.2" its third input): the node at one,
a new sub-plan spliced in at one, where a node's goods go, and who provides a node."""

from __future__ import annotations

from dataclasses import replace

from core.network.model import Network
from core.weave.plan import Plan, PlanNode
from core.weave.ranking import source_location
from core.weave.sources import Bought


def node_at(plan: Plan, path: str) -> PlanNode:
    """The node at `path`."""
    parts = [int(p) for p in path.split(".")]
    node = plan.lines[parts[0]]
    for position in parts[1:]:
        node = node.inputs[position]
    return node


def splice(plan: Plan, path: str, new: PlanNode) -> Plan:
    """The plan with `new` in place of the sub-tree at `path`."""
    parts = [int(p) for p in path.split(".")]

    def put(node: PlanNode, rest: list[int]) -> PlanNode:
        if not rest:
            return new
        inputs = list(node.inputs)
        inputs[rest[0]] = put(inputs[rest[0]], rest[1:])
        return replace(node, inputs=tuple(inputs))

    lines = list(plan.lines)
    lines[parts[0]] = put(lines[parts[0]], parts[1:])
    return replace(plan, lines=tuple(lines))


def parent_place(network: Network, plan: Plan, path: str, buyer_place):
    """Where the node's goods go: its parent's source, or the buyer for a line's root."""
    if "." not in path:
        return buyer_place
    parent = node_at(plan, path.rsplit(".", 1)[0])
    return source_location(network, parent.source)


def parent_receiver(plan: Plan, path: str, buyer: str | None) -> str | None:
    """Who receives the node's goods: its parent's maker, or the buyer for a line's root."""
    if "." not in path:
        return buyer
    return provider(node_at(plan, path.rsplit(".", 1)[0]))


def provider(node: PlanNode) -> str | None:
    """Who provides the node: its offer's supplier, or the operator of the facility making it."""
    source = node.source
    return source.offer.supplier if isinstance(source, Bought) else source.facility.operator


def uses(node: PlanNode, resource: str) -> bool:
    """Whether the node's source is, or is run by, the resource (offer, facility, person)."""
    source = node.source
    if isinstance(source, Bought):
        return resource in (source.offer.id, source.offer.supplier)
    return resource in (source.facility.id, source.facility.operator)
