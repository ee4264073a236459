"""What OKH v1 manifests and Helpful's OKW files share: a peek at their keys, duplicate keys
judged by whether they matter, and Helpful's "atoms" (Wikidata-identified things) as items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.importers.naming import slug
from core.network.diagnostics import Diagnostic, error, warning
from core.network.model import Item, Origin
from core.network.processes import canonical, unknown_process, warn_once, wikidata_id
from core.network.yaml_source import compose_yaml

YAML_SUFFIXES = (".yml", ".yaml")
_TOP_KEY = re.compile(r"^([A-Za-z][\w.-]*)[ \t]*:", re.MULTILINE)
_WIKIDATA_ID = re.compile(r"Q[1-9][0-9]*")

# Keys that only a Helpful OKW has (an OKH names its product `product-atom`, singular).
OKW_KEYS = frozenset({"supply-atoms", "supplies-atom", "inventory-atoms", "product-atoms"})
OKH_ONLY_KEYS = frozenset({"okh-manifest-version", "bom-atoms", "product-atom"})


def top_level_keys(path: Path, limit: int = 65536) -> frozenset[str]:
    """The keys at column 0 of a YAML file, read as text so that a malformed file is still
    recognised (and then reported) rather than passed over."""
    if not path.is_file() or path.suffix.lower() not in YAML_SUFFIXES:
        return frozenset()
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(limit)
    except (OSError, UnicodeDecodeError):
        return frozenset()
    if head.lstrip().startswith("scis:"):
        return frozenset()
    return frozenset(_TOP_KEY.findall(head))


# -- duplicate keys ------------------------------------------------------------------------


@dataclass(frozen=True)
class Duplicate:
    path: tuple[str | int, ...]  # keys from the top; list positions as ints
    line: int
    first_line: int
    same_value: bool

    @property
    def field(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text

    @property
    def pattern(self) -> tuple[str, ...]:
        return tuple("*" if isinstance(part, int) else part for part in self.path)


def find_duplicates(text: str) -> list[Duplicate]:
    """Every repeated key with both lines. Composing (not constructing) keeps both values, so
    a repeat can be told apart from a contradiction."""
    found: list[Duplicate] = []
    # Aliases make the document a graph: a node reached again was looked at already (an alias
    # bomb walked as a tree never ends). Tasks are kept in file order without recursion.
    seen: set[int] = set()
    tasks: list = [(compose_yaml(text), ())]
    while tasks:
        task = tasks.pop()
        if isinstance(task, Duplicate):
            found.append(task)
            continue
        node, path = task
        if id(node) in seen:
            continue
        seen.add(id(node))
        later: list = []
        if isinstance(node, yaml.MappingNode):
            first: dict[str, tuple[int, yaml.Node]] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                line = key_node.start_mark.line + 1
                if key in first:
                    first_line, first_value = first[key]
                    same = _same_node(first_value, value_node)
                    later.append(Duplicate(path + (key,), line, first_line, same))
                else:
                    first[key] = (line, value_node)
                later.append((value_node, path + (key,)))
        elif isinstance(node, yaml.SequenceNode):
            later.extend((child, path + (index,)) for index, child in enumerate(node.value))
        tasks.extend(reversed(later))
    return found


def contradicted_keys(text: str) -> set[str]:
    """Top-level keys given twice with different values."""
    return {d.path[0] for d in find_duplicates(text) if len(d.path) == 1 and not d.same_value}


def _same_node(a, b) -> bool:
    if a is b:
        return True
    if type(a) is not type(b) or a.tag != b.tag:
        return False
    if isinstance(a, yaml.ScalarNode):
        return a.value == b.value
    if len(a.value) != len(b.value):
        return False
    if isinstance(a, yaml.SequenceNode):
        return all(_same_node(x, y) for x, y in zip(a.value, b.value, strict=True))
    return all(
        _same_node(ka, kb) and _same_node(va, vb)
        for (ka, va), (kb, vb) in zip(a.value, b.value, strict=True)
    )


def judge_duplicates(
    text: str,
    source: str,
    used: frozenset[tuple[str, ...]],
    naming: frozenset[str] = frozenset(),
) -> tuple[list[Diagnostic], bool]:
    """Diagnostics for repeated keys, and whether the file must be left out.

    A repeat of a key we do not read, or a repeat with the very same value, cannot change what
    we import: a warning. Two different values of a key we read leave us guessing which one the
    author meant, and we do not guess: an error, and nothing from the file is used. `naming`:
    top-level keys read only to name the record, which are passed over when contradicted (see
    `contradicted_keys`): a warning."""
    diagnostics: list[Diagnostic] = []
    fatal = False
    for dup in find_duplicates(text):
        key = dup.path[-1]
        if dup.pattern in {(k,) for k in naming} and not dup.same_value:
            message = (
                f"duplicate key {key!r} (first at line {dup.first_line}) with a different value: "
                "it is unclear which one is meant, so it does not name the design"
            )
            diagnostics.append(warning(message, source, dup.line, dup.field))
        elif dup.pattern not in used:
            message = (
                f"duplicate key {key!r} (first at line {dup.first_line}); SCIS does not read "
                "this key, so the file loads anyway (a plain YAML loader keeps the last)"
            )
            diagnostics.append(warning(message, source, dup.line, dup.field))
        elif dup.same_value:
            message = f"duplicate key {key!r} repeats line {dup.first_line} with the same value"
            diagnostics.append(warning(message, source, dup.line, dup.field))
        else:
            fatal = True
            message = (
                f"duplicate key {key!r} with a different value than at line {dup.first_line}: "
                "it is unclear which one is meant, so nothing from this file is loaded"
            )
            diagnostics.append(error(message, source, dup.line, dup.field))
    return diagnostics, fatal


# -- atoms ---------------------------------------------------------------------------------

ATOM_KEYS = ("identifier", "description", "quantity")


def atom_patterns(*list_keys: str, single: tuple[str, ...] = ()) -> frozenset[tuple[str, ...]]:
    """The key paths read from lists of atoms (and from single atoms such as `product-atom`)."""
    patterns = set()
    for key in list_keys + single:
        patterns.add((key,))
        patterns.update((key, "*", sub) for sub in ATOM_KEYS)
    for key in single:
        patterns.update((key, sub) for sub in ATOM_KEYS)
    return frozenset(patterns)


def as_list(value) -> list:
    """Atom lists as people write them: absent or empty (None), one mapping, or a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def line_in(container, key_or_index, default: int) -> int:
    line_of = getattr(container, "line_of", None)
    return line_of(key_or_index) if line_of else default


def clean(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def atom_item(
    atom, source: str, line: int, field: str, diagnostics: list[Diagnostic]
) -> Item | None:
    """The item an atom names. A Wikidata id makes `wikidata:Q…` so that every file naming the
    same thing meets on one item; without one, the description's slug is the id. Anything
    else in the identifier (Helpful's private `QH…` ids are reused for unrelated things) is
    reported and not used for matching."""
    if isinstance(atom, str):
        atom = {"description": atom}
    if not isinstance(atom, dict):
        diagnostics.append(
            warning("not an atom (identifier, description); skipped", source, line, field)
        )
        return None
    identifier = clean(atom.get("identifier"))
    description = clean(atom.get("description"))
    line = getattr(atom, "line", None) or line
    identifier_line = line_in(atom, "identifier", line)
    origin = Origin(source, line)
    if not _WIKIDATA_ID.fullmatch(identifier) and _WIKIDATA_ID.fullmatch(description):
        diagnostics.append(
            warning(
                f"identifier {identifier or None!r} and description {description!r} look swapped; "
                f"read as the Wikidata item {description}",
                source,
                identifier_line,
                field,
            )
        )
        identifier, description = description, identifier
    if _WIKIDATA_ID.fullmatch(identifier):
        item_id = f"wikidata:{identifier}"
        aliases = (slug(description),) if description else ()
        return Item(item_id, description or item_id, aliases=aliases, origin=origin)
    if description:
        if identifier:
            diagnostics.append(
                warning(
                    f"identifier {identifier!r} is not a Wikidata id; the item is known by its "
                    f"description {description!r}",
                    source,
                    identifier_line,
                    f"{field}.identifier",
                )
            )
        return Item(slug(description), description, origin=origin)
    keys = ", ".join(str(k) for k in atom) or "none"
    what = f"identifier {identifier!r} is not a Wikidata id" if identifier else "no identifier"
    diagnostics.append(
        warning(
            f"{what} and there is no description (keys: {keys}): the atom names nothing; skipped",
            source,
            line,
            field,
        )
    )
    return None


def split_list(text) -> list[str]:
    """'legs, seat, back' -> names. Commas inside parentheses belong to the name: Helpful's
    BOMs say 'NWPP bags ( 3 sheets, 8″ by 9″), Bias tape ...'."""
    if text is None:
        return []
    if isinstance(text, list):
        return [n for n in (clean(e) for e in text if not isinstance(e, dict | list)) if n]
    names, current, depth = [], "", 0
    for char in str(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [n for n in (clean(n) for n in names) if n]


def atom_ids(data: dict, key: str, source: str, diagnostics: list[Diagnostic]) -> set[str]:
    """The item ids named by the list of atoms under `key` (tools and processes have no item:
    the id is the process name)."""
    atoms = data.get(key)
    ids = set()
    for index, atom in enumerate(as_list(atoms)):
        line = line_in(atoms, index, line_in(data, key, 1))
        item = atom_item(atom, source, line, f"{key}[{index}]", diagnostics)
        if item is not None:
            ids.add(item.id)
    return ids


def processes_from(
    data: dict,
    atoms_key: str,
    plain_key: str,
    source: str,
    diagnostics: list[Diagnostic],
    *,
    place: bool = False,
) -> frozenset[str]:
    """Tools as processes: the atoms when there are any (they are the precise version), else the
    plain comma-separated list. Each becomes the process it implies in SCIS's vocabulary (a
    sewing machine: sewing); one the vocabulary does not know is kept, slugged, and reported
    once per file. A `place` (an OKW) runs an unknown tool under both its names, the atom's id
    and its words, so that an OKH naming it either way finds it."""
    if as_list(data.get(atoms_key)):
        return process_atoms(data, atoms_key, source, diagnostics, place=place)
    line = line_in(data, plain_key, 1)
    found = set()
    for name in split_list(data.get(plain_key)):
        process = canonical(name)
        if process is None:
            process = slug(name)
            warn_once(diagnostics, unknown_process(name, source, line, plain_key))
        found.add(process)
    return frozenset(found)


def process_atoms(
    data: dict, key: str, source: str, diagnostics: list[Diagnostic], *, place: bool = False
) -> frozenset:
    """The processes named by a list of atoms (processes, or tools that imply one): by the
    Wikidata id when the vocabulary knows it, else by the atom's own words; an atom it knows
    by neither is kept as its item id (`wikidata:Q…`), so that files naming the same tool still
    meet, and reported once per file."""
    atoms = data.get(key)
    found = set()
    for index, atom in enumerate(as_list(atoms)):
        line = line_in(atoms, index, line_in(data, key, 1))
        field = f"{key}[{index}]"
        item = atom_item(atom, source, line, field, diagnostics)
        if item is None:
            continue
        line = getattr(atom, "line", None) or line
        _check_link(atom, item, source, line, field, diagnostics)
        process = canonical(item.id) or canonical(item.name)
        if process is None:
            process = item.id
            shown = item.name if item.name == item.id else f"{item.name} ({item.id})"
            warn_once(diagnostics, unknown_process(shown, source, line, key))
            if place and item.name != item.id:
                found.add(slug(item.name))
        found.add(process)
    return frozenset(found)


def _check_link(atom, item: Item, source: str, line: int, field: str, diagnostics) -> None:
    """An atom whose link is another Wikidata page than its identifier says two things; the
    identifier is what is read, and the person is told."""
    link = atom.get("link") if isinstance(atom, dict) else None
    linked = wikidata_id(link) if link else None
    own = wikidata_id(item.id)
    if linked and own and linked != own:
        message = (
            f"identifier {own} and link {linked} are different Wikidata items; "
            f"the identifier is read ({item.name!r})"
        )
        diagnostics.append(warning(message, source, line, field))
