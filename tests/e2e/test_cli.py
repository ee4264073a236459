"""The `scis` console script, run as a person runs it, on examples/chair.yaml and the corpus.

Every expected number is the hand count and price of chair.yaml's header comment.
"""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from math import asin, cos, log, radians, sin, sqrt
from pathlib import Path

import pytest
from scis_command import scis_command

PROJECT = Path(__file__).resolve().parents[2]
CHAIR = PROJECT / "examples" / "chair.yaml"
TREE_KEYS = {"item", "quantity", "source", "inputs"}
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
            "tree",
        }
        assert plan["rank"] == rank
        assert isinstance(plan["score"], int | float)
        assert plan["price"] is None or isinstance(plan["price"], int | float)
        assert isinstance(plan["unknowns"], list)
        assert all(isinstance(u, str) for u in plan["unknowns"])
        assert (plan["price"] is None) == bool(plan["unknowns"])
        assert isinstance(plan["equation"], str) and plan["equation"].startswith("P = ")
        check_tree(plan["tree"])
    scores = [p["score"] for p in document["plans"]]
    assert scores == sorted(scores)


# -- weave --json ---------------------------------------------------------------------------


def test_weave_json_is_one_object_with_the_documented_shape():
    document = weave_json("chair", "1", "--top", "12")
    check_document(document, plans=12)
    assert (document["item"], document["quantity"], document["plan_count"]) == ("chair", 1, "12")
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
    # the header's price table, known parts only
    assert [p["score"] for p in document["plans"]] == pytest.approx(
        [35.5, 35.5, 36.5, 36.5, 37.0, 37.0, 37.5, 37.5, 38.0, 38.0, 39.0, 39.0]
    )
    assert len({json.dumps(p["tree"], sort_keys=True) for p in document["plans"]}) == 12


def test_top_limits_the_plans_and_never_invents_more():
    assert len(weave_json("chair", "1")["plans"]) == 5  # the default
    assert len(weave_json("chair", "1", "--top", "2")["plans"]) == 2
    assert len(weave_json("chair", "1", "--top", "100")["plans"]) == 12


def test_the_item_may_be_named_by_an_alias_and_quantities_scale():
    document = weave_json("wooden chair", "3", "--top", "1")
    assert (document["item"], document["quantity"], document["plan_count"]) == ("chair", 3, "12")
    best = document["plans"][0]
    assert best["equation"] == "P = 3·K + 12·L + 3·S + 3·B"
    assert best["score"] == pytest.approx(106.5)
    assert [c["quantity"] for c in best["tree"]["inputs"]] == [12, 3, 3]


def test_latex_free_gives_four_plans():
    document = weave_json("chair", "1", "--criteria", "latex-free", "--top", "10")
    check_document(document, plans=4)
    assert document["plan_count"] == "4"
    best = document["plans"][0]
    assert best["equation"] == "P = K + 2·K2 + 2·M + S + B"
    assert best["score"] == pytest.approx(38.0)
    legs = best["tree"]["inputs"][0]
    assert short(legs) == ("leg", 4, "leg-turned@eli-studio", ("maple-board", 2, "bob-maple"))
    # every criterion must hold: one nobody asserts leaves nothing
    none = weave_json("chair", "1", "--criteria", "latex-free, organic")
    assert none["plan_count"] == "0" and none["plans"] == []


def ranked(rank: str) -> dict:
    return weave_json("chair", "1", "--rank", rank, "--top", "12")


@pytest.mark.parametrize("rank", ["price", "distance", "risk", "balanced"])
def test_every_ranking_works(rank):
    document = ranked(rank)
    check_document(document, plans=12)
    assert document["plan_count"] == "12"
    # the same twelve plans, in another order
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
    # none of its stages in Eli's studio, each at the default 5 %: three offers (confirm, ship)
    # and Ana's chair (make, inspect, ship, and her receipt of each of the three inputs) make
    # 12 stages, −12 · log 0.95 (the buyer's receive and accept are the same in every plan)
    assert best["score"] == pytest.approx(-12 * log(0.95))


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
    assert document["plan_count"] == "24"  # two backs now: 2 · 3 · 2 · 2
    best = document["plans"][0]
    # K + 4·L + S + B = 15 + 4 × 2.50 + 10.50 + 4
    assert best["price"] == pytest.approx(39.5)
    assert best["unknowns"] == []
    assert short(best["tree"])[3:] == (
        ("leg", 4, "fern-legs"), ("seat", 1, "gus-seats"), ("back", 1, "ivy-backs")
    )  # fmt: skip
    assert best["tree"]["inputs"][2]["source"]["supplier"] == "ivy"
    assert (
        weave_json("chair", "1", "--criteria", "latex-free", network=(CHAIR, ivy))["plan_count"]
        == "8"
    )


def test_json_plans_come_in_order_of_unknown_terms_then_score(ivy):
    document = weave_json("chair", "1", "--top", "24", network=(CHAIR, ivy))
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


def test_catalog_as_a_table():
    result = scis("catalog", "--network", CHAIR)
    assert result.returncode == 0, result.stderr
    assert "chair" in result.stdout and "adaptive" in result.stdout and "normal" in result.stdout
    assert "6 of 6 items can be ordered" in result.stdout


def test_weave_as_text_shows_the_equation_and_the_legend():
    result = scis("weave", "chair", "1", "--network", CHAIR, "--top", "1")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # undo the terminal's wrapping
    assert "12 plans" in text
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
        "design": "okh-chair-helpful",
        "facility": "james-maker-space-facility",
        "operator": "james-maker-space",
    }
    assert [c["source"]["supplier"] for c in tree["inputs"]] == ["chair-supplies"] * 3
    # nobody has priced anything: the labour and all three parts are unknown
    assert plan["price"] is None and len(plan["unknowns"]) == 4
