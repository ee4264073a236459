"""Read networks from files: the native `scis: 1` YAML and the manifests others publish.

`load_network(paths)` accepts files and folders. A file named explicitly must be readable by one
of the importers; inside a folder, files no importer recognises are passed over (a repository
holds READMEs and pictures too). Every problem becomes a `Diagnostic`; what is sound still loads.

A file larger than `max_bytes` (SCIS_MAX_NETWORK_BYTES, 10 MB by default) is refused before it is
parsed: parsing costs far more memory and time than the file's size.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.importers import module_references
from core.network.assemble import Fragment, assemble
from core.network.diagnostics import Diagnostic, error
from core.network.model import Network

log = logging.getLogger(__name__)

MAX_NETWORK_BYTES = 10_000_000
MAX_BYTES_SETTING = "SCIS_MAX_NETWORK_BYTES"


class Importer(Protocol):
    """One published format. `recognizes` is cheap (name, suffix, a peek at the content)."""

    name: str

    def recognizes(self, path: Path) -> bool: ...

    def read(self, path: Path) -> Fragment: ...


@dataclass(frozen=True)
class LoadResult:
    network: Network
    diagnostics: list[Diagnostic]
    fragments: list[Fragment]
    named_files: frozenset[str]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def blocking_errors(self) -> list[Diagnostic]:
        """Errors in files the person named one by one: those they will want fixed first."""
        return [d for d in self.errors if d.file in self.named_files or d.file is None]


def importers() -> list[Importer]:
    # Imported here so that a broken optional importer cannot stop the native format loading.
    from core.importers import registry

    return registry.IMPORTERS


def max_network_bytes(environ: Mapping[str, str] = os.environ) -> int:
    """The largest network file read, from SCIS_MAX_NETWORK_BYTES; ValueError if it is not a
    positive whole number."""
    text = environ.get("SCIS_MAX_NETWORK_BYTES", "").strip()
    if not text:
        return MAX_NETWORK_BYTES
    value = int(text) if text.isascii() and text.isdigit() else 0
    if value <= 0:
        raise ValueError(
            f"{MAX_BYTES_SETTING} must be a positive whole number of bytes, not {text!r}"
        )
    return value


def load_network(paths: Iterable[Path | str], max_bytes: int | None = None) -> LoadResult:
    """`max_bytes`: the largest file read; None takes SCIS_MAX_NETWORK_BYTES or 10 MB."""
    fragments: list[Fragment] = []
    named: set[str] = set()
    read: set[Path] = set()  # a file named twice, or also inside a named folder, is read once
    if max_bytes is None:
        try:
            max_bytes = max_network_bytes()
        except ValueError as exc:
            return LoadResult(Network(), [error(str(exc))], [], frozenset())
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            fragments.extend(_read_folder(path, read, max_bytes))
        elif path.is_file():
            named.add(str(path))
            if _first_time(path, read):
                fragments.append(_read_named_file(path, max_bytes))
        else:
            named.add(str(path))
            missing = error("no such file or folder", path)
            fragments.append(Fragment(str(path), diagnostics=[missing]))
    module_references.resolve(fragments)
    network, diagnostics = assemble(fragments)
    return LoadResult(network, diagnostics, fragments, frozenset(named))


def _first_time(path: Path, read: set[Path]) -> bool:
    resolved = path.resolve()
    if resolved in read:
        return False
    read.add(resolved)
    return True


def _read(importer: Importer, path: Path, max_bytes: int) -> Fragment:
    """The importer's fragment, or one error line: never a traceback, whatever the file holds."""
    # A repository folder is read through its manifest; the rest of it (pictures, CAD) is not.
    manifest = getattr(importer, "MANIFEST", None)
    refused = _too_big(path / manifest if path.is_dir() and manifest else path, max_bytes)
    if refused is not None:
        return Fragment(str(path), diagnostics=[refused])
    try:
        return importer.read(path)
    except (RecursionError, ValueError, OverflowError, MemoryError) as exc:
        # The importers answer bad content with diagnostics; this is for what they missed.
        log.warning("importer %s could not read %s: %r", importer.name, path, exc)
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        return Fragment(str(path), diagnostics=[error(f"cannot be read: {problem}", path)])


def _too_big(checked: Path, max_bytes: int) -> Diagnostic | None:
    try:
        size = checked.stat().st_size if checked.is_file() else 0
    except OSError:
        return None  # the importer says why it cannot read it
    if size <= max_bytes:
        return None
    return error(
        f"{size:,} bytes, more than the {max_bytes:,} a network file may have "
        f"(split it, or raise {MAX_BYTES_SETTING}); it was not read",
        checked,
    )


def _read_named_file(path: Path, max_bytes: int) -> Fragment:
    refused = _too_big(path, max_bytes)  # before the importers peek into it
    if refused is not None:
        return Fragment(str(path), diagnostics=[refused])
    for importer in importers():
        if importer.recognizes(path):
            return _read(importer, path, max_bytes)
    # A file named one by one is meant to be read: a format that cannot tell its files from
    # others by a peek (a BOM named `parts.csv`) gets a second look, which it may decline.
    for importer in importers():
        named = getattr(importer, "recognizes_named", None)
        if named is not None and named(path):
            return _read(importer, path, max_bytes)
    return Fragment(
        str(path),
        diagnostics=[
            error(
                "not a format SCIS reads (scis YAML, OKH, OKW, LOSH TOML, BOM, fab-lab JSON)",
                path,
            )
        ],
    )


def _read_folder(folder: Path, read: set[Path], max_bytes: int) -> list[Fragment]:
    """Every recognised file and repository folder under `folder`, in a stable order."""
    if not _first_time(folder, read):
        return []
    for importer in importers():
        if importer.recognizes(folder):
            return [_read(importer, folder, max_bytes), *_nested(folder, read, max_bytes)]
    fragments: list[Fragment] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            fragments.extend(_read_folder(child, read, max_bytes))
            continue
        for importer in importers():
            if importer.recognizes(child):
                if _first_time(child, read):
                    fragments.append(_read(importer, child, max_bytes))
                break
    return fragments


def _nested(repository: Path, read: set[Path], max_bytes: int) -> list[Fragment]:
    """The repository folders inside a repository folder, at any depth: modules kept as git
    submodules, each with its own manifest. Only those: the repository's other files (its part
    manifests, its BOM) are its importer's to read, and reading them again would count twice."""
    fragments: list[Fragment] = []
    seen: set[Path] = set()  # a folder linked into itself is searched once
    below = [repository]
    while below:
        folder = below.pop()
        try:
            children = sorted(
                (c for c in folder.iterdir() if c.is_dir() and not c.name.startswith(".")),
                reverse=True,
            )
        except OSError:
            continue
        for child in children:
            if child.resolve() in seen:
                continue
            seen.add(child.resolve())
            if any(getattr(i, "MANIFEST", None) and i.recognizes(child) for i in importers()):
                fragments.extend(_read_folder(child, read, max_bytes))
            else:
                below.append(child)
    return sorted(fragments, key=lambda f: f.source)
