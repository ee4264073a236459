"""Fulfilment plans: trees of items, each with the source chosen for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from core.weave.legs import Leg
from core.weave.ranking import Score
from core.weave.sources import Bought, Source


@dataclass(frozen=True)
class Demand:
    """One line of an order: so many units of an item."""

    item: str
    quantity: int


@dataclass(frozen=True)
class PlanNode:
    """`quantity` of `item` from `source`; under a design, one sub-plan per input.

    `distance_km` is how far this node's goods travel to where they are used (the parent's
    facility, or the buyer at the root); None when a place is unknown. `leg` is how they get
    there (core.weave.legs): None when they are used where they are, or when the network plans
    no transport and the parties arrange it.
    """

    item: str
    quantity: int
    source: Source
    inputs: tuple[PlanNode, ...] = ()
    distance_km: float | None = None
    leg: Leg | None = None

    @property
    def batches(self) -> int:
        if isinstance(self.source, Bought):
            return 1
        return -(-self.quantity // self.source.design.yield_)

    def walk(self) -> Iterator[PlanNode]:
        yield self
        for child in self.inputs:
            yield from child.walk()

    def signature(self) -> tuple:
        """What identifies the plan: the chosen sources, nested like the tree."""
        return (
            self.item,
            self.quantity,
            _source_id(self.source),
            *(c.signature() for c in self.inputs),
            *(() if self.leg is None else (self.leg.id,)),
        )


@dataclass(frozen=True)
class Plan:
    """A plan for a whole demand: one tree per order line, with its rank and score, and the key
    it was ranked by (core.weave.ranking.Key: the score, then risk and distance; () when it was
    not ranked)."""

    lines: tuple[PlanNode, ...]
    score: Score
    rank: int
    key: tuple = ()

    def nodes(self) -> Iterator[PlanNode]:
        for line in self.lines:
            yield from line.walk()

    def positioned(self) -> Iterator[tuple[str, PlanNode]]:
        """Every node with its position: "0" the first line's root, "0.2" its third input …"""
        for index, line in enumerate(self.lines):
            yield from _positioned(line, str(index))

    def signature(self) -> tuple:
        return tuple(line.signature() for line in self.lines)


def _source_id(source: Source) -> str:
    if isinstance(source, Bought):
        return f"offer:{source.offer.id}"
    return f"design:{source.design.id}@{source.facility.id}"


def _positioned(node: PlanNode, path: str) -> Iterator[tuple[str, PlanNode]]:
    yield path, node
    for position, child in enumerate(node.inputs):
        yield from _positioned(child, f"{path}.{position}")


def outermost(paths) -> list[str]:
    """The positions not under another one of them, in tree order: re-planning a node
    re-plans everything below it."""
    ordered = sorted(set(paths), key=lambda p: [int(x) for x in p.split(".")])
    kept: list[str] = []
    for path in ordered:
        if not any(path.startswith(top + ".") for top in kept):
            kept.append(path)
    return kept
