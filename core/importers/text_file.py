"""Reading a manifest's text, with the failure to read it as a diagnostic like any other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.network.assemble import Fragment
from core.network.diagnostics import error


def read_text_file(path: Path, parse: Callable[[str, str], Fragment]) -> Fragment:
    """`parse(text, source)` on the file's UTF-8 text, or a fragment holding why it failed."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Fragment(source, diagnostics=[error(f"cannot read: {exc}", source)])
    return parse(text, source)
