"""Helpful Engineering's OKW YAML: one file is one place (a kitchen, a maker space, a shop).

The place becomes a participant. What it has in stock (`supply-atoms`, `inventory-atoms`) and
what it makes without an OKH (`product-atoms`: "no additional supplies or inputs") become offers
with no price and no capacity, since the files give neither. Its tools (`tool-list-atoms`, else
`tool-list`) and `processes`, read as SCIS's processes (core/network/processes.py: a sewing
machine means sewing), become a facility that can carry out any OKH needing only those.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.importers import okf_common as okf
from core.importers.naming import slug, unique_id
from core.importers.text_file import read_text_file
from core.network.assemble import Fragment
from core.network.diagnostics import Diagnostic, error, warning
from core.network.model import Facility, Item, Offer, Origin, Participant, frozen_mapping
from core.network.processes import names_no_process
from core.network.yaml_source import parse_yaml

name = "okw-helpful"

_STOCK_KEYS = ("supply-atoms", "inventory-atoms", "product-atoms")
_USED = okf.atom_patterns(*_STOCK_KEYS, "tool-list-atoms", "processes") | {
    ("title",),
    ("tool-list",),
    ("contact",),
    ("contact", "email"),
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def recognizes(path: Path) -> bool:
    keys = okf.top_level_keys(path)
    if not keys or keys & okf.OKH_ONLY_KEYS:
        return False
    return bool(keys & okf.OKW_KEYS) or path.name.lower().endswith((".okw.yml", ".okw.yaml"))


def read(path: Path) -> Fragment:
    return read_text_file(path, read_text)


def read_text(text: str, source: str) -> Fragment:
    data, parse_diagnostics = parse_yaml(text, source, duplicates_are_errors=False)
    if not isinstance(data, dict):
        problem = "an OKW file must be a mapping" if data is not None else "empty OKW file"
        return Fragment(source, diagnostics=parse_diagnostics or [error(problem, source, 1)])
    diagnostics, fatal = (
        okf.judge_duplicates(text, source, _USED) if parse_diagnostics else ([], False)
    )
    fragment = Fragment(source, diagnostics=diagnostics)
    if fatal:
        return fragment
    if data.get("supplies-atom") is not None:
        diagnostics.append(
            warning(
                "'supplies-atom' is not an OKW key (Helpful writes 'supply-atoms'); ignored",
                source,
                data.line_of("supplies-atom"),
                "supplies-atom",
            )
        )
    participant_id, place_name = _identity(data, source, diagnostics)
    items, offers = _offers(data, participant_id, source, diagnostics)
    processes = okf.processes_from(
        data, "tool-list-atoms", "tool-list", source, diagnostics, place=True
    )
    processes |= okf.process_atoms(data, "processes", source, diagnostics)
    origin = Origin(source, data.line_of("title") if "title" in data else data.line)
    roles = []
    if offers:
        roles.append("supplier")
    if processes or data.get("product-atoms"):
        roles.append("maker")
    if not roles:
        diagnostics.append(
            warning(
                f"{place_name!r} lists no supplies, inventory, products or tools: it can "
                "contribute nothing yet",
                source,
                origin.line,
            )
        )
    fragment.participants = [
        Participant(
            participant_id,
            place_name,
            roles=tuple(roles),
            contacts=frozen_mapping(_contacts(data.get("contact"))),
            origin=origin,
        )
    ]
    # A place that makes things has a facility; when it names no tool or process, what it
    # can run is unknown, and it runs nothing until it says.
    if processes or data.get("product-atoms"):
        if not processes:
            diagnostics.append(
                names_no_process(
                    f"{place_name!r} (no tool-list-atoms, tool-list or processes)",
                    source,
                    origin.line,
                    facility=True,
                )
            )
        fragment.facilities = [
            Facility(
                f"{participant_id}-facility",
                participant_id,
                processes=processes,
                name=place_name,
                processes_known=bool(processes),
                origin=origin,
            )
        ]
    fragment.items, fragment.offers = items, offers
    return fragment


def _identity(data, source: str, diagnostics: list[Diagnostic]) -> tuple[str, str]:
    title = okf.clean(data.get("title"))
    if title:
        return slug(title), title
    # RobsArduinoShop.yml has no title; its file name is the only name it has.
    place_name = _CAMEL.sub(" ", Path(source).name.split(".")[0]).replace("-", " ").strip()
    diagnostics.append(
        warning(f"no title; the place is named after its file: {place_name!r}", source, 1, "title")
    )
    return slug(place_name, fallback="okw"), place_name


def _offers(data, participant_id: str, source: str, diagnostics: list[Diagnostic]):
    items: dict[str, Item] = {}
    offers: list[Offer] = []
    taken: set[str] = set()
    for key in _STOCK_KEYS:
        atoms = data.get(key)
        for index, atom in enumerate(okf.as_list(atoms)):
            line = okf.line_in(atoms, index, data.line_of(key))
            item = okf.atom_item(atom, source, line, f"{key}[{index}]", diagnostics)
            if item is None:
                continue
            if item.id in items:
                message = f"{item.name!r} is listed more than once; one offer is made"
                diagnostics.append(warning(message, source, line, f"{key}[{index}]"))
                continue
            items[item.id] = item
            offer_id = unique_id(f"{participant_id}-{_short(slug(item.name))}", taken)
            offers.append(Offer(offer_id, participant_id, item.id, origin=Origin(source, line)))
    return list(items.values()), offers


def _short(text: str, limit: int = 32) -> str:
    """Offer ids are typed in chat (`/quote ORDER p[id] 2.50`): keep whole words, few of them."""
    if len(text) <= limit:
        return text
    return text[: text.rfind("-", 0, limit + 1)] if "-" in text[: limit + 1] else text[:limit]


def _contacts(contact) -> dict[str, str]:
    """Helpful writes `contact: Robert L. Read, PhD, read.robert@gmail.com`: keep the e-mail."""
    text = contact.get("email") if isinstance(contact, dict) else contact
    found = _EMAIL.search(str(text)) if text else None
    return {"email": found.group(0)} if found else {}
