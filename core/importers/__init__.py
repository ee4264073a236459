"""Read networks from files: the native `scis: 1` YAML and the manifests others publish.

`load_network(paths)` accepts files and folders. A file named explicitly must be readable by one
of the importers; inside a folder, files no importer recognises are passed over (a repository
holds READMEs and pictures too). Every problem becomes a `Diagnostic`; what is sound still loads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.network.assemble import Fragment, assemble
from core.network.diagnostics import Diagnostic, error
from core.network.model import Network


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


def load_network(paths: Iterable[Path | str]) -> LoadResult:
    fragments: list[Fragment] = []
    named: set[str] = set()
    read: set[Path] = set()  # a file named twice, or also inside a named folder, is read once
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            fragments.extend(_read_folder(path, read))
        elif path.is_file():
            named.add(str(path))
            if _first_time(path, read):
                fragments.append(_read_named_file(path))
        else:
            named.add(str(path))
            missing = error("no such file or folder", path)
            fragments.append(Fragment(str(path), diagnostics=[missing]))
    network, diagnostics = assemble(fragments)
    return LoadResult(network, diagnostics, fragments, frozenset(named))


def _first_time(path: Path, read: set[Path]) -> bool:
    resolved = path.resolve()
    if resolved in read:
        return False
    read.add(resolved)
    return True


def _read_named_file(path: Path) -> Fragment:
    for importer in importers():
        if importer.recognizes(path):
            return importer.read(path)
    return Fragment(
        str(path),
        diagnostics=[
            error(
                "not a format SCIS reads (scis YAML, OKH, OKW, LOSH TOML, BOM CSV, fab-lab JSON)",
                path,
            )
        ],
    )


def _read_folder(folder: Path, read: set[Path]) -> list[Fragment]:
    """Every recognised file and repository folder under `folder`, in a stable order."""
    if not _first_time(folder, read):
        return []
    for importer in importers():
        if importer.recognizes(folder):
            return [importer.read(folder)]
    fragments: list[Fragment] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            fragments.extend(_read_folder(child, read))
            continue
        for importer in importers():
            if importer.recognizes(child):
                if _first_time(child, read):
                    fragments.append(importer.read(child))
                break
    return fragments
