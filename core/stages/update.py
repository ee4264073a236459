"""Update U: a person's assertion about one stage, applied to the stage graph.

An assertion says a stage is done, has failed, or is to be reset to pending; it carries who
made it, when, the platform message it came from and its evidence, so that it can be kept in
the history and traced back to a person. A stage asserted done while a stage it depends on
(directly or not) is not done is accepted all the same, and flagged as out of order.

Who may assert is decided by the service; `may_assert` states the rule it applies: the
stage's owner, or a coordinator.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from core.stages.graph import Stage, StageError, StageGraph

# What an assertion says → the status it gives the stage.
NEW_STATUS = {"done": "done", "failed": "failed", "reset": "pending"}


@dataclass(frozen=True)
class Assertion:
    """`by` (a participant id) says at `at` that `stage` is done, failed, or to be reset."""

    stage: str
    status: str
    by: str
    at: datetime
    platform: str | None = None
    message_id: str | None = None
    evidence: str = ""

    def __post_init__(self) -> None:
        if self.status not in NEW_STATUS:
            raise StageError(f"a stage can be asserted done, failed or reset, not {self.status!r}")
        if not self.by:
            raise StageError("an assertion needs the person who makes it")


@dataclass(frozen=True)
class Applied:
    """The graph after an assertion, and what the assertion means for the others.

    `unblocked`: pending stages that could not start before and now can, every stage they
    depend on being done — the people who owe them are the ones to tell.
    """

    graph: StageGraph
    assertion: Assertion
    previous: str
    out_of_order: bool
    unblocked: tuple[Stage, ...]


def apply(graph: StageGraph, assertion: Assertion) -> Applied:
    stage = graph.resolve(assertion.stage)
    assertion = replace(assertion, stage=stage.id)
    status = NEW_STATUS[assertion.status]
    updated = graph.with_stage(replace(stage, status=status))
    out_of_order = status == "done" and any(
        graph[a].status != "done" for a in graph.ancestors(stage.id)
    )
    unblocked: tuple[Stage, ...] = ()
    if status == "done" and stage.status != "done":
        unblocked = tuple(
            updated[d.id] for d in graph.dependents_of(stage.id) if updated.ready(d.id)
        )
    return Applied(updated, assertion, stage.status, out_of_order, unblocked)


def replay(graph: StageGraph, assertions: Iterable[Assertion]) -> StageGraph:
    """The graph after every assertion in turn: how a stored history rebuilds the present."""
    for assertion in assertions:
        graph = apply(graph, assertion).graph
    return graph


def may_assert(graph: StageGraph, stage_id: str, participant: str, is_coordinator: bool) -> bool:
    """Only the stage's owner, or a coordinator, asserts it. Unknown stage → StageError."""
    stage = graph.resolve(stage_id)
    return is_coordinator or (stage.owner is not None and stage.owner == participant)
