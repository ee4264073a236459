"""Locality: what share of a plan is made near its buyer, and the LOCAL (kg·km) ranking."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chair_files import CHAIR, SEAT_MAKER, chair_network
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_weave_oracle import _manageable, demand_lists, networks

from core.network.geo import haversine_km
from core.network.model import Design, Facility, Item, Location, Network, Offer, Participant
from core.risk.locality import locality
from core.weave import DISTANCE, LOCAL, PRICE, RANKINGS, Bought, Demand, Weave
from core.weave.literal import literal_plans

RADIUS_KM = 5.0  # Dana in Hampden: Ana (1.7 km), Eli (2.8) inside; Bob (7.1), Gus (13.1) not


@pytest.fixture(scope="module")
def chair() -> Network:
    return chair_network(CHAIR, SEAT_MAKER)


def at(network: Network, participant: str) -> Location:
    return network.participants[participant].location


def km(network: Network, a: str, b: str) -> float:
    return haversine_km(at(network, a), at(network, b))


def chair_plan(network: Network, *wanted: str, ranking=PRICE, deliver_to=None):
    """The one plan for Dana's chair whose offers, designs and facilities include all of
    `wanted` and whose every leg is its first option: the sender's own delivery where it
    delivers (options come delivery first), carol's van where it does not."""
    found = []
    weave = Weave(
        network, [Demand("chair", 1)], ranking=ranking, buyer="dana", deliver_to=deliver_to
    )
    for plan in weave.best(200):
        if any(node.leg is not None and node.leg.index != 0 for node in plan.nodes()):
            continue
        named = set()
        for node in plan.nodes():
            if isinstance(node.source, Bought):
                named.add(node.source.offer.id)
            else:
                named |= {node.source.design.id, node.source.facility.id}
        if set(wanted) <= named:
            found.append(plan)
    assert len(found) == 1
    return found[0]


# -- the figures of one plan ----------------------------------------------------------------------


def test_a_chair_with_turned_legs_is_half_local_by_value_and_by_mass(chair):
    # chair-okh at Ana's (labour 15, 6.5 kg), 4 legs turned at Eli's (2 batches × 2.00, 1.6 kg)
    # from 2 of Bob's boards (2 × 3.50, 3.2 kg), Gus's seat (10.50, 1.5 kg) and back (no price,
    # 1.2 kg). Within 5 km of Dana: Ana and Eli.
    dana = at(chair, "dana")
    plan = chair_plan(chair, "ana-shop", "leg-turned", "gus-seats", deliver_to=dana)
    figures = locality(chair, plan, dana, RADIUS_KM)
    assert figures.nodes == 5
    assert (figures.value_local, figures.value_known, figures.value_unknown) == (19.0, 36.5, 1)
    assert figures.value_share == pytest.approx(19 / 36.5)
    assert figures.mass_local_kg == pytest.approx(6.5 + 1.6)
    assert figures.mass_known_kg == pytest.approx(6.5 + 1.6 + 3.2 + 1.5 + 1.2)
    assert figures.mass_share == pytest.approx(8.1 / 14.0)
    assert (figures.mass_unknown, figures.unplaced) == (0, 0)
    legs = {
        "chair": km(chair, "ana", "dana"),
        "legs": km(chair, "eli", "ana"),
        "boards": km(chair, "bob", "eli"),
        "seat and back": km(chair, "gus", "ana"),
    }
    assert figures.distance_km == pytest.approx(
        legs["chair"] + legs["legs"] + legs["boards"] + 2 * legs["seat and back"]
    )
    assert figures.tonne_km == pytest.approx(
        (6.5 * legs["chair"] + 1.6 * legs["legs"] + 3.2 * legs["boards"]) / 1000
        + (1.5 + 1.2) * legs["seat and back"] / 1000
    )
    assert (figures.distance_unknown, figures.tonne_km_unknown) == (0, 0)


def test_hals_seat_is_out_of_town_and_its_materials_weigh_nothing_known(chair):
    # Hal (6.5 km) upholsters from Bob's foam (2.00) and fabric (1.50), neither with a mass.
    dana = at(chair, "dana")
    plan = chair_plan(chair, "ana-shop", "fern-legs", "hal-shop", deliver_to=dana)
    figures = locality(chair, plan, dana, RADIUS_KM)
    assert figures.nodes == 6
    assert figures.value_local == 15.0  # only Ana's labour
    assert figures.value_known == pytest.approx(15 + 4 * 2.5 + 3 + 2 + 1.5)
    assert figures.value_unknown == 1  # Gus's back
    assert figures.mass_known_kg == pytest.approx(6.5 + 1.6 + 1.5 + 1.2)
    assert figures.mass_unknown == 2
    assert figures.tonne_km_unknown == 2
    assert figures.distance_unknown == 0
    bob_to_hal = km(chair, "bob", "hal")
    assert figures.distance_km == pytest.approx(
        km(chair, "ana", "dana")
        + km(chair, "fern", "ana")
        + km(chair, "hal", "ana")
        + 2 * bob_to_hal
        + km(chair, "gus", "ana")
    )


def test_a_wider_radius_takes_in_everyone(chair):
    dana = at(chair, "dana")
    plan = chair_plan(chair, "ana-shop", "leg-turned", "gus-seats", deliver_to=dana)
    figures = locality(chair, plan, dana, 20.0)
    assert figures.value_share == 1.0
    assert figures.mass_share == 1.0
    assert locality(chair, plan, dana, 0.0).value_share == 0.0


def test_without_a_buyers_place_nothing_is_placed_and_the_last_leg_is_unknown(chair):
    plan = chair_plan(chair, "ana-shop", "leg-turned", "gus-seats")
    assert plan.lines[0].distance_km is None  # woven without a delivery place
    figures = locality(chair, plan, None, RADIUS_KM)
    assert figures.unplaced == 5
    assert figures.value_share is None and figures.mass_share is None
    assert figures.distance_unknown == 1
    # Given the place, the root's leg is measured even though the plan was woven without it.
    placed = locality(chair, plan, at(chair, "dana"), RADIUS_KM)
    assert placed.distance_unknown == 0
    assert placed.distance_km == pytest.approx(figures.distance_km + km(chair, "ana", "dana"))


def test_a_negative_radius_is_refused(chair):
    plan = chair_plan(chair, "ana-shop", "leg-turned", "gus-seats")
    with pytest.raises(ValueError):
        locality(chair, plan, at(chair, "dana"), -1.0)


# -- the LOCAL ranking ----------------------------------------------------------------------------


def test_local_is_a_ranking_by_name():
    assert RANKINGS["local"] is LOCAL
    assert LOCAL.needs_destination


def test_the_local_score_is_the_plans_kg_km(chair):
    dana = at(chair, "dana")
    plans = Weave(chair, [Demand("chair", 1)], ranking=LOCAL, buyer="dana", deliver_to=dana).best(
        100
    )
    # A seat has 18 ways to either shop: Fern's and Gus's delivered (1 + 1), Hal's and Ivy's
    # delivered or in carol's van, from Bob's foam and fabric delivered or in the van (2·2·2
    # each); chair → dana 2 ways · (7·18·1) + 2 ways · (5·18·1) = 432, the best 100 read here.
    assert Weave(chair, [Demand("chair", 1)], buyer="dana", deliver_to=dana).count() == 432
    assert len(plans) == 100
    for plan in plans:
        figures = locality(chair, plan, dana, RADIUS_KM)
        assert plan.score[0] == figures.tonne_km_unknown
        assert plan.score[1] == pytest.approx(1000 * figures.tonne_km)
    # Best: assembled at Ana's, the nearer shop, from Bob's legs, Fern's seat and Gus's back.
    best = plans[0]
    assert [n.source[0].id for n in best.nodes()] == [
        "chair-okh",
        "bob-legs",
        "fern-seats",
        "gus-backs",
    ]
    assert best.lines[0].source.facility.id == "ana-shop"
    assert best.score[1] == pytest.approx(
        6.5 * km(chair, "ana", "dana")
        + 1.6 * km(chair, "bob", "ana")
        + 1.5 * km(chair, "fern", "ana")
        + 1.2 * km(chair, "gus", "ana")
    )


def test_heavy_goods_are_made_near_the_buyer_and_light_parts_come_from_afar():
    # A 10 kg cabinet from a 0.1 kg hinge. The hinge maker is 10 km north of the buyer; one shop
    # stands beside the buyer, 1 km east, the other beside the hinge maker.
    buyer = Location(39.0, -76.0)
    north = Location(39.0 + 10 / 111.2, -76.0)
    east = Location(39.0, -76.0 + 1 / 86.4)
    network = Network.of(
        participants=[Participant("hinges", "H", location=north)],
        items=[Item("cabinet", "Cabinet", mass_kg=10.0), Item("hinge", "Hinge", mass_kg=0.1)],
        designs=[
            Design("cabinet-okh", "cabinet", inputs=(("hinge", 1),), processes=frozenset({"wood"}))
        ],
        facilities=[
            Facility("far-shop", None, frozenset({"wood"}), location=north),
            Facility("near-shop", None, frozenset({"wood"}), location=east),
        ],
        offers=[Offer("hinge-offer", "hinges", "hinge")],
    )
    by_km = Weave(network, [Demand("cabinet", 1)], ranking=DISTANCE, deliver_to=buyer).best(2)
    by_kg_km = Weave(network, [Demand("cabinet", 1)], ranking=LOCAL, deliver_to=buyer).best(2)
    # Counting kilometres alone, making it by the hinge maker wins (10 km against 1 + 10.05).
    assert by_km[0].lines[0].source.facility.id == "far-shop"
    # Counting kg·km, the heavy cabinet is made near the buyer and the light hinge travels.
    assert by_kg_km[0].lines[0].source.facility.id == "near-shop"
    near, far = (p.score[1] for p in by_kg_km)
    assert near == pytest.approx(10 * 1 + 0.1 * haversine_km(north, east), rel=1e-2)
    assert far == pytest.approx(10 * 10, rel=1e-2)


def test_an_unknown_mass_or_place_is_an_unknown_term():
    buyer = Location(39.0, -76.0)
    network = Network.of(
        participants=[
            Participant("placed", "P", location=Location(39.1, -76.0)),
            Participant("nowhere", "N"),
        ],
        items=[Item("weighed", "W", mass_kg=2.0), Item("unweighed", "U")],
        offers=[
            Offer("from-nowhere", "nowhere", "weighed"),
            Offer("placed-weighed", "placed", "weighed"),
            Offer("placed-unweighed", "placed", "unweighed"),
        ],
    )
    weighed = Weave(network, [Demand("weighed", 3)], ranking=LOCAL, deliver_to=buyer).best(2)
    assert [p.lines[0].source.offer.id for p in weighed] == ["placed-weighed", "from-nowhere"]
    assert weighed[0].score == (
        0,
        pytest.approx(3 * 2.0 * haversine_km(Location(39.1, -76.0), buyer)),
    )
    assert weighed[1].score == (1, 0.0)
    unweighed = Weave(network, [Demand("unweighed", 1)], ranking=LOCAL, deliver_to=buyer).best(1)
    assert unweighed[0].score == (1, 0.0)


# -- against the literal enumeration --------------------------------------------------------------


@st.composite
def weighed_cases(draw):
    network = draw(networks())
    masses = st.none() | st.integers(0, 20).map(lambda x: x / 4)
    items = [replace(item, mass_kg=draw(masses)) for item in network.items.values()]
    network = network.with_records(items=items)
    demands = draw(demand_lists(list(network.items), 5))
    deliver_to = draw(st.none() | st.just(Location(39.29, -76.61)))
    return network, demands, deliver_to


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weighed_cases())
def test_the_local_ranking_matches_the_literal_enumeration(case):
    network, demands, deliver_to = case
    assume(_manageable(network, demands) <= 300)
    oracle = literal_plans(network, demands, ranking=LOCAL, deliver_to=deliver_to)
    got = Weave(network, demands, ranking=LOCAL, deliver_to=deliver_to).best(len(oracle) + 1)
    assert [p.signature() for p in got] == [p.signature() for p in oracle]
    assert [p.score for p in got] == [p.score for p in oracle]
    for plan in got[:5]:
        figures = locality(network, plan, deliver_to, 10.0)
        assert plan.score[0] == figures.tonne_km_unknown
        assert plan.score[1] == pytest.approx(1000 * figures.tonne_km)
