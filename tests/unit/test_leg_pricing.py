"""Legs in the characteristic equation, on the network of test_leg_stages (worked by hand):

  the bench is 5.659 km from Sue and 3.868 km from Dana; Carol's truck-03 takes 10 kg a trip at
  5.00 + 1.20 per km; Sue delivers visors free within 10 km; Bea and Dana fetch at 0.50 per km.

A leg that costs something, or might, is one variable of the equation, set by its mover and
valued by its rates; one known to cost nothing adds no term.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_leg_stages import BENCH, DANA, SUE, planned, shop

from core.network.geo import haversine_km
from core.network.model import Design, Item, Offer
from core.pricing import plan_equation
from core.weave import Plan, PlanNode
from core.weave.legs import DELIVERY, PICKUP, VEHICLE
from core.weave.plan_document import buyer_stop, node_leg_options
from core.weave.sources import Made, SupplyIndex


def test_the_distances_worked_by_hand():
    assert haversine_km(BENCH, DANA) == pytest.approx(3.868, abs=1e-3)
    assert haversine_km(SUE, BENCH) == pytest.approx(5.659, abs=1e-3)


def test_a_carried_leg_is_one_transport_variable_set_by_its_operator():
    network = shop()
    equation = plan_equation(network, planned(network, shields=20))  # 6 kg: one trip
    assert list(equation.form.terms) == ["K[make-shield@bench]", "p[sue-visors]", "t[truck-03:0]"]
    assert equation.form.coefficient("t[truck-03:0]") == 1
    assert equation.text() == "P = 20·K + 20·V + T"
    truck = equation.variables["t[truck-03:0]"]
    assert (truck.kind, truck.setter, truck.source) == ("transport", "carol", "vehicle:truck-03")
    assert truck.known == 9.64  # 5.00 + 1.20 × 3.868 km, in cents
    assert equation.price == pytest.approx(20 * 2 + 20 * 1.0 + 9.64)
    assert truck.describe(network) == (
        "truck-03 (Municipio de San Juan) carries 20 × Face shield 3.9 km in 1 trip "
        "(5.00 + 1.20 per km), set by Municipio de San Juan (t[truck-03:0])"
    )
    # What a person quotes: the name or its letter.
    assert equation.find("t[truck-03:0]") is truck and equation.find("t") is truck


def test_every_trip_is_priced_and_said():
    network = shop()
    equation = plan_equation(network, planned(network, shields=40))  # 12 kg: two trips
    truck = equation.variables["t[truck-03:0]"]
    assert truck.known == 19.28  # two trips of 9.641
    assert "in 2 trips (5.00 + 1.20 per km each)" in truck.describe(network)


def test_free_delivery_adds_no_term_and_a_paid_one_does():
    network = shop()
    equation = plan_equation(network, planned(network, visors_by=DELIVERY))
    assert not any(name.startswith("t[sue") for name in equation.variables)
    paid = network.with_records(
        offers=[
            replace(
                network.offers["sue-visors"],
                delivery=replace(network.offers["sue-visors"].delivery, price=3.0),
            )
        ]
    )
    equation = plan_equation(paid, planned(paid, visors_by=DELIVERY))
    delivered = equation.variables["t[sue:0.0]"]
    assert (delivered.setter, delivered.known) == ("sue", 3.0)
    assert delivered.describe(paid) == (
        "Sue's Visors delivers 20 × Visor 5.7 km (3.00), set by Sue's Visors (t[sue:0.0])"
    )
    # Goods first, legs after them in the order of the plan (a node before its inputs).
    assert list(equation.form.terms)[-2:] == ["t[truck-03:0]", "t[sue:0.0]"]
    assert equation.text() == "P = 20·K + 20·V + T + T2"


def test_a_pickup_is_priced_by_the_receivers_rate():
    network = shop()
    equation = plan_equation(network, planned(network, visors_by=PICKUP, shields_by=PICKUP))
    fetched = equation.variables["t[bea:0.0]"]
    assert fetched.known == 2.83  # 0.50 × 5.659 km
    assert fetched.setter == "bea"
    assert fetched.describe(network).startswith(
        "Bea's Bench picks up 20 × Visor 5.7 km (0.50 per km)"
    )
    dana = network.participants["dana"]
    free = network.with_records(
        participants=[replace(dana, pickup=replace(dana.pickup, price_per_km=None))]
    )
    equation = plan_equation(free, planned(free, shields_by=PICKUP))
    assert not any(name.startswith("t[dana") for name in equation.variables)


def test_unknown_mass_is_one_trip_priced_per_trip():
    network = shop().with_records(items=[Item("shield", "Face shield")])
    equation = plan_equation(network, planned(network, shields=1000))
    truck = equation.variables["t[truck-03:0]"]
    assert truck.leg.trips == 1 and truck.leg.kg is None
    assert truck.known == 9.64
    assert "in 1 trip, mass unknown, priced per trip (5.00 + 1.20 per km)" in truck.describe(
        network
    )


def test_a_vehicle_with_no_rate_is_an_unknown_for_its_operator_to_quote():
    network = shop()
    unpriced = network.with_records(
        transport=[replace(network.transport["truck-03"], price_per_km=None, base_price=None)]
    )
    equation = plan_equation(unpriced, planned(unpriced))
    assert equation.unknowns == ["t[truck-03:0]"]
    assert equation.price is None
    assert "(no rate given)" in equation.variables["t[truck-03:0]"].describe(unpriced)
    assert "unknown, not quoted yet" in equation.legend(unpriced)[-1]
    quoted = plan_equation(unpriced, planned(unpriced), quotes={"t[truck-03:0]": 12.0})
    assert quoted.price == pytest.approx(20 * 2 + 20 * 1.0 + 12.0)


def test_transport_takes_t_unless_an_item_did():
    network = shop().with_records(
        items=[Item("tab", "Tab")],
        designs=[Design("make-shield", "shield", (("tab", 1),), processes=frozenset({"cut"}))],
        offers=[Offer("sue-tabs", "sue", "tab", price=1.0)],
    )
    index = SupplyIndex(network)
    made = next(s for s in index.sources("shield") if isinstance(s, Made))
    (tabs,) = index.sources("tab")
    legs = node_leg_options(network, "shield", 20, made, buyer_stop(network, "dana"))
    truck = next(leg for leg in legs if leg.kind == VEHICLE)
    root = PlanNode("shield", 20, made, (PlanNode("tab", 20, tabs),), leg=truck)
    equation = plan_equation(network, Plan((root,), (0, 0.0), 1))
    assert dict(equation.letters) == {
        "K[make-shield@bench]": "K",
        "p[sue-tabs]": "T",
        "t[truck-03:0]": "U",
    }
