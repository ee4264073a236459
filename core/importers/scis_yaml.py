"""The native format as an importer."""

from __future__ import annotations

from pathlib import Path

from core.network.assemble import Fragment
from core.network.scis_format import read_scis_file

name = "scis"


def recognizes(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() not in (".yml", ".yaml"):
        return False
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    # A cheap look at the first lines: the format must begin with `scis:` outside comments.
    for line in head.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped == "---":
            continue
        return stripped.startswith("scis:")
    return False


def read(path: Path) -> Fragment:
    return read_scis_file(path)

