"""Helpful OKW files: edge cases, each a small file in tmp_path."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from core.importers import okw_helpful
from core.network.assemble import Fragment


def read(tmp_path: Path, text: str, name: str = "place.okw.yml") -> Fragment:
    path = tmp_path / name
    path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    return okw_helpful.read(path)


def test_stock_products_and_tools(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Rob's Kitchen
        contact: Robert L. Read, PhD, read.robert@example.org
        supply-atoms:
          - {identifier: Q34172, description: butter}
        inventory-atoms:
          - {identifier: Q4409456, description: white sugar}
          - {identifier: Q34172, description: Butter}
        product-atoms:
          - {identifier: Q16682389, description: Oatmeal raisin cookie}
        tool-list: pots, pans
        tool-list-atoms:
          - {identifier: Q36539, description: Oven}
        processes:
          - {identifier: Q211387, description: baking}
        """,
    )
    [place] = fragment.participants
    assert (place.id, place.name, place.roles) == (
        "rob-s-kitchen",
        "Rob's Kitchen",
        ("supplier", "maker"),
    )
    assert dict(place.contacts) == {"email": "read.robert@example.org"}
    [facility] = fragment.facilities
    assert facility.id == "rob-s-kitchen-facility" and facility.operator == "rob-s-kitchen"
    # Q211387 (soldering) is a process SCIS knows; the oven is not: the place runs it under its
    # Wikidata id and its words, so an OKH needing `wikidata:Q36539` or `oven` finds it.
    assert facility.processes == {"wikidata:Q36539", "oven", "electronics-assembly"}
    assert [(o.id, o.item) for o in fragment.offers] == [
        ("rob-s-kitchen-butter", "wikidata:Q34172"),
        ("rob-s-kitchen-white-sugar", "wikidata:Q4409456"),
        ("rob-s-kitchen-oatmeal-raisin-cookie", "wikidata:Q16682389"),
    ]
    assert all(o.price is None and o.capacity is None for o in fragment.offers)
    repeat, oven = fragment.diagnostics
    assert (repeat.severity, repeat.line, repeat.field) == ("warning", 7, "inventory-atoms[1]")
    assert (oven.line, oven.field) == (12, "tool-list-atoms")
    assert oven.message.startswith("'Oven (wikidata:Q36539)' is no process SCIS knows")


def test_a_place_that_makes_products_but_names_no_tool_runs_no_design(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Cookie Corner
        product-atoms:
          - {identifier: Q13266, description: cookie}
        """,
    )
    [facility] = fragment.facilities
    assert facility.processes == frozenset() and not facility.processes_known
    [said] = [d for d in fragment.diagnostics if "names no process" in d.message]
    assert (said.line, said.message) == (
        1,
        "'Cookie Corner' (no tool-list-atoms, tool-list or processes) names no process: "
        "it makes nothing until one is stated",
    )


def test_empty_and_null_lists_and_the_supplies_atom_typo(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Empty Shop
        tool-list-atoms: []
        supplies-atom:
        supply-atoms:
        inventory-atoms: []
        tool-list:
        """,
    )
    [place] = fragment.participants
    assert place.roles == () and not fragment.facilities and not fragment.offers
    [note] = fragment.diagnostics
    assert "contribute nothing" in note.message and note.line == 1


def test_a_non_null_supplies_atom_is_reported_not_read(tmp_path):
    fragment = read(
        tmp_path,
        "title: Shop\nsupplies-atom:\n  - {identifier: Q1, description: x}\nsupply-atoms: []\n",
    )
    assert not fragment.offers
    assert any(d.field == "supplies-atom" and d.line == 2 for d in fragment.diagnostics)


def test_a_place_without_title_is_named_after_its_file(tmp_path):
    fragment = read(
        tmp_path,
        "inventory-atoms:\n  - {identifier: Q11421, description: magnets}\n",
        name="RobsArduinoShop.yml",
    )
    [place] = fragment.participants
    assert (place.id, place.name) == ("robs-arduino-shop", "Robs Arduino Shop")
    assert fragment.offers[0].id == "robs-arduino-shop-magnets"


def test_long_descriptions_give_short_distinct_offer_ids(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Fabrics
        inventory-atoms:
          - {identifier: Q1, description: General purpose cotton fabric of garment weight}
          - {identifier: Q2, description: General purpose cotton fabric of suiting weight}
        """,
    )
    ids = [o.id for o in fragment.offers]
    assert ids == [
        "fabrics-general-purpose-cotton-fabric-of",
        "fabrics-general-purpose-cotton-fabric-of-2",
    ]


def test_a_used_key_given_twice_differently_leaves_the_place_out(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Shop
        supply-atoms: []
        supply-atoms:
          - {identifier: Q1, description: x}
        """,
    )
    [problem] = fragment.diagnostics
    assert (problem.severity, problem.line, problem.field) == ("error", 3, "supply-atoms")
    assert fragment.records_count == 0


def test_not_yaml_is_one_error(tmp_path):
    fragment = read(tmp_path, "title: Shop\nsupply-atoms: [\n")
    [problem] = fragment.diagnostics
    assert problem.severity == "error" and problem.line == 3
    assert fragment.records_count == 0
