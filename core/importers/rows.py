"""Bill-of-materials tables: rows with the line each began on, and quantities read honestly."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from core.network.diagnostics import Diagnostic, error, warning


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]  # (1-based line, column -> stripped text)


def delimiter_of(header_line: str) -> str:
    """Tab, semicolon or comma: whichever the header row uses."""
    if "\t" in header_line:
        return "\t"
    return ";" if header_line.count(";") > header_line.count(",") else ","


def read_table(path: Path) -> Table | Diagnostic:
    """A delimited text table, or the one error that stopped it being read."""
    try:
        # utf-8-sig: spreadsheet exports often begin with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return error(f"cannot be read: {exc}", path)
    first = text.partition("\n")[0]
    if not first.strip():
        return error("has no header row", path, 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(first))
    header = tuple(cell.strip() for cell in next(reader))
    rows = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            # A quoted cell may span lines; a person looks for the row where it begins.
            if any(cell.strip() for cell in cells):
                padded = list(cells) + [""] * (len(header) - len(cells))
                rows.append((start, {h: c.strip() for h, c in zip(header, padded, strict=False)}))
            start = reader.line_num + 1
    except csv.Error as exc:
        return error(f"not a readable table: {exc}", path, start)
    return Table(header, tuple(rows))


def quantity(text: str, file, line: int, field: str, diagnostics: list[Diagnostic]) -> int | None:
    """A whole, positive count; a fraction is rounded up (said so), anything else is refused."""
    cleaned = text.strip()
    try:
        value = float(cleaned)
    except ValueError:
        what = "missing" if not cleaned else f"{cleaned!r} is not a number"
        diagnostics.append(error(f"quantity {what}; the row is left out", file, line, field))
        return None
    if not math.isfinite(value) or value <= 0:
        diagnostics.append(
            error(f"quantity {cleaned!r} is not positive; the row is left out", file, line, field)
        )
        return None
    if value != int(value):
        # Designs count whole units; rounding up never plans too little of a part.
        rounded = math.ceil(value)
        diagnostics.append(
            warning(
                f"quantity {cleaned!r} is not a whole number; counted as {rounded}",
                file,
                line,
                field,
            )
        )
        return rounded
    return int(value)
