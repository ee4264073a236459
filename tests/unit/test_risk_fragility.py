"""Fragility B(Y, P, W) (the paper's "Formalization of Fragility"): demand and W parsing, S_p(Y)
as a linear program over the bill of materials, Monte Carlo B with its confidence interval, the
ranking of additions, and the paper's Conjecture 1 with the assumption it needs."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import scipy.stats
import yaml
from chair_files import CHAIR, SEAT_MAKER, chair_network
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.network.model import Design, Facility, Item, Network, Offer, Participant
from core.risk.demand import (
    MASK,
    MASK_AS_WRITTEN,
    VENTILATOR_AS_WRITTEN,
    EmpiricalDemand,
    FixedDemand,
    ProductRisk,
    RelativeShortage,
    Shortage,
    TruncatedNormalDemand,
    parse_demand,
    parse_products,
    parse_weight,
)
from core.risk.fragility import fragility, rank_additions
from core.risk.supply import MissingCapacityError, Suppliers, SupplyModel, supply


@pytest.fixture(scope="module")
def chair() -> Network:
    return chair_network(CHAIR, SEAT_MAKER)


def one_item(capacity: float, item: str = "vent") -> Network:
    return Network.of(
        participants=[Participant("s", "S")],
        items=[Item(item, item)],
        offers=[Offer("o", "s", item, capacity=capacity)],
    )


def chairs_from(*offers: str, facilities=("ana-shop",)) -> Suppliers:
    return Suppliers(frozenset(offers), frozenset(facilities))


# Ana assembles; legs, seats and backs are bought: chairs = min(3, 60/4, 30, 25) = 3.
ANA_ONLY = chairs_from("fern-legs", "gus-seats", "gus-backs")


def poisson_excess(mu: float, supply: float) -> float:
    """E[max(D − S, 0)] for D ~ Poisson(mu), summed over the pmf."""
    k = np.arange(0, 200)
    return float(np.sum(np.maximum(k - supply, 0) * scipy.stats.poisson.pmf(k, mu)))


# ── The paper's W examples ────────────────────────────────────────────────────────────────────


def test_ventilator_as_written_is_linear_in_the_gap_up_to_100k_demand():
    demand = np.array([50.0, 120_000.0, 10.0])
    # D < 100K: 50K·(D − S); D ≥ 100K: 50K·(100,000 − S); surplus is a negative loss.
    expected = [50_000 * 20, 50_000 * (100_000 - 30), 50_000 * (10 - 30)]
    assert VENTILATOR_AS_WRITTEN(demand, 30.0).tolist() == expected


def test_mask_as_written_never_charges_a_shortage_and_the_reading_does():
    demand = np.array([200.0, 100.0, 80.0, 0.0])
    # As written: 0 when S < D, else 5·(D − S)/D — only surplus moves it, below zero.
    assert MASK_AS_WRITTEN(demand, 100.0).tolist() == [0.0, 0.0, 5 * (80 - 100) / 80, 0.0]
    # The reading: 5 × the unmet share of demand.
    assert MASK(demand, 100.0).tolist() == [5 * 100 / 200, 0.0, 0.0, 0.0]
    assert parse_weight("mask", {"kind": "mask"}) == MASK
    assert parse_weight("mask", {"kind": "mask_as_written"}) == MASK_AS_WRITTEN


def test_declared_weights_are_vectorised_and_respect_the_cap():
    w = parse_weight("vent", {"kind": "shortage", "value_per_unit": 50_000, "cap": 100_000})
    demand = np.array([[10.0, 50.0], [150_000.0, 30.0]])
    assert w(demand, 30.0).tolist() == [[0.0, 50_000 * 20], [50_000 * 99_970, 0.0]]
    relative = parse_weight("mask", {"kind": "relative_shortage", "value": 2})
    assert relative(np.array([4.0, 1.0]), 1.0).tolist() == [2 * 3 / 4, 0.0]


# ── Demand distributions ──────────────────────────────────────────────────────────────────────


def test_demands_parse_from_plain_values():
    rng = np.random.default_rng(1)
    assert parse_demand("p", 7) == FixedDemand(7.0)
    empirical = parse_demand("p", {"samples": [3, 5, 11]})
    assert isinstance(empirical, EmpiricalDemand)
    drawn = empirical.draw(rng, 3000)
    assert set(drawn.tolist()) == {3.0, 5.0, 11.0}
    assert drawn.mean() == pytest.approx(19 / 3, abs=0.3)
    lognormal = parse_demand("p", {"distribution": "lognorm", "s": 0.5, "scale": 100})
    assert lognormal.draw(rng, 50_000).mean() == pytest.approx(100 * math.exp(0.125), rel=0.01)
    poisson = parse_demand("p", {"distribution": "poisson", "mu": 4})
    assert poisson.draw(rng, 50_000).mean() == pytest.approx(4, rel=0.02)


@pytest.mark.parametrize("loc", [10.0, -3.0])  # mostly accepted (rejection); mostly cut (truncnorm)
def test_normal_demand_is_truncated_at_zero_not_clipped(loc):
    demand = parse_demand("p", {"distribution": "norm", "loc": loc, "scale": 5})
    assert demand == TruncatedNormalDemand(loc, 5.0)
    drawn = demand.draw(np.random.default_rng(2), 40_000)
    truncated = scipy.stats.truncnorm(-loc / 5, np.inf, loc=loc, scale=5)
    assert drawn.min() > 0
    assert drawn.mean() == pytest.approx(truncated.mean(), rel=0.02)
    assert drawn.std() == pytest.approx(truncated.std(), rel=0.03)


def test_products_can_live_in_a_yaml_file():
    spec = yaml.safe_load(
        """
        vent:
          demand: {distribution: uniform, loc: 0, scale: 100}
          weight: {kind: shortage, value_per_unit: 3}
        """
    )
    (risk,) = parse_products(spec)
    assert risk.product == "vent" and risk.weight == Shortage(3.0)
    result = fragility(one_item(60), spec, samples=40_000)
    assert result.estimate == pytest.approx(3 * 40**2 / 200, rel=0.03)


# ── B by Monte Carlo ──────────────────────────────────────────────────────────────────────────


def test_fixed_demand_gives_the_exact_b_with_no_uncertainty():
    network = Network.of(
        participants=[Participant("s", "S")],
        items=[Item("vent", "Ventilator"), Item("mask", "Mask")],
        offers=[Offer("v", "s", "vent", capacity=30), Offer("m", "s", "mask", capacity=150)],
    )
    products = {
        "vent": {"demand": 50, "weight": {"kind": "ventilator"}},
        "mask": {"demand": 200, "weight": {"kind": "mask"}},
    }
    result = fragility(network, products, samples=1000)
    vent, mask = 50_000 * (50 - 30), 5 * (200 - 150) / 200
    assert result.by_product == {"vent": vent, "mask": mask}
    assert result.estimate == vent + mask
    assert result.standard_error == 0 and result.low == result.high == result.estimate
    assert result.supply == {"vent": 30.0, "mask": 150.0}
    assert result.samples == 1000


def test_uniform_demand_and_linear_shortage_match_the_closed_form():
    # D ~ U(0, 100), S = 60: E[max(D − S, 0)] = (100 − 60)² / (2·100) = 8 units short.
    products = {"vent": {"demand": {"distribution": "uniform", "loc": 0, "scale": 100},
                         "weight": {"kind": "shortage", "value_per_unit": 10}}}  # fmt: skip
    result = fragility(one_item(60), products, samples=200_000, seed=5)
    assert result.low <= 80.0 <= result.high
    # Var[max(D − S, 0)] = 40³/300 − 8² units²: the standard error is the closed form's too.
    assert result.standard_error == pytest.approx(10 * math.sqrt((40**3 / 300 - 64) / 200_000),
                                                  rel=0.02)  # fmt: skip


def test_lognormal_demand_matches_the_black_scholes_form():
    # E[max(D − K, 0)] for ln D ~ N(μ, σ²): e^(μ+σ²/2)·Φ(d1) − K·Φ(d2), d1 = (μ+σ²−ln K)/σ.
    mu, sigma, k = math.log(100), 0.6, 120.0
    d1 = (mu + sigma**2 - math.log(k)) / sigma
    exact = math.exp(mu + sigma**2 / 2) * scipy.stats.norm.cdf(d1) - k * scipy.stats.norm.cdf(
        d1 - sigma
    )
    products = {"vent": {"demand": {"distribution": "lognorm", "s": sigma, "scale": 100},
                         "weight": {"kind": "shortage", "value_per_unit": 1}}}  # fmt: skip
    result = fragility(one_item(k), products, samples=200_000, seed=9)
    assert result.low <= exact <= result.high


def test_confidence_interval_halves_when_the_samples_quadruple():
    products = {"vent": {"demand": {"distribution": "gamma", "a": 2, "scale": 30},
                         "weight": {"kind": "shortage", "value_per_unit": 1}}}  # fmt: skip
    n = fragility(one_item(50), products, samples=20_000, seed=3)
    n4 = fragility(one_item(50), products, samples=80_000, seed=3)
    ratio = (n.high - n.low) / (n4.high - n4.low)
    assert ratio == pytest.approx(2.0, abs=0.1)


def test_contributions_add_up_and_spread_over_several_chunks():
    products = {
        "chair": {"demand": {"distribution": "poisson", "mu": 6},
                  "weight": {"kind": "shortage", "value_per_unit": 80}},
        "seat": {"demand": {"distribution": "norm", "loc": 45, "scale": 10},
                 "weight": {"kind": "relative_shortage", "value": 12}},
    }  # fmt: skip
    network = chair_network(CHAIR, SEAT_MAKER)
    result = fragility(network, products, samples=100_001, seed=4)
    assert result.samples == 100_001
    assert sum(result.by_product.values()) == pytest.approx(result.estimate, rel=1e-12)
    # Every chair and seat offer and facility: 5 chairs, 50 seats.
    assert result.by_product["chair"] == pytest.approx(80 * poisson_excess(6, 5), rel=0.03)


# ── S_p(Y) on the chair network ───────────────────────────────────────────────────────────────


def test_supply_of_the_whole_chair_network(chair):
    model = SupplyModel(chair)
    # chair: Ana 3 + Eli 2, legs (200), seats (50), backs (25) to spare.
    # leg: bob 100 + fern 60 + Eli's lathe 40 (its leg capacity; 40 boards would make 80).
    # seat: fern 20 + gus 30; Hal and Ivy declare no capacity and nor do Bob's foam and fabric.
    assert model.units_of(chair.items) == {
        "chair": 5.0, "leg": 200.0, "seat": 50.0, "back": 25.0, "maple-board": 40.0,
        "foam-seat": 50.0, "foam-block": 0.0, "seat-fabric": 0.0,
    }  # fmt: skip


def test_supply_of_chairs_follows_the_bill_of_materials(chair):
    assert supply(chair, "chair", ANA_ONLY) == 3.0
    # Without backs nobody can assemble a chair.
    assert supply(chair, "chair", chairs_from("fern-legs", "gus-seats")) == 0.0
    # Legs only from Eli's lathe: 2 legs per board, 40 a period → 10 chairs' worth; Ana caps at 3.
    lathe = chairs_from(
        "bob-maple", "gus-seats", "gus-backs", facilities=("ana-shop", "eli-studio")
    )
    assert supply(chair, "leg", lathe) == 40.0
    assert supply(chair, "chair", lathe) == 5.0
    # Only 15 boards: 30 legs (the yield counts), so 7.5 chairs' worth of legs; still 5 chairs.
    few_boards = chair.with_records(
        offers=[Offer("bob-maple", "bob", "maple-board", price=3.5, capacity=15)]
    )
    assert supply(few_boards, "leg", lathe) == 30.0
    # Fern's 12 seats cap the chairs below the assemblers' 5.
    short_seats = chairs_from("bob-legs", "fern-seats", "gus-backs")
    scarce = chair.with_records(offers=[Offer("fern-seats", "fern", "seat", capacity=4)])
    assert supply(scarce, "chair", short_seats | chairs_from(facilities=("eli-studio",))) == 4.0


def test_missing_capacity_rule(chair):
    # Assumed 10 a period: Hal and Ivy could make 10 seats each, but share Bob's 10 foam blocks.
    assert supply(chair, "seat", missing_capacity=10) == 20 + 30 + 10
    with pytest.raises(MissingCapacityError, match="hal-shop: no capacity declared for seat"):
        supply(chair, "seat", chairs_from(facilities=("hal-shop",)), missing_capacity="error")
    # Records that cannot contribute are not asked: chairs only need declared capacities.
    assert supply(chair, "chair", ANA_ONLY, missing_capacity="error") == 3.0
    with pytest.raises(ValueError, match="missing_capacity"):
        SupplyModel(chair, missing_capacity=-1)


def test_unbounded_supply_is_infinite():
    assert supply(one_item(math.inf), "vent") == math.inf
    assert supply(one_item(None), "vent", missing_capacity=math.inf) == math.inf


# ── Where one more supplier helps most ────────────────────────────────────────────────────────

CHAIRS_POISSON = {"chair": {"demand": {"distribution": "poisson", "mu": 6},
                            "weight": {"kind": "shortage", "value_per_unit": 80}}}  # fmt: skip


def test_ranking_on_the_chair_network_with_a_new_microfactory(chair):
    kim = Facility("kim-shop", None, frozenset({"woodworking"}), capacity={"chair": 4})
    result = rank_additions(
        chair, CHAIRS_POISSON, ANA_ONLY, candidates=[kim, "eli-studio", "bob-legs"], seed=2
    )
    assert [a.id for a in result.ranked] == ["kim-shop", "eli-studio", "bob-legs"]
    kim_, eli, legs = result.ranked
    # Kim adds 4 chairs a period (7), Eli 2 (5); more legs change nothing (Ana's 3 is the cap).
    assert (kim_.fragility.supply["chair"], eli.fragility.supply["chair"]) == (7.0, 5.0)
    assert legs.reduction == 0 and legs.standard_error == 0
    exact = 80 * (poisson_excess(6, 3) - poisson_excess(6, 5))
    assert eli.low <= exact <= eli.high
    assert result.baseline.low <= 80 * poisson_excess(6, 3) <= result.baseline.high


def test_reductions_use_common_random_numbers(chair):
    ranked = rank_additions(chair, CHAIRS_POISSON, ANA_ONLY, seed=7, samples=50_000)
    eli = next(a for a in ranked.ranked if a.id == "eli-studio")
    with_eli = fragility(chair, CHAIRS_POISSON, ANA_ONLY.adding(chair.facilities["eli-studio"]),
                         seed=7, samples=50_000)  # fmt: skip
    base = fragility(chair, CHAIRS_POISSON, ANA_ONLY, seed=7, samples=50_000)
    # The same draws: the paired reduction is exactly the difference of the two estimates...
    assert eli.reduction == pytest.approx(base.estimate - with_eli.estimate, rel=1e-12)
    assert eli.fragility.estimate == pytest.approx(with_eli.estimate, rel=1e-12)
    # ...and far more precise than the difference of two independent estimates would be.
    assert eli.standard_error < 0.5 * math.hypot(base.standard_error, with_eli.standard_error)
    # By default every record outside Y is a candidate; only Eli's woodworking helps.
    assert len(ranked.ranked) == len(chair.offers) + len(chair.facilities) - 4
    assert [a.id for a in ranked.ranked if a.reduction > 0] == ["eli-studio"]


# ── Conjecture 1: B(Y ∪ A) ≤ B(Y) ─────────────────────────────────────────────────────────────

ITEMS = ("a", "b", "c", "d")
PROCESSES = ("cut", "sew")
capacities = st.none() | st.integers(0, 8).map(float)


@st.composite
def capacitated_networks(draw, simple: bool = False):
    """Small random networks with capacities. `simple`: designs of at most one input, one unit
    per unit made — the bill of materials is then a plain flow network."""
    items = [Item(i, i) for i in ITEMS]
    offers = [
        Offer(f"o{k}", None, draw(st.sampled_from(ITEMS)), capacity=draw(capacities))
        for k in range(draw(st.integers(1, 5)))
    ]
    designs = []
    for k in range(draw(st.integers(1, 4))):
        if simple:
            inputs = draw(st.lists(st.sampled_from(ITEMS), max_size=1))
            inputs, yield_ = [(i, 1) for i in inputs], 1
        else:
            inputs = draw(st.dictionaries(st.sampled_from(ITEMS), st.integers(1, 2), max_size=2))
            inputs, yield_ = list(inputs.items()), draw(st.integers(1, 3))
        designs.append(
            Design(
                f"d{k}",
                draw(st.sampled_from(ITEMS)),
                inputs=tuple(inputs),
                yield_=yield_,
                processes=frozenset(draw(st.sets(st.sampled_from(PROCESSES), max_size=1))),
            )
        )
    facilities = [
        Facility(
            f"f{k}",
            None,
            frozenset(draw(st.sets(st.sampled_from(PROCESSES), max_size=2))),
            capacity=draw(st.dictionaries(st.sampled_from(ITEMS), st.integers(0, 8).map(float))),
        )
        for k in range(draw(st.integers(1, 3)))
    ]
    return Network.of(items=items, designs=designs, facilities=facilities, offers=offers)


def subsets(network: Network):
    return st.builds(
        Suppliers,
        st.frozensets(st.sampled_from(list(network.offers) or ["-"])).map(
            lambda s: frozenset(s & set(network.offers))
        ),
        st.frozensets(st.sampled_from(list(network.facilities) or ["-"])).map(
            lambda s: frozenset(s & set(network.facilities))
        ),
    )


def flow_oracle(network: Network, product: str, suppliers: Suppliers, missing: float) -> float:
    """S_p as a max flow, valid when every design turns one unit of ≤ 1 input into one unit."""
    graph = nx.DiGraph()

    def add(u, v, capacity):
        if graph.has_edge(u, v):
            graph[u][v]["capacity"] += capacity
        else:
            graph.add_edge(u, v, capacity=capacity)

    for offer in network.offers.values():
        if offer.id in suppliers.offers:
            add("source", offer.item, missing if offer.capacity is None else offer.capacity)
    for facility in network.facilities.values():
        if facility.id not in suppliers.facilities:
            continue
        for design in network.designs.values():
            if design.processes <= facility.processes:
                made = ("made", facility.id, design.makes)
                cap = facility.capacity.get(design.makes, missing)
                graph.add_edge(made, design.makes, capacity=cap)
                (input_id,) = [i for i, _ in design.inputs] or ["source"]
                graph.add_edge(input_id, made)  # no capacity attribute: unbounded
    graph.add_edge(product, "sink")
    if "source" not in graph:
        return 0.0
    return float(nx.maximum_flow_value(graph, "source", "sink"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_supply_matches_a_max_flow_when_the_bill_of_materials_is_a_flow(data):
    network = data.draw(capacitated_networks(simple=True))
    suppliers = data.draw(subsets(network))
    missing = data.draw(st.sampled_from([0.0, 3.0]))
    model = SupplyModel(network, missing)
    for product in ITEMS:
        expected = flow_oracle(network, product, suppliers, missing)
        assert model.units(product, suppliers) == pytest.approx(expected, abs=1e-7)


decreasing_weights = st.sampled_from(
    [
        Shortage(1.0),
        Shortage(3.0, cap=5.0),
        RelativeShortage(2.0),
        MASK,
        VENTILATOR_AS_WRITTEN,
        MASK_AS_WRITTEN,
    ]  # the paper's literal examples are decreasing in S too
)
demands = st.sampled_from(
    [FixedDemand(4.0), parse_demand("p", {"distribution": "poisson", "mu": 5}),
     parse_demand("p", {"distribution": "uniform", "loc": 0, "scale": 12})]
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_conjecture_1_adding_suppliers_never_increases_fragility(data):
    """Under the paper's assumptions — W decreasing in S and increasing in D − S, S_p monotone
    in Y, the same demand draws for both sets — B(Y ∪ A) ≤ B(Y) holds draw by draw."""
    network = data.draw(capacitated_networks())
    y = data.draw(subsets(network))
    # Often A is everything: random small A mostly repeat Y or change nothing.
    a = data.draw(st.just(Suppliers.all_of(network)) | subsets(network))
    missing = data.draw(st.sampled_from([0.0, 3.0]))
    products = [
        ProductRisk(p, data.draw(demands), data.draw(decreasing_weights))
        for p in data.draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=3, unique=True))
    ]
    model = SupplyModel(network, missing)
    for risk in products:
        assert model.units(risk.product, y | a) >= model.units(risk.product, y) - 1e-9
    options = dict(samples=1000, seed=data.draw(st.integers(0, 99)), missing_capacity=missing)
    narrow = fragility(network, products, y, **options)
    wide = fragility(network, products, y | a, **options)
    assert wide.estimate <= narrow.estimate + 1e-9 * max(1.0, abs(narrow.estimate))
    for addition in rank_additions(network, products, y, **options).ranked:
        assert addition.reduction >= -1e-9 * max(1.0, abs(narrow.estimate))


def test_conjecture_1_fails_for_a_w_that_penalises_over_supply(chair):
    """W = |D − S| is not decreasing in S: Eli's 2 extra chairs are 2 chairs of waste."""
    products = [ProductRisk("chair", FixedDemand(3.0), lambda d, s: np.abs(d - s) * 80)]
    eli = chair.facilities["eli-studio"]
    assert fragility(chair, products, ANA_ONLY).estimate == 0.0
    assert fragility(chair, products, ANA_ONLY.adding(eli)).estimate == 160.0
    (addition,) = rank_additions(chair, products, ANA_ONLY, candidates=["eli-studio"]).ranked
    assert addition.reduction == -160.0


def test_conjecture_1_needs_common_demand_draws():
    """With independent draws for the two sets, noise can make the larger set look worse."""
    products = {"vent": {"demand": {"distribution": "poisson", "mu": 6},
                         "weight": {"kind": "shortage", "value_per_unit": 1}}}  # fmt: skip
    network = one_item(5.0).with_records(offers=[Offer("tiny", "s", "vent", capacity=0.01)])
    y = Suppliers(frozenset({"o"}))
    wider = Suppliers(frozenset({"o", "tiny"}))

    def b(suppliers, seed):
        return fragility(network, products, suppliers, samples=500, seed=seed).estimate

    assert all(b(wider, s) <= b(y, s) for s in range(20))
    assert any(b(wider, s + 100) > b(y, s) for s in range(20))


# ── Bad input ─────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("demand", "message"),
    [
        ({"distribution": "lognormal", "s": 1}, r"vent: demand\.distribution: unknown .*lognormal"),
        ({"distribution": "lognorm", "s": -1}, r"vent: demand: invalid parameters for lognorm"),
        ({"distribution": "lognorm", "sigma": 1}, r"vent: demand\.sigma: lognorm takes no"),
        ({"distribution": "lognorm", "scale": 3}, r"vent: demand\.s: lognorm needs"),
        ({"distribution": "poisson", "mu": "many"}, r"vent: demand\.mu: expected a finite number"),
        ({"distribution": "logistic"}, r"vent: demand\.distribution: .*negative demand"),
        ({"distribution": "norm", "loc": 5, "scale": 0}, r"vent: demand\.scale: must be > 0"),
        ({"samples": []}, r"vent: demand\.samples: expected a non-empty list"),
        ({"samples": [3, -1]}, r"vent: demand\.samples: .*≥ 0"),
        ({"samples": [3, "x"]}, r"vent: demand\.samples: every sample must be a number"),
        ({"mean": 3}, r"vent: demand: expected 'samples' or 'distribution'"),
        ({"samples": [1], "extra": 2}, r"vent: demand\.extra: unknown field"),
        (-4, r"vent: demand: must be a finite number ≥ 0"),
        ("lots", r"vent: demand: expected a number or a mapping"),
    ],
)
def test_bad_demand_is_named(demand, message):
    with pytest.raises(ValueError, match=message):
        parse_products({"vent": {"demand": demand, "weight": {"kind": "ventilator"}}})


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        ({"kind": "scarcity"}, r"vent: weight\.kind: unknown kind 'scarcity'"),
        ({"kind": "shortage"}, r"vent: weight\.value_per_unit: missing"),
        ({"kind": "shortage", "value_per_unit": -2}, r"vent: weight\.value_per_unit: must be"),
        ({"kind": "shortage", "value_per_unit": 2, "cap": 0}, r"vent: weight\.cap: must be"),
        ({"kind": "mask", "value_per_unit": 2}, r"vent: weight\.value_per_unit: unknown field"),
        ("linear", r"vent: weight: expected a callable or a mapping with 'kind'"),
    ],
)
def test_bad_weight_is_named(weight, message):
    with pytest.raises(ValueError, match=message):
        parse_products({"vent": {"demand": 3, "weight": weight}})


def test_bad_products_and_arguments(chair):
    good = {"demand": 3, "weight": {"kind": "mask"}}
    with pytest.raises(ValueError, match="vent: weight: missing"):
        parse_products({"vent": {"demand": 3}})
    twice = [ProductRisk("chair", FixedDemand(1.0), MASK)] * 2
    with pytest.raises(ValueError, match="each product may appear only once"):
        fragility(chair, twice)
    with pytest.raises(ValueError, match="vent: not an item of the network"):
        fragility(chair, {"vent": good})
    with pytest.raises(ValueError, match="suppliers: not in the network: facility kim-shop"):
        fragility(chair, {"chair": good}, Suppliers(facilities=frozenset({"kim-shop"})))
    with pytest.raises(ValueError, match="samples: expected an integer ≥ 2"):
        fragility(chair, {"chair": good}, samples=1)
    with pytest.raises(ValueError, match="confidence"):
        fragility(chair, {"chair": good}, confidence=95)
    if_not_vectorised = {"demand": 3, "weight": lambda d, s: 1.0 if d < s else 0.0}
    with pytest.raises(ValueError, match="chair: weight failed .* must be vectorised"):
        fragility(chair, {"chair": if_not_vectorised})
    with pytest.raises(ValueError, match="chair: weight returned shape"):
        fragility(chair, {"chair": {"demand": 3, "weight": lambda d, s: d.sum()}})
    with pytest.raises(ValueError, match="candidate ana-shop: already among the suppliers"):
        rank_additions(chair, {"chair": good}, ANA_ONLY, candidates=["ana-shop"])
    with pytest.raises(ValueError, match="candidate kim-shop: no offer or facility"):
        rank_additions(chair, {"chair": good}, ANA_ONLY, candidates=["kim-shop"])
    bigger_eli = Facility("eli-studio", "eli", frozenset({"woodworking"}), {"chair": 9})
    with pytest.raises(ValueError, match="candidate eli-studio: differs"):
        rank_additions(chair, {"chair": good}, ANA_ONLY, candidates=[bigger_eli])
