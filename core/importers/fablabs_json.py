"""The fab-lab directory JSON (fablabs.io via the IoP Alliance's OKW data): a list of labs, each
`{facility: {name, url, facility_id, ...}, region: {country, city_town, ...}, geocoding, ...}`.

Each lab is a maker with one facility. The directory says nothing about equipment, so what the
facility can do is unknown (`processes_known=False`): it makes nothing until the lab says what it
can do, or a network file assumes unknown processes match any (core/network/scis_format.py).
Ids come from the lab's fablabs.io address (`fablabs:ping`), which is unique and
stable across exports, unlike names (eight names occur twice).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.importers.naming import slug, unique_id
from core.importers.text_file import read_text_file
from core.network.assemble import Fragment
from core.network.diagnostics import Diagnostic, error, warning
from core.network.model import Facility, Location, Origin, Participant, frozen_mapping
from core.network.processes import names_no_process

name = "fablabs-json"


def recognizes(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() != ".json":
        return False
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    # A list of objects that speak of facilities and regions: JSON Schemas and other
    # documents are objects, and other lists do not carry these keys.
    start = head.lstrip()
    return (
        start.startswith("[")
        and start[1:].lstrip().startswith("{")
        and '"facility"' in head
        and ('"region"' in head or '"geocoding"' in head)
    )


def read(path: Path) -> Fragment:
    return read_text_file(path, read_text)


def read_text(text: str, source: str) -> Fragment:
    try:
        entries = list(_entries_with_lines(text))
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        message = f"not a JSON list of labs: {getattr(exc, 'msg', exc)}"
        return Fragment(source, diagnostics=[error(message, source, line)])
    fragment = Fragment(source)
    taken: set[str] = set()
    unlocated = 0
    for index, (entry, line) in enumerate(entries):
        participant = _lab(entry, index, line, source, taken, fragment.diagnostics)
        if participant is None:
            continue
        unlocated += participant.location is None
        fragment.participants.append(participant)
        fragment.facilities.append(
            Facility(
                participant.id,
                participant.id,
                name=participant.name,
                processes_known=False,
                origin=participant.origin,
            )
        )
    if fragment.facilities:
        labs = len(fragment.facilities)
        what = "the one lab" if labs == 1 else f"each of the {labs:,} labs"
        fragment.diagnostics.append(
            names_no_process(
                f"the directory says nothing about equipment: {what}", source, 1, facility=True
            )
        )
    if unlocated:
        message = (
            f"{unlocated} of {len(fragment.participants)} labs have no coordinates: "
            "distances to them are unknown"
        )
        fragment.diagnostics.append(warning(message, source, None, "geocoding"))
    return fragment


def _entries_with_lines(text: str):
    """Each element of the top-level list with the line it starts on; `json` alone gives no
    positions, and a skipped lab should be findable in a 60,000-line file."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        raise json.JSONDecodeError("expected a list", text, position)
    position, line, counted = _skip_space(text, position + 1), 1, 0
    if text.startswith("]", position):
        return
    while True:
        line += text.count("\n", counted, position)
        counted = position
        value, position = decoder.raw_decode(text, position)
        yield value, line
        position = _skip_space(text, position)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
        elif text.startswith("]", position):
            return
        else:
            raise json.JSONDecodeError("expected ',' or ']'", text, position)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _lab(entry, index: int, line: int, source: str, taken: set[str], diagnostics):
    field = f"[{index}]"
    facility = entry.get("facility") if isinstance(entry, dict) else None
    lab_name = (
        " ".join(str(facility.get("name") or "").split()) if isinstance(facility, dict) else ""
    )
    if not lab_name:
        diagnostics.append(warning("a lab without a facility name; skipped", source, line, field))
        return None
    url = str(facility.get("url") or "").strip()
    key = url.rstrip("/").rsplit("/", 1)[-1] if url else ""
    key = slug(key or str(facility.get("facility_id") or "") or lab_name)
    lab_id = unique_id(f"fablabs:{key}", taken)
    region = entry.get("region") if isinstance(entry.get("region"), dict) else {}
    place = ", ".join(
        part
        for part in (str(region.get(k) or "").strip() for k in ("city_town", "country"))
        if part
    )
    location = _location(entry.get("geocoding"), place or None, source, line, field, diagnostics)
    return Participant(
        lab_id,
        lab_name,
        roles=("maker",),
        location=location,
        contacts=frozen_mapping({"web": url} if url else {}),
        origin=Origin(source, line),
    )


def _location(geocoding, place, source, line, field, diagnostics: list[Diagnostic]):
    if not isinstance(geocoding, dict):
        return None
    lat, lon = geocoding.get("latitude"), geocoding.get("longitude")
    if lat is None and lon is None:
        return None
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon))
    if not numbers or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        message = f"latitude {lat!r}, longitude {lon!r} is not a place on Earth; no location"
        diagnostics.append(warning(message, source, line, f"{field}.geocoding"))
        return None
    return Location(float(lat), float(lon), place)
