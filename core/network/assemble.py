"""Put the pieces read from many files together into one network, checking what refers to what.

Each importer returns a `Fragment`. Items are shared vocabulary (many files mention "M8 nut"), so
items with one id merge; any other record declared twice is an error on the later one. References
(a design's inputs, an offer's supplier, a facility's operator) are checked on the whole, so one
file may refer to what another declares; a record whose reference dangles is dropped with an
error at its own line, and the rest of the network still loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.network.diagnostics import Diagnostic, error
from core.network.model import (
    Design,
    Facility,
    Item,
    Network,
    Offer,
    Participant,
    Substitute,
    Transport,
    frozen_mapping,
)


@dataclass
class Fragment:
    """What one file (or one repository folder) contributes to a network."""

    source: str
    participants: list[Participant] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    designs: list[Design] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    transport: list[Transport] = field(default_factory=list)
    substitutes: list[Substitute] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when the file could not be read at all (nothing in it is usable)."""
        return any(d.severity == "error" for d in self.diagnostics) and not self.records_count

    @property
    def records_count(self) -> int:
        return sum(
            len(getattr(self, kind))
            for kind in ("participants", "items", "designs", "facilities", "offers", "transport")
        )


_UNIQUE_KINDS = ("participants", "designs", "facilities", "offers", "transport")


def assemble(fragments: list[Fragment]) -> tuple[Network, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    for fragment in fragments:
        diagnostics.extend(fragment.diagnostics)

    items: dict[str, Item] = {}
    for fragment in fragments:
        for item in fragment.items:
            items[item.id] = _merge_item(items[item.id], item) if item.id in items else item

    unique: dict[str, dict] = {kind: {} for kind in _UNIQUE_KINDS}
    for fragment in fragments:
        for kind in _UNIQUE_KINDS:
            seen = unique[kind]
            for record in getattr(fragment, kind):
                if record.id in seen:
                    first = seen[record.id].origin
                    diagnostics.append(
                        error(
                            f"duplicate id {record.id!r} (first declared at {first})",
                            record.origin.file,
                            record.origin.line,
                            "id",
                        )
                    )
                    continue
                seen[record.id] = record

    participants = unique["participants"]
    kept_designs = [d for d in unique["designs"].values() if _design_ok(d, items, diagnostics)]
    kept_facilities = [
        f
        for f in unique["facilities"].values()
        if _known(f.operator, participants, "participant", f, "operator", diagnostics)
    ]
    kept_offers = [
        o
        for o in unique["offers"].values()
        if _known(o.supplier, participants, "participant", o, "supplier", diagnostics)
        and _known(o.item, items, "item", o, "item", diagnostics)
    ]
    kept_transport = [
        t
        for t in unique["transport"].values()
        if _known(t.operator, participants, "participant", t, "operator", diagnostics)
    ]
    kept_substitutes = [
        s
        for fragment in fragments
        for s in fragment.substitutes
        if _known(s.item, items, "item", s, "item", diagnostics)
        and _known(s.by, items, "item", s, "by", diagnostics)
    ]
    network = Network.of(
        participants=participants.values(),
        items=items.values(),
        designs=kept_designs,
        facilities=kept_facilities,
        offers=kept_offers,
        transport=kept_transport,
        substitutes=kept_substitutes,
    )
    return network, diagnostics


def _merge_item(first: Item, later: Item) -> Item:
    """The first declaration wins; a later one adds its aliases, properties and a better name."""
    name = first.name if first.name != first.id else later.name
    aliases = tuple(dict.fromkeys(first.aliases + later.aliases + (later.name,)))
    aliases = tuple(a for a in aliases if a not in (name, first.id))
    properties = {**later.properties, **first.properties}
    return replace(
        first,
        name=name,
        aliases=aliases,
        properties=frozen_mapping(properties),
        mass_kg=first.mass_kg if first.mass_kg is not None else later.mass_kg,
    )


def _design_ok(design: Design, items: dict, diagnostics: list[Diagnostic]) -> bool:
    ok = _known(design.makes, items, "item", design, "makes", diagnostics)
    for input_id, _ in design.inputs:
        ok &= _known(input_id, items, "item", design, f"inputs.{input_id}", diagnostics)
    return ok


def _known(ref, table, what, record, field_name, diagnostics) -> bool:
    if ref is None or ref in table:
        return True
    record_id = getattr(record, "id", None) or getattr(record, "item", "")
    diagnostics.append(
        error(
            f"unknown {what} {ref!r} in {record_id!r}; it is left out",
            record.origin.file,
            record.origin.line,
            field_name,
        )
    )
    return False
