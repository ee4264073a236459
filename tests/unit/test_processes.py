"""One process vocabulary across formats, and unknown processes matching nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from textwrap import dedent

import pytest

from core.importers import load_network, okh_v1, okw_helpful
from core.importers.okh_losh import tsdc_processes
from core.network.model import Design, Facility, Item, Network, Participant
from core.network.processes import canonical, vocabulary
from core.network.scis_format import read_scis_file
from core.network.snapshot import from_document, to_document
from core.weave import PlanCounter, SupplyIndex
from core.weave.shortfall import FACILITIES_UNKNOWN, UNSTATED, Unequipped, shortfall
from core.weave.sources import Made

DATA = Path(__file__).parent.parent / "data"
RIYA = DATA / "okw" / "Riya3dprinting.yml"


@pytest.mark.parametrize(
    "term",
    [
        "3DP",
        "tsdc:3dp",
        "Q229367",
        "wikidata:Q229367",
        "https://www.wikidata.org/wiki/Q229367",
        "http://www.wikidata.org/entity/Q229367",
        "Q3834994",  # a 3D printer: the tool implies the process
        "3D printing",
        "3d-printing",
        "Fused Deposition Modeling (FDM)",
        "https://en.wikipedia.org/wiki/3D_printing",
    ],
)
def test_every_way_of_naming_3d_printing_is_one_process(term):
    assert canonical(term) == "3d-printing"


def test_formats_meet_on_one_name_and_unknown_terms_stay_unknown():
    assert canonical("MEC") == canonical("ASM") == canonical("assembly") == "assembly"
    assert canonical("Sewing machine") == canonical("Q49013") == "sewing"
    assert canonical("soldering station") == canonical("CIR") == "electronics-assembly"
    assert canonical("CNC") == "cnc-milling" and canonical("LAS") == "laser-cutting"
    for unknown in ("STD", "hammer", "Q25294", "https://example.org/x", ""):
        assert canonical(unknown) is None
    # Every canonical id is what the native format writes, and names itself.
    assert all(canonical(process_id) == process_id for process_id in vocabulary())


def test_an_unknown_tsdc_code_is_kept_and_said_once_per_file():
    diagnostics = []
    first = tsdc_processes(["3DP", "STD"], "okh.toml", 4, "tsdc", diagnostics)
    again = tsdc_processes("STD", "okh.toml", 9, "part[0].tsdc", diagnostics)
    assert first == {"3d-printing", "std"} and again == {"std"}
    [said] = diagnostics
    assert (said.severity, said.file, said.line) == ("warning", "okh.toml", 4)
    assert said.message == (
        "'STD' is no process SCIS knows; it matches only facilities that name it the same"
    )


def test_helpful_tools_become_processes_and_unknown_tools_keep_their_wikidata_id():
    fragment = okw_helpful.read(RIYA)
    [facility] = fragment.facilities
    # FDM (Q1475300, unknown to the vocabulary) by its description, the soldering station by
    # its words; the modelling software is no process SCIS knows and keeps its Wikidata id.
    assert facility.processes == {
        "3d-printing",
        "electronics-assembly",
        "wikidata:Q110779090",
        "3d-modeling-software",
    }
    assert facility.processes_known
    [unknown] = [d for d in fragment.diagnostics if "no process SCIS knows" in d.message]
    assert unknown.message.startswith("'3D modeling software (wikidata:Q110779090)'")
    assert unknown.file == str(RIYA) and unknown.line == 52


def test_an_identifier_that_contradicts_its_link_is_read_and_reported(tmp_path):
    path = tmp_path / "sewing.okw.yml"
    path.write_text(
        dedent(
            """\
            title: Sewing room
            processes:
              - identifier: Q211387
                description: Sewing of simple garments
                link: https://www.wikidata.org/wiki/Q652122
            """
        )
    )
    fragment = okw_helpful.read(path)
    assert fragment.facilities[0].processes == {"electronics-assembly"}
    [said] = [d for d in fragment.diagnostics if "link" in d.message]
    assert (said.line, said.field) == (3, "processes[0]")
    assert "identifier Q211387 and link Q652122 are different Wikidata items" in said.message


def test_an_okh_naming_no_tool_is_made_nowhere(tmp_path):
    path = tmp_path / "okh.yml"
    path.write_text("title: Stool\nbom: 3 legs\nproject-link: https://example.org/stool\n")
    fragment = okh_v1.read(path)
    [design] = fragment.designs
    assert not design.processes_known and design.processes == frozenset()
    [said] = [d for d in fragment.diagnostics if "names no process" in d.message]
    assert (said.file, said.line) == (str(path), 1)
    assert said.message.endswith("it can be made at no facility until one is stated")


# -- matching ---------------------------------------------------------------------------------


def _network(design: Design, *facilities: Facility) -> Network:
    return Network.of(
        participants=[Participant("p", "P")],
        items=[Item("stool", "Stool")],
        designs=[design],
        facilities=facilities,
    )


STATED = Facility("shop", "p", frozenset({"woodworking"}))
UNSAID = Facility("lab", "p", processes_known=False)


def test_unknown_processes_match_nothing_by_default():
    needs_none = Design("d", "stool")
    unsaid = Design("d", "stool", processes_known=False)
    assert _made_at(_network(needs_none, STATED, UNSAID)) == ["shop"]
    assert _made_at(_network(unsaid, STATED, UNSAID)) == []
    network = _network(Design("d", "stool", processes=frozenset({"woodworking"})), UNSAID)
    assert _made_at(network) == []


def test_a_network_may_assume_unknown_processes_match_any(tmp_path):
    assumed = tmp_path / "assume.yaml"
    assumed.write_text("scis: 1\nassume: {unknown-processes: any}\n")
    labs = tmp_path / "labs.yaml"
    labs.write_text(
        dedent(
            """\
            scis: 1
            participants: [{id: p, name: P}]
            items: [{id: stool, name: Stool}]
            facilities: [{id: shop, operator: p, processes: [3dp]}]
            """
        )
    )
    loaded = load_network([labs, assumed])
    assert loaded.network.unknown_processes_match_any and not loaded.errors
    assert loaded.network.facilities["shop"].processes == {"3d-printing"}  # a synonym, silently
    network = replace(
        loaded.network,
        designs={"d": Design("d", "stool", processes_known=False)},
        facilities={**loaded.network.facilities, "lab": UNSAID},
    )
    assert _made_at(network) == ["shop", "lab"]
    assert from_document(to_document(network)).unknown_processes_match_any
    assert not load_network([labs]).network.unknown_processes_match_any


def test_under_the_assumption_no_warning_says_unknown_processes_match_nothing(tmp_path, corpus):
    assumed = tmp_path / "assume.yaml"
    assumed.write_text("scis: 1\nassume: {unknown-processes: any}\n")
    labs = corpus / "okw" / "fablabs-io-facilities.json"
    [as_published] = [d for d in load_network([labs]).diagnostics if "no process" in d.message]
    assert as_published.message.endswith("it makes nothing until one is stated")
    [assumed_said] = [
        d for d in load_network([labs, assumed]).diagnostics if "no process" in d.message
    ]
    assert (assumed_said.file, assumed_said.line) == (as_published.file, as_published.line)
    assert "makes nothing" not in assumed_said.message
    assert assumed_said.message.endswith(
        "names no process: the network assumes it runs what needs none "
        "(`assume: {unknown-processes: any}`)"
    )


def test_an_assumption_scis_does_not_know_is_an_error_with_its_line(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("scis: 1\nassume:\n  unknown-processes: some\n  weather: fine\n")
    fragment = read_scis_file(path)
    assert not fragment.assumes_any_process
    assert [(d.line, d.field) for d in fragment.diagnostics] == [
        (3, "assume.unknown-processes"),
        (4, "assume.weather"),
    ]
    assert fragment.diagnostics[0].message == "must be any or none, not 'some'"


def test_the_shortfall_says_why_processes_stop_an_item():
    unsaid = _network(Design("d", "stool", processes_known=False), STATED)
    assert shortfall(unsaid, "stool") == (Unequipped("stool", "d", (), UNSTATED),)
    needs = Design("d", "stool", processes=frozenset({"woodworking"}))
    only_labs = _network(needs, UNSAID)
    assert shortfall(only_labs, "stool") == (
        Unequipped("stool", "d", ("woodworking",), FACILITIES_UNKNOWN),
    )


def _made_at(network: Network) -> list[str]:
    return [s.facility.id for s in SupplyIndex(network).sources("stool") if isinstance(s, Made)]


# -- the real files ---------------------------------------------------------------------------


def test_a_losh_3d_printed_part_is_made_at_a_helpful_3d_printing_facility(corpus):
    network = load_network([corpus / "losh" / "MOSH-A", RIYA]).network
    [ring] = [d for d in network.designs.values() if d.name == "Clamp Ring"]  # tsdc = "3DP"
    assert ring.processes == {"3d-printing"} and ring.processes_known
    places = [
        s.facility.origin.file
        for s in SupplyIndex(network).sources(ring.makes)
        if isinstance(s, Made) and s.design == ring
    ]
    assert places == [str(RIYA)]


def test_with_the_fab_lab_directory_nothing_is_made_at_a_lab(corpus):
    loaded = load_network([corpus / "losh", corpus / "okw" / "fablabs-io-facilities.json"])
    network = loaded.network
    index = SupplyIndex(network)
    assert len(network.facilities) == 2237
    made = [s for item in network.items for s in index.sources(item) if isinstance(s, Made)]
    assert made == []
    counter = PlanCounter(index)
    assert all(counter.count(d.makes) == 0 for d in network.designs.values())
    [said] = [d for d in loaded.diagnostics if "says nothing about equipment" in d.message]
    assert said.message == (
        "the directory says nothing about equipment: each of the 2,237 labs names no process: "
        "it makes nothing until one is stated"
    )


def test_an_okh_naming_a_tool_in_words_meets_a_place_that_names_it_by_wikidata(tmp_path, corpus):
    # The dessert kitchen lists "Oven (Q36539)", a tool the vocabulary does not know: an OKH v1
    # writing `tool-list: oven` still finds it, as one writing the Wikidata atom does.
    kitchen = corpus / "helpful" / "beta" / "okw" / "RobDessertKitchen.yml"
    for tools in ("tool-list: oven", "tool-list-atoms: [{identifier: Q36539, description: Oven}]"):
        manifest = tmp_path / "okh.yml"
        manifest.write_text(f"title: Shortbread\nbom: butter\n{tools}\n", encoding="utf-8")
        network = load_network([manifest, kitchen]).network
        sources = SupplyIndex(network).sources("shortbread")
        assert [s.facility.id for s in sources if isinstance(s, Made)] == [
            "rob-s-dessert-kitchen-facility"
        ], tools
