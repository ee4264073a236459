"""Networks loaded from files, kept between starts.

Reading a large network takes seconds, and the same files always give the same network; so what
`load_network` made of them is kept in the cache directory (SCIS_CACHE_DIR, else
$XDG_CACHE_HOME/scis, else ~/.cache/scis), pickled, beside the digest of what it was made of:
the bytes of every file the load may read and the names in every folder it may list — the files
named, everything under the folders named, and, for a published manifest named on its own,
everything around it (its BOM, its parts) — and the version of the code that read them (the
process vocabulary included). An entry is used only when that digest is the same; one that is
stale, corrupt or unreadable is loaded again and rewritten, and a cache directory that cannot
be written only costs the time. The pickle is one this user wrote in their own cache
directory, read back by the same user.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import MappingProxyType

import core.importers
import core.network
from core.importers import LoadResult, load_network, scis_yaml
from core.network.model import Network, frozen_mapping

CACHE_SETTING = "SCIS_CACHE_DIR"
# Bump when what an entry holds changes shape; a change of the reading code changes the code
# version on its own (`code_version`).
ENTRY_FORMAT = 1
# Networks kept at most, the most recently used: tests and trials name new files all the time.
KEEP_ENTRIES = 16


def cache_directory(environ: Mapping[str, str] = os.environ) -> Path:
    chosen = environ.get(CACHE_SETTING, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    base = environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "scis"


def load_network_cached(
    paths: Iterable[Path | str], environ: Mapping[str, str] = os.environ
) -> LoadResult:
    """`load_network(paths)`, from the cache when nothing it may read has changed. The result's
    `fragments` are not kept: they are the load's working material, not what callers use."""
    paths = [Path(p) for p in paths]
    entry = cache_directory(environ) / "networks" / f"{_entry_name(paths, environ)}.pickle"
    inputs = _inputs_digest(paths)
    kept = _read_entry(entry)
    if kept is not None and kept.inputs == inputs:
        with suppress(OSError):
            os.utime(entry)  # used: the last to be let go
        return LoadResult(kept.network, kept.diagnostics, [], kept.named_files)
    result = load_network(paths)
    kept = _Entry(inputs, result.network, result.diagnostics, result.named_files)
    _write_entry(entry, kept)
    _let_go(entry.parent)
    return result


def code_version() -> str:
    """The version of SCIS and a digest of the code that turns files into a network, so that an
    entry made by other code (a developer's edit, an upgrade) is never used."""
    digest = hashlib.sha256(f"{ENTRY_FORMAT} {metadata.version('scis')}".encode())
    for package in (core.network, core.importers):
        for source in sorted(Path(package.__file__).parent.iterdir()):
            if source.suffix in (".py", ".yaml"):
                digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def _entry_name(paths: list[Path], environ: Mapping[str, str]) -> str:
    # What the load is asked (the paths as given: diagnostics quote them) and how: the same
    # files named another way, or with another size limit, are another entry.
    asked = [str(p) for p in paths] + [str(p.resolve()) for p in paths]
    asked.append(environ.get("SCIS_MAX_NETWORK_BYTES", ""))
    asked.append(code_version())
    return hashlib.sha256("\0".join(asked).encode()).hexdigest()


def _inputs_digest(paths: list[Path]) -> str:
    """A digest of every file the load of `paths` may read and every folder it may list."""
    digest = hashlib.sha256()
    walked: set[str] = set()
    for path in paths:
        if path.is_dir():
            _walk(path, digest, walked)
        else:
            _add_file(path, digest)
            if path.is_file() and not scis_yaml.recognizes(path):
                # A manifest reads what lies around it, by paths relative to itself.
                _walk(path.parent, digest, walked)
    return digest.hexdigest()


def _walk(folder: Path, digest, walked: set[str]) -> None:
    # Hidden entries are passed over, as the loader passes them over; a folder linked into
    # itself is walked once.
    for top, folders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in walked:
            folders.clear()
            continue
        walked.add(real)
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        names = sorted(f for f in files if not f.startswith("."))
        digest.update(f"folder {top}\0{chr(0).join(folders + names)}\0".encode())
        for name in names:
            _add_file(Path(top) / name, digest)


def _add_file(path: Path, digest) -> None:
    try:
        with open(path, "rb") as handle:
            content = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        content = f"unreadable {exc.errno}"
    digest.update(f"file {path}\0{content}\0".encode())


@dataclass(frozen=True)
class _Entry:
    inputs: str  # `_inputs_digest` when it was made
    network: Network
    diagnostics: list
    named_files: frozenset[str]


def _read_entry(entry: Path) -> _Entry | None:
    try:
        kept = pickle.loads(entry.read_bytes())
    except Exception:  # none yet, or corrupt, or foreign: only a slower start, then rewritten
        return None
    return kept if isinstance(kept, _Entry) else None


def _pickled(kept: _Entry) -> bytes:
    # The model's read-only mappings are pickled as what they are made from; a table of this
    # pickler's own, so that pickling elsewhere in the process is as it was.
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {MappingProxyType: lambda m: (frozen_mapping, (dict(m),))}
    pickler.dump(kept)
    return out.getvalue()


def _let_go(folder: Path) -> None:
    """Remove all but the KEEP_ENTRIES most recently used entries."""
    with suppress(OSError):
        entries = sorted(folder.glob("*.pickle"), key=lambda e: e.stat().st_mtime, reverse=True)
        for old in entries[KEEP_ENTRIES:]:
            old.unlink(missing_ok=True)


def _write_entry(entry: Path, kept: _Entry) -> None:
    part = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader never sees half an entry, two writers never mix.
        handle, part = tempfile.mkstemp(dir=entry.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(_pickled(kept))
        os.replace(part, entry)
    except OSError:  # no cache this time; the network itself loaded
        if part is not None:
            with suppress(OSError):
                os.unlink(part)
