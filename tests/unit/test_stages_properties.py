"""Plan P, Update U and Error F_E on plans woven from random small networks (the same kind of
networks as test_weave_oracle's, with places, vehicles, deliveries and pick-ups or without),
checked against the rules of ARCHITECTURE.md (Stages) and of core/stages/plan.py's legs stated
independently. Each node's leg is drawn from the options `leg_options` gives it, so every kind
of leg is met whichever the weave would prefer."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_weave_oracle import demand_lists

from core.network.model import (
    Delivery,
    Design,
    Facility,
    Item,
    Location,
    Network,
    Offer,
    Participant,
    Transport,
)
from core.stages import (
    Assertion,
    StageGraph,
    apply,
    plan_stages,
    progress,
    root_causes,
    sub_graph,
)
from core.weave import Bought, Plan, PlanNode, Weave
from core.weave.legs import ARRANGED, DELIVERY, PICKUP, VEHICLE
from core.weave.plan_document import buyer_stop, facility_stop, node_leg_options

PROCESSES = ("cut", "print", "sew")
EXAMPLES = int(os.environ.get("SCIS_STAGE_EXAMPLES", "200"))
NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BUYER = "buyer"
# Three places a few km apart, or nowhere said.
PLACES = (None, Location(18.40, -66.06), Location(18.45, -66.07), Location(18.47, -66.10))


@st.composite
def networks(draw) -> Network:
    item_ids = [f"i{k}" for k in range(draw(st.integers(1, 5)))]
    people = [f"p{k}" for k in range(draw(st.integers(1, 3)))]
    maybe_person = st.none() | st.sampled_from(people)
    moving = draw(st.booleans())  # False: a network that plans no transport, as before legs
    deliveries = st.none() | st.builds(
        Delivery, st.none() | st.sampled_from([2.0, 20.0]), st.sampled_from([0.0, 3.0])
    )
    offers = [
        Offer(
            f"o{k}",
            draw(maybe_person),
            draw(st.sampled_from(item_ids)),
            price=1.0,
            delivery=draw(deliveries) if moving else None,
        )
        for k in range(draw(st.integers(0, 6)))
    ]
    designs = [
        Design(
            f"d{k}",
            draw(st.sampled_from(item_ids)),
            inputs=tuple(
                draw(
                    st.dictionaries(st.sampled_from(item_ids), st.integers(1, 3), max_size=3)
                ).items()
            ),
            yield_=draw(st.integers(1, 3)),
            processes=frozenset(draw(st.sets(st.sampled_from(PROCESSES), max_size=2))),
            labor=1.0,
        )
        for k in range(draw(st.integers(0, 5)))
    ]
    facilities = [
        Facility(
            f"f{k}",
            draw(maybe_person),
            processes=frozenset(draw(st.sets(st.sampled_from(PROCESSES), max_size=3))),
        )
        for k in range(draw(st.integers(0, 3)))
    ]
    participants = [
        Participant(
            p,
            p.upper(),
            location=draw(st.sampled_from(PLACES)),
            failure_probability=draw(st.sampled_from([None, 0.1, 0.2])),
            pickup=draw(deliveries) if moving else None,
        )
        for p in people
    ]
    # The buyer is somewhere: its lines' legs are real ones.
    participants.append(
        Participant(
            BUYER,
            "Buyer",
            location=draw(st.sampled_from(PLACES[1:])),
            pickup=draw(deliveries) if moving else None,
        )
    )
    # A vehicle that goes anywhere: every leg between two places has an option.
    transport = (
        [
            Transport(
                "v0",
                draw(maybe_person),
                capacity_kg=draw(st.none() | st.just(5.0)),
                failure_probability=draw(st.none() | st.just(0.3)),
            )
        ]
        if moving
        else []
    )
    masses = st.none() | st.just(2.0)
    return Network.of(
        participants,
        [Item(i, i.upper(), mass_kg=draw(masses)) for i in item_ids],
        designs,
        facilities,
        offers,
        transport,
    )


def with_drawn_legs(draw, network: Network, plan: Plan) -> Plan:
    """The plan with each node's leg drawn from its options (top-down: a node's destination
    is its parent's facility, or the buyer)."""

    def legged(node: PlanNode, destination) -> PlanNode:
        options = node_leg_options(network, node.item, node.quantity, node.source, destination)
        leg = draw(st.sampled_from(options)) if options else node.leg
        here = None if isinstance(node.source, Bought) else facility_stop(network, node.source)
        inputs = tuple(legged(child, here) for child in node.inputs)
        return PlanNode(node.item, node.quantity, node.source, inputs, node.distance_km, leg)

    lines = tuple(legged(line, buyer_stop(network, BUYER)) for line in plan.lines)
    return Plan(lines, plan.score, plan.rank, plan.key)


@st.composite
def woven_graphs(draw) -> tuple[Network, object, StageGraph]:
    network = draw(networks())
    demands = draw(demand_lists(sorted(network.items), 5))
    plans = Weave(network, demands).best(4)
    if not plans:
        # Nothing to plan: make the item buyable so that every example has a graph.
        network = network.with_records(
            offers=[Offer(f"extra-{d.item}", "p0", d.item, price=1.0) for d in demands]
        )
        plans = Weave(network, demands).best(4)
    plan = with_drawn_legs(draw, network, draw(st.sampled_from(plans)))
    return network, plan, plan_stages(network, plan, buyer=BUYER)


def tree_nodes(plan) -> dict[str, tuple[PlanNode, PlanNode | None]]:
    """Path → (node, parent node), walked independently of core.stages."""
    found: dict[str, tuple[PlanNode, PlanNode | None]] = {}

    def walk(node: PlanNode, path: str, parent: PlanNode | None) -> None:
        found[path] = (node, parent)
        for k, child in enumerate(node.inputs):
            walk(child, f"{path}.{k}", node)

    for n, line in enumerate(plan.lines):
        walk(line, str(n), None)
    return found


SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(woven_graphs())
def test_ids_are_unique_numbered_in_order_and_the_graph_is_acyclic(case):
    _, _, graph = case
    ids = [s.id for s in graph]
    assert ids == [f"s{k}" for k in range(1, len(ids) + 1)]
    dag = nx.DiGraph()
    dag.add_nodes_from(ids)
    dag.add_edges_from((d, s.id) for s in graph for d in s.depends_on)
    assert nx.is_directed_acyclic_graph(dag)
    assert all(int(d[1:]) < int(s.id[1:]) for s in graph for d in s.depends_on)


def moved(network: Network, node: PlanNode, sender, receiver) -> list[tuple]:
    """The stages (kind, owner) that take a node's goods to where they are used, by its leg."""
    leg = node.leg
    if leg is None:
        return [] if network.plans_transport else [("ship", sender), ("receive", receiver)]
    return {
        DELIVERY: [("ship", sender), ("receive", receiver)],
        ARRANGED: [("ship", sender), ("receive", receiver)],
        VEHICLE: [("pickup", leg.carrier), ("deliver", leg.carrier), ("receive", receiver)],
        PICKUP: [("pickup", receiver), ("receive", receiver)],
    }[leg.kind]


def expected_stages(network: Network, node: PlanNode, parent: PlanNode | None) -> list[tuple]:
    receiver = BUYER if parent is None else parent.source.facility.operator
    if isinstance(node.source, Bought):
        supplier = node.source.offer.supplier
        return [("confirm", supplier), *moved(network, node, supplier, receiver)]
    operator = node.source.facility.operator
    return [("make", operator), ("inspect", operator), *moved(network, node, operator, receiver)]


@SETTINGS
@given(woven_graphs())
def test_every_node_has_the_stages_and_owners_design_md_gives_it(case):
    network, plan, graph = case
    nodes = tree_nodes(plan)
    assert {s.node for s in graph} == set(nodes)
    for path, (node, parent) in nodes.items():
        stages = graph.for_node(path)
        expected = expected_stages(network, node, parent)
        if parent is None:
            expected.append(("accept", BUYER))
        assert [(s.kind, s.owner) for s in stages] == expected
        assert {(s.item, s.quantity) for s in stages} == {(node.item, node.quantity)}
        # Within a node the stages follow one another.
        assert all(b.depends_on == (a.id,) for a, b in zip(stages, stages[1:], strict=False))


@SETTINGS
@given(woven_graphs())
def test_every_make_waits_for_exactly_the_last_stage_of_each_input(case):
    # The input's receive when its goods travel; its confirm or inspect when they are used
    # where they are.
    network, plan, graph = case
    nodes = tree_nodes(plan)
    for stage in graph:
        if stage.kind != "make":
            continue
        node, _ = nodes[stage.node]
        inputs_last = [graph.for_node(f"{stage.node}.{k}")[-1] for k in range(len(node.inputs))]
        for child, last in zip(node.inputs, inputs_last, strict=True):
            travels = child.leg is not None or not network.plans_transport
            own_last = "confirm" if isinstance(child.source, Bought) else "inspect"
            assert last.kind == ("receive" if travels else own_last)
        assert stage.depends_on == tuple(s.id for s in inputs_last)
    first_stages = [s for s in graph if not s.depends_on]
    assert {s.kind for s in first_stages} <= {"confirm", "make"}


@SETTINGS
@given(woven_graphs())
def test_the_sub_graph_under_every_node_is_closed(case):
    network, plan, graph = case
    for path, (node, parent) in tree_nodes(plan).items():
        below = sub_graph(graph, path)
        inside = {s.id for s in below}
        assert all(d in inside for s in below for d in s.depends_on)
        # Its delivery: the last stage of the node's own, before the buyer's accept at a root.
        delivered = expected_stages(network, node, parent)[-1][0]
        assert below.stages[-1 if "." in path else -2].kind == delivered


@SETTINGS
@given(woven_graphs(), st.data())
def test_root_causes_are_the_failures_with_no_failure_below(case, data):
    _, _, graph = case
    for stage in graph:
        status = data.draw(st.sampled_from(["done", "failed", "reset"]), label=stage.id)
        graph = apply(graph, Assertion(stage.id, status, "p0", NOON)).graph
    failed = {s.id for s in graph if s.status == "failed"}
    causes = {s.id for s in root_causes(graph)}
    assert causes <= failed
    for cause in causes:
        assert not (graph.ancestors(cause) & failed)
    # Every failure is a root cause or lies above one.
    for stage_id in failed - causes:
        assert graph.ancestors(stage_id) & causes
    assert progress(graph).overall.done == sum(s.status == "done" for s in graph)


@SETTINGS
@given(woven_graphs(), st.data())
def test_out_of_order_is_exactly_done_with_something_below_not_done(case, data):
    _, _, graph = case
    for stage in graph:
        if data.draw(st.booleans(), label=f"{stage.id} done"):
            graph = apply(graph, Assertion(stage.id, "done", "p0", NOON)).graph
    target = data.draw(st.sampled_from([s.id for s in graph]), label="asserted")
    applied = apply(graph, Assertion(target, "done", "p0", NOON))
    below = graph.ancestors(target)
    assert applied.out_of_order == any(graph[s].status != "done" for s in below)
    for stage in applied.unblocked:
        assert target in stage.depends_on
        assert all(applied.graph[d].status == "done" for d in stage.depends_on)
