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
            # The format must begin with `scis:`; comments and blank lines may come first.
            for line in handle:
                stripped = line.strip()
                if stripped and not stripped.startswith("#") and stripped != "---":
                    return stripped.startswith("scis:")
    except (OSError, UnicodeDecodeError):
        return False
    return False


def read(path: Path) -> Fragment:
    return read_scis_file(path)
