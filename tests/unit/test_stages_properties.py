"""Plan P, Update U and Error F_E on plans woven from random small networks (the same kind of
networks as test_weave_oracle's), checked against the rules of ARCHITECTURE.md (Stages) stated
independently."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_weave_oracle import demand_lists

from core.network.model import Design, Facility, Item, Network, Offer, Participant
from core.stages import (
    Assertion,
    StageGraph,
    apply,
    plan_stages,
    progress,
    root_causes,
    sub_graph,
)
from core.weave import Bought, PlanNode, Weave

PROCESSES = ("cut", "print", "sew")
EXAMPLES = int(os.environ.get("SCIS_STAGE_EXAMPLES", "200"))
NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BUYER = "buyer"


@st.composite
def networks(draw) -> Network:
    item_ids = [f"i{k}" for k in range(draw(st.integers(1, 5)))]
    people = [f"p{k}" for k in range(draw(st.integers(1, 3)))]
    maybe_person = st.none() | st.sampled_from(people)
    offers = [
        Offer(f"o{k}", draw(maybe_person), draw(st.sampled_from(item_ids)), price=1.0)
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
    return Network.of(
        [Participant(p, p.upper()) for p in people],
        [Item(i, i.upper()) for i in item_ids],
        designs,
        facilities,
        offers,
    )


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
    plan = draw(st.sampled_from(plans))
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


@SETTINGS
@given(woven_graphs())
def test_every_node_has_the_stages_and_owners_design_md_gives_it(case):
    _, plan, graph = case
    nodes = tree_nodes(plan)
    assert {s.node for s in graph} == set(nodes)
    for path, (node, parent) in nodes.items():
        stages = graph.for_node(path)
        receiver = BUYER if parent is None else parent.source.facility.operator
        if isinstance(node.source, Bought):
            supplier = node.source.offer.supplier
            expected = [("confirm", supplier), ("ship", supplier), ("receive", receiver)]
        else:
            operator = node.source.facility.operator
            expected = [
                ("make", operator),
                ("inspect", operator),
                ("ship", operator),
                ("receive", receiver),
            ]
        if parent is None:
            expected.append(("accept", BUYER))
        assert [(s.kind, s.owner) for s in stages] == expected
        assert {(s.item, s.quantity) for s in stages} == {(node.item, node.quantity)}
        # Within a node the stages follow one another.
        assert all(b.depends_on == (a.id,) for a, b in zip(stages, stages[1:], strict=False))


@SETTINGS
@given(woven_graphs())
def test_every_make_waits_for_exactly_the_receive_of_each_input(case):
    _, plan, graph = case
    nodes = tree_nodes(plan)
    for stage in graph:
        if stage.kind != "make":
            continue
        node, _ = nodes[stage.node]
        inputs_received = [
            s.id
            for k in range(len(node.inputs))
            for s in graph.for_node(f"{stage.node}.{k}")
            if s.kind == "receive"
        ]
        assert len(inputs_received) == len(node.inputs)
        assert stage.depends_on == tuple(inputs_received)
    first_stages = [s for s in graph if not s.depends_on]
    assert {s.kind for s in first_stages} <= {"confirm", "make"}


@SETTINGS
@given(woven_graphs())
def test_the_sub_graph_under_every_node_is_closed(case):
    _, plan, graph = case
    for path in tree_nodes(plan):
        below = sub_graph(graph, path)
        inside = {s.id for s in below}
        assert all(d in inside for s in below for d in s.depends_on)
        assert below.stages[-1 if "." in path else -2].kind == "receive"


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
