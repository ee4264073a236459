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

A `bom` without TYPE and REFERENCE columns (a KiCad export, `item,quantity`, a Markdown table) is
read through core.importers.bom_table: its rows are bought by name, counted. `bom` may list
several files; their inputs add up. Files are found ignoring case (`bom.csv` names `BOM.csv`).

What a manifest does not say is not invented. Without a BOM SCIS can read (none, a link, a file
that is not there or not readable), the module's inputs are unknown: its `[[part]]` tables are
kept as inputs (counted by their `quantity`, else 1) but the design is not planned. A part that
names no material has unknown inputs too. 2021 manifests (`simplified-bom`, `tsdc-id`,
`manufacturing-process`, `process`) are read under the current keys, with a note.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.importers.bom_table import BomRow, find_on_disk, near_misses, read_bom
from core.importers.naming import slug
from core.importers.toml_lines import load_toml
from core.network.assemble import Fragment, ModuleReference, ModuleRelease
from core.network.diagnostics import Diagnostic, error, warning
from core.network.model import Design, Item, Origin, frozen_mapping
from core.network.processes import canonical, names_no_process, unknown_process, warn_once

name = "okh-losh"

MANIFEST = "okh.toml"

# Keys of the 2021 manifests (OPEN-NEXT/LOSH-dummy-MOSH-D before its 2.0 manifest, the
# OKH-LOSH data-field table) and the key that replaced each.
OLDER_KEYS = {"simplified-bom": "bom", "tsdc-id": "tsdc"}
# Free-text process names of 2021 manifests ("3D printed", "mechanical assembly"): read as the
# processes only where no TsDC code is given, since the code says the same more precisely.
OLDER_PROCESS_KEYS = ("manufacturing-process", "process")

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
    """`https://github.com/o/r/commit/abc` -> `github.com/o/r`; None when `url` is no web URL.

    A module kept in a folder of a repository is that folder (`…/o/r/tree/main/modules/x` ->
    `github.com/o/r/modules/x`), as are the manifest files in it (`…/blob/main/x/okh.toml`)."""
    located = _locate(url)
    if located is None:
        return None
    host, segments, keyword, rest = located
    if keyword == "tree":
        segments = [*segments, *rest[1:]]
    elif keyword in ("blob", "raw") and rest and _MANIFEST_FILE.match(rest[-1]):
        segments = [*segments, *rest[1:-1]]
    return "/".join([host, *segments])


def repo_pin(url: str) -> str | None:
    """The commit or tag a repository URL pins (`…/commit/d11fbfb`, `…/releases/tag/v1.0.0`,
    `…/-/tags/ohloom-0.10.0`), None when it names none or only a branch (`…/tree/main`)."""
    located = _locate(url)
    if located is None:
        return None
    _, _, keyword, rest = located
    if keyword == "releases" and rest[:1] == ["tag"]:
        rest = rest[1:]
    elif keyword == "src" and rest[:1] in (["commit"], ["tag"], ["branch"]):
        rest = rest[1:]
    elif keyword not in ("commit", "commits", "tree", "blob", "raw", "tags", "archive"):
        return None
    pin = re.sub(r"\.(zip|tar\.gz|tar\.bz2|tgz)$", "", rest[0]) if rest else ""
    # A branch moves: it pins nothing. A commit is hex; a tag names a version, so has a digit.
    return pin if re.search(r"\d", pin) else None


# okh.toml, okh-ClampRing.toml, okh.yml, okh-manifest.yaml: a file that describes its folder.
_MANIFEST_FILE = re.compile(r"^okh[\w.-]*\.(toml|ya?ml)$", re.IGNORECASE)


def _locate(url: str) -> tuple[str, list[str], str | None, list[str]] | None:
    """(host, owner/name segments, the keyword that leads inside the repository, what follows
    it), from a web URL; None when `url` is none."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host == "raw.githubusercontent.com" and len(segments) >= 3:
        # raw.githubusercontent.com/<owner>/<name>/<ref>/<path> serves github.com's files.
        host, segments = "github.com", [*segments[:2], "raw", *segments[2:]]
    keyword, rest = None, []
    for index, segment in enumerate(segments):
        if index >= 2 and segment in _INSIDE_REPO:
            keyword, rest = segment, segments[index + 1 :]
            segments = segments[:index]
            break
    if keyword == "-" and rest:  # GitLab: /-/tree/main, /-/tags/v1
        keyword, rest = rest[0], rest[1:]
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    return host, segments, keyword, rest


def tsdc_processes(value, file, line, field, diagnostics: list[Diagnostic]) -> frozenset[str]:
    """TsDC codes as SCIS's processes (core/network/processes.py: `3DP` is 3d-printing, `MEC`
    assembly); a code the vocabulary does not know is kept lower-cased, reported once per file."""
    codes = [value] if isinstance(value, str) else value
    if value is None:
        return frozenset()
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        diagnostics.append(
            warning(f"{value!r} is not a TsDC code or a list of them; ignored", file, line, field)
        )
        return frozenset()
    found = set()
    for code in (c.strip() for c in codes):
        if code:
            process = canonical(code)
            if process is None:
                process = code.lower()
                warn_once(diagnostics, unknown_process(code, file, line, field))
            found.add(process)
    return frozenset(found)


@dataclass(frozen=True)
class _Where:
    """Where a manifest's keys are written: a file, a way to find a key's line, a field prefix."""

    file: Path
    line_of: Callable[[str], int | None]
    prefix: str = ""
    # Current key -> the older key the manifest wrote instead, so lines and fields name what is
    # in the file.
    older: Mapping[str, str] = field(default_factory=dict)

    def field(self, key: str) -> str:
        return self.prefix + self.older.get(key, key)

    def with_older(self, older: Mapping[str, str]) -> _Where:
        if not older:
            return self
        return _Where(
            self.file, lambda key: self.line_of(older.get(key, key)), self.prefix, dict(older)
        )


@dataclass
class _Part:
    """A `[[part]]` table of the manifest."""

    name: str
    spec: dict
    where: _Where
    line: int | None
    used: bool = False


# Why a module's inputs could not be read, and the file, line and field to say it at.
_Unread = tuple[str, Path, int | None, str]


class _Module:
    def __init__(self, manifest: Path):
        self.manifest = manifest
        self.root = manifest.parent
        self.fragment = Fragment(str(manifest))
        self.diagnostics = self.fragment.diagnostics
        self.inputs: dict[str, int] = {}
        self.declared: set[str] = set()
        # file -> (position of its "names no process" warning, designs it counts)
        self.no_process_said: dict[str, tuple[int, int]] = {}

    def read(self) -> Fragment:
        loaded = load_toml(self.manifest)
        if isinstance(loaded, Diagnostic):
            self.diagnostics.append(loaded)
            return self.fragment
        self.toml = loaded
        data, top = self._current(loaded.data, _Where(self.manifest, loaded.line_of))
        self.id = self._module_id()
        title = data["name"] if isinstance(data.get("name"), str) else self.id
        self._check_levels()
        self.parts = self._parts()
        grams = self._grams(data, top)
        material = self._material(data, top, grams)
        if material:
            self._add_input(*material)
        unread = self._read_bom(data, top)
        # A manifest of one part (no BOM, no [[part]]) is made of its material, as a part is.
        known = unread is None or ("bom" not in data and bool(material) and not self.parts)
        if not known:
            self._inputs_unknown(title, unread)
        for key, part in self.parts.items():
            if part.used:
                continue
            item = self._declare_part(key, part.name, part.spec, part.where)
            if known:
                self.diagnostics.append(
                    warning(
                        f"part {part.name!r} is not in the BOM, so it is not counted as an input",
                        self.manifest,
                        part.where.line_of("name"),
                        part.where.field("name"),
                    )
                )
            else:
                self._add_input(item, self._part_count(part))
        origin = Origin(str(self.manifest), loaded.line_of("name") or 1)
        self.fragment.items.insert(
            0, Item(id=self.id, name=title, origin=origin, mass_kg=_kg(grams))
        )
        processes = self._processes(data, top)
        self.fragment.designs.insert(
            0,
            Design(
                id=f"okh:{self.id}",
                makes=self.id,
                name=title,
                origin=origin,
                inputs=tuple(self.inputs.items()),
                processes=processes,
                processes_known=bool(processes),
                inputs_known=known,
            ),
        )
        self._name_the_id_fields()
        return self.fragment

    def _name_the_id_fields(self) -> None:
        """The manifest fields each design id is made from, so that two files claiming to be
        one release (same `repo`, same or no `version`) are told apart by what they wrote."""
        if not self.fragment.modules:
            return  # no repository URL: the id is the name, which the clash names as `id`
        fields = ("repo", "version") if "version" in self.toml.data else ("repo",)
        line = self.toml.line_of("repo") or 1
        for design in self.fragment.designs:
            if design.id == f"okh:{self.id}":
                self.fragment.id_fields[design.id] = (fields, line)
            else:
                self.fragment.id_fields[design.id] = ((*fields, "name"), design.origin.line)

    def _current(self, spec: dict, where: _Where) -> tuple[dict, _Where]:
        """The table with its 2021 keys read under their current names, said once per table."""
        current, older, said = dict(spec), {}, []
        for old, new in OLDER_KEYS.items():
            if old not in spec:
                continue
            if new in spec:
                said.append(f"`{old}` is not read (`{new}` is given)")
            else:
                current[new], older[new] = spec[old], old
                said.append(f"`{old}` is read as `{new}`")
        for old in OLDER_PROCESS_KEYS:
            if old not in spec:
                continue
            if "tsdc" in current:
                said.append(f"`{old}` is not read (the TsDC code says the process)")
            else:
                current["tsdc"], older["tsdc"] = spec[old], old
                said.append(f"`{old}` is read as the process")
        if said:
            first = next(k for k in (*OLDER_KEYS, *OLDER_PROCESS_KEYS) if k in spec)
            self.diagnostics.append(
                warning(
                    "older OKH-LOSH keys (2021): " + "; ".join(said),
                    where.file,
                    where.line_of(first),
                    where.field(first),
                )
            )
        return current, where.with_older(older)

    def _inputs_unknown(self, title: str, why: _Unread) -> None:
        reason, file, line, field_name = why
        listed = (
            f"; its {len(self.parts)} [[part]] tables are kept as inputs, which may not be all"
            if self.parts
            else ""
        )
        self.diagnostics.append(
            warning(
                f"{reason}: the inputs of {title!r} are unknown, so it cannot be ordered until "
                f"they are known{listed}",
                file,
                line,
                field_name,
            )
        )

    # -- the manifest ---------------------------------------------------------------------------

    def _module_id(self) -> str:
        repo = self.toml.data.get("repo")
        found = repo_id(repo) if isinstance(repo, str) else None
        if found:
            version = self.toml.data.get("version")
            written = isinstance(version, str | int | float) and not isinstance(version, bool)
            version = str(version).strip() if written else ""
            self.fragment.modules.append(
                ModuleRelease(
                    module=found,
                    version=version or None,
                    item=found,
                    origin=Origin(str(self.manifest), self.toml.line_of("repo")),
                    owns=found,
                )
            )
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

    # -- the BOM --------------------------------------------------------------------------------

    def _read_bom(self, data: dict, top: _Where) -> _Unread | None:
        """Reads every BOM the manifest names into the inputs (`bom` may list several: they add
        up); None when all were read, else why not and where to say it."""
        if "bom" not in data:
            return "the manifest names no BOM", self.manifest, top.line_of("name"), "bom"
        line, key = top.line_of("bom"), top.field("bom")
        refs = data["bom"] if isinstance(data["bom"], list) else [data["bom"]]
        unread = [why for ref in refs if (why := self._read_one_bom(ref, line, key))]
        if len(unread) > 1:
            return "; ".join(why[0] for why in unread), self.manifest, line, key
        return unread[0] if unread else None

    def _read_one_bom(self, ref, line: int | None, key: str) -> _Unread | None:
        if not isinstance(ref, str) or not ref.strip():
            return f"bom {ref!r} is not a path", self.manifest, line, key
        if "://" in ref:
            return f"bom {ref!r} is a link, which SCIS does not follow", self.manifest, line, key
        path = self._resolve(ref)
        if path is None:
            beside = near_misses(self.root, ref.strip().lstrip("/"))
            there = f" (it holds {', '.join(beside)})" if beside else ""
            why = f"bom {ref!r} is not a file in this repository{there}"
            return why, self.manifest, line, key
        bom = read_bom(path)
        if isinstance(bom, Diagnostic):
            return bom.message, path, bom.line, bom.field or key
        self.diagnostics.extend(bom.diagnostics)
        # An sBoM says how each row is supplied (TYPE) and what it refers to (REFERENCE); any
        # other BOM lists things to buy by name.
        sbom = "kind" in bom.columns and "reference" in bom.columns
        for row in bom.rows:
            if sbom:
                self._row(path, row, bom.columns)
            else:
                self._add_input(self._bought(path, row), row.count)
        if bom.left_out:
            first = bom.left_out[0]
            rows = f"{len(bom.left_out)} row{'s' if len(bom.left_out) > 1 else ''}"
            return f"{rows} of bom {ref!r} could not be read", path, first.line, first.field or key
        return None

    def _row(self, bom: Path, row: BomRow, columns: dict[str, str]) -> None:
        title, kind, ref, line = row.name, row.kind.upper(), row.reference, row.line
        if kind == "POSH":
            item = self._posh(bom, row, columns["reference"])
        elif kind == "MOSH":
            item = self._mosh(bom, line, title, ref)
        elif kind == "STD" and ref:
            item = self._declare(
                Item(
                    id=slug(ref),
                    name=title,
                    origin=Origin(str(bom), line),
                    aliases=(" ".join(ref.split()),),
                )
            )
        else:
            if kind != "BUY":
                said = (
                    "STD without a REFERENCE"
                    if kind == "STD"
                    else f"TYPE {row.kind!r} is none of STD, BUY, POSH, MOSH"
                )
                self.diagnostics.append(
                    warning(f"{said}; treated as bought by its name", bom, line, columns["kind"])
                )
            item = self._bought(bom, row)
        self._add_input(item, row.count)

    def _bought(self, bom: Path, row: BomRow) -> str:
        said = {"reference": row.reference, "variant": row.variant}
        properties = frozen_mapping({k: v for k, v in said.items() if v})
        # The label tells apart rows of one name that are other parts (10u in 0805 and 0603).
        return self._declare(
            Item(
                id=slug(row.label),
                name=row.label,
                origin=Origin(str(bom), row.line),
                properties=properties,
            )
        )

    def _posh(self, bom: Path, row: BomRow, column: str) -> str:
        title, ref, line = row.name, row.reference, row.line
        key = slug(title)
        part = self.parts.get(key)
        if part:
            part.used = True
            self._check_count(part, row, bom)
        path = self._resolve(ref) if ref else None
        if path is not None:
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
                    column,
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
                    column,
                )
            )
        return self._declare(Item(id=f"{self.id}/{key}", name=title, origin=Origin(str(bom), line)))

    def _check_count(self, part: _Part, row: BomRow, bom: Path) -> None:
        """The BOM row counts the part; a [[part]] quantity that says otherwise is warned."""
        if "quantity" in part.spec and self._part_count(part) != row.count:
            self.diagnostics.append(
                warning(
                    f"[[part]] {part.name!r} says quantity {part.spec['quantity']!r}, the BOM "
                    f"{row.count} ({bom.name} line {row.line}); the BOM's count is used",
                    self.manifest,
                    part.where.line_of("quantity"),
                    part.where.field("quantity"),
                )
            )

    def _part_count(self, part: _Part) -> int:
        """`[[part]].quantity`: how many go into the module, 1 when not said; a fraction is
        rounded up and anything else counted 1, said so (only a module whose BOM cannot be read
        counts its parts this way, and its inputs are unknown then anyway)."""
        count = part.spec.get("quantity", 1)
        number = isinstance(count, int | float) and not isinstance(count, bool)
        usable = number and math.isfinite(count) and count > 0
        if usable and count == int(count):
            return int(count)
        counted = math.ceil(count) if usable else 1
        self.diagnostics.append(
            warning(
                f"quantity {count!r} is not a whole number of parts; {counted} is counted",
                self.manifest,
                part.where.line_of("quantity"),
                part.where.field("quantity"),
            )
        )
        return counted

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
        self.fragment.references.append(
            ModuleReference(
                module=module,
                item=module,
                pin=repo_pin(ref),
                what=f"MOSH row {title!r}",
                origin=Origin(str(bom), line),
                field="REFERENCE",
            )
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
        spec, where = self._current(spec, where)
        origin = Origin(str(where.file), where.line_of("name"))
        own_name = spec.get("name")
        aliases = (own_name,) if isinstance(own_name, str) and own_name != title else ()
        grams = self._grams(spec, where)
        self._declare(
            Item(id=item_id, name=title, aliases=aliases, origin=origin, mass_kg=_kg(grams))
        )
        material = self._material(spec, where, grams)
        if material is None and "material" not in spec:
            # A part made of nothing would be invented: without its material it cannot be made.
            self.diagnostics.append(
                warning(
                    f"part {title!r} names no material: its inputs are unknown, so it cannot be "
                    "made until they are known",
                    where.file,
                    origin.line,
                    where.field("material"),
                )
            )
        processes = self._processes(spec, where)
        self.fragment.designs.append(
            Design(
                id=f"okh:{item_id}",
                makes=item_id,
                name=title,
                origin=origin,
                inputs=(material,) if material else (),
                processes=processes,
                processes_known=bool(processes),
                inputs_known=material is not None,
            )
        )
        return item_id

    def _material(self, spec: dict, where: _Where, grams: float | None) -> tuple[str, int] | None:
        """The material as an input in grams: the part's mass when given, else 1, said so.

        Grams keep small parts whole numbers (the weave counts whole units). A part without a
        mass still needs its material, so its plans keep it; the 1 g standing in for "some" is
        told, since the material's share of a price is then not what the part really takes.
        """
        material = spec.get("material")
        if material is None:
            return None
        line = where.line_of("material")
        if not isinstance(material, str) or not material.strip():
            self.diagnostics.append(
                warning(
                    f"material {material!r} is not a name; ignored, so the inputs are unknown",
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
        if not grams:
            self.diagnostics.append(
                warning(
                    f"no mass given: 1 g of {material.strip()} is counted per part as a stand-in, "
                    "so what the material costs in its plans is not what the part takes",
                    where.file,
                    line,
                    where.field("material"),
                )
            )
        return item_id, (math.ceil(grams) if grams else 1)

    def _processes(self, spec: dict, where: _Where) -> frozenset[str]:
        """The processes a module or part needs; none when it names none, which leaves its
        design unknown (`processes_known=bool(processes)`): made at no facility."""
        processes = tsdc_processes(
            spec.get("tsdc"),
            where.file,
            where.line_of("tsdc"),
            where.field("tsdc"),
            self.diagnostics,
        )
        if not processes:
            self._names_no_process(where)
        return processes

    def _names_no_process(self, where: _Where) -> None:
        """One warning per file, however many of its designs name no process: the first is
        said where it is, and the warning counts the others."""
        said = self.no_process_said
        file = str(where.file)
        if file not in said:
            said[file] = (len(self.diagnostics), 1)
            self.diagnostics.append(
                names_no_process("the design (no `tsdc`)", file, where.line_of("name"), "tsdc")
            )
            return
        position, count = said[file]
        first = self.diagnostics[position]
        said[file] = (position, count + 1)
        self.diagnostics[position] = warning(
            f"{count + 1} designs in this file name no process (no `tsdc`), the first here: "
            "they can be made at no facility until one is stated",
            first.file,
            first.line,
            first.field,
        )

    def _grams(self, spec: dict, where: _Where) -> float | None:
        """LOSH mass `{value, unit}` in grams (ohloom writes it as a one-element [[mass]] list);
        OKH 2.4 writes a plain number, in grams (iop-alliance/OpenKnowHow okh.schema.json)."""
        mass = spec.get("mass")
        if mass is None:
            return None
        if isinstance(mass, int | float) and not isinstance(mass, bool):
            if math.isfinite(mass) and mass > 0:
                return float(mass)
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
                f"mass {mass!r} is neither a positive number of grams nor "
                '{value = positive number, unit = "g" or "kg"}; ignored',
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
        """The file a repository-relative path names (a leading / means the repository root),
        its name matched ignoring case when not exact; None when absent or outside the folder."""
        found = find_on_disk(self.root, ref.strip().lstrip("/"))
        # Kept under the folder as given, so origins read as the person's paths do.
        return None if found is None else self.root / found.relative_to(self.root.resolve())


def _kg(grams: float | None) -> float | None:
    return None if grams is None else grams / 1000
