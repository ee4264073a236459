"""The `scis` console script, run as a person runs it, on examples/chair.yaml and the corpus.

Every expected number is the hand count and price of chair.yaml's header comment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from math import asin, cos, exp, log, radians, sin, sqrt
from pathlib import Path

import pytest
from scis_command import scis_command

from core.risk.reliability import KIND_PRIORS

PROJECT = Path(__file__).resolve().parents[2]
CHAIR = PROJECT / "examples" / "chair.yaml"
TREE_KEYS = {"item", "quantity", "source", "leg", "inputs"}
LEG_KEYS = {"kind", "carrier", "transport", "km", "kg", "trips", "price", "minutes"}
# Beyond the documented keys, a tree node also says how far its goods travel.
EXTRA_TREE_KEYS = {"distance_km"}

# Where the chair's people are (from chair.yaml), for distances computed here by hand.
PLACES = {
    "ana": (39.3189, -76.6215),
    "eli": (39.3107, -76.6143),
    "bob": (39.2904, -76.5702),
    "fern": (39.4015, -76.6019),
    "gus": (39.2526, -76.5213),
    "dana": (39.3312, -76.6341),
}
OPERATOR = {"ana-shop": "ana", "eli-studio": "eli"}


@cache
def _run(args: tuple[str, ...]) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [*scis_command(), *args], capture_output=True, text=True, cwd=PROJECT, env=env, timeout=120
    )


def scis(*args: str | Path) -> subprocess.CompletedProcess:
    return _run(tuple(str(a) for a in args))


def ok_json(*args: str | Path):
    result = scis(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def weave_json(*args: str | Path, network: tuple = (CHAIR,)) -> dict:
    options = [x for path in network for x in ("--network", path)]
    return ok_json("weave", *args, *options, "--json")


def fails_briefly(result: subprocess.CompletedProcess, *mentions: str) -> None:
    """Non-zero, nothing on stdout, a short message on stderr and no traceback."""
    assert result.returncode != 0
    assert result.stdout.strip() == ""
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 6, result.stderr
    for mention in mentions:
        assert mention in result.stderr, result.stderr


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * asin(sqrt(h))


def check_tree(node: dict) -> None:
    assert TREE_KEYS <= set(node) <= TREE_KEYS | EXTRA_TREE_KEYS, set(node)
    assert isinstance(node["item"], str)
    assert isinstance(node["quantity"], int) and node["quantity"] > 0
    source = node["source"]
    if source["kind"] == "offer":
        assert set(source) == {"kind", "offer", "supplier"}
        assert node["inputs"] == []
    else:
        assert source["kind"] == "design"
        assert set(source) == {"kind", "design", "facility", "operator"}
        assert node["inputs"]
    assert isinstance(node["inputs"], list)
    distance = node.get("distance_km")
    assert distance is None or isinstance(distance, int | float)
    # how the node's goods reach where they are used; None: used where they are made
    leg = node["leg"]
    if leg is not None:
        assert set(leg) == LEG_KEYS
        assert leg["kind"] in {"delivery", "vehicle", "pickup", "arranged"}
        assert isinstance(leg["trips"], int) and leg["trips"] >= 1
        assert leg["price"] is None or leg["price"] >= 0
        assert leg["minutes"] is None or isinstance(leg["minutes"], int)
    for child in node["inputs"]:
        check_tree(child)


def short(node: dict) -> tuple:
    source = node["source"]
    if source["kind"] == "offer":
        where = source["offer"]
    else:
        where = f"{source['design']}@{source['facility']}"
    return (node["item"], node["quantity"], where, *(short(c) for c in node["inputs"]))


def check_document(document: dict, plans: int) -> None:
    assert set(document) == {"item", "quantity", "plan_count", "plans"}
    assert isinstance(document["item"], str)
    assert isinstance(document["quantity"], int)
    assert isinstance(document["plan_count"], str) and document["plan_count"].isdecimal()
    assert len(document["plans"]) == plans
    for rank, plan in enumerate(document["plans"], 1):
        assert set(plan) == {
            "rank",
            "unknown_terms",
            "score",
            "price",
            "unknowns",
            "equation",
            "arrival",
            "tree",
        }
        assert plan["rank"] == rank
        assert isinstance(plan["score"], int | float)
        assert plan["price"] is None or isinstance(plan["price"], int | float)
        assert isinstance(plan["unknowns"], list)
        assert all(isinstance(u, str) for u in plan["unknowns"])
        assert (plan["price"] is None) == bool(plan["unknowns"])
        assert isinstance(plan["equation"], str) and plan["equation"].startswith("P = ")
        assert set(plan["arrival"]) == {"minutes", "unknown_times"}
        assert isinstance(plan["arrival"]["minutes"], int) and plan["arrival"]["minutes"] >= 0
        assert isinstance(plan["arrival"]["unknown_times"], int)
        check_tree(plan["tree"])
    scores = [p["score"] for p in document["plans"]]
    assert scores == sorted(scores)


# -- weave --json ---------------------------------------------------------------------------


def test_weave_json_is_one_object_with_the_documented_shape():
    # one chair for dana: the header's hand count, 48
    document = weave_json("chair", "1", "--deliver-to", "dana", "--top", "12")
    check_document(document, plans=12)
    assert (document["item"], document["quantity"], document["plan_count"]) == ("chair", 1, "48")
    best = document["plans"][0]
    assert best["score"] == pytest.approx(35.5)
    assert best["price"] is None  # gus-backs has no price: B
    assert best["unknowns"] == ["p[gus-backs]"]
    assert best["equation"] == "P = K + 4·L + S + B"
    assert short(best["tree"]) == (
        "chair", 1, "chair-okh@ana-shop",
        ("leg", 4, "fern-legs"), ("seat", 1, "gus-seats"), ("back", 1, "gus-backs"),
    )  # fmt: skip
    assert best["tree"]["inputs"][0]["source"] == {
        "kind": "offer",
        "offer": "fern-legs",
        "supplier": "fern",
    }
    assert best["tree"]["source"] == {
        "kind": "design",
        "design": "chair-okh",
        "facility": "ana-shop",
        "operator": "ana",
    }
    # every leg delivered free by its sender; ana drives the chair 1.745 km to dana
    assert best["tree"]["leg"] == {
        "kind": "delivery",
        "carrier": "ana",
        "transport": None,
        "km": pytest.approx(haversine_km(PLACES["ana"], PLACES["dana"]), abs=1e-3),
        "kg": 6.5,  # the chair's mass_kg
        "trips": 1,
        "price": 0.0,
        "minutes": 3,
    }
    assert [(c["leg"]["kind"], c["leg"]["carrier"]) for c in best["tree"]["inputs"]] == [
        ("delivery", "fern"),
        ("delivery", "gus"),
        ("delivery", "gus"),
    ]
    # the header's critical path: 4 days' lead time + 18 min + 1 day's make + 3 min
    assert best["arrival"] == {"minutes": 7221, "unknown_times": 0}
    # the header's price table, known parts only (the 12 plans with every leg delivered free;
    # the 36 others take carol's van somewhere and cost more)
    assert [p["score"] for p in document["plans"]] == pytest.approx(
        [35.5, 35.5, 36.5, 36.5, 37.0, 37.0, 37.5, 37.5, 38.0, 38.0, 39.0, 39.0]
    )
    assert len({json.dumps(p["tree"], sort_keys=True) for p in document["plans"]}) == 12


def test_top_limits_the_plans_and_never_invents_more():
    assert len(weave_json("chair", "1")["plans"]) == 5  # the default
    assert len(weave_json("chair", "1", "--top", "2")["plans"]) == 2
    # Without --deliver-to the chair's last leg is left to be arranged (one way), so the header's
    # count loses its last factor: ana-shop 1 · (7·2·1) + eli-studio 1 · (5·2·1) = 24.
    assert len(weave_json("chair", "1", "--top", "100")["plans"]) == NO_PLACE_COUNT


def test_the_item_may_be_named_by_an_alias_and_quantities_scale():
    document = weave_json("wooden chair", "3", "--deliver-to", "dana", "--top", "1")
    # three chairs are moved the same ways as one: the header's 48
    assert (document["item"], document["quantity"], document["plan_count"]) == ("chair", 3, "48")
    best = document["plans"][0]
    assert best["equation"] == "P = 3·K + 12·L + 3·S + 3·B"
    assert best["score"] == pytest.approx(106.5)
    assert [c["quantity"] for c in best["tree"]["inputs"]] == [12, 3, 3]


def test_latex_free_gives_twenty_plans():
    document = weave_json(
        "chair", "1", "--deliver-to", "dana", "--criteria", "latex-free", "--top", "30"
    )
    check_document(document, plans=20)  # the header's hand count with +latex-free
    assert document["plan_count"] == "20"
    best = document["plans"][0]
    assert best["equation"] == "P = K + 2·K2 + 2·M + S + B"
    assert best["score"] == pytest.approx(38.0)
    legs = best["tree"]["inputs"][0]
    assert short(legs) == ("leg", 4, "leg-turned@eli-studio", ("maple-board", 2, "bob-maple"))
    # the header: every leg delivered, 38.00 + B twice, 39.00 + B twice, then the van's plans
    assert [p["score"] for p in document["plans"][:4]] == pytest.approx([38.0, 38.0, 39.0, 39.0])
    assert all(p["score"] > 39.0 for p in document["plans"][4:])
    # without a place, the chair's own leg is one way: ana-shop 6 + eli-studio 4
    assert weave_json("chair", "1", "--criteria", "latex-free")["plan_count"] == "10"
    # a criterion nothing in the network states would leave nothing: refused, the known listed
    result = scis("weave", "chair", "1", "--network", CHAIR, "--criteria", "latex-free, organic")
    fails_briefly(result, "unknown criterion 'organic'", "latex-free")


# No --deliver-to: the chair's last leg is to be arranged, one way (see test_top_limits_…).
NO_PLACE_COUNT = 24


def ranked(rank: str) -> dict:
    return weave_json("chair", "1", "--rank", rank, "--top", str(NO_PLACE_COUNT))


@pytest.mark.parametrize("rank", ["price", "distance", "risk", "balanced"])
def test_every_ranking_works(rank):
    document = ranked(rank)
    check_document(document, plans=NO_PLACE_COUNT)
    assert document["plan_count"] == str(NO_PLACE_COUNT)
    # the same plans, in another order
    trees = {json.dumps(p["tree"], sort_keys=True) for p in document["plans"]}
    assert trees == {json.dumps(p["tree"], sort_keys=True) for p in ranked("price")["plans"]}


def test_distance_ranking_sums_the_legs_of_the_journey():
    """Everything travels to the assembling workshop (no --deliver-to: the last leg is 0).

    By hand, per workshop: legs from Bob, from Fern, or turned at Eli's from Bob's boards;
    seats from Fern or Gus; backs from Gus. Eli's studio wins, 24.85 km against 26.12.
    """
    km = haversine_km

    def shortest(workshop: str) -> float:
        at = PLACES[workshop]
        legs = min(
            km(PLACES["bob"], at),
            km(PLACES["fern"], at),
            km(PLACES["eli"], at) + km(PLACES["bob"], PLACES["eli"]),
        )
        seats = min(km(PLACES["fern"], at), km(PLACES["gus"], at))
        return legs + seats + km(PLACES["gus"], at)

    assert shortest("eli") == pytest.approx(24.854, abs=1e-3)
    assert shortest("ana") == pytest.approx(26.117, abs=1e-3)
    best = ranked("distance")["plans"][0]
    tree = best["tree"]
    assert tree["source"]["facility"] == "eli-studio"
    assert tree["distance_km"] is None
    assert best["score"] == pytest.approx(shortest("eli"), rel=1e-9)
    # each edge reports its own distance to the studio
    for child in tree["inputs"]:
        if child["source"]["kind"] == "offer":
            expected = km(PLACES[child["source"]["supplier"]], PLACES["eli"])
            assert child["distance_km"] == pytest.approx(expected, abs=1e-3)
    scores = [p["score"] for p in ranked("distance")["plans"]]
    assert scores[-1] > scores[0]


def test_delivering_to_the_buyer_adds_the_last_leg():
    document = weave_json("chair", "1", "--rank", "distance", "--deliver-to", "dana", "--top", "1")
    tree = document["plans"][0]["tree"]
    maker = PLACES[OPERATOR[tree["source"]["facility"]]]
    assert tree["distance_km"] == pytest.approx(haversine_km(maker, PLACES["dana"]), abs=1e-3)


def test_risk_ranking_avoids_the_studio_that_fails_one_time_in_ten():
    document = ranked("risk")
    best = document["plans"][0]
    assert best["tree"]["source"]["facility"] == "ana-shop"
    # none of its stages in Eli's studio, each at its kind's prior: three offers (confirm,
    # ship, each delivered by its supplier) and Ana's chair (make, inspect, ship, and her
    # receipt of each of the three inputs); a node's risk counts the receipt of its goods, so
    # the buyer's receipt of the chair (on its arranged leg) is in too; the accept is not (the
    # same in every plan)
    p = KIND_PRIORS
    offers = 3 * (log(1 - p["confirm"]) + log(1 - p["ship"]))
    chair = log(1 - p["make"]) + log(1 - p["inspect"]) + log(1 - p["ship"])
    assert best["tree"]["leg"]["kind"] == "arranged"
    assert all(c["leg"]["kind"] == "delivery" for c in best["tree"]["inputs"])
    assert best["score"] == pytest.approx(-(offers + chair + 4 * log(1 - p["receive"])))


def test_balanced_ranking_counts_price_and_more():
    document = ranked("balanced")
    # price plus half a unit per km plus 50 per nat of risk: more than the price alone
    for plan in document["plans"]:
        equation_price = [p for p in ranked("price")["plans"] if p["tree"] == plan["tree"]]
        assert plan["score"] > equation_price[0]["score"]


# -- several networks -----------------------------------------------------------------------

IVY = """\
scis: 1
participants:
  - {id: ivy, name: Ivy's Chair Backs, roles: [supplier],
     location: {lat: 39.30, lon: -76.60, place: Baltimore}}
offers:
  - {id: ivy-backs, supplier: ivy, item: back, price: 4.0, properties: {latex-free: true}}
"""


@pytest.fixture
def ivy(tmp_path) -> Path:
    path = tmp_path / "ivy.yaml"
    path.write_text(IVY)
    return path


def test_several_networks_merge_and_a_listed_back_makes_the_price_known(ivy):
    document = weave_json("chair", "1", "--top", "2", network=(CHAIR, ivy))
    check_document(document, plans=2)
    # two backs now: ivy (2.8 km from ana-shop, 1.7 from eli-studio) delivers nothing, and
    # carol's van (up to 8 km) takes its back to either, one way: NO_PLACE_COUNT · 2
    assert document["plan_count"] == str(NO_PLACE_COUNT * 2)
    best = document["plans"][0]
    # K + 4·L + S + B + T = 15 + 4 × 2.50 + 10.50 + 4 + the van's trip from ivy to the nearer
    # shop, eli-studio: 5.00 + 1.20 × 1.712 km = 7.05
    van = 5.00 + 1.20 * round(haversine_km((39.30, -76.60), PLACES["eli"]), 3)
    assert best["equation"] == "P = K + 4·L + S + B + T"
    assert best["price"] == pytest.approx(39.5 + van, abs=0.005)
    assert best["unknowns"] == []
    assert best["tree"]["source"]["facility"] == "eli-studio"
    assert short(best["tree"])[3:] == (
        ("leg", 4, "fern-legs"), ("seat", 1, "gus-seats"), ("back", 1, "ivy-backs")
    )  # fmt: skip
    back = best["tree"]["inputs"][2]
    assert back["source"]["supplier"] == "ivy"
    assert (back["leg"]["kind"], back["leg"]["transport"]) == ("vehicle", "carol-van")
    assert back["leg"]["price"] == pytest.approx(van, abs=0.005)
    # latex-free without a place: 10 (see test_latex_free_gives_twenty_plans), twice
    assert (
        weave_json("chair", "1", "--criteria", "latex-free", network=(CHAIR, ivy))["plan_count"]
        == "20"
    )


def test_json_plans_come_in_order_of_unknown_terms_then_score(ivy):
    document = weave_json("chair", "1", "--top", str(NO_PLACE_COUNT * 2), network=(CHAIR, ivy))
    keys = [(p["unknown_terms"], p["score"]) for p in document["plans"]]
    assert keys == sorted(keys)
    # Plans with every price known come first, whatever their known part.
    assert keys[0][0] == 0 and keys[-1][0] > 0


# -- catalog --------------------------------------------------------------------------------


def test_catalog_json_lists_every_item():
    entries = ok_json("catalog", "--network", CHAIR, "--json")
    assert isinstance(entries, list)
    for entry in entries:
        assert set(entry) == {"item", "orderable", "plan_count"}
        assert isinstance(entry["orderable"], bool) and isinstance(entry["plan_count"], str)
        assert entry["orderable"] == (int(entry["plan_count"]) > 0)
    assert {e["item"]: e["plan_count"] for e in entries} == {
        "chair": "12",
        "leg": "3",
        "seat": "2",
        "back": "1",
        "maple-board": "1",
        "foam-seat": "1",
    }
    latex_free = ok_json("catalog", "--network", CHAIR, "--criteria", "latex-free", "--json")
    table = {e["item"]: (e["orderable"], e["plan_count"]) for e in latex_free}
    assert table["chair"] == (True, "4")
    assert table["foam-seat"] == (False, "0")


def test_catalog_as_text():
    result = scis("catalog", "--network", CHAIR)
    assert result.returncode == 0, result.stderr
    assert "Chair — made (adaptive), 12 plans" in result.stdout
    assert "Chair leg — sold or made, 3 plans" in result.stdout
    assert "Seat — sold (normal), 2 plans" in result.stdout
    assert "6 of 6 items can be ordered" in result.stdout


def test_weave_as_text_shows_the_equation_and_the_legend():
    result = scis("weave", "chair", "1", "--network", CHAIR, "--top", "1")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # undo the terminal's wrapping
    assert f"{NO_PLACE_COUNT} plans" in text
    assert "P = K + 4·L + S + B" in text
    assert "P = 15 + 4·2.5 + 10.5 + B = 35.5 + B" in text
    assert "Gus Pappas Upholstery" in text and "Fern & Co. Chair Parts" in text


# -- errors ---------------------------------------------------------------------------------


def test_an_unknown_item_is_a_short_error():
    fails_briefly(scis("weave", "stool", "1", "--network", CHAIR, "--json"), "stool")


@pytest.mark.parametrize("quantity", ["0", "abc", "1.5", "2x"])
def test_a_bad_quantity_is_a_short_error(quantity):
    result = scis("weave", "chair", quantity, "--network", CHAIR, "--json")
    fails_briefly(result, quantity, "positive whole number")


def test_a_negative_quantity_is_a_short_error():
    # Typer reads `-1` as an option; either way it must be refused without a traceback.
    fails_briefly(scis("weave", "chair", "-1", "--network", CHAIR, "--json"), "-1")
    # after `--` it is the quantity
    fails_briefly(
        scis("weave", "--network", CHAIR, "--json", "--", "chair", "-1"), "positive whole number"
    )


def test_an_unknown_ranking_is_a_short_error():
    fails_briefly(scis("weave", "chair", "1", "--network", CHAIR, "--rank", "cheapest"), "cheapest")


def test_a_broken_network_file_is_a_short_error(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        CHAIR.read_text().replace("item: leg, price: 2.5,", "item: leg, price: -2.5,")
    )
    assert "price: -2.5" in broken.read_text()
    for command in (["weave", "chair", "1"], ["catalog"]):
        result = scis(*command, "--network", broken, "--json")
        fails_briefly(result, "broken.yaml", "price")


def test_a_missing_network_file_is_a_short_error(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    fails_briefly(scis("weave", "chair", "1", "--network", missing, "--json"), "nowhere.yaml")
    fails_briefly(scis("catalog", "--network", missing, "--json"), "nowhere.yaml")


def test_a_file_that_is_not_yaml_is_a_short_error(tmp_path):
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("scis: 1\nitems: [{id: chair, name: Chair\n")
    fails_briefly(scis("catalog", "--network", garbage, "--json"), "garbage.yaml")


# -- the corpus -----------------------------------------------------------------------------


@pytest.mark.corpus
def test_a_corpus_folder_is_a_network_and_its_broken_files_only_warn(corpus):
    folder = corpus / "helpful" / "alpha"
    result = scis("catalog", "--network", folder, "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "okh-seat-helpful.yml" in result.stderr  # not valid YAML: said, not fatal
    entries = {e["item"]: e for e in json.loads(result.stdout)}
    assert entries["chair"] == {"item": "chair", "orderable": True, "plan_count": "1"}

    document = ok_json("weave", "chair", "1", "--network", folder, "--json")
    check_document(document, plans=1)
    assert document["plan_count"] == "1"
    (plan,) = document["plans"]
    tree = plan["tree"]
    assert tree["source"] == {
        "kind": "design",
        "design": "chair@0.0.1",
        "facility": "james-maker-space-facility",
        "operator": "james-maker-space",
    }
    assert [c["source"]["supplier"] for c in tree["inputs"]] == ["chair-supplies"] * 3
    # nobody has priced anything: the labour and all three parts are unknown
    assert plan["price"] is None and len(plan["unknowns"]) == 4


# -- what a person reads and types (issue 16, finding 10) ------------------------------------

HURRICANE = PROJECT / "examples" / "hurricane-city.yaml"
# Four items share the name "Clamp Ring" (as in the LOSH corpus), each with an id far longer than
# a terminal is wide; one of them can be made, with no price known; a Comb Module's design needs
# a process no facility has; PLA states food-safe, the clamp's design does not.
CLAMP = "github.com/OPEN-NEXT/LOSH-dummy-MOSH-{}/3DParts/ClampRing/okh-ClampRing.toml"
CLAMPS = f"""\
scis: 1
participants:
  - {{id: mill, name: Clamp Mill, roles: [maker], location: {{lat: 18.40, lon: -66.00}}}}
  - {{id: shop, name: Ring Shop, roles: [supplier], location: {{lat: 18.45, lon: -66.05}}}}
items:
  - {{id: {CLAMP.format("A")}, name: Clamp Ring}}
  - {{id: {CLAMP.format("B")}, name: Clamp Ring}}
  - {{id: {CLAMP.format("C")}, name: Clamp Ring}}
  - {{id: {CLAMP.format("D")}, name: Clamp Ring}}
  - {{id: pla, name: PLA filament, properties: {{food-safe: true}}}}
  - {{id: comb, name: Comb Module}}
designs:
  - {{id: clamp-a, makes: {CLAMP.format("A")}, inputs: {{pla: 1}}, processes: [3d-printing]}}
  - {{id: comb-okh, makes: comb, inputs: {{pla: 2}}, processes: [laser-welding]}}
facilities:
  - {{id: mill-printers, operator: mill, processes: [3d-printing]}}
offers:
  - {{id: shop-pla, supplier: shop, item: pla}}
"""


@pytest.fixture
def clamps(tmp_path) -> Path:
    path = tmp_path / "clamps.yaml"
    path.write_text(CLAMPS)
    return path


def test_the_catalog_piped_shows_every_id_whole_on_a_line_of_its_own(clamps):
    result = scis("catalog", "--network", clamps)  # captured: a pipe, not a terminal
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    for letter in "ABCD":
        assert CLAMP.format(letter) in lines  # copyable as it is, never "github.com/OPEN-NEXT…"
    assert "…" not in result.stdout
    # what can be ordered comes first
    assert result.stdout.index(CLAMP.format("A")) < result.stdout.index(CLAMP.format("B"))
    assert "2 of 6 items can be ordered" in result.stdout


def test_an_ambiguous_name_lists_the_items_it_could_mean(clamps):
    result = scis("weave", "clamp ring", "1", "--network", clamps)
    fails_briefly(result, "4 items are called 'clamp ring'", *(CLAMP.format(x) for x in "ABCD"))
    assert result.returncode == 1
    # the id of one is understood
    assert weave_json(CLAMP.format("A"), "1", network=(clamps,))["plan_count"] == "1"


def test_no_plan_is_an_error_that_says_why(clamps):
    n95 = scis("weave", "n95-respirator", "10", "--network", HURRICANE)
    fails_briefly(n95, "no plan can deliver 10 × N95 respirator", "electret-charging")
    assert n95.returncode == 1
    as_json = scis("weave", "n95-respirator", "10", "--network", HURRICANE, "--json")
    fails_briefly(as_json, "electret-charging")
    comb = scis("weave", "comb", "1", "--network", clamps)
    fails_briefly(comb, "Comb Module", "laser-welding")
    nothing = scis("weave", CLAMP.format("B"), "1", "--network", clamps)
    fails_briefly(nothing, "nobody sells Clamp Ring and no design makes it")
    unmet = scis("weave", CLAMP.format("A"), "1", "--network", clamps, "--criteria", "food-safe")
    fails_briefly(unmet, "meeting food-safe", "nothing that sells or makes Clamp Ring")


def test_an_unknown_criterion_is_refused_with_the_known_ones():
    result = scis("weave", "chair", "1", "--network", CHAIR, "--criteria", "latex-fre")
    fails_briefly(result, "unknown criterion 'latex-fre'", "did you mean latex-free?")
    assert result.returncode == 1
    result = scis("catalog", "--network", CHAIR, "--criteria", "LATEX-FREE", "--json")
    assert result.returncode == 0, result.stderr  # case aside, it is the known one


def plan_lines(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("#")]


def test_the_risk_ranking_shows_each_plans_risk_in_order():
    lines = plan_lines(scis("weave", "chair", "1", "--network", CHAIR, "--rank", "risk"))
    risks = [float(re.search(r"risk (\d+\.\d) % of failing", line)[1]) for line in lines]
    assert len(risks) == 5 and risks == sorted(risks)
    document = ranked("risk")
    expected = [round(100 * (1 - exp(-p["score"])), 1) for p in document["plans"][:5]]
    assert risks == pytest.approx(expected, abs=0.05)


def test_the_distance_ranking_shows_each_plans_kilometres():
    args = ("weave", "chair", "1", "--network", CHAIR, "--rank", "distance", "--deliver-to", "dana")
    lines = plan_lines(scis(*args))
    km = [float(re.search(r"([\d.]+) km travelled", line)[1]) for line in lines]
    assert km == sorted(km) and len(km) == 5
    document = weave_json("chair", "1", "--rank", "distance", "--deliver-to", "dana")
    assert km == pytest.approx([round(p["score"], 1) for p in document["plans"]], abs=0.05)
    # without a delivery place the last leg is unknown, and said so
    lines = plan_lines(scis("weave", "chair", "1", "--network", CHAIR, "--rank", "distance"))
    assert all("+ 1 leg to or from a place not given" in line for line in lines)


def test_unknown_prices_read_as_unknown_and_no_equation_is_its_own_value(clamps):
    result = scis("weave", CLAMP.format("A"), "2", "--network", clamps)
    assert result.returncode == 0, result.stderr
    assert "#1  price 2·K + 2·L, not known yet" in result.stdout
    assert "0.00 +" not in result.stdout
    for line in result.stdout.splitlines():
        sides = [side.strip() for side in line.split(" = ")]
        assert len(sides) < 3 or sides[-1] != sides[-2], line


def test_a_place_off_the_globe_is_refused():
    for place in ("200,500", "91,0", "0,-181", "nan,0", "north"):
        result = scis("weave", "chair", "1", "--network", CHAIR, "--deliver-to", place)
        fails_briefly(result, place)
        assert result.returncode == 1
    # 0.4 km from dana's door, in reach of the same movers: the header's 48
    assert weave_json("chair", "1", "--deliver-to", "39.33,-76.63")["plan_count"] == "48"


@pytest.mark.parametrize(
    "args",
    [
        ("catalog", "--bogus"),
        ("nope",),
        ("weave", "chair"),
        ("weave", "chair", "1", "--network", str(CHAIR), "--top", "0"),
        ("db", "upgrade", "--bogus"),
    ],
)
def test_every_usage_mistake_is_one_error_line_with_status_2(args):
    result = scis(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "--help` shows how" in lines[0]
    assert "Error" not in result.stderr and "╭" not in result.stderr


def test_a_command_that_fails_says_error_in_the_same_style(tmp_path):
    result = scis("weave", "stool", "1", "--network", CHAIR)
    assert result.returncode == 1
    assert result.stderr.startswith("error: unknown item 'stool'")


def _commands() -> dict[tuple[str, ...], str]:
    """Every `scis` command and its docstring, groups included, from the Typer apps."""
    import typer.main

    from bots.cli import app

    found: dict[tuple[str, ...], str] = {}

    def walk(group, path: tuple[str, ...]) -> None:
        found[path] = group.help or ""
        for name, command in getattr(group, "commands", {}).items():
            walk(command, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def _paragraphs(docstring: str) -> list[str]:
    text = docstring.replace("`", "")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def test_every_help_reads_as_written_each_paragraph_on_one_line():
    """On a wide terminal no sentence is broken where its docstring's source line ends."""
    commands = _commands()
    assert {("weave",), ("catalog",), ("demo",), ("worker",), ("db", "upgrade")} <= set(commands)
    for path, docstring in commands.items():
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "400", "TERM": "dumb"}
        result = subprocess.run(
            [*scis_command(), *path, "--help"],
            capture_output=True,
            text=True,
            cwd=PROJECT,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, (path, result.stderr)
        lines = [" ".join(line.strip(" │").split()) for line in result.stdout.splitlines()]
        for paragraph in _paragraphs(docstring):
            assert any(paragraph in line for line in lines), (path, paragraph, result.stdout)


def test_names_and_diagnostics_are_printed_as_text_never_as_markup(tmp_path):
    """Issue 17, finding 9: a manifest's own text ("Thing [/b] x", a part "Leg [/u]") is
    printed as it is — `scis catalog` once ended in rich's MarkupError and a traceback."""
    folder = tmp_path / "thing"
    folder.mkdir()
    (folder / "okh.toml").write_text(
        'okhv = "OKH-LOSHv1.0"\nname = "Thing [/b] x"\n'
        'repo = "https://github.com/example/thing"\nversion = "1.0.0"\n'
        'license = "CC-BY-4.0"\nlicensor = "Someone"\nbom = "missing[/i].csv"\n'
        '\n[[part]]\nname = "Leg [/u]"\n'
    )
    result = scis("catalog", "-n", folder)
    assert "Traceback" not in result.stderr and "MarkupError" not in result.stderr
    assert "Thing [/b] x" in result.stdout and "Leg [/u]" in result.stdout
    network = tmp_path / "net.yaml"
    network.write_text('scis: 1\nitems:\n  - {id: widget, name: Widget, "[/bold]": 1}\n')
    result = scis("catalog", "-n", network)
    assert result.returncode == 1
    assert "net.yaml:3: error: [/bold]: unknown field" in result.stderr
