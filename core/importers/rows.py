"""Bill-of-materials tables: rows with the line each began on, and quantities read honestly."""

from __future__ import annotations

import csv
import io
import math
import re
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


def decoded(path: Path) -> str | Diagnostic:
    """The file's text; utf-8-sig because spreadsheet exports often begin with a byte-order mark."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return error(f"cannot be read: {exc}", path)


def numbered_rows(text: str, delimiter: str):
    """(1-based line where the row begins, its cells) for every row, blank ones included.

    A quoted cell may span lines; a person looks for the row where it begins. Raises csv.Error
    with `.line` set on a row no CSV reader can take."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        exc.line = start
        raise


def read_table(path: Path) -> Table | Diagnostic:
    """A delimited text table, or the one error that stopped it being read."""
    text = decoded(path)
    if isinstance(text, Diagnostic):
        return text
    first = text.partition("\n")[0]
    if not first.strip():
        return error("has no header row", path, 1)
    rows, header = [], ()
    try:
        for line, cells in numbered_rows(text, delimiter_of(first)):
            if line == 1:
                header = tuple(cell.strip() for cell in cells)
            elif any(cell.strip() for cell in cells):
                padded = list(cells) + [""] * (len(header) - len(cells))
                rows.append((line, {h: c.strip() for h, c in zip(header, padded, strict=False)}))
    except csv.Error as exc:
        return error(f"not a readable table: {exc}", path, exc.line)
    return Table(header, tuple(rows))


# How people write a count in a BOM: `1x`, `10 x`, `x2`, `2×`, `10 pcs`, `2 Stk.`, `3 Stück`.
# Only a number with one of these marks is read; `M3` or `2 m` is no count.
_COUNTED = re.compile(
    r"^(?:[x×]\s*)?(?P<number>[0-9]*\.?[0-9]+)\s*"
    r"(?:[x×]|pcs?\.?|pieces?|stk\.?|stck\.?|st\.?|stück|ea\.?|each|units?)?$",
    re.IGNORECASE,
)


def quantity(text: str, file, line: int, field: str, diagnostics: list[Diagnostic]) -> int | None:
    """A whole, positive count, also as people write one (`1x`, `10 pcs`, `2 Stk.`); a fraction
    is rounded up (said so), anything else is refused."""
    cleaned = text.strip()
    counted = _COUNTED.match(cleaned)
    try:
        value = float(counted["number"] if counted else cleaned)
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
