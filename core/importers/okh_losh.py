"""OKH-LOSH: a repository's `okh.toml`, its sBoM, and the part manifests the sBoM points to.

A repository folder (or one okh*.toml named directly) gives:

- the module item, whose id is the `repo` URL normalised (`github.com/OPEN-NEXT/LOSH-dummy-MOSH-A`),
  and a design making it from the sBoM rows, with the manifest's tsdc as processes;
- STD rows: items to buy, id from the standard reference (`ISO 4032 M8` -> `iso-4032-m8`) so the
  same nut in many repositories is one item; BUY rows: items to buy, id from the name. No offer is
  invented: they have a source only when some network file offers them;
- POSH rows: a part of this module, with its own design (the part's tsdc, its material) read from
  the part manifest the row points to;
- MOSH rows: the referenced repository's module item (same normalisation, whatever commit or tag
  the row pins). When that repository's folder is loaded too, its design makes the item because
  both sides derive the id from the URL; otherwise the item stays without a source.

Without a readable sBoM the `[[part]]` tables are the inputs, one of each: LOSH gives no count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.importers.naming import slug
from core.importers.rows import quantity, read_table
from core.importers.toml_lines import load_toml
from core.network.assemble import Fragment
from core.network.diagnostics import Diagnostic, error, warning
from core.network.model import Design, Item, Origin, frozen_mapping

name = "okh-losh"

MANIFEST = "okh.toml"
SBOM_COLUMNS = ("NAME", "UNITS", "TYPE", "REFERENCE")

# The levels the OKH-LOSH schema and ontology define (OPEN-NEXT/OKH-LOSH okh-losh.schema.json,
# OTRL.ttl; the okh-tool enums agree). "ODRL-3*" is the audited full documentation level.
LEVELS = {
    "technology-readiness-level": tuple(f"OTRL-{n}" for n in range(1, 7)),
    "documentation-readiness-level": ("ODRL-1", "ODRL-2", "ODRL-3", "ODRL-3*", "ODRL-4"),
}

# Path segments after owner/name that point inside a repository rather than at it.
_INSIDE_REPO = set("- commit commits tree blob raw releases tags src archive".split())


def recognizes(path: Path) -> bool:
    if path.is_dir():
        return (path / MANIFEST).is_file()
    if not path.is_file() or path.suffix.lower() != ".toml":
        return False
    if path.name.lower().startswith("okh"):
        return True
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return False
    return re.search(r"^\s*okhv\s*=", head, re.MULTILINE) is not None


def read(path: Path) -> Fragment:
    return _Module(path / MANIFEST if path.is_dir() else path).read()


def repo_id(url: str) -> str | None:
    """`https://github.com/o/r/commit/abc` -> `github.com/o/r`; None when `url` is no web URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    for index, segment in enumerate(segments):
        if index >= 2 and segment in _INSIDE_REPO:
            segments = segments[:index]
            break
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    return "/".join([host, *segments])


def tsdc_processes(value, file, line, field, diagnostics: list[Diagnostic]) -> frozenset[str]:
    """TsDC codes as processes, lower-cased like the process names of the native format."""
    codes = [value] if isinstance(value, str) else value
    if value is None:
        return frozenset()
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        diagnostics.append(
            warning(f"{value!r} is not a TsDC code or a list of them; ignored", file, line, field)
        )
        return frozenset()
    return frozenset(c.strip().lower() for c in codes if c.strip())


@dataclass(frozen=True)
class _Where:
    """Where a manifest's keys are written: a file, a way to find a key's line, a field prefix."""

    file: Path
    line_of: Callable[[str], int | None]
    prefix: str = ""

    def field(self, key: str) -> str:
        return self.prefix + key


@dataclass
class _Part:
    """A `[[part]]` table of the manifest."""

    name: str
    spec: dict
    where: _Where
    line: int | None
    used: bool = False


class _Module:
    def __init__(self, manifest: Path):
        self.manifest = manifest
        self.root = manifest.parent
        self.fragment = Fragment(str(manifest))
        self.diagnostics = self.fragment.diagnostics
        self.inputs: dict[str, int] = {}
        self.declared: set[str] = set()

    def read(self) -> Fragment:
        loaded = load_toml(self.manifest)
        if isinstance(loaded, Diagnostic):
            self.diagnostics.append(loaded)
            return self.fragment
        self.toml = loaded
        top = _Where(self.manifest, loaded.line_of)
        data = loaded.data
        self.id = self._module_id()
        title = data["name"] if isinstance(data.get("name"), str) else self.id
        self._check_levels()
        self.parts = self._parts()
        if not self._read_bom():
            for key, part in self.parts.items():
                part.used = True
                self._add_input(self._declare_part(key, part.name, part.spec, part.where), 1)
        for key, part in self.parts.items():
            if not part.used:
                self._declare_part(key, part.name, part.spec, part.where)
                self.diagnostics.append(
                    warning(
                        f"part {part.name!r} is not in the sBoM, so it is not counted as an input",
                        self.manifest,
                        part.where.line_of("name"),
                        part.where.field("name"),
                    )
                )
        grams = self._grams(data, top)
        material = self._material(data, top, grams)
        if material:
            self._add_input(*material)
        origin = Origin(str(self.manifest), loaded.line_of("name") or 1)
        self.fragment.items.insert(
            0, Item(id=self.id, name=title, origin=origin, mass_kg=_kg(grams))
        )
        self.fragment.designs.insert(
            0,
            Design(
                id=f"okh:{self.id}",
                makes=self.id,
                name=title,
                origin=origin,
                inputs=tuple(self.inputs.items()),
                processes=self._processes(data, top),
            ),
        )
        return self.fragment

    # -- the manifest ---------------------------------------------------------------------------

    def _module_id(self) -> str:
        repo = self.toml.data.get("repo")
        found = repo_id(repo) if isinstance(repo, str) else None
        if found:
            return found
        fallback = slug(self.toml.data.get("name") or self.root.name)
        if repo is not None:
            self.diagnostics.append(
                warning(
                    f"{repo!r} is not a repository URL; the module is called {fallback!r}",
                    self.manifest,
                    self.toml.line_of("repo"),
                    "repo",
                )
            )
        return fallback

    def _check_levels(self) -> None:
        for key, valid in LEVELS.items():
            value = self.toml.data.get(key)
            if value is not None and value not in valid:
                self.diagnostics.append(
                    warning(
                        f"{value!r} is not an OKH-LOSH level ({', '.join(valid)}); kept as written",
                        self.manifest,
                        self.toml.line_of(key),
                        key,
                    )
                )

    def _parts(self) -> dict[str, _Part]:
        raw = self.toml.data.get("part", [])
        parts: dict[str, _Part] = {}
        if not isinstance(raw, list):
            self.diagnostics.append(
                error(
                    "`part` must be [[part]] tables; left out",
                    self.manifest,
                    self.toml.line_of("part"),
                    "part",
                )
            )
            return parts
        for index, spec in enumerate(raw):
            line = self.toml.table_line("part", index)
            where = _Where(
                self.manifest,
                lambda key, i=index, at=line: self.toml.line_of(key, "part", i) or at,
                f"part[{index}].",
            )
            title = spec.get("name") if isinstance(spec, dict) else None
            if not isinstance(title, str) or not title.strip():
                self.diagnostics.append(
                    error("part without a name; left out", self.manifest, line, where.field("name"))
                )
                continue
            key = slug(title)
            if key in parts:
                self.diagnostics.append(
                    error(
                        f"part {title!r} has the name of the part at line {parts[key].line}; "
                        "left out",
                        self.manifest,
                        line,
                        where.field("name"),
                    )
                )
                continue
            parts[key] = _Part(title, spec, where, line)
        return parts

    # -- the sBoM -------------------------------------------------------------------------------

    def _read_bom(self) -> bool:
        """Inputs from the sBoM; False when there is none to read (the parts stand in)."""
        ref = self.toml.data.get("bom")
        if ref is None:
            return False
        line = self.toml.line_of("bom")
        instead = (
            f"the inputs are the {len(self.parts)} [[part]] entries, one of each, "
            "and may be incomplete"
        )
        path = self._resolve(ref) if isinstance(ref, str) and not repo_id(ref) else None
        if path is None or not path.is_file():
            why = "is not a file in this folder" if isinstance(ref, str) else "is not a path"
            self.diagnostics.append(
                warning(f"bom {ref!r} {why}; {instead}", self.manifest, line, "bom")
            )
            return False
        table = read_table(path)
        if isinstance(table, Diagnostic):
            self.diagnostics.append(table)
            return False
        missing = [c for c in SBOM_COLUMNS if c not in {h.upper() for h in table.header}]
        if missing:
            self.diagnostics.append(
                error(
                    f"not an sBoM: no column {', '.join(missing)} "
                    f"(found {', '.join(table.header)}); its rows are left out and {instead}",
                    path,
                    1,
                    missing[0],
                )
            )
            return False
        for row_line, row in table.rows:
            self._row(path, row_line, {k.upper(): v for k, v in row.items()})
        return True

    def _row(self, bom: Path, line: int, row: dict[str, str]) -> None:
        title, kind, ref = row["NAME"], row["TYPE"].upper(), row["REFERENCE"]
        if not title:
            self.diagnostics.append(error("row without a NAME; left out", bom, line, "NAME"))
            return
        count = quantity(row["UNITS"], bom, line, "UNITS", self.diagnostics)
        if count is None:
            return
        origin = Origin(str(bom), line)
        if kind == "POSH":
            item = self._posh(bom, line, title, ref)
        elif kind == "MOSH":
            item = self._mosh(bom, line, title, ref)
        elif kind == "STD" and ref:
            item = self._declare(
                Item(id=slug(ref), name=title, origin=origin, aliases=(" ".join(ref.split()),))
            )
        else:
            if kind != "BUY":
                said = (
                    "STD without a REFERENCE"
                    if kind == "STD"
                    else f"TYPE {row['TYPE']!r} is none of STD, BUY, POSH, MOSH"
                )
                self.diagnostics.append(
                    warning(f"{said}; treated as bought by its name", bom, line, "TYPE")
                )
            properties = frozen_mapping({"reference": ref} if ref else {})
            item = self._declare(
                Item(id=slug(title), name=title, origin=origin, properties=properties)
            )
        self._add_input(item, count)

    def _posh(self, bom: Path, line: int, title: str, ref: str) -> str:
        key = slug(title)
        part = self.parts.get(key)
        if part:
            part.used = True
        path = self._resolve(ref) if ref else None
        if path is not None and path.is_file():
            loaded = load_toml(path)
            if not isinstance(loaded, Diagnostic):
                # The part's own manifest says more than the [[part]] summary: it wins.
                spec = {**(part.spec if part else {}), **loaded.data}
                where = _Where(path, lambda k: loaded.line_of(k) or 1)
                return self._declare_part(key, title, spec, where)
            self.diagnostics.append(loaded)
        elif part:
            self.diagnostics.append(
                warning(
                    f"part manifest {ref!r} not found; the [[part]] {part.name!r} of {MANIFEST} "
                    "describes it instead",
                    bom,
                    line,
                    "REFERENCE",
                )
            )
            return self._declare_part(key, title, part.spec, part.where)
        else:
            named = (
                f"part manifest {ref!r} is not in {self.root}"
                if ref
                else "the row names no part manifest"
            )
            self.diagnostics.append(
                error(
                    f"{named}; {title!r} stays an input with no design, so this module cannot be "
                    "made until the part is offered or described",
                    bom,
                    line,
                    "REFERENCE",
                )
            )
        return self._declare(Item(id=f"{self.id}/{key}", name=title, origin=Origin(str(bom), line)))

    def _mosh(self, bom: Path, line: int, title: str, ref: str) -> str:
        module = repo_id(ref)
        if module is None:
            self.diagnostics.append(
                warning(
                    f"{ref!r} is not a repository URL; {title!r} stays an input with no design",
                    bom,
                    line,
                    "REFERENCE",
                )
            )
            return self._declare(
                Item(id=f"{self.id}/{slug(title)}", name=title, origin=Origin(str(bom), line))
            )
        # Named by its id, so that when the module's own folder is loaded its name wins the merge
        # and this row's name becomes an alias.
        return self._declare(
            Item(id=module, name=module, aliases=(title,), origin=Origin(str(bom), line))
        )

    # -- parts and materials --------------------------------------------------------------------

    def _declare_part(self, key: str, title: str, spec: dict, where: _Where) -> str:
        item_id = f"{self.id}/{key}"
        if item_id in self.declared:
            return item_id
        origin = Origin(str(where.file), where.line_of("name"))
        own_name = spec.get("name")
        aliases = (own_name,) if isinstance(own_name, str) and own_name != title else ()
        grams = self._grams(spec, where)
        self._declare(
            Item(id=item_id, name=title, aliases=aliases, origin=origin, mass_kg=_kg(grams))
        )
        material = self._material(spec, where, grams)
        self.fragment.designs.append(
            Design(
                id=f"okh:{item_id}",
                makes=item_id,
                name=title,
                origin=origin,
                inputs=(material,) if material else (),
                processes=self._processes(spec, where),
            )
        )
        return item_id

    def _material(self, spec: dict, where: _Where, grams: float | None) -> tuple[str, int] | None:
        """The material as an input in grams: the part's mass when given, else 1.

        Grams keep small parts whole numbers (the weave counts whole units). A part without a
        mass still needs its material; 1 g says "some" without inventing a figure.
        """
        material = spec.get("material")
        if material is None:
            return None
        line = where.line_of("material")
        if not isinstance(material, str) or not material.strip():
            self.diagnostics.append(
                warning(
                    f"material {material!r} is not a name; ignored",
                    where.file,
                    line,
                    where.field("material"),
                )
            )
            return None
        item_id = self._declare(
            Item(
                id=slug(material),
                name=material.strip(),
                unit="g",
                origin=Origin(str(where.file), line),
            )
        )
        return item_id, (math.ceil(grams) if grams else 1)

    def _processes(self, spec: dict, where: _Where) -> frozenset[str]:
        return tsdc_processes(
            spec.get("tsdc"),
            where.file,
            where.line_of("tsdc"),
            where.field("tsdc"),
            self.diagnostics,
        )

    def _grams(self, spec: dict, where: _Where) -> float | None:
        """LOSH mass `{value, unit}` in grams (ohloom writes it as a one-element [[mass]] list)."""
        mass = spec.get("mass")
        if mass is None:
            return None
        entry = mass[0] if isinstance(mass, list) and len(mass) == 1 else mass
        value = entry.get("value") if isinstance(entry, dict) else None
        factor = (
            {"g": 1, "kg": 1000}.get(str(entry.get("unit")).strip().lower())
            if isinstance(entry, dict)
            else None
        )
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 and factor:
            return value * factor
        self.diagnostics.append(
            warning(
                f'mass {mass!r} is not {{value = positive number, unit = "g" or "kg"}}; ignored',
                where.file,
                where.line_of("mass") or where.line_of("value"),
                where.field("mass"),
            )
        )
        return None

    # -- helpers --------------------------------------------------------------------------------

    def _declare(self, item: Item) -> str:
        # Once per file is enough: assemble() merges an item's declarations across files anyway.
        if item.id not in self.declared:
            self.fragment.items.append(item)
            self.declared.add(item.id)
        return item.id

    def _add_input(self, item_id: str, count: int) -> None:
        # The same standard part on two rows is one input: the counts add up.
        self.inputs[item_id] = self.inputs.get(item_id, 0) + count

    def _resolve(self, ref: str) -> Path | None:
        """A repository-relative path (a leading / means the repository root) inside the folder."""
        path = self.root / ref.strip().lstrip("/")
        # Containment is judged on resolved paths; the path is kept as the person spelled it.
        return path if path.resolve().is_relative_to(self.root.resolve()) else None


def _kg(grams: float | None) -> float | None:
    return None if grams is None else grams / 1000
