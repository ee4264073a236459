"""Stage due dates (core/stages/schedule.py), on the shop of test_leg_stages worked out by hand,
and on drawn networks against an oracle that walks every path of the stage graph.

The shop: Sue's visors take 2 days (lead time) and travel to Bea's bench by Sue's delivery in an
hour; Bea makes each shield in 0.1 day (20 shields: 2 days); Carol's truck carries them to Dana
in half an hour. The stages (test_leg_stages): s1 confirm, s2 ship, s3 receive, s4 make,
s5 inspect, s6 pickup, s7 deliver, s8 receive, s9 accept.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import networkx as nx
from hypothesis import given
from hypothesis import strategies as st
from test_leg_stages import planned, shop
from test_stages_properties import BUYER, SETTINGS, networks, with_drawn_legs

from core.network.model import Offer
from core.stages import plan_stages
from core.stages.schedule import end_of_day, schedule
from core.weave import Demand, Weave
from core.weave.plan import Plan
from core.weave.timing import plan_arrival

START = datetime(2026, 12, 1, 9, 0)
DAY = 24 * 60


def timed_shop(lead_days=2.0, make_days=0.1):
    network = shop()
    return network.with_records(
        offers=[replace(network.offers["sue-visors"], lead_time_days=lead_days)],
        designs=[replace(network.designs["make-shield"], make_days=make_days)],
    )


def with_leg_minutes(plan: Plan, visors: int | None, shields: int | None) -> Plan:
    """The hand-made plan with its two legs taking the minutes given (None: nobody knows)."""
    root = plan.lines[0]
    visor = replace(root.inputs[0], leg=replace(root.inputs[0].leg, minutes=visors))
    return replace(
        plan, lines=(replace(root, inputs=(visor,), leg=replace(root.leg, minutes=shields)),)
    )


def shop_schedule(due_end=None, visors=60, shields=30, **times):
    network = timed_shop(**times)
    plan = with_leg_minutes(planned(network), visors, shields)
    graph = plan_stages(network, plan, "dana")
    return graph, schedule(plan, graph, START, due_end)


def after(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def test_the_time_of_each_node_lies_on_its_source_and_moving_stages():
    _, times = shop_schedule()
    assert times.minutes == {
        "s1": 2 * DAY,  # Sue's lead time on her confirm
        "s2": 60,  # the visors' delivery on Sue's ship
        "s3": 0,
        "s4": 2 * DAY,  # 20 batches × 0.1 day on Bea's make
        "s5": 0,
        "s6": 0,  # the truck's pickup: loading takes no time of its own
        "s7": 30,  # the transit on its deliver
        "s8": 0,
        "s9": 0,
    }
    assert times.unknown == frozenset()


def test_without_a_due_date_each_stage_is_due_when_it_can_be_done_at_the_earliest():
    _, times = shop_schedule()
    assert not times.counted_back
    assert times.due == {
        "s1": after(2 * DAY),
        "s2": after(2 * DAY + 60),
        "s3": after(2 * DAY + 60),
        "s4": after(4 * DAY + 60),
        "s5": after(4 * DAY + 60),
        "s6": after(4 * DAY + 60),
        "s7": after(4 * DAY + 90),
        "s8": after(4 * DAY + 90),
        "s9": after(4 * DAY + 90),
    }


def test_the_last_stage_is_due_when_the_plan_arrives():
    network = timed_shop()
    plan = with_leg_minutes(planned(network), 60, 30)
    times = schedule(plan, plan_stages(network, plan, "dana"), START)
    assert times.due["s9"] == after(plan_arrival(plan).minutes)


def test_with_a_due_date_each_stage_is_due_at_the_latest_counted_back_from_the_end_of_that_day():
    end = end_of_day(date(2026, 12, 12))
    assert end == datetime(2026, 12, 13, 0, 0)
    _, times = shop_schedule(end)
    assert times.counted_back
    before = {code: end - due for code, due in times.due.items()}
    assert before == {
        "s9": timedelta(0),
        "s8": timedelta(0),
        "s7": timedelta(0),  # the truck must be at Dana's by midnight
        "s6": timedelta(minutes=30),  # … so loaded half an hour before
        "s5": timedelta(minutes=30),
        "s4": timedelta(minutes=30),
        "s3": timedelta(minutes=2 * DAY + 30),  # the visors in two days of making before
        "s2": timedelta(minutes=2 * DAY + 30),
        "s1": timedelta(minutes=2 * DAY + 90),  # and an hour's delivery before that
    }
    assert times.remaining_after("s1") == 2 * DAY + 90
    assert times.remaining_after("s9") == 0


def test_unknown_times_count_none_and_are_said():
    graph, times = shop_schedule(visors=None, lead_days=None)
    assert times.unknown == frozenset({"s1", "s2"})
    assert times.minutes["s1"] == times.minutes["s2"] == 0
    # Counted forward, a due date is a promise only where every time before it was given: the
    # visors' confirm and everything after it have none (nobody is told late against a guess).
    for stage in graph:
        after_unknown = stage.id in times.unknown or graph.ancestors(stage.id) & times.unknown
        assert (stage.id in times.due) == (not after_unknown), stage.id
    assert "s1" not in times.due and "s4" not in times.due


def test_a_done_stage_takes_no_more_time():
    network = timed_shop()
    plan = with_leg_minutes(planned(network), 60, 30)
    graph = plan_stages(network, plan, "dana")
    for code in ("s1", "s2", "s3"):
        graph = graph.with_stage(replace(graph[code], status="done"))
    times = schedule(plan, graph, START)
    assert times.due["s4"] == after(2 * DAY)  # the make can start now


def test_a_pick_up_by_the_receiver_puts_the_transit_on_its_pickup():
    network = timed_shop()
    plan = planned(network, shields_by="pickup")
    root = plan.lines[0]
    plan = replace(plan, lines=(replace(root, leg=replace(root.leg, minutes=45)),))
    graph = plan_stages(network, plan, "dana")
    times = schedule(plan, graph, START)
    pickup = next(s for s in graph.for_node("0") if s.kind == "pickup")
    assert times.minutes[pickup.id] == 45


# -- drawn networks against an oracle -----------------------------------------------------------


@st.composite
def timed_graphs(draw):
    """A drawn network given times (some unknown), one of its plans with drawn legs, its stages."""
    network = draw(networks())
    days = st.none() | st.sampled_from([0.5, 1.0, 3.0])
    network = network.with_records(
        offers=[replace(o, lead_time_days=draw(days)) for o in network.offers.values()],
        designs=[replace(d, make_days=draw(days)) for d in network.designs.values()],
    )
    items = draw(st.lists(st.sampled_from(sorted(network.items)), min_size=1, max_size=3))
    wanted = [Demand(item, 2) for item in dict.fromkeys(items)]
    plans = Weave(network, wanted).best(3)
    if not plans:
        network = network.with_records(
            offers=[Offer(f"extra-{d.item}", "p0", d.item, price=1.0) for d in wanted]
        )
        plans = Weave(network, wanted).best(3)
    plan = with_drawn_legs(draw, network, draw(st.sampled_from(plans)))
    return plan, plan_stages(network, plan, buyer=BUYER)


def longest_to_end(graph, minutes, code) -> int:
    """The oracle: the heaviest path from `code` to any last stage, `code` itself left out,
    by listing every path."""
    dag = nx.DiGraph()
    dag.add_nodes_from(s.id for s in graph)
    dag.add_edges_from((d, s.id) for s in graph for d in s.depends_on)
    ends = [n for n in dag if dag.out_degree(n) == 0]
    best = 0
    for end in ends:
        for path in nx.all_simple_paths(dag, code, end) if end != code else [[code]]:
            best = max(best, sum(minutes[n] for n in path[1:]))
    return best


def longest_from_start(graph, minutes, code) -> int:
    dag = nx.DiGraph()
    dag.add_edges_from((d, s.id) for s in graph for d in s.depends_on)
    dag.add_nodes_from(s.id for s in graph)
    starts = [n for n in dag if dag.in_degree(n) == 0]
    best = minutes[code]
    for start in starts:
        if start == code:
            continue
        for path in nx.all_simple_paths(dag, start, code):
            best = max(best, sum(minutes[n] for n in path))
    return best


@SETTINGS
@given(timed_graphs())
def test_due_dates_agree_with_every_path_of_the_graph_and_the_plans_arrival(case):
    plan, graph = case
    end = datetime(2027, 1, 1)
    back = schedule(plan, graph, START, end)
    forward = schedule(plan, graph, START)
    for stage in graph:
        assert back.due[stage.id] == end - timedelta(
            minutes=longest_to_end(graph, back.minutes, stage.id)
        )
        if stage.id in forward.unknown or graph.ancestors(stage.id) & forward.unknown:
            assert stage.id not in forward.due  # no promise after a time nobody gave
        else:
            assert forward.due[stage.id] == after(
                longest_from_start(graph, forward.minutes, stage.id)
            )
        # Counted back: due(s) = min over t after s of due(t) − duration(t).
        dependents = graph.dependents_of(stage.id)
        if dependents:
            assert back.due[stage.id] == min(
                back.due[t.id] - timedelta(minutes=back.minutes[t.id]) for t in dependents
            )
    # The stages carry the plan's times exactly: the last is due when the plan arrives, and
    # as many times are unknown as the arrival counts.
    arrival = plan_arrival(plan)
    assert max(back.due.values()) == end
    if not forward.unknown:
        assert max(forward.due.values()) == after(arrival.minutes)
    assert len(forward.unknown) == arrival.unknown
