"""When each stage is due: the plan's times (core.weave.timing) laid on its stage graph.

A stage takes its node's own time where the work is: the source's time (an offer's lead time,
a design's make time × batches) on its `make` or `confirm`; the leg's transit on the stage that
moves the goods — `deliver` by a vehicle, `ship` by the sender, or, when the receiver fetches
them, its `pickup`. Every other stage (inspect, receive, accept, a vehicle's pickup) takes no
time of its own: people do it when the goods are there. A done stage takes none either: it is
behind us. A time nobody gave counts 0 and the stage is listed in `Schedule.unknown`, so its
due date is "at the earliest" (counted forward) or "at the latest" (counted back) — the same
rule as a plan's arrival.

With an order due date, each stage is due at the latest time it can finish for the order to
arrive by the end of the due day, counted back along the graph:
  due(s) = min over stages t that depend on s of due(t) − duration(t), due(sink) = end;
which is end − the longest path of work after s. Without one, each stage is due at the
earliest time it can finish counted forward from the start (the agreement): its critical path,
  finish(s) = start + max over s's dependencies of finish(d) + duration(s);
a stage whose critical path holds a time nobody gave has no due date then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.stages.graph import StageGraph
from core.weave.plan import Plan
from core.weave.timing import source_minutes

# Where a node's own time goes. The leg's transit: on the first of these kinds the node has.
_SOURCE_KINDS = ("make", "confirm")
_MOVING_KINDS = ("deliver", "ship", "pickup")


@dataclass(frozen=True)
class Schedule:
    """Each stage's own minutes (unknown ones counted 0), the stages whose time nobody gave,
    and when each is due. `counted_back`: due dates are the latest to arrive by the order's
    due date; otherwise the earliest from the start."""

    minutes: Mapping[str, int]
    unknown: frozenset[str]
    due: Mapping[str, datetime]  # counted forward, none for stages after an unknown time
    counted_back: bool
    after: Mapping[str, int]  # minutes of work still to do after each stage (its critical path)

    def remaining_after(self, stage_id: str) -> int:
        return self.after[stage_id]

    def unknown_after(self, graph: StageGraph, stage_id: str) -> int:
        """How many of the times after this stage nobody gave."""
        return len(graph.descendants(stage_id) & self.unknown)


def stage_minutes(plan: Plan, graph: StageGraph) -> tuple[dict[str, int], frozenset[str]]:
    """(own minutes of each stage, stages whose time nobody gave)."""
    nodes = dict(plan.positioned())
    minutes: dict[str, int] = {stage.id: 0 for stage in graph}
    unknown: set[str] = set()
    by_node: dict[str, list] = {}
    for stage in graph:
        by_node.setdefault(stage.node, []).append(stage)
    for path, stages in by_node.items():
        node = nodes.get(path)
        if node is None:  # a stage of no plan node: nothing says how long it takes
            continue
        pending = [s for s in stages if s.status != "done"]
        made = source_minutes(node.source, node.quantity)
        for stage in pending:
            if stage.kind in _SOURCE_KINDS:
                _put(minutes, unknown, stage.id, made)
        if node.leg is not None:
            kinds = {s.kind: s for s in stages}
            mover = next((kinds[k] for k in _MOVING_KINDS if k in kinds), None)
            if mover is not None and mover.status != "done":
                _put(minutes, unknown, mover.id, node.leg.minutes)
    return minutes, frozenset(unknown)


def _put(minutes: dict[str, int], unknown: set[str], stage_id: str, value: int | None) -> None:
    if value is None:
        unknown.add(stage_id)
    else:
        minutes[stage_id] += value


def work_after(graph: StageGraph, minutes: Mapping[str, int]) -> dict[str, int]:
    """The longest path of work after each stage (its own time left out) to the end."""
    after: dict[str, int] = {}
    for stage in reversed(graph.stages):
        after[stage.id] = max(
            (minutes[t.id] + after[t.id] for t in graph.dependents_of(stage.id)), default=0
        )
    return after


def earliest_finish(graph: StageGraph, minutes: Mapping[str, int]) -> dict[str, int]:
    """Minutes from the start to the earliest each stage can be done."""
    finish: dict[str, int] = {}
    for stage in graph:
        finish[stage.id] = minutes[stage.id] + max((finish[d] for d in stage.depends_on), default=0)
    return finish


def after_unknown(graph: StageGraph, unknown: frozenset[str]) -> set[str]:
    """The stages whose earliest finish rests on a time nobody gave: their own, or one of a
    stage they depend on, directly or not. One pass in dependency order (what a stage waits
    for comes before it), not a walk of each stage's ancestors."""
    found: set[str] = set()
    for stage in graph:
        if stage.id in unknown or any(d in found for d in stage.depends_on):
            found.add(stage.id)
    return found


def end_of_day(day: date | datetime | None) -> datetime | None:
    """The end of a due day: an order due on the 12th may arrive until midnight after it (the
    weave's due window counts to the same moment)."""
    if day is None:
        return None
    if isinstance(day, datetime):
        day = day.date()
    return datetime.combine(day + timedelta(days=1), time())


def schedule(
    plan: Plan, graph: StageGraph, start: datetime, order_due_end: datetime | None = None
) -> Schedule:
    """Due dates of the stages of `plan`'s stage graph: counted back from `order_due_end` (the
    end of the order's due day) when given, else counted forward from `start`."""
    minutes, unknown = stage_minutes(plan, graph)
    after = work_after(graph, minutes)
    if order_due_end is not None:
        due = {s: order_due_end - timedelta(minutes=left) for s, left in after.items()}
    else:
        # The earliest finish is a promise only where every time before it was given: a stage
        # that rests on a time nobody gave (counted 0) has no due date, or its party would be
        # told it is late a moment after agreeing.
        finish = earliest_finish(graph, minutes)
        uncertain = after_unknown(graph, unknown)
        due = {s: start + timedelta(minutes=m) for s, m in finish.items() if s not in uncertain}
    return Schedule(minutes, unknown, due, order_due_end is not None, after)
