"""The fab-lab directory JSON: edge cases, each a small file in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.importers import fablabs_json


def lab(name, url=None, lat=None, lon=None, city="Nantes", country="FR", fid="f1"):
    geocoding = None if lat is None and lon is None else {"latitude": lat, "longitude": lon}
    return {
        "geocoding": geocoding,
        "region": {"country": country, "city_town": city},
        "facility": {"name": name, "url": url, "facility_id": fid},
    }


def write(tmp_path: Path, entries, name: str = "labs.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    return path


def test_labs_skips_and_lines(tmp_path):
    path = write(
        tmp_path,
        [
            lab("PiNG", "https://www.fablabs.io/labs/ping", 47.2, -1.55),
            lab("  ", "https://www.fablabs.io/labs/blank"),
            "not a lab",
            lab("PiNG again", "https://www.fablabs.io/labs/ping/"),
            lab("No Url", fid="abc-123", lat=95.0, lon=0.0, city=""),
        ],
    )
    fragment = fablabs_json.read(path)
    ids = [p.id for p in fragment.participants]
    assert ids == ["fablabs:ping", "fablabs:ping-2", "fablabs:abc-123"]
    assert [f.id for f in fragment.facilities] == ids
    first = fragment.participants[0]
    assert (first.location.lat, first.location.place, first.origin.line) == (47.2, "Nantes, FR", 2)
    assert fragment.participants[2].location is None
    skipped = [d for d in fragment.diagnostics if "skipped" in d.message]
    assert [(d.line, d.field) for d in skipped] == [(17, "[1]"), (29, "[2]")]
    [off_earth] = [d for d in fragment.diagnostics if "not a place on Earth" in d.message]
    assert off_earth.field == "[4].geocoding"
    assert any(
        d.message.startswith("2 of 3 labs have no coordinates") for d in fragment.diagnostics
    )


def test_broken_json_is_one_error_at_its_line(tmp_path):
    path = tmp_path / "labs.json"
    path.write_text('[\n  {"facility": {"name": "A"}, "region": {}},\n  {"facility": }\n]\n')
    assert fablabs_json.recognizes(path)
    fragment = fablabs_json.read(path)
    [problem] = fragment.diagnostics
    assert (problem.severity, problem.line) == ("error", 3)
    assert fragment.records_count == 0


@pytest.mark.parametrize(
    "content",
    [
        {"facility": {"name": "A"}, "region": {}},
        [{"name": "A", "region": "x"}],
        [1, 2, 3],
        [],
    ],
)
def test_other_json_is_not_recognised(tmp_path, content):
    assert not fablabs_json.recognizes(write(tmp_path, content))


def test_only_json_files(tmp_path):
    path = write(tmp_path, [lab("A")], name="labs.yml")
    assert not fablabs_json.recognizes(path)
    assert fablabs_json.recognizes(write(tmp_path, [lab("A")]))
