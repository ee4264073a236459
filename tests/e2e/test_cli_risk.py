"""`scis risk`, `scis fragility` and `scis survival` on the paper's chair network
(examples/chair.yaml + tests/scenarios/seat-maker.yaml) and examples/chair-risk.yaml.

Expected figures are worked out by hand here (and in the header of chair-risk.yaml), or taken
from the core functions the commands stand on, called the same way. The commands run in process
through Typer's runner (tests/e2e/test_cli.py runs the installed script).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import poisson
from typer.testing import CliRunner

from bots.cli import app
from core.importers import load_network
from core.risk.fragility import fragility
from core.risk.reliability import KIND_PRIORS, Reliability
from core.risk.scenario import parse_scenario
from core.weave import RISK, Demand, Weave

PROJECT = Path(__file__).resolve().parents[2]
CHAIR = PROJECT / "examples" / "chair.yaml"
SEAT_MAKER = PROJECT / "tests" / "scenarios" / "seat-maker.yaml"
SCENARIO = PROJECT / "examples" / "chair-risk.yaml"
NETWORK = ("-n", str(CHAIR), "-n", str(SEAT_MAKER))
PNG = b"\x89PNG\r\n\x1a\n"
SAMPLES, SEED = 20_000, 7

runner = CliRunner()

# The count of chair.yaml's header with the seats Hal and Ivy make. Every leg among bob, hal,
# ivy and the two shops is within reach of both the sender's free delivery (15 km) and carol's
# van (8 km; the longest, hal → ivy-studio, is 5.8): two ways each.
#   seat made at hal-shop (or ivy-studio): foam 2 ways · fabric 2 ways, then 2 ways to a shop = 8
#   seat → either shop: fern 1 + gus 1 + hal 8 + ivy 8                                        = 18
#   chair → dana: ana-shop 2 ways · (7 · 18 · 1) + eli-studio 2 ways · (5 · 18 · 1)           = 432
# Without a place, the chair's own leg is to be arranged, one way: 126 + 90                  = 216
CHAIRS_TO_DANA, CHAIRS_NO_PLACE = 432, 216


@cache
def invoke(*args: str):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "200"})


def ok_json(*args: str) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@cache
def chair_network():
    return load_network([CHAIR, SEAT_MAKER]).network


def shortage(mu: float, supply: int) -> float:
    """E[(D − S)+] for D ~ Poisson(μ): μ − S + Σ_(k<S) (S − k)·P(D = k)."""
    k = np.arange(supply)
    return float(mu - supply + ((supply - k) * poisson.pmf(k, mu)).sum())


def b_exact(chairs: int, seats: int) -> float:
    """B of chair-risk.yaml: 150 per chair short of Poisson(4), 20 per seat short of Poisson(42)."""
    return 150 * shortage(4, chairs) + 20 * shortage(42, seats)


def assert_covers(estimate: dict, exact: float, low: str = "low", high: str = "high") -> None:
    assert estimate[low] <= exact <= estimate[high], (estimate, exact)


# ── scis risk ────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def chair_risk() -> dict:
    return ok_json("risk", "chair", "2", *NETWORK, "--deliver-to", "dana")


def test_risk_counts_the_plans_and_names_the_single_points_of_failure(chair_risk):
    assert (chair_risk["item"], chair_risk["quantity"], chair_risk["buyer"]) == ("chair", 2, "dana")
    assert chair_risk["plan_count"] == str(CHAIRS_TO_DANA)
    must = chair_risk["single_points_of_failure"]
    # Backs come from gus-backs alone, so every plan needs it and Gus (bottleneck tests).
    assert [r["id"] for r in must["offers"]] == ["gus-backs"]
    assert [r["id"] for r in must["participants"]] == ["gus"]
    assert must["facilities"] == []


def test_risk_finds_two_separable_supply_paths_and_a_cut_of_two(chair_risk):
    separable = chair_risk["separable_paths"]
    assert separable["count"] == 2
    paths = [[(n["kind"], n["id"]) for n in path] for path in separable["paths"]]
    assert len(paths) == 2
    assert all(path[0][0] == "offer" and path[-1] == ("item", "chair") for path in paths)
    assert not set(paths[0][:-1]) & set(paths[1][:-1])  # separable: they meet only at the chair
    # Every path ends in one of the two chair workshops: losing both cuts them all.
    assert {n["id"] for n in separable["minimum_cut"]} == {"ana-shop", "eli-studio"}


def test_the_least_risky_plans_fail_as_fourteen_stages_at_their_kinds_priors(chair_risk):
    # Best plans: legs, seat and back bought (3 stages each: confirm, ship, receive), the chair
    # made at Ana's (make, inspect, ship, receive) and accepted: 14 stages, each at the prior of
    # its kind — making and shipping carry the risk, confirming, receiving, accepting almost
    # none (Eli's 10 % and the extra stages of a made leg or seat rank lower).
    p = KIND_PRIORS
    bought = (1 - p["confirm"]) * (1 - p["ship"]) * (1 - p["receive"])
    chair = (1 - p["make"]) * (1 - p["inspect"]) * (1 - p["ship"]) * (1 - p["receive"])
    success = bought**3 * chair * (1 - p["accept"])
    plans = chair_risk["plans"]
    assert [p["rank"] for p in plans] == [1, 2, 3]
    for plan in plans:
        assert len(plan["stages"]) == 14
        assert plan["failure"] == pytest.approx(1 - success)
        assert plan["success"] == pytest.approx(success)
        assert plan["tree"]["source"]["facility"] == "ana-shop"
        assert plan["price"] is None and "·B (1 price not quoted yet)" in plan["price_text"]


def test_risk_agrees_with_the_weave_and_reliability_it_stands_on(chair_risk):
    network = chair_network()
    reliability = Reliability(network)
    woven = Weave(network, [Demand("chair", 2)], ranking=RISK.with_reliability(reliability))
    expected = [reliability.plan_risk(plan, "dana") for plan in woven.best(3)]
    for plan, risk in zip(chair_risk["plans"], expected, strict=True):
        assert plan["failure"] == pytest.approx(risk.failure)
        assert [s["id"] for s in plan["stages"]] == [s.stage.id for s in risk.stages]


def test_locality_of_a_baltimore_plan_for_a_baltimore_buyer(chair_risk):
    for plan in chair_risk["plans"]:
        near = plan["locality"]
        assert near["value_share"] == 1.0 and near["mass_share"] == 1.0  # all within 50 km
        # Distance travelled: every leg of the tree, the chair's to Dana included.
        legs = []
        stack = [plan["tree"]]
        while stack:
            node = stack.pop()
            legs.append(node["distance_km"])
            stack.extend(node["inputs"])
        assert near["distance_km"] == pytest.approx(sum(legs), abs=0.01)
        assert near["distance_km"] > 10


def test_a_radius_smaller_than_the_way_to_the_nearest_maker_leaves_nothing_local():
    # Ana's Woodshop, the nearest, is 1.7 km from Dana (Remington to Hampden).
    tight = ok_json("risk", "chair", "2", *NETWORK, "--deliver-to", "dana", "--radius", "1")
    assert tight["plans"][0]["locality"]["value_share"] == 0.0
    assert tight["radius_km"] == 1.0


def test_risk_reads_as_text_and_draws_the_best_plan(tmp_path):
    picture = tmp_path / "risk.png"
    result = invoke("risk", "chair", "2", *NETWORK, "--plot", str(picture))
    assert result.exit_code == 0, result.output
    assert picture.read_bytes().startswith(PNG)
    text = result.stdout
    assert f"{CHAIRS_NO_PLACE} plans" in text
    assert "#1  fails with 20.0 %" in text  # the fourteen stages above
    assert "gus-backs" in text and "Separable supply paths into Chair: 2" in text
    assert "give --deliver-to" in text  # no place, so no locality shares


def test_an_order_no_plan_can_meet_has_no_risk_and_no_bottleneck(tmp_path):
    picture = tmp_path / "none.png"
    hurricane = ("-n", str(PROJECT / "examples" / "hurricane-city.yaml"))
    none = ok_json("risk", "n95-respirator", "1", *hurricane, "--plot", str(picture))
    assert (none["plan_count"], none["plans"]) == ("0", [])
    assert none["single_points_of_failure"] == {"offers": [], "facilities": [], "participants": []}
    assert none["separable_paths"] == {"count": 0, "paths": [], "minimum_cut": []}
    assert picture.read_bytes().startswith(PNG)
    # a criterion the network never states is refused, the known ones listed
    unheard = invoke("risk", "chair", "1", *NETWORK, "--criteria", "unheard-of")
    assert unheard.exit_code == 1
    assert "unknown criterion 'unheard-of'" in unheard.output and "latex-free" in unheard.output


# ── scis fragility ───────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def whole() -> dict:
    return ok_json(
        "fragility", *NETWORK, "-s", str(SCENARIO), "--samples", str(SAMPLES), "--seed", str(SEED)
    )


def test_fragility_of_the_whole_network_covers_the_closed_form(whole):
    b = whole["fragility"]
    assert b["supply"] == {"chair": 5.0, "seat": 50.0}
    assert_covers(b, b_exact(5, 50))  # 69.02
    assert b["samples"] == SAMPLES
    assert sum(b["by_product"].values()) == pytest.approx(b["estimate"])


def test_fragility_is_the_core_estimate_on_the_same_draws(whole):
    scenario = parse_scenario(yaml.safe_load(SCENARIO.read_text()))
    core = fragility(chair_network(), scenario.products, samples=SAMPLES, seed=SEED)
    assert whole["fragility"]["estimate"] == core.estimate
    assert whole["fragility"]["by_product"] == dict(core.by_product)


def test_losing_a_supplier_costs_what_the_closed_form_says(whole):
    # Without it: gus-backs → no chair at all; gus-seats → 20 seats; ana-shop → 2 chairs a day;
    # fern-seats → 30 seats; eli-studio → 3 chairs. Nothing else changes a supply.
    expected = {
        "gus-backs": b_exact(0, 50),
        "gus-seats": b_exact(5, 20),
        "ana-shop": b_exact(2, 50),
        "fern-seats": b_exact(5, 30),
        "eli-studio": b_exact(3, 50),
    }
    losses = whole["losses"]
    assert [loss["id"] for loss in losses] == list(expected)  # costliest first
    for loss in losses:
        assert_covers(loss, expected[loss["id"]] - b_exact(5, 50))
        assert loss["fragility_without"] == pytest.approx(expected[loss["id"]], rel=0.03)


def test_leaving_suppliers_out_ranks_which_would_help_most(tmp_path):
    picture = tmp_path / "fragility.png"
    left = ok_json(
        "fragility",
        *NETWORK,
        "-s",
        str(SCENARIO),
        "--samples",
        str(SAMPLES),
        "--seed",
        str(SEED),
        "--leave-out",
        "gus-seats",
        "--leave-out",
        "eli-studio",
        "--plot",
        str(picture),
    )
    assert [r["id"] for r in left["left_out"]] == ["gus-seats", "eli-studio"]
    assert left["fragility"]["supply"] == {"chair": 3.0, "seat": 20.0}
    assert_covers(left["fragility"], b_exact(3, 20))  # 642.2
    additions = left["additions"]
    assert [a["id"] for a in additions] == ["gus-seats", "eli-studio"]
    assert_covers(additions[0], b_exact(3, 20) - b_exact(3, 50))  # 432.5
    assert_covers(additions[1], b_exact(3, 20) - b_exact(5, 20))  # 140.7
    assert left["plot"] == str(picture) and picture.read_bytes().startswith(PNG)


def test_fragility_reads_as_text():
    result = invoke("fragility", *NETWORK, "-s", str(SCENARIO), "--samples", "5000")
    assert result.exit_code == 0, result.output
    assert "Fragility B = " in result.stdout
    assert "What losing each supplier would cost" in result.stdout
    assert "gus-backs" in result.stdout


# ── scis survival ────────────────────────────────────────────────────────────────────────────


def test_survival_lists_the_exposed_nodes_first_with_their_hand_figures(tmp_path):
    picture = tmp_path / "survival.png"
    found = ok_json("survival", *NETWORK, "-s", str(SCENARIO), "--plot", str(picture))
    assert found["intact_tts"] is None  # 5 chairs a day for 4 wanted: never short
    exposed = [n for n in found["nodes"] if n["exposed"]]
    assert found["nodes"][: len(exposed)] == exposed
    # (TTS, TTR, lost demand at 150 a chair), worked out in chair-risk.yaml's header:
    # gus-backs: 12 chairs' worth of stock at 4 a day, 7 days short at 4 a day;
    # ana-shop: Eli's 2 a day of 4, for 5 days; eli-studio: Ana's 3 + her 2 chairs, 7 days.
    assert {n["node"]: (n["tts"], n["ttr"], n["lost_demand"]) for n in exposed} == {
        "gus-backs": (pytest.approx(3.0), 10.0, pytest.approx(4200.0)),
        "ana-shop": (pytest.approx(0.0, abs=1e-9), 5.0, pytest.approx(1500.0)),
        "eli-studio": (pytest.approx(2.0), 7.0, pytest.approx(750.0)),
    }
    assert [n["node"] for n in exposed] == ["gus-backs", "ana-shop", "eli-studio"]
    safe = {n["node"]: n for n in found["nodes"] if not n["exposed"]}
    assert safe["hal-shop"]["tts"] is None  # no declared capacity: unlimited, never short
    assert picture.read_bytes().startswith(PNG)


def test_survival_reads_as_text():
    result = invoke("survival", *NETWORK, "-s", str(SCENARIO))
    assert result.exit_code == 0, result.output
    assert "3 of 13 offers and facilities are exposed" in result.stdout
    assert "keeps up with demand" in result.stdout


# ── bad input ────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def scenario_file(tmp_path):
    def write(text: str) -> str:
        path = tmp_path / "scenario.yaml"
        path.write_text(text)
        return str(path)

    return write


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (("risk", "chair", "2", "-n", "nowhere.yaml"), "nothing was woven"),
        (("risk", "sofa", "2", *NETWORK), "unknown item 'sofa'"),
        (("risk", "chair", "0", *NETWORK), "quantity must be a positive whole number"),
        (("risk", "chair", "2", *NETWORK, "--deliver-to", "zed"), "--deliver-to takes"),
        (("risk", "chair", "2", *NETWORK, "--plot", "/nonexistent/r.png"), "no such folder"),
        (("fragility", *NETWORK, "-s", "nowhere.yaml"), "nowhere.yaml: cannot read it"),
        (("survival", *NETWORK, "-s", "nowhere.yaml"), "nowhere.yaml: cannot read it"),
        (("fragility", *NETWORK, "-s", str(SCENARIO), "--leave-out", "zed"), "--leave-out zed"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_code_one(args, mentions):
    result = invoke(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error:") and mentions in lines[-1], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "text", "mentions"),
    [
        ("fragility", "scis-risk: 2\nproducts: {chair: {rate: 1}}\n", "scis-risk: expected 1"),
        ("survival", "scis-risk: 1\nproducts: {sofa: {rate: 1}}\n", "products.sofa: not an item"),
        ("survival", "scis-risk: 1\nproducts: {chair: {rate: four}}\n", "rate: expected a number"),
        ("fragility", "scis-risk: 1\nproducts: [\n", "not valid YAML or JSON at line 3"),
        ("fragility", "scis-risk: 1\nproducts: {chair: {rate: 1}}\n", "B is not defined"),
        (
            "survival",
            '{"scis-risk": 1, "products": {"chair": {"demand": 2, "weight": {"kind": "mask"}}}}',
            "no product has a rate",
        ),
    ],
)
def test_a_bad_scenario_is_one_line_naming_the_file(scenario_file, command, text, mentions):
    path = scenario_file(text)
    result = runner.invoke(app, [command, *NETWORK, "-s", path], env={"NO_COLOR": "1"})
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {path}: ") and mentions in result.stderr


def test_a_usage_error_is_exit_code_two():
    result = invoke("fragility", *NETWORK)  # no --scenario
    assert result.exit_code == 2
    assert "--scenario" in result.stderr


def test_a_distance_nobody_knows_is_not_shown_as_zero():
    from bots.cli_risk import _locality_text

    unknown = {"distance_km": 0.0, "distance_unknown": 1}
    said = _locality_text(unknown, {"deliver_to": None})
    assert said.startswith("distance unknown (1 leg of unknown length)") and "0.0 km" not in said
    partly = _locality_text({"distance_km": 12.5, "distance_unknown": 9}, {"deliver_to": None})
    assert partly.startswith("12.5 km travelled (and 9 legs of unknown length)")
