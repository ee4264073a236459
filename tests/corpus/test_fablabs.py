"""The fab-lab directory of ../shared/corpus/okw: 2,237 real labs, loaded as published."""

from __future__ import annotations

import pytest

from core.importers import fablabs_json, importers, load_network
from core.network.geo import haversine_km
from core.network.model import Location

pytestmark = pytest.mark.corpus

FILE = "okw/fablabs-io-facilities.json"


def test_every_lab_becomes_a_maker_with_a_facility(corpus):
    result = load_network([corpus / "okw"])
    network = result.network
    assert result.errors == []
    assert len(network.facilities) == len(network.participants) == 2237
    assert all(p.roles == ("maker",) for p in network.participants.values())
    assert all(f.operator == f.id and not f.processes for f in network.facilities.values())
    # The directory knows nothing of equipment: what a lab can do is unknown, so it makes
    # nothing until it says. That, and the labs without coordinates, are said once each.
    assert not any(f.processes_known for f in network.facilities.values())
    equipment, note = result.diagnostics
    assert "names no process" in equipment.message and equipment.line == 1
    assert (note.severity, note.field) == ("warning", "geocoding")
    assert note.message.startswith("201 of 2237 labs have no coordinates")


def test_a_lab_keeps_its_name_place_address_and_line(corpus):
    network = load_network([corpus / FILE]).network
    ping = network.participants["fablabs:ping"]
    assert ping.name == "PiNG"
    assert ping.location == Location(47.218371, -1.55362100000002, "Nantes, FR")
    assert dict(ping.contacts) == {"web": "https://www.fablabs.io/labs/ping"}
    assert ping.origin.line == 56
    facility = network.facilities["fablabs:ping"]
    assert network.location_of_facility(facility) == ping.location
    # The first lab has no coordinates: it has no location rather than a made-up one.
    songpa = network.participants["fablabs:fablabsongpa"]
    assert (songpa.name, songpa.location, songpa.origin.line) == ("Fablab Songpa", None, 2)


def test_labs_sharing_a_name_keep_distinct_ids(corpus):
    network = load_network([corpus / FILE]).network
    iroko = {p.id for p in network.participants.values() if p.name.lower() == "iroko fablab"}
    assert iroko == {"fablabs:irokofablab", "fablabs:atelieriroko"}


def test_the_labs_near_nantes_are_found_by_distance(corpus):
    network = load_network([corpus / FILE]).network
    nantes = Location(47.2184, -1.5536)
    near = [
        p.id
        for p in network.participants.values()
        if p.location and haversine_km(p.location, nantes) < 5
    ]
    assert "fablabs:ping" in near


def test_only_the_directory_is_recognised_among_the_json_files(corpus):
    assert fablabs_json.recognizes(corpus / FILE)
    others = sorted((corpus / "valueflows").rglob("*.json*"))
    assert others
    for path in others:
        assert not fablabs_json.recognizes(path), path
    recognising = [i.name for i in importers() if i.recognizes(corpus / FILE)]
    assert recognising == [fablabs_json.name]


def test_the_okw_folder_is_covered(corpus):
    assert [p.name for p in (corpus / "okw").iterdir()] == ["fablabs-io-facilities.json"]
