"""Update U on the best plan for two chairs (see test_stages_plan for its stage list):

s1–s3  legs   fern confirm, fern ship, ana receive
s4–s6  seats  gus confirm, gus ship, ana receive
s7–s9  backs  gus confirm, gus ship, ana receive
s10 make (waits for s3, s6, s9), s11 inspect, s12 ship — ana; s13 receive, s14 accept — dana
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import cache

import pytest
from chair_files import chair_network

from core.stages import (
    Assertion,
    StageError,
    StageGraph,
    apply,
    may_assert,
    plan_stages,
    replay,
)
from core.weave import Demand, Weave

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@cache
def chair_graph() -> StageGraph:
    network = chair_network()
    plan = Weave(network, [Demand("chair", 2)]).best(1)[0]
    return plan_stages(network, plan, buyer="dana")


def said(stage: str, status: str = "done", by: str = "ana", **kw) -> Assertion:
    return Assertion(stage, status, by, NOON, platform="telegram", message_id="m1", **kw)


def done(graph: StageGraph, *stages: str) -> StageGraph:
    return replay(graph, [said(s) for s in stages])


def statuses(graph: StageGraph) -> dict[str, str]:
    return {s.id: s.status for s in graph if s.status != "pending"}


def test_done_in_order_is_not_flagged_and_changes_one_stage():
    graph = chair_graph()
    applied = apply(graph, said("s1", by="fern", evidence="order no. 4411"))
    assert statuses(applied.graph) == {"s1": "done"}
    assert statuses(graph) == {}  # the old graph is untouched
    assert applied.out_of_order is False
    assert applied.previous == "pending"
    assert applied.assertion.evidence == "order no. 4411"
    assert [s.id for s in applied.unblocked] == ["s2"]


def test_done_before_a_direct_dependency_is_accepted_and_flagged():
    applied = apply(chair_graph(), said("s2", by="fern"))
    assert applied.out_of_order is True
    assert statuses(applied.graph) == {"s2": "done"}


def test_done_before_a_transitive_dependency_is_flagged():
    # Everything make waits for directly is done, but the legs were never confirmed (s1).
    graph = done(chair_graph(), "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9")
    assert all(graph[d].status == "done" for d in graph["s10"].depends_on)
    assert apply(graph, said("s10")).out_of_order is True
    assert apply(done(graph, "s1"), said("s10")).out_of_order is False


def test_failed_and_reset_are_never_out_of_order():
    graph = chair_graph()
    assert apply(graph, said("s10", "failed")).out_of_order is False
    assert apply(graph, said("s10", "reset")).out_of_order is False


def test_make_is_unblocked_only_when_the_last_input_arrives():
    graph = done(chair_graph(), "s1", "s2", "s4", "s5", "s7", "s8")
    after_legs = apply(graph, said("s3"))
    assert after_legs.unblocked == ()
    after_seats = apply(after_legs.graph, said("s6"))
    assert after_seats.unblocked == ()
    after_backs = apply(after_seats.graph, said("s9"))
    assert [(s.id, s.kind, s.owner) for s in after_backs.unblocked] == [("s10", "make", "ana")]
    # Saying it again changes nothing and unblocks nothing new.
    again = apply(after_backs.graph, said("s9"))
    assert again.previous == "done" and again.unblocked == ()
    assert again.graph == after_backs.graph


def test_a_stage_already_done_out_of_order_is_not_unblocked_again():
    graph = done(chair_graph(), "s2")  # shipped before confirmed
    applied = apply(graph, said("s1", by="fern"))
    assert applied.unblocked == ()


def test_reset_takes_a_stage_back_to_pending():
    graph = done(chair_graph(), "s1")
    applied = apply(graph, said("s1", "reset", by="rita", evidence="confirmed the wrong order"))
    assert applied.previous == "done"
    assert applied.graph["s1"].status == "pending"
    assert applied.graph == chair_graph()
    assert applied.unblocked == ()


def test_failed_then_done():
    failed = apply(chair_graph(), said("s5", "failed", by="gus", evidence="van broke down"))
    assert failed.graph["s5"].status == "failed" and failed.unblocked == ()
    recovered = apply(done(failed.graph, "s4"), said("s5", by="gus"))
    assert recovered.previous == "failed"
    assert [s.id for s in recovered.unblocked] == ["s6"]


def test_stage_ids_are_read_as_people_type_them():
    applied = apply(chair_graph(), said(" S7 ", by="gus"))
    assert applied.assertion.stage == "s7"
    assert statuses(applied.graph) == {"s7": "done"}
    assert statuses(apply(chair_graph(), said("7", by="gus")).graph) == {"s7": "done"}


def test_unknown_stage_and_bad_assertions_are_refused():
    with pytest.raises(StageError, match=r"^no stage s15 \(stages are s1–s14\)$"):
        apply(chair_graph(), said("s15"))
    with pytest.raises(StageError, match="no stage"):
        apply(chair_graph(), said("leg"))
    with pytest.raises(StageError, match="done, failed or reset, not 'finished'"):
        said("s1", "finished")
    with pytest.raises(StageError, match="needs the person"):
        said("s1", by="")


def test_may_assert_the_owner_or_a_coordinator():
    graph = chair_graph()
    assert may_assert(graph, "s1", "fern", is_coordinator=False) is True
    assert may_assert(graph, "s1", "gus", is_coordinator=False) is False
    assert may_assert(graph, "s1", "rita", is_coordinator=True) is True
    assert may_assert(graph, "s14", "dana", is_coordinator=False) is True
    assert may_assert(graph, "s13", "ana", is_coordinator=False) is False
    with pytest.raises(StageError):
        may_assert(graph, "s40", "rita", is_coordinator=True)


def test_a_stage_nobody_owns_only_a_coordinator_may_assert():
    graph = chair_graph()
    orphan = graph.with_stage(replace(graph["s1"], owner=None))
    assert may_assert(orphan, "s1", "fern", is_coordinator=False) is False
    assert may_assert(orphan, "s1", "rita", is_coordinator=True) is True


def test_dependencies_cannot_be_changed_by_replacing_a_stage():
    graph = chair_graph()
    moved = replace(graph["s10"], depends_on=("s3",))
    with pytest.raises(StageError, match="dependencies cannot change"):
        graph.with_stage(moved)
