"""Query F_Q and Error F_E: how far a stage graph has come, and where it broke.

F_Q: the share of stages done, overall and per branch (per input of a line's root, named by
its item). F_E: the root causes — failed stages none of whose dependencies, directly or not,
failed — and the plan nodes under which re-planning must happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from core.stages.graph import Stage, StageGraph, path_parts
from core.weave.plan import outermost


@dataclass(frozen=True)
class Share:
    done: int
    total: int

    @property
    def fraction(self) -> Fraction:
        """done / total; an empty graph has nothing done: 0."""
        return Fraction(self.done, self.total) if self.total else Fraction(0)

    @property
    def percent(self) -> int:
        """Whole percent, rounded down: 100 only when every stage is done."""
        return self.done * 100 // self.total if self.total else 0


@dataclass(frozen=True)
class Branch:
    """The stages under one input of a line's root: `node` is its path, e.g. "0.2"."""

    node: str
    item: str
    share: Share


@dataclass(frozen=True)
class Progress:
    overall: Share
    branches: tuple[Branch, ...]


def progress(graph: StageGraph) -> Progress:
    overall = Share(sum(s.status == "done" for s in graph), len(graph))
    counts: dict[str, list[int]] = {}
    items: dict[str, str] = {}
    for stage in graph:
        branch = graph.branch_node(stage)
        if branch is None:
            continue
        tally = counts.setdefault(branch, [0, 0])
        tally[0] += stage.status == "done"
        tally[1] += 1
        if stage.node == branch:
            items[branch] = stage.item
    branches = tuple(
        Branch(node, items[node], Share(done, total))
        for node, (done, total) in sorted(counts.items(), key=lambda kv: path_parts(kv[0]))
    )
    return Progress(overall, branches)


def root_causes(graph: StageGraph) -> tuple[Stage, ...]:
    """Failed stages with no failed stage among everything they depend on, in id order."""
    failed_above: dict[str, bool] = {}  # stage id → some stage it depends on failed
    causes = []
    for stage in graph:  # dependency order: every dependency is already in `failed_above`
        failed_above[stage.id] = any(
            graph[d].status == "failed" or failed_above[d] for d in stage.depends_on
        )
        if stage.status == "failed" and not failed_above[stage.id]:
            causes.append(stage)
    return tuple(causes)


def affected_nodes(graph: StageGraph, stage_ids: Iterable[str]) -> tuple[str, ...]:
    """The plan nodes to re-plan for these (failed) stages: the node of each stage.

    Re-planning a node re-plans everything under it, so a node below another one listed is
    left out. In tree order.
    """
    return tuple(outermost(graph.resolve(s).node for s in stage_ids))
