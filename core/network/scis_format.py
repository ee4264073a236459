"""The native network format, `scis: 1` YAML (ARCHITECTURE.md, The network format).

Every problem is reported with file, line and field. A record with a bad field is left out with
an error; the rest of the file still loads, so one typo does not hide the whole network.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from core.network.assemble import Fragment
from core.network.diagnostics import Diagnostic, error, warning
from core.network.model import (
    ROLES,
    Delivery,
    Design,
    Facility,
    Item,
    Location,
    Offer,
    Origin,
    Participant,
    Substitute,
    Transport,
    frozen_mapping,
)
from core.network.processes import canonical
from core.network.yaml_source import LocatedDict, LocatedList, read_yaml

SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$")
# Beyond these no price, capacity or quantity is meant, and float() of a longer integer overflows.
MAX_NUMBER = 10**12
MAX_WHOLE = 10**9  # units of one input per batch, or a batch's yield
SECTIONS = ("participants", "items", "designs", "facilities", "offers", "transport", "substitutes")
# What a network may assume where its records are silent: `assume: {unknown-processes: any}`
# lets designs and facilities whose processes are unknown (imported from manifests that name
# none) match as if they needed and ran none. Without it they match nothing.
ASSUMPTIONS = {"unknown-processes": ("any", "none")}
# How a mover serves a leg: a participant's `pickup`, an offer's or a facility's `delivery`.
DELIVERY_FIELDS = ("range_km", "price", "price_per_km", "speed_kmh")


class _Invalid(Exception):
    """One field of one record is wrong; the record is skipped."""


def read_scis_file(path: Path | str) -> Fragment:
    data, diagnostics = read_yaml(path)
    return _fragment_from(data, diagnostics, str(path))


def _fragment_from(data, diagnostics: list[Diagnostic], source: str) -> Fragment:
    fragment = Fragment(source=source, diagnostics=list(diagnostics))
    if data is None:
        if not diagnostics:
            fragment.diagnostics.append(error("empty file; expected `scis: 1`", source, 1))
        return fragment
    if not isinstance(data, LocatedDict) or data.get("scis") != 1:
        line = data.line_of("scis") if isinstance(data, LocatedDict) else 1
        fragment.diagnostics.append(
            error("not a SCIS network: the file must start with `scis: 1`", source, line, "scis")
        )
        return fragment
    for key in data:
        if key not in ("scis", "assume") and key not in SECTIONS:
            fragment.diagnostics.append(
                error(f"unknown section {_shown(key)}", source, data.line_of(key), str(key)[:40])
            )
    reader = _Reader(source, fragment.diagnostics)
    fragment.assumes_any_process = reader.assumptions(data).get("unknown-processes") == "any"
    fragment.participants = reader.section(data, "participants", reader.participant)
    fragment.items = reader.section(data, "items", reader.item)
    fragment.designs = reader.section(data, "designs", reader.design)
    fragment.facilities = reader.section(data, "facilities", reader.facility)
    fragment.offers = reader.section(data, "offers", reader.offer)
    fragment.transport = reader.section(data, "transport", reader.transport)
    fragment.substitutes = reader.section(data, "substitutes", reader.substitute, keyed=False)
    return fragment


class _Reader:
    def __init__(self, source: str, diagnostics: list[Diagnostic]):
        self.source = source
        self.diagnostics = diagnostics
        self.seen_ids: dict[str, int] = {}

    def section(self, data: LocatedDict, name: str, build, keyed: bool = True) -> list:
        entries = data.get(name)
        if entries is None:
            return []
        if not isinstance(entries, LocatedList):
            self.diagnostics.append(error("must be a list", self.source, data.line_of(name), name))
            return []
        records = []
        for index, entry in enumerate(entries):
            line = entries.line_of(index)
            if not isinstance(entry, LocatedDict):
                self.diagnostics.append(
                    error("must be a mapping", self.source, line, f"{name}[{index}]")
                )
                continue
            if _has_duplicate_keys(entry):
                # Already reported at the key's line; which of the two values was meant is a
                # guess, so the record is left out like any other record with a bad field.
                continue
            try:
                record = build(entry, Origin(self.source, entry.line))
            except _Invalid:
                continue
            if keyed:
                if record.id in self.seen_ids:
                    first = self.seen_ids[record.id]
                    message = f"duplicate id {record.id!r} (first at line {first})"
                    self.diagnostics.append(error(message, self.source, entry.line_of("id"), "id"))
                    continue
                self.seen_ids[record.id] = entry.line_of("id")
            records.append(record)
        return records

    def assumptions(self, data: LocatedDict) -> dict[str, str]:
        """The `assume` section; a key or value SCIS does not know is an error and ignored."""
        value = data.get("assume")
        if value is None:
            return {}
        if not isinstance(value, LocatedDict):
            line = data.line_of("assume")
            message = f"must be a mapping such as {{unknown-processes: any}}, not {_shown(value)}"
            self.diagnostics.append(error(message, self.source, line, "assume"))
            return {}
        said = {}
        for key, choice in value.items():
            field_name = f"assume.{str(key)[:40]}"
            allowed = ASSUMPTIONS.get(str(key))
            if allowed is None:
                expected = ", ".join(ASSUMPTIONS)
                message = f"unknown assumption; expected {expected}"
                self.diagnostics.append(error(message, self.source, value.line_of(key), field_name))
            elif str(choice) not in allowed:
                message = f"must be {' or '.join(allowed)}, not {_shown(choice)}"
                self.diagnostics.append(error(message, self.source, value.line_of(key), field_name))
            else:
                said[str(key)] = str(choice)
        return said

    # -- records ---------------------------------------------------------------------------

    def participant(self, e: LocatedDict, origin: Origin) -> Participant:
        self._only(
            e, {"id", "name", "roles", "location", "contacts", "failure_probability", "pickup"}
        )
        roles = self._list(e, "roles", default=[])
        for role in roles:
            if role not in ROLES:
                self._fail(
                    e.line_of("roles"),
                    "roles",
                    f"unknown role {_shown(role)}; use {', '.join(ROLES)}",
                )
        contacts = self._contacts(e)
        return Participant(
            id=self._id(e),
            name=str(self._opt(e, "name", str, default=e.get("id"))),
            roles=tuple(roles),
            location=self._location(e),
            contacts=frozen_mapping(contacts),
            failure_probability=self._probability(e, "failure_probability"),
            pickup=self._delivery(e, "pickup"),
            origin=origin,
        )

    def item(self, e: LocatedDict, origin: Origin) -> Item:
        self._only(e, {"id", "name", "unit", "properties", "aliases", "mass_kg"})
        return Item(
            id=self._id(e),
            name=str(self._opt(e, "name", str, default=e.get("id"))),
            unit=str(self._opt(e, "unit", str, default="each")),
            properties=frozen_mapping(self._opt(e, "properties", dict, default={})),
            aliases=tuple(str(a) for a in self._list(e, "aliases", default=[])),
            mass_kg=self._number(e, "mass_kg"),
            origin=origin,
        )

    def design(self, e: LocatedDict, origin: Origin) -> Design:
        self._only(
            e,
            {
                "id",
                "name",
                "makes",
                "yield",
                "inputs",
                "processes",
                "labor",
                "make_days",
                "properties",
            },
        )
        inputs = self._opt(e, "inputs", dict, default={})
        parsed_inputs = []
        for item_id, quantity in inputs.items():
            if not _is_whole(quantity):
                self._fail(
                    inputs.line_of(item_id),
                    f"inputs.{item_id}",
                    f"quantity must be a positive whole number up to {MAX_WHOLE:,}, not "
                    f"{_shown(quantity)}",
                )
            parsed_inputs.append((str(item_id), quantity))
        yield_ = e.get("yield", 1)
        if not _is_whole(yield_):
            self._fail(
                e.line_of("yield"),
                "yield",
                f"must be a positive whole number up to {MAX_WHOLE:,}, not {_shown(yield_)}",
            )
        return Design(
            id=self._id(e),
            name=self._opt(e, "name", str, default=None),
            makes=self._required(e, "makes", str),
            inputs=tuple(parsed_inputs),
            yield_=yield_,
            processes=self._processes(e),
            labor=self._number(e, "labor"),
            make_days=self._number(e, "make_days"),
            properties=frozen_mapping(self._opt(e, "properties", dict, default={})),
            origin=origin,
        )

    def facility(self, e: LocatedDict, origin: Origin) -> Facility:
        self._only(
            e,
            {
                "id",
                "name",
                "operator",
                "processes",
                "capacity",
                "location",
                "failure_probability",
                "delivery",
            },
        )
        capacity = self._opt(e, "capacity", dict, default={})
        for item_id, amount in capacity.items():
            if not _is_number(amount) or amount < 0 or amount > MAX_NUMBER:
                self._fail(
                    capacity.line_of(item_id),
                    f"capacity.{item_id}",
                    f"must be a number from 0 to {MAX_NUMBER:,}, not {_shown(amount)}",
                )
        return Facility(
            id=self._id(e),
            name=self._opt(e, "name", str, default=None),
            operator=self._required(e, "operator", str),
            processes=self._processes(e),
            capacity=frozen_mapping({str(k): float(v) for k, v in capacity.items()}),
            location=self._location(e),
            failure_probability=self._probability(e, "failure_probability"),
            delivery=self._delivery(e, "delivery"),
            origin=origin,
        )

    def offer(self, e: LocatedDict, origin: Origin) -> Offer:
        self._only(
            e,
            {
                "id",
                "supplier",
                "item",
                "price",
                "capacity",
                "lead_time_days",
                "properties",
                "failure_probability",
                "delivery",
            },
        )
        return Offer(
            id=self._id(e),
            supplier=self._required(e, "supplier", str),
            item=self._required(e, "item", str),
            price=self._number(e, "price"),
            capacity=self._number(e, "capacity"),
            lead_time_days=self._number(e, "lead_time_days"),
            properties=frozen_mapping(self._opt(e, "properties", dict, default={})),
            failure_probability=self._probability(e, "failure_probability"),
            delivery=self._delivery(e, "delivery"),
            origin=origin,
        )

    def transport(self, e: LocatedDict, origin: Origin) -> Transport:
        self._only(
            e,
            {
                "id",
                "name",
                "operator",
                "capacity_kg",
                "price_per_km",
                "base_price",
                "range_km",
                "speed_kmh",
                "failure_probability",
            },
        )
        return Transport(
            id=self._id(e),
            name=self._opt(e, "name", str, default=None),
            operator=self._required(e, "operator", str),
            capacity_kg=self._number(e, "capacity_kg"),
            price_per_km=self._number(e, "price_per_km"),
            range_km=self._number(e, "range_km"),
            base_price=self._number(e, "base_price"),
            speed_kmh=self._speed(e, "speed_kmh"),
            failure_probability=self._probability(e, "failure_probability"),
            origin=origin,
        )

    def substitute(self, e: LocatedDict, origin: Origin) -> Substitute:
        self._only(e, {"item", "by"})
        return Substitute(
            item=self._required(e, "item", str), by=self._required(e, "by", str), origin=origin
        )

    # -- fields ----------------------------------------------------------------------------

    def _processes(self, e: LocatedDict) -> frozenset[str]:
        """The processes as written, a known synonym (`3dp`, `CNC`) as its canonical id: the
        network's own words are the network's, so nothing is said about the others."""
        written = [str(p) for p in self._list(e, "processes", default=[])]
        return frozenset(canonical(p) or p for p in written)

    def _fail(self, line: int, field_name: str, message: str):
        self.diagnostics.append(error(message, self.source, line, field_name))
        raise _Invalid

    def _only(self, e: LocatedDict, allowed: set[str]) -> None:
        for key in e:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                self._fail(e.line_of(key), str(key), f"unknown field; expected one of {expected}")

    def _id(self, e: LocatedDict) -> str:
        value = e.get("id")
        if value is None:
            self._fail(e.line, "id", "missing")
        value = str(value)
        if not SLUG.match(value):
            self._fail(
                e.line_of("id"), "id", f"{_shown(value)} is not a slug (letters, digits, - _ .)"
            )
        return value

    def _required(self, e: LocatedDict, key: str, kind):
        if e.get(key) is None:
            self._fail(e.line, key, "missing")
        return self._opt(e, key, kind, default=None)

    def _opt(self, e: LocatedDict, key: str, kind, default):
        value = e.get(key)
        if value is None:
            return default
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, kind):
            self._fail(e.line_of(key), key, f"must be a {_kind_name(kind)}, not {_shown(value)}")
        return value

    def _list(self, e: LocatedDict, key: str, default):
        value = e.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            self._fail(e.line_of(key), key, f"must be a list, not {_shown(value)}")
        return value

    def _number(self, e: LocatedDict, key: str, shown: str | None = None) -> float | None:
        """`shown`: the field's name in errors when it is nested (`delivery.price`)."""
        value = e.get(key)
        if value is None:
            return None
        line, name = e.line_of(key), shown or key
        if not _is_number(value):
            self._fail(line, name, f"must be a number, not {_shown(value)}")
        if value < 0:
            self._fail(line, name, f"must not be negative ({_shown(value)})")
        if value > MAX_NUMBER:
            self._fail(line, name, f"must be at most {MAX_NUMBER:,}, not {_shown(value)}")
        return float(value)

    def _probability(self, e: LocatedDict, key: str) -> float | None:
        value = self._number(e, key)
        if value is not None and value > 1:
            self._fail(e.line_of(key), key, f"is a probability, between 0 and 1 ({value})")
        return value

    def _speed(self, e: LocatedDict, key: str, shown: str | None = None) -> float | None:
        """A speed goods move at: a mover that stands still would never arrive."""
        value = self._number(e, key, shown)
        if value == 0:
            self._fail(e.line_of(key), shown or key, "must be more than 0 (km/h)")
        return value

    def _delivery(self, e: LocatedDict, key: str) -> Delivery | None:
        """`{range_km, price, price_per_km, speed_kmh}`, each optional: how a supplier or a
        maker brings goods (`delivery`), or how a receiver fetches them (`pickup`)."""
        value = self._opt(e, key, dict, default=None)
        if value is None:
            return None
        for sub in value:
            if sub not in DELIVERY_FIELDS:
                self._fail(
                    value.line_of(sub),
                    f"{key}.{str(sub)[:40]}",
                    f"unknown field; expected one of {', '.join(DELIVERY_FIELDS)}",
                )
        return Delivery(
            range_km=self._number(value, "range_km", f"{key}.range_km"),
            price=self._number(value, "price", f"{key}.price"),
            price_per_km=self._number(value, "price_per_km", f"{key}.price_per_km"),
            speed_kmh=self._speed(value, "speed_kmh", f"{key}.speed_kmh"),
        )

    def _contacts(self, e: LocatedDict) -> dict[str, str]:
        contacts = self._opt(e, "contacts", dict, default={})
        kept = {}
        for platform, address in contacts.items():
            line, field_name = contacts.line_of(platform), f"contacts.{platform}"
            if isinstance(address, (dict, list)):
                self._fail(line, field_name, f"must be text, not {_shown(address)}")
            if address is None or not str(address).strip():
                self.diagnostics.append(warning("empty, left out", self.source, line, field_name))
                continue
            kept[str(platform)] = str(address)
        return kept

    def _location(self, e: LocatedDict) -> Location | None:
        value = self._opt(e, "location", dict, default=None)
        if value is None:
            return None
        for key in value:
            if key not in ("lat", "lon", "place"):
                self._fail(
                    value.line_of(key),
                    f"location.{key}",
                    "unknown field; expected lat, lon, place (a place with a comma needs "
                    'quotes: place: "Santurce, San Juan")',
                )
        lat, lon = value.get("lat"), value.get("lon")
        if not (_is_number(lat) and -90 <= lat <= 90 and _is_number(lon) and -180 <= lon <= 180):
            self._fail(value.line, "location", "needs lat (-90..90) and lon (-180..180)")
        place = value.get("place")
        return Location(float(lat), float(lon), None if place is None else str(place))


def _is_number(value) -> bool:
    """A real, finite number (YAML's .nan and .inf would poison every price they touch)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _is_whole(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 0 < value <= MAX_WHOLE


def _shown(value) -> str:
    """A value quoted back to the person, cut short: a hostile file's values can be huge."""
    text = repr(value) if isinstance(value, (str, int, float, bool)) or value is None else None
    if text is None:
        text = "a list" if isinstance(value, list) else "a mapping"
    return text if len(text) <= 40 else f"{text[:20]}… ({len(text):,} characters)"


def _has_duplicate_keys(value) -> bool:
    # Aliases make the data a graph where one mapping is reached many times: each is looked at
    # once, and without recursion.
    seen: set[int] = set()
    stack = [value]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, LocatedDict):
            if current.duplicate_keys:
                return True
            stack.extend(current.values())
        elif isinstance(current, LocatedList):
            stack.extend(current)
    return False


def _kind_name(kind) -> str:
    return {str: "text", dict: "mapping", list: "list"}.get(kind, kind.__name__)
