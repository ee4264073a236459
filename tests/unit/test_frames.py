from dataclasses import replace
from datetime import date, datetime
from math import ceil

import pytest

from bots.conversation.notices.negotiation import first_frame, whole_frame
from core.frames import negotiation_frame, short_equation
from core.network.geo import haversine_km
from core.network.model import Item, Location, Network, Offer, Participant, Transport
from core.pricing.equation import plan_equation
from core.service.notices.negotiation import FrameSent
from core.service.records import parties, work_of
from core.weave.legs import Stop, leg_options
from core.weave.plan import Plan, PlanNode
from core.weave.sources import Bought
from core.weave.timing import Arrival


def test_a_long_equation_is_cut_at_a_term_and_says_how_many_terms_it_has():
    text = "P = " + " + ".join(f"K{n}" for n in range(1, 301))
    short = short_equation(text)
    assert len(short) <= 120 and short.endswith("+ … (300 terms)")
    assert short.startswith("P = K1 + K2 + ")
    assert short_equation("P = K + 4·L") == "P = K + 4·L"


# -- legs and arrival in the frame -----------------------------------------------------------

HAMPDEN = Location(39.3312, -76.6341)
HIGHLANDTOWN = Location(39.2904, -76.5702)
ORDERED = datetime(2026, 12, 7, 9, 0)  # a Monday morning


def truck_network(lead_time_days=2.0, price_per_km=1.2) -> Network:
    """Bob sells chairs in Highlandtown; Dana, in Hampden, buys; only Carol's truck moves
    goods between them."""
    return Network.of(
        participants=[
            Participant("dana", "Dana", ("buyer",), HAMPDEN, {"telegram": "1"}),
            Participant("bob", "Bob's Hardwoods", ("supplier",), HIGHLANDTOWN),
            Participant("carol", "Carol's Vans", ("transporter",), None, {"telegram": "3"}),
        ],
        items=[Item("chair", "Chair", mass_kg=6.0)],
        offers=[Offer("bob-chairs", "bob", "chair", 30.0, lead_time_days=lead_time_days)],
        transport=[
            Transport(
                "truck-03",
                "carol",
                capacity_kg=500,
                price_per_km=price_per_km,
                base_price=5.0,
                speed_kmh=40,
                name="Truck 3",
            )
        ],
    )


def carried_plan(network: Network) -> Plan:
    """Two chairs bought from Bob, carried to Dana by the truck (its only way there)."""
    offer = network.offers["bob-chairs"]
    origin, destination = Stop("bob", None, HIGHLANDTOWN), Stop("dana", None, HAMPDEN)
    (leg,) = leg_options(network, "chair", 2, origin, destination, None, "bob")
    node = PlanNode("chair", 2, Bought(offer, 0), (), leg.km, leg)
    return Plan(lines=(node,), score=(0, 0.0), rank=1)


def frame_of(network: Network, plan: Plan):
    return negotiation_frame(
        network, 7, "dana", plan, plan_equation(network, plan), parties(plan), ordered=ORDERED
    )


def test_the_truck_operator_is_a_party_with_its_leg_km_trips_price_and_the_arrival():
    network = truck_network()
    plan = carried_plan(network)
    frame = frame_of(network, plan)
    km = haversine_km(HIGHLANDTOWN, HAMPDEN)
    assert 7 < km < 8
    carol = frame.party("carol")
    assert carol.roles == ("transporter",) and carol.contacts == (("telegram", "3"),)
    (leg,) = frame.legs
    assert (leg.kind, leg.carrier, leg.carrier_name, leg.vehicle) == (
        "vehicle",
        "carol",
        "Carol's Vans",
        "Truck 3",
    )
    assert (leg.origin, leg.destination, leg.trips) == ("Bob's Hardwoods", "Dana", 1)
    assert leg.km == pytest.approx(km) and leg.price == round(5.0 + 1.2 * km, 2)  # to the cent
    (part,) = frame.parts_of("carol")
    assert (part.verb, part.quantity, part.item, part.leg) == ("carry", 2, "Chair", leg)
    # Two days' lead time, then ⌈7.3 km at 40 km/h⌉ = 11 minutes on the road: Wednesday.
    assert frame.arrival == Arrival(2 * 24 * 60 + ceil(km / 40 * 60), 0)
    assert frame.arrives_on == date(2026, 12, 9)


def test_the_frame_says_arrival_and_price_are_not_known_where_nobody_gave_them():
    network = truck_network(lead_time_days=None, price_per_km=None)
    frame = frame_of(network, carried_plan(network))
    (leg,) = frame.legs
    assert leg.price is None and leg.shown_price == "unknown"
    assert frame.arrival.unknown == 1  # the lead time, counted as none
    assert frame.arrives_on == date(2026, 12, 7)  # the same day, at the earliest
    transporter = first_frame(FrameSent(frame, "carol"))
    assert "km in 1 trip, unknown." in transporter
    assert "Arrives by Mon 7 Dec at the earliest." in transporter


def test_each_reader_reads_the_truck_its_km_price_and_the_day_the_order_arrives():
    network = truck_network()
    frame = frame_of(network, carried_plan(network))
    km = haversine_km(HIGHLANDTOWN, HAMPDEN)
    price = f"{5.0 + 1.2 * km:.2f}"  # to the cent
    transporter = first_frame(FrameSent(frame, "carol"))
    assert (
        f"Your part: carry 2 × Chair from Bob's Hardwoods to Dana in Truck 3: {km:.0f} km in "
        f"1 trip, {price}." in transporter
    )
    assert "Arrives by Wed 9 Dec." in transporter
    buyer = first_frame(FrameSent(frame, "dana"))
    assert "• Carol's Vans (transporter) — telegram 3" in buyer
    assert "Arrives by Wed 9 Dec." in buyer
    whole = whole_frame(FrameSent(frame, "dana", whole=True))
    assert (
        f"  • 2 × Chair, Bob's Hardwoods → Dana: carried by Carol's Vans (Truck 3), {km:.0f} km "
        f"in 1 trip, {price}" in whole
    )


def test_carrying_the_same_goods_from_another_place_is_new_work_for_the_transporter():
    network = truck_network()
    plan = carried_plan(network)
    carol = parties(plan)["carol"]
    assert carol == {"transporter"}
    (work,) = work_of(plan)["carol"]
    assert work[:3] == ("0", "chair", 2)
    node = plan.lines[0]
    elsewhere = replace(node.leg, origin=Stop("eli", "eli-studio", HIGHLANDTOWN))
    moved = Plan(lines=(replace(node, leg=elsewhere),), score=(0, 0.0), rank=1)
    assert work_of(moved)["carol"] != work_of(plan)["carol"]
