"""Legs in the stage graph, the plan's document and the Value Flows export, on a small network
worked out by hand:

  Sue sells visors at her shop (5.66 km from Bea's bench) and delivers them within 10 km;
  Bea makes face shields at her bench from one visor each, and fetches what is sent to her;
  Dana, 3.87 km from the bench, buys the shields and fetches them too;
  Carol's truck carries anything anywhere, 10 kg a trip, at 5.00 + 1.20 per km.

A node's goods travel by its leg (core/stages/plan.py): the sender's delivery is `ship →
receive`, a vehicle `pickup → deliver → receive` (the pickup and deliver Carol's), a pick-up
`pickup → receive` (both the receiver's); goods used where they are travel by no stage at all.
Plans are built by hand here, each leg one of the options `leg_options` gives, so these tests
do not depend on which leg the weave would prefer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_stages_properties import BUYER, tree_nodes, woven_graphs

from core.intents.valueflows import OrderRecord, export
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
from core.risk.reliability import KIND_PRIORS, Reliability, survival_risk
from core.stages import plan_stages
from core.weave import Demand, Plan, PlanNode
from core.weave.legs import DELIVERY, PICKUP, VEHICLE
from core.weave.plan_document import (
    PlanGap,
    buyer_stop,
    facility_stop,
    node_document,
    node_from_document,
    node_leg_options,
)
from core.weave.sources import Bought, Made, SupplyIndex, held_offer

SUE, BENCH, DANA = Location(18.40, -66.06), Location(18.45, -66.07), Location(18.47, -66.10)
FETCHES = Delivery(range_km=20, price_per_km=0.5)
NOON = datetime(2026, 11, 23, 12, 0)


def shop(**changes) -> Network:
    network = Network.of(
        participants=[
            Participant("sue", "Sue's Visors", location=SUE),
            Participant("bea", "Bea's Bench", location=BENCH, pickup=FETCHES),
            Participant("dana", "Dana", location=DANA, pickup=FETCHES),
            Participant("carol", "Municipio de San Juan"),
        ],
        items=[Item("shield", "Face shield", mass_kg=0.3), Item("visor", "Visor", mass_kg=0.1)],
        designs=[
            Design("make-shield", "shield", (("visor", 1),), processes=frozenset({"cut"}), labor=2)
        ],
        facilities=[Facility("bench", "bea", frozenset({"cut"}))],
        offers=[
            Offer("sue-visors", "sue", "visor", price=1.0, delivery=Delivery(10, price=0.0)),
            Offer("bea-visors", "bea", "visor", price=1.5),
        ],
        transport=[
            Transport("truck-03", "carol", capacity_kg=10, price_per_km=1.2, base_price=5.0)
        ],
    )
    return replace(network, **changes) if changes else network


def sources(network: Network):
    index = SupplyIndex(network)
    made = next(s for s in index.sources("shield") if isinstance(s, Made))
    bought = {s.offer.id: s for s in index.sources("visor")}
    return made, bought


def option(options, kind: str | None):
    """The option of `kind` (None: the degenerate one)."""
    if kind is None:
        assert options == (None,)
        return None
    return next(o for o in options if o is not None and o.kind == kind)


def planned(
    network: Network,
    shields: int = 20,
    visors_by: str | None = DELIVERY,
    shields_by: str | None = VEHICLE,
    offer: str = "sue-visors",
) -> Plan:
    """Shields made at the bench from visors bought from `offer`, each node moved by the leg of
    the kind given (None: no leg)."""
    made, bought = sources(network)
    here = facility_stop(network, made)
    visor_options = node_leg_options(network, "visor", shields, bought[offer], here)
    visors = PlanNode("visor", shields, bought[offer], leg=option(visor_options, visors_by))
    shield_options = node_leg_options(network, "shield", shields, made, buyer_stop(network, "dana"))
    root = PlanNode("shield", shields, made, (visors,), leg=option(shield_options, shields_by))
    return Plan((root,), (0, 0.0), 1)


def shape(graph) -> list[tuple]:
    return [(s.id, s.kind, s.owner, s.node, s.depends_on) for s in graph]


# -- stages ----------------------------------------------------------------------------------


VISOR_LEGS = {
    DELIVERY: [("ship", "sue"), ("receive", "bea")],
    VEHICLE: [("pickup", "carol"), ("deliver", "carol"), ("receive", "bea")],
    PICKUP: [("pickup", "bea"), ("receive", "bea")],
}


@pytest.mark.parametrize("kind", [DELIVERY, VEHICLE, PICKUP])
def test_each_kind_of_leg_gives_its_stages_and_owners(kind):
    graph = plan_stages(shop(), planned(shop(), visors_by=kind, shields_by=VEHICLE), "dana")
    visor = [(s.kind, s.owner) for s in graph.for_node("0.0")]
    assert visor == [("confirm", "sue"), *VISOR_LEGS[kind]]
    stages = graph.for_node("0.0")
    assert all(b.depends_on == (a.id,) for a, b in zip(stages, stages[1:], strict=False))
    make = next(s for s in graph if s.kind == "make")
    assert make.depends_on == (stages[-1].id,)  # the visors' receive
    # The vehicle's own stages name it: a failed pick-up makes the re-plan avoid the vehicle,
    # not the supplier whose visors it carried.
    carried = {"pickup", "deliver"} if kind == VEHICLE else set()
    assert [s.source for s in stages] == [
        "vehicle:truck-03:sue>bench" if s.kind in carried else "offer:sue-visors" for s in stages
    ]


def test_the_whole_graph_of_a_delivered_input_and_a_carried_result_by_hand():
    graph = plan_stages(shop(), planned(shop()), "dana")
    assert shape(graph) == [
        ("s1", "confirm", "sue", "0.0", ()),
        ("s2", "ship", "sue", "0.0", ("s1",)),
        ("s3", "receive", "bea", "0.0", ("s2",)),
        ("s4", "make", "bea", "0", ("s3",)),
        ("s5", "inspect", "bea", "0", ("s4",)),
        ("s6", "pickup", "carol", "0", ("s5",)),
        ("s7", "deliver", "carol", "0", ("s6",)),
        ("s8", "receive", "dana", "0", ("s7",)),
        ("s9", "accept", "dana", "0", ("s8",)),
    ]


def test_the_buyer_fetching_the_result_owns_its_pickup():
    graph = plan_stages(shop(), planned(shop(), shields_by=PICKUP), "dana")
    assert [(s.kind, s.owner) for s in graph.for_node("0")] == [
        ("make", "bea"),
        ("inspect", "bea"),
        ("pickup", "dana"),
        ("receive", "dana"),
        ("accept", "dana"),
    ]


def test_goods_used_where_they_are_have_no_ship_nor_receive():
    # Bea's own visors are at her bench: no leg, and the make waits on her confirm.
    graph = plan_stages(shop(), planned(shop(), visors_by=None, offer="bea-visors"), "dana")
    assert shape(graph)[:3] == [
        ("s1", "confirm", "bea", "0.0", ()),
        ("s2", "make", "bea", "0", ("s1",)),
        ("s3", "inspect", "bea", "0", ("s2",)),
    ]
    # A buyer at the bench: the accept waits on the inspection.
    at_bench = shop().with_records(participants=[Participant("dana", "Dana", location=BENCH)])
    graph = plan_stages(
        at_bench, planned(at_bench, visors_by=None, shields_by=None, offer="bea-visors"), "dana"
    )
    assert [(s.kind, s.depends_on) for s in graph] == [
        ("confirm", ()),
        ("make", ("s1",)),
        ("inspect", ("s2",)),
        ("accept", ("s3",)),
    ]


def test_a_network_that_plans_no_transport_keeps_ship_and_receive():
    network = shop(transport={}).with_records(
        participants=[
            Participant("bea", "Bea's Bench", location=BENCH),
            Participant("dana", "Dana", location=DANA),
        ],
        offers=[
            Offer("sue-visors", "sue", "visor", price=1.0),
            Offer("bea-visors", "bea", "visor"),
        ],
    )
    assert not network.plans_transport
    plan = planned(network, visors_by=None, shields_by=None, offer="bea-visors")
    kinds = [(s.kind, s.owner) for s in plan_stages(network, plan, "dana")]
    # Even goods at one place are shipped and received: the parties arrange it, as before legs.
    assert kinds == [
        ("confirm", "bea"),
        ("ship", "bea"),
        ("receive", "bea"),
        ("make", "bea"),
        ("inspect", "bea"),
        ("ship", "bea"),
        ("receive", "dana"),
        ("accept", "dana"),
    ]


def test_held_stock_travels_by_its_forward_leg_or_not_at_all():
    network = shop()
    made, _ = sources(network)
    held = Bought(held_offer("s3", "sue", "visor", 20), -1)
    options = node_leg_options(network, "visor", 20, held, facility_stop(network, made))
    # The holder offers no delivery of stock it holds: a vehicle or Bea's pick-up.
    assert [o.kind for o in options] == [VEHICLE, PICKUP]
    for leg, expected in ((options[0], VISOR_LEGS[VEHICLE]), (options[1], VISOR_LEGS[PICKUP])):
        visors = PlanNode("visor", 20, held, leg=leg)
        plan = Plan((PlanNode("shield", 20, made, (visors,)),), (0, 0.0), 1)
        graph = plan_stages(network, plan, "bea")
        assert [(s.kind, s.owner) for s in graph.for_node("0.0")] == expected
    at_bench = Bought(held_offer("s3", "bea", "visor", 20), -1)
    plan = Plan((PlanNode("shield", 20, made, (PlanNode("visor", 20, at_bench),)),), (0, 0.0), 1)
    graph = plan_stages(network, plan, "bea")
    assert graph.for_node("0.0") == ()
    assert next(s for s in graph if s.kind == "make").depends_on == ()


def test_a_vehicle_pickup_carries_the_legs_risk_and_its_vehicle_says_how_much():
    network = shop()
    plan = planned(network)
    risk = {
        (s.stage.kind, s.stage.node): s.prior
        for s in Reliability(network).plan_risk(plan, "dana").stages
    }
    assert risk[("pickup", "0")] == KIND_PRIORS["pickup"] == KIND_PRIORS["ship"]
    assert risk[("deliver", "0")] == KIND_PRIORS["receive"]
    risky = network.with_records(
        transport=[replace(network.transport["truck-03"], failure_probability=0.2)]
    )
    risk = {
        (s.stage.kind, s.stage.node): s.prior
        for s in Reliability(risky).plan_risk(planned(risky), "dana").stages
    }
    assert risk[("pickup", "0")] == 0.2
    assert risk[("ship", "0.0")] == KIND_PRIORS["ship"]  # Sue's delivery: hers, undeclared


# -- the plan's document -----------------------------------------------------------------------


def rebuilt(network: Network, document: dict, destination="dana") -> PlanNode:
    stop = buyer_stop(network, destination) if destination else None
    return node_from_document(network, SupplyIndex(network), document, stop)


def test_a_document_with_legs_rebuilds_the_same_plan():
    network = shop()
    (root,) = planned(network).lines
    document = node_document(root)
    assert document["leg"] == {
        "kind": "vehicle",
        "carrier": "carol",
        "transport": "truck-03",
        "km": round(root.leg.km, 3),
        "kg": pytest.approx(6.0),
        "trips": 1,
        "price": 9.64,  # 5.00 + 1.20 × 3.868 km, in cents
        "minutes": root.leg.minutes,
    }
    assert document["inputs"][0]["leg"]["kind"] == "delivery"
    assert document["inputs"][0]["leg"]["price"] == 0.0
    again = rebuilt(network, document)
    assert again == root
    assert node_document(again) == document


def test_a_rebuilt_leg_takes_the_network_as_it_is_now():
    network = shop()
    (root,) = planned(network, shields=40).lines  # 12 kg: two trips of 10 kg
    assert root.leg.trips == 2
    dearer = network.with_records(
        transport=[replace(network.transport["truck-03"], price_per_km=2.0, capacity_kg=20)]
    )
    again = rebuilt(dearer, node_document(root))
    assert again.leg.trips == 1
    assert again.leg.price == 12.74  # 5.00 + 2.00 × 3.868 km


def test_a_vehicle_gone_or_out_of_reach_is_a_gap_naming_it():
    network = shop()
    document = node_document(planned(network).lines[0])
    with pytest.raises(PlanGap, match="truck-03"):
        rebuilt(shop(transport={}), document)
    short = network.with_records(transport=[replace(network.transport["truck-03"], range_km=1.0)])
    with pytest.raises(PlanGap, match="truck-03"):
        rebuilt(short, document)
    # Checked on its own (no destination known), a node takes its leg as recorded.
    alone = rebuilt(network, {**document, "inputs": []}, destination=None)
    assert (alone.leg.id, alone.leg.price, alone.leg.km) == (
        "vehicle:truck-03",
        document["leg"]["price"],
        document["leg"]["km"],
    )
    with pytest.raises(PlanGap, match="truck-03"):
        rebuilt(shop(transport={}), {**document, "inputs": []}, destination=None)


def test_a_delivery_no_longer_offered_is_a_gap():
    network = shop()
    document = node_document(planned(network).lines[0])
    undelivered = network.with_records(
        offers=[replace(network.offers["sue-visors"], delivery=None)]
    )
    with pytest.raises(PlanGap, match="delivery:sue"):
        rebuilt(undelivered, document)


def test_an_old_document_without_legs_rebuilds_with_none():
    network = shop()
    (root,) = planned(network).lines
    document = node_document(root)
    old = {k: v for k, v in document.items() if k != "leg"}
    old["inputs"] = [{k: v for k, v in document["inputs"][0].items() if k != "leg"}]
    again = rebuilt(network, old)
    assert again.leg is None and again.inputs[0].leg is None
    assert again.source == root.source


# -- Value Flows -------------------------------------------------------------------------------


def test_a_vehicle_leg_in_value_flows_is_a_transport_process_from_pickup_to_delivery():
    network = shop()
    order = OrderRecord(
        5, "dana", (Demand("shield", 20),), planned(network, visors_by=PICKUP), created=NOON
    )
    document = export(network, "https://scis.example/", orders=[order])
    graph = {n["@id"]: n for n in document["@graph"]}

    def commitment(code):
        return graph[f"https://scis.example/orders/5/commitments/{code}"]

    def agent(who):
        return {"@id": f"https://scis.example/agents/{who}"}

    transport = {"@id": "https://scis.example/orders/5/transport/0"}
    # s1 confirm, s2 pickup (Bea), s3 receive, s4 make, s5 inspect, s6 pickup, s7 deliver,
    # s8 receive, s9 accept
    s6, s7, s8 = commitment("s6"), commitment("s7"), commitment("s8")
    assert (s6["action"], s6["inputOf"], s6["provider"], s6["receiver"]) == (
        "pickup",
        transport,
        agent("bea"),
        agent("carol"),
    )
    assert (s7["action"], s7["outputOf"], s7["provider"], s7["receiver"]) == (
        "dropoff",
        transport,
        agent("carol"),
        agent("dana"),
    )
    assert s8["action"] == "transfer-custody" and "outputOf" not in s8
    assert (s8["provider"], s8["receiver"]) == (agent("carol"), agent("dana"))
    assert "truck-03" in graph[transport["@id"]]["note"]
    s2, s3 = commitment("s2"), commitment("s3")
    fetched = {"@id": "https://scis.example/orders/5/transport/0.0"}
    assert (s2["action"], s2["inputOf"], s2["provider"], s2["receiver"]) == (
        "pickup",
        fetched,
        agent("sue"),
        agent("bea"),
    )
    assert (s3["action"], s3["outputOf"]) == ("dropoff", fetched)


# -- a plan's risk is the sum of its nodes' ------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(woven_graphs(), st.data())
def test_a_plans_risk_is_the_sum_of_its_nodes_risks_and_its_accepts(case, data):
    """What the weave may rank by, node by node (Reliability.node_risk), adds up to the risk of
    the plan's stage graph, whatever its legs."""
    network, plan, graph = case
    owners = sorted({s.owner for s in graph if s.owner}) or ["p0"]
    history = {
        (owner, kind): (failed, failed + more)
        for owner in owners
        for kind in ("confirm", "ship", "pickup", "deliver", "receive", "make")
        if data.draw(st.booleans(), label=f"{owner} {kind}")
        for failed, more in [(data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3)))]
    }
    reliability = Reliability(network, history)
    summed = sum(
        reliability.node_risk(
            node.source, node.leg, BUYER if parent is None else parent.source.facility.operator
        )
        for node, parent in tree_nodes(plan).values()
    )
    accepts = sum(survival_risk(reliability.p(BUYER, "accept")) for _ in plan.lines)
    assert summed + accepts == pytest.approx(reliability.plan_risk(plan, BUYER).risk, abs=1e-12)
