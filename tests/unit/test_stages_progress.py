"""Query F_Q and Error F_E on the chair, with legs turned at eli-studio from maple boards
(two chairs; see test_stages_plan for the hand list):

  branch 0.0 leg    s1–s3 maple boards (node 0.0.0), s4 make … s7 receive legs (node 0.0)
  branch 0.1 seat   s8–s10
  branch 0.2 back   s11–s13
  root 0            s14 make, s15 inspect, s16 ship, s17 receive, s18 accept
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from functools import cache

from chair_files import chair_network

from core.stages import (
    Assertion,
    Stage,
    StageGraph,
    affected_nodes,
    plan_stages,
    progress,
    replay,
    root_causes,
)
from core.weave import Demand, Weave

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@cache
def turned_legs_graph() -> StageGraph:
    network = chair_network()
    for plan in Weave(network, [Demand("chair", 2)]).plans():
        text = repr(plan.signature())
        if "leg-turned@eli-studio" in text and "chair-okh@ana-shop" in text and "gus-seats" in text:
            return plan_stages(network, plan, buyer="dana")
    raise AssertionError("no such plan")


def with_status(graph: StageGraph, status: str, *stages: str) -> StageGraph:
    return replay(graph, [Assertion(s, status, "rita", NOON) for s in stages])


def ids(stages) -> list[str]:
    return [s.id for s in stages]


# -- F_Q ---------------------------------------------------------------------------------------


def test_nothing_done():
    report = progress(turned_legs_graph())
    assert (report.overall.done, report.overall.total, report.overall.percent) == (0, 18, 0)
    assert [(b.node, b.item, b.share.total) for b in report.branches] == [
        ("0.0", "leg", 7),
        ("0.1", "seat", 3),
        ("0.2", "back", 3),
    ]


def test_per_branch_progress():
    graph = with_status(turned_legs_graph(), "done", "s1", "s2", "s3", "s4", "s8", "s11", "s12")
    graph = with_status(graph, "failed", "s9")  # failed is not done
    report = progress(graph)
    assert report.overall.done == 7
    assert report.overall.fraction == Fraction(7, 18)
    assert report.overall.percent == 38  # 38.9 rounded down
    assert [(b.item, b.share.done, b.share.total, b.share.percent) for b in report.branches] == [
        ("leg", 4, 7, 57),
        ("seat", 1, 3, 33),
        ("back", 2, 3, 66),
    ]
    assert report.branches[2].share.fraction == Fraction(2, 3)


def test_root_stages_count_overall_only_and_all_done_is_100():
    graph = turned_legs_graph()
    everything = with_status(graph, "done", *ids(graph))
    assert progress(everything).overall.percent == 100
    assert progress(everything).overall.fraction == 1
    almost = with_status(graph, "done", *ids(graph)[:-1])  # all but the buyer's accept
    assert progress(almost).overall.percent == 94
    assert all(b.share.percent == 100 for b in progress(almost).branches)


def test_empty_graph():
    report = progress(StageGraph([]))
    assert (report.overall.fraction, report.overall.percent, report.branches) == (0, 0, ())


def test_branches_of_two_order_lines_are_apart():
    stages = [
        Stage("s1", "confirm", "leg", 4, "fern", "0.0", "offer:a"),
        Stage("s2", "make", "chair", 1, "ana", "0", "design:d@f", ("s1",)),
        Stage("s3", "confirm", "leg", 4, "bob", "1.0", "offer:b", status="done"),
        Stage("s4", "make", "stool", 1, "ana", "1", "design:e@f", ("s3",)),
    ]
    report = progress(StageGraph(stages))
    assert [(b.node, b.item, b.share.done) for b in report.branches] == [
        ("0.0", "leg", 0),
        ("1.0", "leg", 1),
    ]


# -- F_E ---------------------------------------------------------------------------------------


def test_no_failure_no_root_cause():
    assert root_causes(turned_legs_graph()) == ()
    assert affected_nodes(turned_legs_graph(), []) == ()


def test_a_single_failure_is_its_own_root_cause():
    graph = with_status(turned_legs_graph(), "failed", "s9")
    assert ids(root_causes(graph)) == ["s9"]
    assert affected_nodes(graph, ["s9"]) == ("0.1",)


def test_in_a_chain_of_failures_only_the_lowest_is_the_root_cause():
    # The maple never shipped (s2); so eli could not make the legs (s4); so ana could not make
    # the chairs (s14). Separately, gus's van broke down with the seats (s9).
    graph = with_status(turned_legs_graph(), "failed", "s14", "s4", "s2", "s9")
    assert ids(root_causes(graph)) == ["s2", "s9"]
    assert affected_nodes(graph, ids(root_causes(graph))) == ("0.0.0", "0.1")


def test_a_failure_above_a_pending_gap_is_still_a_root_cause():
    # s3 (receive boards) failed although s2 is only pending: nothing below it failed.
    graph = with_status(turned_legs_graph(), "failed", "s3", "s15")
    assert ids(root_causes(graph)) == ["s3"]


def test_resetting_the_lower_failure_makes_the_upper_one_the_root_cause():
    graph = with_status(turned_legs_graph(), "failed", "s2", "s4")
    assert ids(root_causes(graph)) == ["s2"]
    assert ids(root_causes(with_status(graph, "reset", "s2"))) == ["s4"]


def test_affected_nodes_keep_only_the_highest_of_nested_nodes():
    graph = turned_legs_graph()
    assert affected_nodes(graph, ["s2", "s5"]) == ("0.0",)
    assert affected_nodes(graph, ["s12", "s2", "s9"]) == ("0.0.0", "0.1", "0.2")
    assert affected_nodes(graph, ["s18", "s9"]) == ("0",)
