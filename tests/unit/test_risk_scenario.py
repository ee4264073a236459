"""Risk scenarios (core.risk.scenario): the document that holds what a network file does not —
demand and losses for fragility, rates, stock and recovery times for survival — parsed, and
checked against the network it is meant for, with errors that name the bad field."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from chair_files import CHAIR, PROJECT, SEAT_MAKER, chair_network

from core.network.model import Facility, Item, Network, Offer, Participant
from core.risk.demand import DistributionDemand, FixedDemand, Shortage
from core.risk.scenario import RiskScenario, parse_scenario
from core.risk.survival import DEFAULT_TIME_TO_RECOVER

EXAMPLE = PROJECT / "examples" / "chair-risk.yaml"

GOOD = {
    "scis-risk": 1,
    "products": {
        "chair": {
            "demand": {"distribution": "poisson", "mu": 6},
            "weight": {"kind": "shortage", "value_per_unit": 150},
            "rate": 4,
            "margin": 1,
        },
        "seat": {"rate": 10},  # survival only
        "leg": {"demand": 30, "weight": {"kind": "shortage", "value_per_unit": 2}},
    },
    "inventory": {"ana-shop": {"leg": 8, "chair": 2}, "gus": {"back": 3}},
    "time_to_recover": {"gus-backs": 10},
    "default_time_to_recover": 5,
}


def document(**changes) -> dict:
    """GOOD with top-level fields replaced (None: removed)."""
    result = {**GOOD, **changes}
    return {k: v for k, v in result.items() if v is not None}


def product(name: str, **entry) -> dict:
    return document(products={name: entry})


@pytest.fixture(scope="module")
def chair() -> Network:
    return chair_network(CHAIR, SEAT_MAKER)


# ── a good document ──────────────────────────────────────────────────────────────────────────


def test_fragility_takes_the_products_with_demand_and_weight_in_the_documents_order():
    scenario = parse_scenario(GOOD)
    assert [r.product for r in scenario.products] == ["chair", "leg"]
    chair, leg = scenario.products
    assert isinstance(chair.demand, DistributionDemand) and chair.demand.name == "poisson"
    assert chair.weight == Shortage(150.0)
    assert leg.demand == FixedDemand(30.0)
    # The weight is the paper's W_p: 2 per leg short of a supply of 25 when 30 are wanted.
    assert leg.weight(np.array([30.0]), 25.0).tolist() == [10.0]


def test_survival_takes_rates_margins_stock_and_recovery_times():
    survival = parse_scenario(GOOD).survival
    assert dict(survival.demand) == {"chair": 4.0, "seat": 10.0}
    assert dict(survival.margin) == {"chair": 1.0}
    assert dict(survival.inventory) == {
        ("ana-shop", "leg"): 8.0,
        ("ana-shop", "chair"): 2.0,
        ("gus", "back"): 3.0,
    }
    assert dict(survival.time_to_recover) == {"gus-backs": 10.0}
    assert survival.default_time_to_recover == 5.0


def test_without_any_rate_there_is_no_survival_and_defaults_apply_otherwise():
    fragility_only = parse_scenario(
        {"scis-risk": 1, "products": {"chair": {"demand": 3, "weight": {"kind": "mask"}}}}
    )
    assert fragility_only.survival is None
    assert [r.product for r in fragility_only.products] == ["chair"]
    bare = parse_scenario({"scis-risk": 1, "products": {"chair": {"rate": 2}}})
    assert bare.products == ()
    assert dict(bare.survival.inventory) == {}
    assert bare.survival.default_time_to_recover == DEFAULT_TIME_TO_RECOVER


def test_the_scenario_is_frozen_and_names_every_product():
    scenario = parse_scenario(GOOD)
    assert scenario.product_ids == ("chair", "leg", "seat")
    with pytest.raises(AttributeError):
        scenario.products = ()  # type: ignore[misc]
    assert isinstance(scenario, RiskScenario)


def test_the_chair_example_parses_and_fits_the_chair_network(chair):
    scenario = parse_scenario(yaml.safe_load(EXAMPLE.read_text()))
    scenario.check(chair)
    assert [r.product for r in scenario.products] == ["chair", "seat"]
    assert dict(scenario.survival.demand) == {"chair": 4.0, "seat": 42.0}
    assert scenario.survival.time_to_recover["gus-backs"] == 10.0


def test_a_good_document_fits_the_chair_network(chair):
    parse_scenario(GOOD).check(chair)  # holders: a facility and a participant; a node: an offer


# ── bad documents, each naming its field ─────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([1, 2], "expected a mapping with scis-risk: 1"),
        (document(**{"scis-risk": None}), "scis-risk: expected 1, got None"),
        (document(**{"scis-risk": 2}), "scis-risk: expected 1, got 2"),
        (document(**{"scis-risk": True}), "scis-risk: expected 1, got True"),
        (document(products=None), "products: expected a non-empty mapping"),
        (document(products={}), "products: expected a non-empty mapping"),
        (document(products=["chair"]), "products: expected a non-empty mapping"),
        (document(suppliers={}), "suppliers: unknown field"),
        (product("chair", rate=4, colour="red"), "products.chair.colour: unknown field"),
        (product("chair", rate="four"), "products.chair.rate: expected a number, got 'four'"),
        (product("chair", rate=True), "products.chair.rate: expected a number, got True"),
        (product("chair", rate=-1), "products.chair.rate: expected a finite number ≥ 0"),
        (product("chair", rate=float("inf")), "products.chair.rate: expected a finite number"),
        (product("chair", rate=4, margin="x"), "products.chair.margin: expected a number"),
        (product("chair", demand=3), "products.chair.weight: missing"),
        (product("chair", weight={"kind": "mask"}), "products.chair.demand: missing"),
        (product("chair", margin=2), "products.chair.margin: only counts with a rate"),
        (product("chair"), "products.chair: expected demand and weight, or rate"),
        (document(products={"chair": 4}), "products.chair: expected a mapping"),
        (
            product("chair", demand={"distribution": "poison", "mu": 3}, weight={"kind": "mask"}),
            "products.chair: demand.distribution: unknown distribution 'poison'",
        ),
        (
            product("chair", demand=3, weight={"kind": "shortage"}),
            "products.chair: weight.value_per_unit: missing",
        ),
        (document(inventory=[1]), "inventory: expected a mapping of holder"),
        (document(inventory={"ana-shop": 3}), "inventory.ana-shop: expected a mapping"),
        (document(inventory={"ana-shop": {"leg": "8"}}), "inventory.ana-shop.leg: expected a"),
        (document(time_to_recover={"gus-backs": None}), "time_to_recover.gus-backs: expected"),
        (document(default_time_to_recover=-2), "default_time_to_recover: expected a finite"),
        (
            {
                "scis-risk": 1,
                "products": {"leg": {"demand": 3, "weight": {"kind": "mask"}}},
                "inventory": {"ana-shop": {"leg": 1}},
            },
            "inventory: only counts for survival, and no product has a rate",
        ),
    ],
)
def test_a_bad_document_is_refused_naming_the_field(bad, message):
    with pytest.raises(ValueError) as refused:
        parse_scenario(bad)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


# ── checked against a network ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (product("sofa", rate=1), "products.sofa: not an item of the network"),
        (
            {"scis-risk": 1, "products": {"sofa": {"demand": 1, "weight": {"kind": "mask"}}}},
            "products.sofa: not an item of the network",
        ),
        (
            document(inventory={"zed-shop": {"leg": 1}}),
            "inventory.zed-shop: no offer, facility or participant has this id",
        ),
        (document(inventory={"ana-shop": {"sofa": 1}}), "inventory.ana-shop.sofa: not an item"),
        (
            document(time_to_recover={"bridge": 3}),
            "time_to_recover.bridge: no offer, facility or participant has this id",
        ),
    ],
)
def test_what_the_network_does_not_know_is_refused(chair, bad, message):
    scenario = parse_scenario(bad)  # well-formed on its own
    with pytest.raises(ValueError, match=f"^{message}"):
        scenario.check(chair)


def test_an_id_both_an_offer_and_a_facility_is_ambiguous_for_survival():
    network = Network.of(
        participants=[Participant("ann", "Ann")],
        items=[Item("thing", "Thing")],
        facilities=[Facility("twin", "ann")],
        offers=[Offer("twin", "ann", "thing", capacity=1)],
    )
    scenario = parse_scenario(
        {"scis-risk": 1, "products": {"thing": {"rate": 1}}, "time_to_recover": {"twin": 2}}
    )
    with pytest.raises(
        ValueError, match="^time_to_recover.twin: ambiguous, both offer and facility"
    ):
        scenario.check(network)
