"""Legs in the weave, on small networks worked out by hand (core/weave/legs.py): how goods move
between places is one more choice of a plan, counted, priced and timed like its sources.

The places lie on one meridian, so their distances are exact: 0.5° of latitude apart.
"""

from __future__ import annotations

from math import ceil, radians

import pytest

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
from core.weave import PRICE, SOONEST, Demand, PlanCounter, SupplyIndex, Weave, WeaveError
from core.weave.legs import PICKUP, VEHICLE, Stop
from core.weave.literal import literal_plans
from core.weave.shortfall import NO_MOVER, OUT_OF_RANGE, Unmovable, shortfall
from core.weave.timing import plan_arrival

EARTH_RADIUS_KM = 6371.0088
HERE = Location(39.0, -77.0)
THERE = Location(39.5, -77.0)  # the buyer's door
FAR = Location(42.0, -77.0)
KM = EARTH_RADIUS_KM * radians(0.5)  # HERE to THERE, ≈ 55.6 km
DAY = 24 * 60


def van(id_="van", **overrides) -> Transport:
    terms = dict(capacity_kg=25.0, price_per_km=1.0, base_price=5.0, range_km=100.0)
    return Transport(id_, "vic", **{**terms, **overrides})


def workshop(
    *,
    buyer_at=THERE,
    vehicles=(),
    stool_kg: float | None = 40.0,
    leg_kg: float | None = 12.0,
    offers=None,
    pickup=None,
    make_days: float | None = None,
    sam_at=HERE,
) -> Network:
    """Sam sells stool legs next door to Mia's shop, which makes a stool from 3 legs; Dana buys.
    Sam's place and the shop are one place: the legs need no leg."""
    people = [
        Participant("sam", "Sam", location=sam_at),
        Participant("mia", "Mia", location=HERE),
        Participant("vic", "Vic", location=HERE),
        Participant("dana", "Dana", location=buyer_at, pickup=pickup),
    ]
    items = [Item("leg", "Leg", mass_kg=leg_kg), Item("stool", "Stool", mass_kg=stool_kg)]
    stool = Design(
        "stool-d",
        "stool",
        inputs=(("leg", 3),),
        processes=frozenset({"wood"}),
        labor=10.0,
        make_days=make_days,
    )
    shop = Facility("shop", "mia", frozenset({"wood"}), location=HERE)
    sold = offers if offers is not None else [Offer("legs", "sam", "leg", price=2.0)]
    return Network.of(people, items, [stool], [shop], sold, vehicles)


def weave(network: Network, item="stool", quantity=1, **kw) -> Weave:
    return Weave(network, [Demand(item, quantity)], deliver_to=THERE, buyer="dana", **kw)


def test_goods_used_where_they_are_have_no_leg_to_choose():
    """The legs are sold at the shop's own place: nothing travels, no option, no price; only
    the stool goes to Dana, by the van."""
    (plan,) = weave(workshop(vehicles=[van()])).plans()
    (stool,) = plan.lines
    (legs,) = stool.inputs
    assert legs.leg is None
    assert stool.leg.kind == VEHICLE and stool.leg.km == pytest.approx(KM)
    assert stool.leg.origin == Stop("mia", "shop", HERE)
    assert stool.leg.destination == Stop("dana", None, THERE)


def test_a_leg_out_of_every_range_kills_the_plan_and_the_shortfall_says_why():
    network = workshop(buyer_at=FAR, vehicles=[van()])
    assert Weave(network, [Demand("stool", 1)], deliver_to=FAR, buyer="dana").count() == 0
    assert PlanCounter(SupplyIndex(network)).count("stool") == 1  # sourced, but not movable
    (why,) = shortfall(network, "stool", buyer="dana", deliver_to=FAR)
    assert why == Unmovable(
        "stool",
        Stop("mia", "shop", HERE),
        Stop("dana", None, FAR),
        pytest.approx(EARTH_RADIUS_KM * radians(3.0)),
        100.0,
        OUT_OF_RANGE,
    )


def test_an_input_that_cannot_reach_its_maker_is_named_with_both_ends():
    """Sam moved far away and nobody but the van moves goods: the stool could reach Dana, but
    its legs cannot reach the shop; with no mover at all the shortfall says that instead."""
    moved = workshop(vehicles=[van()], sam_at=FAR)
    assert weave(moved).count() == 0
    (why,) = shortfall(moved, "stool", buyer="dana", deliver_to=THERE)
    assert (why.item, why.origin, why.destination) == (
        "leg",
        Stop("sam", None, FAR),
        Stop("mia", "shop", HERE),
    )
    assert (why.longest_range_km, why.why) == (100.0, OUT_OF_RANGE)
    # No van: Sam's own delivery (50 km) is all there is, and nothing moves the stool to Dana.
    sams = [Offer("legs", "sam", "leg", price=2.0, delivery=Delivery(range_km=50.0))]
    delivered = workshop(offers=sams)
    assert delivered.plans_transport and weave(delivered).count() == 0
    (why,) = shortfall(delivered, "stool", buyer="dana", deliver_to=THERE)
    assert (why.item, why.why, why.longest_range_km) == ("stool", NO_MOVER, None)


def test_a_vehicle_runs_as_many_trips_as_the_mass_needs_each_priced():
    """5 legs × 12 kg = 60 kg in a 25 kg van: 3 trips of 5 + 1.0/km each, to the cent."""
    (plan,) = weave(workshop(vehicles=[van()]), item="leg", quantity=5).plans()
    (legs,) = plan.lines
    assert (legs.leg.kg, legs.leg.trips) == (60.0, 3)
    assert legs.leg.price == round(3 * (5.0 + KM), 2)
    assert plan.score == (0, pytest.approx(5 * 2.0 + round(3 * (5.0 + KM), 2)))


def test_goods_of_unknown_mass_go_in_one_trip():
    (plan,) = weave(workshop(vehicles=[van()], leg_kg=None), item="leg", quantity=5).plans()
    (legs,) = plan.lines
    assert (legs.leg.kg, legs.leg.trips) == (None, 1)
    assert legs.leg.price == round(5.0 + KM, 2)


def test_each_way_to_move_goods_is_a_plan_of_its_own_in_the_order_of_the_options():
    """Two vans of one price and Dana's free pick-up: three plans. Free comes first; the vans,
    equal in everything, in the order they were declared."""
    vans = [van(), van("van-2")]
    network = workshop(vehicles=vans, pickup=Delivery(range_km=80.0))
    plans = weave(network).best(10)
    assert weave(network).count() == 3
    assert [p.lines[0].leg.id for p in plans] == ["pickup:dana", "vehicle:van", "vehicle:van-2"]
    assert plans[0].lines[0].leg.kind == PICKUP and plans[0].score == (0, 3 * 2.0 + 10.0)


def test_soonest_puts_the_faster_plan_first_and_a_window_counts_what_fits():
    """Slow legs (3 days, 1.00 each) or quick ones (half a day, 4.00 each); the stool takes a
    day to make; the van takes ⌈55.6 km / 40 km/h⌉ = 84 minutes."""
    offers = [
        Offer("slow", "sam", "leg", price=1.0, lead_time_days=3.0),
        Offer("quick", "sam", "leg", price=4.0, lead_time_days=0.5),
    ]
    network = workshop(vehicles=[van()], offers=offers, make_days=1.0)
    drive = ceil(KM / 40.0 * 60)
    by_price = [p.lines[0].inputs[0].source.offer.id for p in weave(network).plans()]
    soonest = list(weave(network, ranking=SOONEST).plans())
    assert by_price == ["slow", "quick"]
    assert [p.lines[0].inputs[0].source.offer.id for p in soonest] == ["quick", "slow"]
    assert [plan_arrival(p).minutes for p in soonest] == [
        DAY // 2 + DAY + drive,
        3 * DAY + DAY + drive,
    ]
    assert soonest[0].key[0] == DAY // 2 + DAY + drive  # the arrival leads the key
    two_days = weave(network, within_minutes=2 * DAY)
    assert (two_days.count(), two_days.count_unwindowed()) == (1, 2)
    assert [p.lines[0].inputs[0].source.offer.id for p in two_days.plans()] == ["quick"]
    assert weave(network, within_minutes=DAY).count() == 0


def test_without_transport_plans_are_the_plans_woven_before_legs():
    """A network that says nothing about moving goods: every node's leg is None, nothing in
    the signatures, the same count as sources alone give, and the oracle agrees."""
    network = workshop(
        offers=[Offer("legs", "sam", "leg", price=2.0), Offer("legs-2", "vic", "leg", price=1.0)]
    )
    assert not network.plans_transport
    plans = list(weave(network).plans())
    assert len(plans) == weave(network).count() == PlanCounter(SupplyIndex(network)).count("stool")
    assert all(node.leg is None for plan in plans for node in plan.nodes())
    oracle = literal_plans(network, [Demand("stool", 1)], ranking=PRICE, deliver_to=THERE)
    assert [p.signature() for p in plans] == [p.signature() for p in oracle]
    assert plans[0].signature() == (
        ("stool", 1, "design:stool-d@shop", ("leg", 3, "offer:legs-2")),
    )


def test_a_window_is_a_whole_number_of_minutes():
    with pytest.raises(WeaveError):
        weave(workshop(), within_minutes=-1)
    with pytest.raises(WeaveError):
        weave(workshop(), within_minutes=1.5)
