"""Plan P and Inspect I on the paper's chair (examples/chair.yaml), checked against stage lists
written out by hand from ARCHITECTURE.md (Stages):

  offer leaf   confirm → ship → receive
  design node  make → inspect → ship → receive, make waiting for the receive of every input
  root         … → receive → the buyer's accept

Owners: confirm the supplier; make, inspect the facility's operator; ship the sender; receive
the operator of the parent's facility (the buyer at the root); accept the buyer. Ids follow the
tree bottom-up, inputs in order, so the root's stages come last. The chair's suppliers deliver
their goods themselves, so their legs are `ship → receive` as above; the other legs (a vehicle,
a pick-up, none) are in test_leg_stages.py.
"""

from __future__ import annotations

import pytest
from chair_files import chair_network

from core.network.model import Design, Facility, Item, Network, Offer, Participant
from core.stages import Stage, StageError, StageGraph, inspect_design, plan_stages, sub_graph
from core.weave import Demand, Plan, Weave


def chair_plans(quantity: int = 2) -> list[Plan]:
    return Weave(chair_network(), [Demand("chair", quantity)]).best(100)


def plan_with(signature_part: str, at: str = "ana-shop") -> Plan:
    """The plan for two chairs made at `at` whose sources include `signature_part`."""
    for plan in chair_plans():
        text = repr(plan.signature())
        if signature_part in text and f"chair-okh@{at}" in text and "gus-seats" in text:
            return plan
    raise AssertionError(f"no plan with {signature_part}")


def rows(graph: StageGraph) -> list[tuple]:
    return [(s.id, s.kind, s.item, s.quantity, s.owner, s.node, s.depends_on) for s in graph]


# -- Plan P ------------------------------------------------------------------------------------


def test_best_chair_plan_is_the_one_the_hand_list_describes():
    # Each supplier delivers to Ana's for free, its leg a `ship → receive`; the chairs go to a
    # buyer the weave was not told about (no place), so their leg is arranged: `ship → receive`.
    best = chair_plans()[0]
    assert best.signature() == (
        (
            "chair",
            2,
            "design:chair-okh@ana-shop",
            ("leg", 8, "offer:fern-legs", "delivery:fern"),
            ("seat", 2, "offer:gus-seats", "delivery:gus"),
            ("back", 2, "offer:gus-backs", "delivery:gus"),
            "arranged",
        ),
    )


def test_stages_of_the_best_chair_plan_by_hand():
    graph = plan_stages(chair_network(), chair_plans()[0], buyer="dana")
    assert rows(graph) == [
        ("s1", "confirm", "leg", 8, "fern", "0.0", ()),
        ("s2", "ship", "leg", 8, "fern", "0.0", ("s1",)),
        ("s3", "receive", "leg", 8, "ana", "0.0", ("s2",)),
        ("s4", "confirm", "seat", 2, "gus", "0.1", ()),
        ("s5", "ship", "seat", 2, "gus", "0.1", ("s4",)),
        ("s6", "receive", "seat", 2, "ana", "0.1", ("s5",)),
        ("s7", "confirm", "back", 2, "gus", "0.2", ()),
        ("s8", "ship", "back", 2, "gus", "0.2", ("s7",)),
        ("s9", "receive", "back", 2, "ana", "0.2", ("s8",)),
        ("s10", "make", "chair", 2, "ana", "0", ("s3", "s6", "s9")),
        ("s11", "inspect", "chair", 2, "ana", "0", ("s10",)),
        ("s12", "ship", "chair", 2, "ana", "0", ("s11",)),
        ("s13", "receive", "chair", 2, "dana", "0", ("s12",)),
        ("s14", "accept", "chair", 2, "dana", "0", ("s13",)),
    ]
    assert [s.source for s in graph.for_node("0.0")] == ["offer:fern-legs"] * 3
    assert {s.source for s in graph.for_node("0")} == {"design:chair-okh@ana-shop"}
    assert all(s.status == "pending" for s in graph)


def test_two_level_plan_legs_turned_at_eli_from_maple_boards():
    plan = plan_with("leg-turned@eli-studio")
    graph = plan_stages(chair_network(), plan, buyer="dana")
    # 8 legs, two per board: 4 boards, bought from bob, received by eli who turns them.
    assert rows(graph)[:7] == [
        ("s1", "confirm", "maple-board", 4, "bob", "0.0.0", ()),
        ("s2", "ship", "maple-board", 4, "bob", "0.0.0", ("s1",)),
        ("s3", "receive", "maple-board", 4, "eli", "0.0.0", ("s2",)),
        ("s4", "make", "leg", 8, "eli", "0.0", ("s3",)),
        ("s5", "inspect", "leg", 8, "eli", "0.0", ("s4",)),
        ("s6", "ship", "leg", 8, "eli", "0.0", ("s5",)),
        ("s7", "receive", "leg", 8, "ana", "0.0", ("s6",)),
    ]
    make_chair = graph.for_node("0")[0]
    assert (make_chair.id, make_chair.kind) == ("s14", "make")
    # make waits for the receive of each of its inputs: legs (s7), seat (s10), back (s13).
    assert make_chair.depends_on == ("s7", "s10", "s13")
    assert [graph[d].kind for d in make_chair.depends_on] == ["receive"] * 3
    assert [graph[d].node for d in make_chair.depends_on] == ["0.0", "0.1", "0.2"]
    assert graph["s4"].source == "design:leg-turned@eli-studio"
    assert [s.id for s in graph][-1] == "s18" and graph["s18"].kind == "accept"


def test_graph_helpers_on_the_two_level_plan():
    graph = plan_stages(chair_network(), plan_with("leg-turned@eli-studio"), buyer="dana")
    assert [s.id for s in graph.dependents_of("s7")] == ["s14"]
    assert graph.dependents_of("s18") == ()
    assert graph.ancestors("s7") == {"s1", "s2", "s3", "s4", "s5", "s6"}
    assert graph.ancestors("s14") == {f"s{k}" for k in range(1, 14)}
    assert graph.descendants("s10") == {"s14", "s15", "s16", "s17", "s18"}
    assert [graph.branch_of(s) for s in ("s1", "s7", "s8", "s13", "s14", "s18")] == [
        0,
        0,
        1,
        2,
        None,
        None,
    ]
    assert graph.branch_node("s3") == "0.0"
    assert [s.kind for s in graph.for_node("0.0")] == ["make", "inspect", "ship", "receive"]
    assert graph.for_node("0.9") == ()
    assert graph.resolve(" S7 ").id == "s7" and graph.resolve("7").id == "s7"
    with pytest.raises(StageError, match=r"no stage s99 \(stages are s1–s18\)"):
        graph.resolve("s99")


def test_two_order_lines_give_two_sub_graphs_with_unique_ids():
    network = chair_network()
    plan = Weave(network, [Demand("chair", 1), Demand("seat", 3)]).best(1)[0]
    graph = plan_stages(network, plan, buyer="dana")
    ids = [s.id for s in graph]
    assert ids == [f"s{k}" for k in range(1, 19)]
    line_two = [(s.kind, s.item, s.quantity, s.owner, s.node) for s in graph if s.node == "1"]
    assert line_two == [
        ("confirm", "seat", 3, "gus", "1"),
        ("ship", "seat", 3, "gus", "1"),
        ("receive", "seat", 3, "dana", "1"),
        ("accept", "seat", 3, "dana", "1"),
    ]
    assert [s.kind for s in graph if s.kind == "accept"] == ["accept", "accept"]
    assert graph["s14"].kind == "accept" and graph["s14"].node == "0"
    assert graph["s18"].depends_on == ("s17",)


def test_sub_graph_of_an_input_is_the_stage_graph_of_its_sub_plan():
    network = chair_network()
    plan = plan_with("leg-turned@eli-studio")
    graph = plan_stages(network, plan, buyer="dana")
    legs = sub_graph(graph, "0.0")
    assert [s.id for s in legs] == ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]
    # The same shape P gives the legs' sub-plan on its own, ordered by ana (the chair maker):
    # ana's receive of the legs is the delivery that closes it, where a buyer would accept.
    (leg_node,) = plan.lines[0].inputs[:1]
    alone = plan_stages(network, Plan((leg_node,), plan.score, 1), buyer="ana")
    assert [(s.kind, s.owner, s.depends_on) for s in alone][:-1] == [
        (s.kind, s.owner, s.depends_on) for s in legs
    ]
    assert alone.stages[-1].kind == "accept"
    with pytest.raises(StageError, match="no plan node 0.7"):
        sub_graph(graph, "0.7")
    assert [s.node for s in sub_graph(graph, "0.1")] == ["0.1"] * 3


def test_sub_graph_follows_whole_path_steps():
    # "0.1" is not a prefix of "0.10": the eleventh input of the root is not under the second.
    stages = [
        Stage("s1", "confirm", "x", 1, None, "0.1", None),
        Stage("s2", "confirm", "y", 1, None, "0.10", None),
        Stage("s3", "confirm", "z", 1, None, "0.1.0", None),
    ]
    graph = StageGraph(stages)
    assert [s.id for s in sub_graph(graph, "0.1")] == ["s1", "s3"]
    assert [s.id for s in sub_graph(graph, "0.10")] == ["s2"]
    assert [graph.branch_of(s) for s in graph] == [1, 10, 1]


def test_a_bought_root_has_no_make_stage():
    network = chair_network()
    plan = Weave(network, [Demand("back", 1)]).best(1)[0]
    graph = plan_stages(network, plan, buyer="dana")
    assert [(s.kind, s.owner) for s in graph] == [
        ("confirm", "gus"),
        ("ship", "gus"),
        ("receive", "dana"),
        ("accept", "dana"),
    ]
    assert [graph.branch_of(s) for s in graph] == [None] * 4


def test_stage_graph_refuses_what_cannot_be():
    ok = Stage("s1", "confirm", "leg", 1, "fern", "0", "offer:x")
    with pytest.raises(StageError, match="two stages are called s1"):
        StageGraph([ok, ok])
    with pytest.raises(StageError, match="s1 depends on s2, which does not come before it"):
        StageGraph([Stage("s1", "ship", "leg", 1, "fern", "0", "offer:x", ("s2",))])
    with pytest.raises(StageError, match="unknown kind"):
        Stage("s1", "paint", "leg", 1, None, "0", None)
    with pytest.raises(StageError, match="unknown status"):
        Stage("s1", "make", "leg", 1, None, "0", None, status="half")
    with pytest.raises(StageError, match="this stage graph is empty"):
        StageGraph([])["s1"]


# -- Inspect I ---------------------------------------------------------------------------------


def test_inspect_the_chair_design_by_hand():
    graph = inspect_design(chair_network(), "chair-okh")
    # One batch: 4 legs, a seat and a back. Legs have a design (leg-turned, two per board): they
    # expand into 2 maple boards → make → inspect → ship → receive. Nobody owns anything yet.
    assert [(s.id, s.kind, s.item, s.quantity, s.node, s.source, s.depends_on) for s in graph] == [
        ("s1", "receive", "maple-board", 2, "0.0.0", None, ()),
        ("s2", "make", "leg", 4, "0.0", "design:leg-turned", ("s1",)),
        ("s3", "inspect", "leg", 4, "0.0", "design:leg-turned", ("s2",)),
        ("s4", "ship", "leg", 4, "0.0", "design:leg-turned", ("s3",)),
        ("s5", "receive", "leg", 4, "0.0", "design:leg-turned", ("s4",)),
        ("s6", "receive", "seat", 1, "0.1", None, ()),
        ("s7", "receive", "back", 1, "0.2", None, ()),
        ("s8", "make", "chair", 1, "0", "design:chair-okh", ("s5", "s6", "s7")),
        ("s9", "inspect", "chair", 1, "0", "design:chair-okh", ("s8",)),
    ]
    assert {s.owner for s in graph} == {None}


def test_inspect_cuts_cycles_and_takes_the_first_design_of_an_input():
    network = Network.of(
        participants=[Participant("p", "P")],
        items=[Item(i, i) for i in ("a", "b", "c")],
        designs=[
            Design("a-from-b", "a", inputs=(("b", 2),), yield_=1),
            Design("b-from-a", "b", inputs=(("a", 1), ("c", 3)), yield_=2),
            Design("b-other", "b", inputs=(("c", 9),)),
            Design("c-unknown", "c", inputs_known=False),  # says nothing of its inputs
        ],
        facilities=[Facility("f", "p")],
        offers=[Offer("o", "p", "c")],
    )
    graph = inspect_design(network, "a-from-b")
    # 2 b's, made by b-from-a (declared first) in one batch of two: 1 a, 3 c. The a is the item
    # being made at the top: a material here, never made again. c's only design does not say
    # what goes in, so c is a material too.
    assert [(s.kind, s.item, s.quantity, s.node, s.source) for s in graph] == [
        ("receive", "a", 1, "0.0.0", None),
        ("receive", "c", 3, "0.0.1", None),
        ("make", "b", 2, "0.0", "design:b-from-a"),
        ("inspect", "b", 2, "0.0", "design:b-from-a"),
        ("ship", "b", 2, "0.0", "design:b-from-a"),
        ("receive", "b", 2, "0.0", "design:b-from-a"),
        ("make", "a", 1, "0", "design:a-from-b"),
        ("inspect", "a", 1, "0", "design:a-from-b"),
    ]


def test_inspect_refuses_unknown_designs_and_designs_without_inputs():
    with pytest.raises(StageError, match="no design 'stool'"):
        inspect_design(chair_network(), "stool")
    network = Network.of(items=[Item("x", "X")], designs=[Design("d", "x", inputs_known=False)])
    with pytest.raises(StageError, match="does not say what goes into it"):
        inspect_design(network, "d")
