"""Bottlenecks: must-use resources and separable supply paths.

By hand on the paper's chair (examples/chair.yaml + the seat makers of
tests/scenarios/seat-maker.yaml) and on tiny networks (a cycle, the paper's bridge); against the
literal enumeration of plans on random small networks; separable paths against a brute-force
packing of the graph's simple paths.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import networkx as nx
import pytest
from chair_files import CHAIR, SEAT_MAKER, chair_network
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_weave_oracle import CRITERION, _manageable, demand_lists, networks

from core.network.model import (
    Design,
    Facility,
    Item,
    Network,
    Offer,
    Participant,
    frozen_mapping,
)
from core.risk.bottlenecks import (
    Bottlenecks,
    MustUse,
    bottlenecks,
    separable_paths,
    single_points_of_failure,
    supply_graph,
)
from core.weave import Bought, Demand, PlanCounter, SupplyIndex, WeaveError
from core.weave.literal import literal_plans

LATEX_FREE = frozenset({"latex-free"})
EXAMPLES = 150  # each example enumerates every plan: the oracle is the slow part


@cache
def chair() -> Network:
    return chair_network(CHAIR, SEAT_MAKER)


def ids(found) -> dict[str, tuple[str, ...]]:
    return {
        "offers": tuple(r.id for r in found.offers),
        "facilities": tuple(r.id for r in found.facilities),
        "participants": tuple(r.id for r in found.participants),
    }


# -- must-use on the chair, by hand -----------------------------------------------------------
# chair = chair-okh at ana-shop (ana) or eli-studio (eli), from 4 legs, a seat and a back.
# leg: bob-legs (bob) | fern-legs (fern) | leg-turned at eli-studio from bob-maple (bob).
# seat: fern-seats (fern) | gus-seats (gus) | upholstered at hal-shop (hal) or ivy-studio (ivy),
#       both from bob-foam and bob-fabric (bob).      back: gus-backs (gus) only.
# 3 legs · 4 seats · 1 back · 2 assembly facilities = 24 plans.


def test_the_chair_depends_on_gus_backs_alone():
    found = bottlenecks(chair(), "chair")
    assert found.plans == 24
    # Every leg, seat and assembly has an alternative; the back does not.
    assert ids(found) == {"offers": ("gus-backs",), "facilities": (), "participants": ("gus",)}
    assert [r.name for r in found.resources] == [
        "Chair back from Gus Pappas Upholstery (gus-backs)",
        "Gus Pappas Upholstery",
    ]


def test_with_the_seat_makers_closed_the_bought_seats_still_have_two_sellers():
    closed = chair().without(participants=["hal", "ivy"])
    found = bottlenecks(closed, "chair")
    assert found.plans == 12  # 3 legs · 2 seats · 1 back · 2 facilities
    assert ids(found) == {"offers": ("gus-backs",), "facilities": (), "participants": ("gus",)}


def test_without_ready_made_seats_both_upholsterers_need_bobs_foam_and_fabric():
    no_sellers = chair().without(offers=["fern-seats", "gus-seats"])
    found = bottlenecks(no_sellers, "chair")
    assert found.plans == 12  # 3 legs · 2 upholsterers · 1 back · 2 facilities
    assert ids(found) == {
        "offers": ("gus-backs", "bob-foam", "bob-fabric"),
        "facilities": (),  # hal-shop or ivy-studio, ana-shop or eli-studio
        "participants": ("bob", "gus"),
    }


def test_latex_free_makes_bob_a_bottleneck_through_two_different_offers():
    found = bottlenecks(chair(), "chair", LATEX_FREE)
    # latex-free legs: bob-legs, or turned at eli-studio from bob-maple — both Bob's;
    # seats: only fern-seats (gus-seats says false, the upholstered ones assert nothing).
    assert found.plans == 4
    assert ids(found) == {
        "offers": ("fern-seats", "gus-backs"),
        "facilities": (),
        "participants": ("bob", "fern", "gus"),
    }


def test_with_one_assembly_shop_left_it_and_its_operator_are_must_use():
    found = bottlenecks(chair().without(facilities=["ana-shop"]), "chair")
    assert ids(found) == {
        "offers": ("gus-backs",),
        "facilities": ("eli-studio",),
        "participants": ("eli", "gus"),
    }


def test_an_item_without_plans_is_reported_as_such_not_as_depending_on_everything():
    found = bottlenecks(chair().without(participants=["gus"]), "chair")  # no backs left
    assert found.plans == 0 and not found.has_plans
    assert found.resources == ()


def test_an_order_depends_on_what_any_of_its_lines_depends_on():
    result = single_points_of_failure(
        chair().without(offers=["fern-seats", "gus-seats"]),
        [Demand("leg", 8), Demand("seat", 2)],
    )
    assert [line.plans for line in result.lines] == [3, 2]
    assert ids(result.lines[0]) == {"offers": (), "facilities": (), "participants": ()}
    assert ids(result.lines[1])["offers"] == ("bob-foam", "bob-fabric")
    assert result.order.plans == 6
    assert ids(result.order) == {
        "offers": ("bob-foam", "bob-fabric"),
        "facilities": (),
        "participants": ("bob",),
    }


def test_an_order_with_an_impossible_line_has_no_plans():
    result = single_points_of_failure(
        chair().without(participants=["hana"]), [Demand("back", 1), Demand("foam-seat", 1)]
    )
    assert [line.plans for line in result.lines] == [1, 0]
    assert ids(result.lines[0])["offers"] == ("gus-backs",)
    assert result.order.plans == 0 and result.order.resources == ()


# -- tiny networks ----------------------------------------------------------------------------


def looped() -> Network:
    """T is bought from Sam (oT) or made at f from A; A is bought from Sam (oA) or made at g
    from T. Below T being made, T may only be bought: plans of T are oT, f(oA), f(g(oT))."""
    return Network.of(
        participants=[Participant(p, p.upper()) for p in ("sam", "pia", "gil")],
        items=[Item("T", "Thing"), Item("A", "Part")],
        designs=[
            Design("dT", "T", inputs=(("A", 1),), processes=frozenset({"assemble"})),
            Design("dA", "A", inputs=(("T", 1),), processes=frozenset({"mould"})),
        ],
        facilities=[
            Facility("f", "pia", frozenset({"assemble"}), name="Pia's"),
            Facility("g", "gil", frozenset({"mould"}), name="Gil's"),
        ],
        offers=[Offer("oT", "sam", "T"), Offer("oA", "sam", "A")],
    )


def test_a_cycle_is_cut_on_the_path_and_only_sam_is_in_every_plan():
    found = bottlenecks(looped(), "T")
    assert found.plans == 3
    # oT | f+pia+oA | f+pia+g+gil+oT: every plan buys something from Sam, nothing else is shared.
    assert ids(found) == {"offers": (), "facilities": (), "participants": ("sam",)}
    # A's plans: oA | g(oT) | g(f(oA)) — below A being made, A is only bought again.
    found = bottlenecks(looped(), "A")
    assert found.plans == 3
    assert ids(found) == {"offers": (), "facilities": (), "participants": ("sam",)}


def test_a_source_without_plans_below_it_takes_nothing_away():
    # T is bought from Sam, or made at Pia's from A, which nobody sells or makes: the design is
    # in no plan, so Pia's shop does not make "Sam's offer" optional.
    network = Network.of(
        participants=[Participant("sam", "Sam"), Participant("pia", "Pia")],
        items=[Item("T", "Thing"), Item("A", "Part")],
        designs=[Design("dT", "T", inputs=(("A", 1),))],
        facilities=[Facility("f", "pia")],
        offers=[Offer("oT", "sam", "T")],
    )
    found = bottlenecks(network, "T")
    assert found.plans == 1
    assert ids(found) == {"offers": ("oT",), "facilities": (), "participants": ("sam",)}
    assert set(supply_graph(network, "T").nodes) == {("item", "T"), ("offer", "oT")}


def test_a_cycle_with_no_way_in_has_no_plans():
    no_offers = looped().without(offers=["oT", "oA"])
    assert bottlenecks(no_offers, "T").plans == 0
    assert separable_paths(supply_graph(no_offers, "T"), "T").count == 0


def test_a_design_whose_inputs_are_unknown_is_no_source():
    network = Network.of(
        participants=[Participant("pia", "Pia")],
        items=[Item("T", "Thing")],
        designs=[Design("dT", "T", inputs_known=False)],
        facilities=[Facility("f", "pia")],
    )
    assert bottlenecks(network, "T") == Bottlenecks(0)


def bridge(ferry: bool) -> Network:
    """Home is reached from the north or the south bank, each with five ways to get there, and
    every trip crosses at the bridge (or, when there is one, at the ferry)."""
    banks = ("north", "south")
    return Network.of(
        participants=[Participant(f"p{k}", f"P{k}") for k in range(10)],
        items=[Item("home", "Home"), *(Item(b, f"{b} bank") for b in banks)],
        designs=[Design("cross", "home", inputs=(("north", 1), ("south", 1)))],
        facilities=[Facility("bridge", "p0")] + ([Facility("ferry", "p1")] if ferry else []),
        offers=[Offer(f"{b}-{k}", f"p{k}", b) for b in banks for k in range(5)],
    )


def test_ten_routes_home_all_take_the_bridge_so_there_is_one_route():
    graph = supply_graph(bridge(ferry=False), "home")
    found = separable_paths(graph, "home")
    assert found.count == 1
    assert found.cut == (("facility", "bridge"),)
    assert len(found.paths) == 1 and found.paths[0][-2:] == (
        ("facility", "bridge"),
        ("item", "home"),
    )
    # Every plan crosses the bridge too; no bank's route is shared by all.
    assert ids(bottlenecks(bridge(ferry=False), "home"))["facilities"] == ("bridge",)


def test_a_ferry_makes_two_separable_routes():
    found = separable_paths(supply_graph(bridge(ferry=True), "home"), "home")
    assert found.count == 2
    assert set(found.cut) == {("facility", "bridge"), ("facility", "ferry")}


def test_a_facility_is_one_node_whatever_it_makes():
    # f1 makes T from Y and Y from X; f2 makes T from Y. Every route a plan takes passes Y, but
    # f1 is a single node of the graph, so oX → X → f1 → T counts as a path beside
    # oY → Y → f2 → T: the documented reading of a facility as one place that can fail.
    network = Network.of(
        participants=[Participant("p", "P")],
        items=[Item("T", "T"), Item("Y", "Y"), Item("X", "X")],
        designs=[
            Design("dT", "T", inputs=(("Y", 1),), processes=frozenset({"t"})),
            Design("dY", "Y", inputs=(("X", 1),), processes=frozenset({"y"})),
        ],
        facilities=[
            Facility("f1", "p", frozenset({"t", "y"})),
            Facility("f2", "p", frozenset({"t"})),
        ],
        offers=[Offer("oY", "p", "Y"), Offer("oX", "p", "X")],
    )
    graph = supply_graph(network, "T")
    assert graph.has_edge(("item", "X"), ("facility", "f1"))
    assert graph.has_edge(("facility", "f1"), ("item", "T"))
    assert separable_paths(graph, "T").count == 2
    assert ids(bottlenecks(network, "T")) == {
        "offers": (),
        "facilities": (),
        "participants": ("p",),
    }


def test_unknown_items_and_empty_orders_are_refused_as_the_weave_refuses_them():
    with pytest.raises(WeaveError):
        bottlenecks(chair(), "sofa")
    with pytest.raises(WeaveError):
        supply_graph(chair(), "sofa")
    with pytest.raises(WeaveError):
        single_points_of_failure(chair(), [])


def test_separable_paths_of_the_chair_by_hand():
    network = chair()
    expected = {
        # every route ends at ana-shop or eli-studio
        "chair": (2, {("facility", "ana-shop"), ("facility", "eli-studio")}),
        # bob-legs; fern-legs; bob-maple → maple-board → eli-studio
        "leg": (3, {("offer", "bob-legs"), ("offer", "fern-legs")}),
        # two sellers, and foam → one upholsterer, fabric → the other: Bob is behind both, but
        # participants are not nodes of the graph (the must-use sets catch him)
        "seat": (4, {("offer", "fern-seats"), ("offer", "gus-seats")}),
        "back": (1, {("offer", "gus-backs")}),
    }
    for item, (count, in_cut) in expected.items():
        found = separable_paths(supply_graph(network, item), item)
        assert found.count == count, item
        assert len(found.cut) == count and in_cut <= set(found.cut), item


def test_the_chair_graph_has_what_some_plan_uses_and_nothing_else():
    graph = supply_graph(chair().without(participants=["hal"]), "chair")
    assert ("facility", "hal-shop") not in graph
    assert ("offer", "hana-foam-seats") not in graph  # foam-seat is only a substitute
    assert graph.has_edge(("item", "maple-board"), ("facility", "eli-studio"))
    assert graph.has_edge(("facility", "eli-studio"), ("item", "leg"))
    assert graph.nodes[("offer", "bob-maple")]["participant"] == "bob"
    assert graph.nodes[("facility", "ivy-studio")]["name"] == "ivy-studio"


def test_a_simple_path_never_passes_the_same_item_twice():
    found = separable_paths(supply_graph(looped(), "T"), "T")
    # oT → T, and oA → A → f → T; oT → T → g → A → f → T would pass T twice.
    assert found.count == 2 and ("offer", "oT") in found.cut


# -- against the oracle -----------------------------------------------------------------------


def used_by(plan) -> set[tuple[str, str]]:
    used = set()
    for node in plan.nodes():
        source = node.source
        if isinstance(source, Bought):
            used.add(("offer", source.offer.id))
            owner = source.offer.supplier
        else:
            used.add(("facility", source.facility.id))
            owner = source.facility.operator
        if owner is not None:
            used.add(("participant", owner))
    return used


def as_set(found) -> set[tuple[str, str]]:
    return {(r.kind, r.id) for r in found.resources}


@st.composite
def orders(draw):
    # Bottlenecks are of sources (offers, facilities, their people); the vehicles that carry the
    # goods are not analysed, so the oracle's networks are drawn without any way of moving them.
    network = without_movers(draw(networks()))
    demands = draw(demand_lists(list(network.items), 1))
    criteria = draw(st.sampled_from([frozenset(), frozenset({CRITERION})]))
    return network, demands, criteria


def must_use_is_the_intersection_over_the_enumerated_plans(network, demands, criteria):
    must_use = MustUse(network, criteria)
    counter = PlanCounter(SupplyIndex(network), criteria)
    for item in network.items:
        assert must_use.has_plan(item) == (counter.count(item) > 0)
    for demand, line in zip(demands, must_use.of_order(demands).lines, strict=True):
        plans = literal_plans(network, [demand], criteria)
        assert line.plans == len(plans)
        expected = set.intersection(*map(used_by, plans)) if plans else set()
        assert as_set(line) == expected
    if len(demands) > 1:  # with one line, the order is that line
        plans = literal_plans(network, demands, criteria)
        order = must_use.of_order(demands).order
        assert order.plans == len(plans)
        assert as_set(order) == (set.intersection(*map(used_by, plans)) if plans else set())


def plan_edges(plan) -> set[tuple]:
    edges = set()
    for node in plan.nodes():
        item = ("item", node.item)
        if isinstance(node.source, Bought):
            edges.add((("offer", node.source.offer.id), item))
        else:
            place = ("facility", node.source.facility.id)
            edges.add((place, item))
            edges.update((("item", child.item), place) for child in node.inputs)
    return edges


def most_separable(graph: nx.DiGraph, item_id: str) -> int:
    """The most simple offer → item paths that share no node, by trying every packing."""
    flow = graph.copy()
    flow.add_node(("start", ""))
    flow.add_edges_from((("start", ""), n) for n in graph if n[0] == "offer")
    paths = [
        frozenset(p[1:-1]) for p in nx.all_simple_paths(flow, ("start", ""), ("item", item_id))
    ]
    assume(len(paths) <= 40)
    best = 0

    def pack(start: int, used: frozenset, size: int) -> None:
        nonlocal best
        best = max(best, size)
        for k in range(start, len(paths)):
            if not paths[k] & used:
                pack(k + 1, used | paths[k], size + 1)

    pack(0, frozenset(), 0)
    return best


def supply_graph_is_the_union_of_the_plans_and_its_paths_pack_as_brute_force_finds(
    network, item, criteria
):
    graph = supply_graph(network, item, criteria)
    plans = literal_plans(network, [Demand(item, 1)], criteria)
    edges = set().union(*map(plan_edges, plans)) if plans else set()
    assert set(graph.edges) == edges
    assert set(graph.nodes) == {node for edge in edges for node in edge} | {("item", item)}

    found = separable_paths(graph, item)
    assert found.count == most_separable(graph, item)
    assert len(found.paths) == found.count == len(found.cut)
    inner = [set(path[:-1]) for path in found.paths]
    assert sum(map(len, inner)) == len(set().union(*inner))  # pairwise separable
    for path in found.paths:
        assert path[0][0] == "offer" and path[-1] == ("item", item)
        assert all(graph.has_edge(a, b) for a, b in zip(path, path[1:], strict=False))
    cut_off = graph.copy()
    cut_off.remove_nodes_from(found.cut)
    assert ("item", item) not in found.cut
    assert not any(nx.has_path(cut_off, n, ("item", item)) for n in cut_off if n[0] == "offer")


# Drawing a network costs more than checking it: one stream of examples serves both properties.
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders())
def test_must_use_graph_and_separable_paths_against_the_enumeration_and_brute_force(case):
    network, demands, criteria = case
    assume(_manageable(network, demands) <= 500)
    must_use_is_the_intersection_over_the_enumerated_plans(network, demands, criteria)
    supply_graph_is_the_union_of_the_plans_and_its_paths_pack_as_brute_force_finds(
        network, demands[0].item, criteria
    )


def without_movers(network: Network) -> Network:
    """The network with no vehicle, delivery or pick-up: one that plans no transport."""
    return replace(
        network,
        transport=frozen_mapping(),
        offers=frozen_mapping({k: replace(o, delivery=None) for k, o in network.offers.items()}),
        facilities=frozen_mapping(
            {k: replace(f, delivery=None) for k, f in network.facilities.items()}
        ),
        participants=frozen_mapping(
            {k: replace(p, pickup=None) for k, p in network.participants.items()}
        ),
    )
