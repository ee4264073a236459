"""A bill of materials in whatever table a project publishes it: columns found by what they mean.

The dialects met in published open hardware, all read here:

- KiCad exports: `Reference, Value, Footprint, Qty, ...` (the Value names the part);
- JLCPCB assembly BOMs: `Comment, Designator, Footprint, LCSC Part #`, with no quantity: the
  count is the number of designators;
- plain `item,quantity,...`, `Part,Count`, `Name,Amount`, German `Bezeichnung,Menge`;
- the LOSH sBoM `NAME, UNITS, TYPE, REFERENCE` and the OSE `PartID, Part-Name EN, Quantity`;
- spreadsheet exports with title and blank rows before the header;
- EAGLE: the bom.ulp CSV (`Qty;Value;Device;Package;Parts`) and the text partlist, in columns of
  spaces after its title lines (`Part Value Device Package Library Sheet`), one designator a row;
- Markdown tables (`| Qty | Part |` over a `|---|` line), prose around them.

Headers are matched ignoring case, spaces and punctuation (`Part-Name EN` is `partnameen`). The
header is the first row that has a name column and a quantity or designator column. A column
called Reference (or Ref) holds designators when every cell is a list of them (`R1, R2`), else a
reference such as a standard (`ISO 4032 M8`) or a file.

Designators are separated by commas, semicolons or spaces; a range `R1-R4` with one prefix
counts its four. With a quantity column the quantity is the count, and a differing number of
designators is said in a warning. Counts are read as people write them (`1x`, `x2`, `10 pcs`,
`2 Stk.`); a Total/Sum row is no part. Nothing is guessed: a row without a name or a count is
left out with an error, and a table with no such columns is one error naming the columns it has.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.importers.rows import decoded, numbered_rows, quantity
from core.network.diagnostics import Diagnostic, error, warning

# What each meaning is called, as normalised headers (lowercase letters and digits only); for a
# name, most telling first. JLCPCB's Comment and KiCad's Value are what the part is (10k, ESP32).
NAMES = (
    "name",
    "partname",
    "partnameen",
    "part",
    "item",
    "itemname",
    "component",
    "comment",
    "value",
    "device",
    "article",
    "artikel",
    "bezeichnung",
    "partnamede",
    "description",
    # The maker's part number names the part only where nothing else does.
    "partnumber",
    "mpn",
)
STAND_IN_NAMES = frozenset(
    {"partname", "partnameen", "partnamede", "description", "partnumber", "mpn"}
)
SHOWN_COLUMNS = 8  # columns named when a table cannot be read, each cut to SHOWN_WIDTH
SHOWN_WIDTH = 24
QUANTITIES = (
    "quantity",
    "qty",
    "qnty",  # KiCad's grouped CSV export
    "count",
    "amount",
    "units",
    "menge",
    "anzahl",
    "quantityperpcb",
    "qtyperboard",
    "pcs",
)
# Always designators, whatever the cells say.
DESIGNATORS = ("designator", "designators", "refdes", "references", "referencedesignators")
# Designators when the cells are lists of them, else a reference (a standard, a file, a link).
REFERENCES = ("reference", "ref", "refs")
# EAGLE's partlist calls its designators Part (one a row: C1, ICSP) and its BOM Parts (`C1, C2`):
# designators when another column names the part and the cells look like designators.
PART_DESIGNATORS = ("parts", "part")
# What tells apart two rows of one name (10u in 0805 and in 0603; two Screw rows of other
# sizes): the footprint or package, the maker's or distributor's part number, a size.
VARIANTS = (
    "footprint",
    "package",
    "size",
    "dimensions",
    "dimension",
    "length",
    "mpn",
    "manufacturerpartnumber",
    "manufacturerpartno",
    "mfrpartnumber",
    "mfrpartno",
    "mfgpartnumber",
    "mfgpartno",
    "partnumber",
    "lcsc",
    "lcscpart",
    "lcscpartnumber",
)
# A row that sums the others up, not a part.
_TOTAL = re.compile(
    r"^(grand\s*|sub\s*-?\s*)?(total|totals|sum|summe|gesamt|insgesamt)\b\W*", re.IGNORECASE
)
_TOTAL_WORD = re.compile(
    r"\b(sub\s*-?\s*)?(total|totals|sum|summe|gesamt|insgesamt)\b", re.IGNORECASE
)
KINDS = ("type", "supplytype", "kind")
SUPPLIERS = ("supplier", "vendor", "distributor", "source", "shop", "lieferant")
# Rows looked at for a header before the table is declared unreadable.
PREAMBLE_ROWS = 30

# R1, U3A, and the named ones some schematics use: R_fast, C_byp1.
_DESIGNATOR = re.compile(r"^[A-Za-z]{1,5}(\d+[A-Za-z]?|_\w+)$")
# What EAGLE lets a part be called besides: ICSP, LOGO2, U$1, LED-1.
_PART_NAME = re.compile(r"^[A-Za-z][\w$+\-]{0,15}$")
_RANGE = re.compile(r"^([A-Za-z]{1,5})(\d+)-\1?(\d+)$")
# GitHub's tables: a delimiter cell is one hyphen or more, with optional colons (`| - | - |`).
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


@dataclass(frozen=True)
class BomRow:
    """One part line: `count` of `name`; `fields` holds every cell by its header as written.

    `variant` is what the row says tells this part from another of the same name (footprint,
    package, part numbers, size: the cells joined by ", "). `label` is the name to give the
    item: the name, with the variant in brackets when another row of the same BOM has the same
    name but another variant (`10u (Capacitor_SMD:C_0603...)`), else the name alone, so rows of
    one part still add up."""

    line: int
    name: str
    count: int
    designators: tuple[str, ...] = ()
    reference: str = ""
    kind: str = ""
    supplier: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    variant: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name)


@dataclass(frozen=True)
class Bom:
    """The rows that could be read, the columns they came from (meaning -> header as written:
    name, quantity, designators, reference, kind, supplier), and what was said about rows left
    out or counted otherwise than written."""

    path: str
    header_line: int
    columns: dict[str, str]
    rows: tuple[BomRow, ...]
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def left_out(self) -> tuple[Diagnostic, ...]:
        """The errors of rows that could not be read: while there are any, the BOM does not
        say everything that goes in, and a design made from it has inputs unknown."""
        return tuple(d for d in self.diagnostics if d.severity == "error")


def read_bom(path: Path) -> Bom | Diagnostic:
    """The BOM in a CSV/TSV (delimiter sniffed) or Markdown file, or the one error saying why
    it cannot be read (naming the columns it found)."""
    text = decoded(path)
    if isinstance(text, Diagnostic):
        return text
    markdown = path.suffix.lower() in (".md", ".markdown") or _looks_like_markdown(text)
    if markdown:
        tables = _markdown_tables(text)
    else:
        tables = _delimited_tables(text, path)
        if isinstance(tables, Diagnostic):
            return tables
    first: tuple[int, list[str], dict[str, str]] | None = None
    shaped = []
    for header_line, header, rows in tables:
        columns = _columns(header, rows)
        if "name" in columns and ("quantity" in columns or "designators" in columns):
            shaped.append((header_line, header, columns, rows))
            if not markdown:
                break
        elif first is None and any(c.strip() for c in header):
            first = (header_line, [c.strip() for c in header if c.strip()], columns)
    if shaped:
        # A Markdown BOM is often one table per section (electronics, mechanical...): all are
        # read; a table that counts parts but names none is said, not skipped in silence.
        skipped = [
            warning(_unreadable(header, columns) + "; its rows are left out", path, line)
            for line, header, rows in tables
            if markdown
            and rows
            and all(line != kept[0] for kept in shaped)
            and {"quantity", "designators"} & set(columns := _columns(header, rows))
        ]
        return _bom(path, shaped, skipped)
    if first is None:
        return error("not a BOM: no table found", path, 1)
    return error(_unreadable(first[1], first[2]), path, first[0])


def near_misses(root: Path, ref: str) -> list[str]:
    """Files beside where `ref` points with its name but another suffix (a manifest names
    `/hardware/BOM.csv`, the repository holds `hardware/BOM.md`), relative to `root`: said to
    the person, never read in its place."""
    parts = [p for p in re.split(r"[\\/]+", ref.strip()) if p not in ("", ".")]
    if not parts or ".." in parts or "://" in ref:
        return []
    base = root.resolve()
    folder = base.joinpath(*parts[:-1])
    stem = Path(parts[-1]).stem.casefold()
    try:
        found = [p for p in folder.iterdir() if p.is_file() and p.stem.casefold() == stem]
    except OSError:
        return []
    return sorted(p.relative_to(base).as_posix() for p in found)


def find_on_disk(root: Path, ref: str) -> Path | None:
    """The file `ref` (relative to `root`) names: exactly, else matched segment by segment
    ignoring case (a manifest says `bom.csv`, the repository holds `BOM.csv`) when exactly one
    entry matches. Never a file outside `root`, never a URL or an absolute path."""
    if not ref or "://" in ref or ref.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", ref):
        return None
    base = root.resolve()
    here = base
    for part in re.split(r"[\\/]+", ref.strip()):
        if part in ("", "."):
            continue
        if part == "..":
            here = here.parent
            continue
        exact = here / part
        if exact.exists():
            here = exact
            continue
        try:
            matches = [p for p in here.iterdir() if p.name.casefold() == part.casefold()]
        except OSError:
            return None
        if len(matches) != 1:
            return None
        here = matches[0]
    found = here.resolve()
    if not found.is_file() or not found.is_relative_to(base):
        return None
    return found


# -- finding the table ---------------------------------------------------------------------------

_Table = tuple[int, list[str], list[tuple[int, list[str]]]]  # header line, header, rows


def _delimited_tables(text: str, path: Path) -> list[_Table] | Diagnostic:
    """Each delimiter's best header candidate; the one splitting the header widest first."""
    found: list[tuple[int, _Table]] = []
    failure: Diagnostic | None = None
    for delimiter in ("\t", ";", ","):
        try:
            rows = [(line, cells) for line, cells in numbered_rows(text, delimiter)]
        except csv.Error as exc:
            failure = failure or error(f"not a readable table: {exc}", path, exc.line)
            continue
        for index, (line, cells) in enumerate(rows[:PREAMBLE_ROWS]):
            if len(cells) >= 2 and _is_header(cells):
                found.append((len(cells), (line, cells, rows[index + 1 :])))
                break
        else:
            first = next(((line, c) for line, c in rows if any(x.strip() for x in c)), None)
            if first and len(first[1]) > 1:
                found.append((0, (first[0], first[1], rows)))
    if not any(score for score, _ in found):
        fixed = _fixed_width_table(text)
        if fixed is not None:
            return [fixed]
    if not found and failure:
        return failure
    found.sort(key=lambda pair: -pair[0])
    return [table for _, table in found]


def _is_header(cells: list[str]) -> bool:
    """A row naming a part column and a count, designator or reference column."""
    names = {_normal(c) for c in cells}
    named = names & set(NAMES)
    counted = names & {*QUANTITIES, *DESIGNATORS, *REFERENCES, "parts"}
    return bool(named and (counted or ("part" in named and len(named) > 1)))


def _fixed_width_table(text: str) -> _Table | None:
    """A text table in columns of spaces (EAGLE's partlist and bom.ulp text exports, after their
    title lines): each column spans from its header word to the next. A row whose text crosses
    a column's start, or begins away from it, does not line up: it is kept as None so that it is
    said, never guessed."""
    lines = _lines(text)
    for index, head in enumerate(lines[:PREAMBLE_ROWS]):
        if any(mark in head for mark in "\t;,|"):
            continue
        words = list(re.finditer(r"\S+", head))
        if len(words) < 2 or not _is_header([w.group() for w in words]):
            continue
        starts = [w.start() for w in words]
        rows: list[tuple[int, list[str] | None]] = []
        for number, text_line in enumerate(lines[index + 1 :], start=index + 2):
            if not text_line.strip():
                continue
            spans = [text_line[a:b] for a, b in zip(starts, starts[1:] + [None], strict=True)]
            # Every cell of these exports begins where its header word does.
            crossed = text_line[: starts[0]].strip() or any(
                span.strip() and (span[0] == " " or a and text_line[a - 1] != " ")
                for a, span in zip(starts, spans, strict=True)
            )
            rows.append((number, None if crossed else [span.strip() for span in spans]))
        return index + 1, [w.group() for w in words], rows
    return None


def _lines(text: str) -> list[str]:
    """The file's lines as an editor numbers them: str.splitlines would also break at U+2028
    and other marks a part's name may hold, and every line after would be misnumbered."""
    return re.split(r"\r\n|\r|\n", text)


def _looks_like_markdown(text: str) -> bool:
    lines = _lines(text)
    return any(
        _SEPARATOR.match(b) and a.strip().startswith("|")
        for a, b in zip(lines, lines[1:], strict=False)
    )


def _markdown_tables(text: str) -> list[_Table]:
    lines = _lines(text)
    tables: list[_Table] = []
    index = 0
    while index + 1 < len(lines):
        head, rule = lines[index], lines[index + 1]
        if "|" in head and "-" in rule and _SEPARATOR.match(rule):
            rows = []
            after = index + 2
            while after < len(lines) and "|" in lines[after] and lines[after].strip():
                rows.append((after + 1, _markdown_cells(lines[after])))
                after += 1
            tables.append((index + 1, _markdown_cells(head), rows))
            index = after
        else:
            index += 1
    return tables


def _markdown_cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.replace("\\|", "|").strip() for c in re.split(r"(?<!\\)\|", inner)]


# -- what the columns mean ------------------------------------------------------------------------


def _normal(header: str) -> str:
    """'Quantity (per unit)' -> 'quantity', 'Part #' -> 'partnumber', 'Part-Name EN' ->
    'partnameen': what a header says, without its unit, case or punctuation."""
    bare = re.sub(r"\([^)]*\)", "", header.casefold()).replace("#", "number")
    return re.sub(r"[^a-z0-9]", "", bare)


def _columns(header: list[str], rows: list[tuple[int, list[str]]]) -> dict[str, str]:
    """Meaning -> header as written; the name columns in order of preference (several: a row
    whose first is empty is named by the next, as the OSE BOM's German name stands in)."""
    by_normal: dict[str, str] = {}
    for cell in header:
        by_normal.setdefault(_normal(cell), cell.strip())
    position = {cell.strip(): i for i, cell in enumerate(header)}

    def cells(column: str) -> list[str]:
        at = position[column]
        return [c[at].strip() for _, c in rows if c is not None and at < len(c) and c[at].strip()]

    columns: dict[str, str] = {}
    named = [by_normal[n] for n in NAMES if n in by_normal]
    part_designators = next(
        (
            by_normal[w]
            for w in PART_DESIGNATORS
            if w in by_normal
            and any(n != by_normal[w] for n in named)
            and _look_like_designators(cells(by_normal[w]))
        ),
        None,
    )
    names = [n for n in named if n != part_designators]
    # A column of bare numbers (KiCad's `Item` 1, 2, 3...) counts lines; it names nothing.
    names = [n for n in names if not all(c.isdigit() for c in cells(n)) or not cells(n)]
    if names:
        columns["name"] = names[0]
        for k, extra in enumerate(names[1:], start=2):
            columns[f"name{k}"] = extra
    for meaning, words in (("quantity", QUANTITIES), ("kind", KINDS), ("supplier", SUPPLIERS)):
        found = next((by_normal[w] for w in words if w in by_normal), None)
        if found:
            columns[meaning] = found
    designators = next((by_normal[w] for w in DESIGNATORS if w in by_normal), None)
    reference = next((by_normal[w] for w in REFERENCES if w in by_normal), None)
    if reference and not designators and _all_designators(cells(reference)):
        designators, reference = reference, None
    designators = designators or part_designators
    if designators:
        columns["designators"] = designators
    if reference:
        columns["reference"] = reference
    return columns


def _all_designators(values: Iterable[str]) -> bool:
    values = list(values)
    return bool(values) and all(
        all(_DESIGNATOR.match(t) or _RANGE.match(t) for t in _tokens(v)) for v in values
    )


def _look_like_designators(values: list[str]) -> bool:
    """Every name one a part could have on a board, and nearly all of them R1, C2-like."""
    tokens = [t for v in values for t in _tokens(v)]
    strict = sum(1 for t in tokens if _DESIGNATOR.match(t) or _RANGE.match(t))
    return bool(tokens) and all(_PART_NAME.match(t) for t in tokens) and strict >= 0.8 * len(tokens)


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[,;\s]+", text) if t]


def designators_in(text: str) -> tuple[str, ...]:
    """`R1, R2` / `R1 R2` / `R1-R3` -> each designator; a range is expanded, so it counts."""
    found: list[str] = []
    for token in _tokens(text):
        span = _RANGE.match(token)
        if span and int(span[2]) <= int(span[3]) <= int(span[2]) + 999:
            found.extend(f"{span[1]}{n}" for n in range(int(span[2]), int(span[3]) + 1))
        else:
            found.append(token)
    return tuple(found)


# -- the rows -------------------------------------------------------------------------------------


def _bom(path: Path, tables, said: list[Diagnostic]) -> Bom:
    diagnostics: list[Diagnostic] = list(said)
    rows: list[BomRow] = []
    for _, header, columns, raw_rows in tables:
        rows.extend(_rows(path, header, columns, raw_rows, diagnostics))
    header_line, _, columns, _ = tables[0]
    return Bom(str(path), header_line, columns, tuple(_labelled(rows)), tuple(diagnostics))


def _labelled(rows: list[BomRow]) -> list[BomRow]:
    """Rows of one name that say they are different parts, labelled by what differs."""
    variants: dict[str, set[str]] = {}
    for row in rows:
        variants.setdefault(row.name.casefold(), set()).add(row.variant.casefold())
    return [
        replace(row, label=f"{row.name} ({row.variant})")
        if row.variant and len(variants[row.name.casefold()]) > 1
        else row
        for row in rows
    ]


def _rows(path: Path, header, columns, raw_rows, diagnostics) -> list[BomRow]:
    written = [c.strip() for c in header]
    names = [v for k, v in columns.items() if k == "name" or re.fullmatch(r"name\d+", k)]
    # Only a name of the same part stands in for an empty one (the German name, the part
    # number), never a remark such as switch-matrix's Comment "Order from Fischer".
    names = names[:1] + [n for n in names[1:] if _normal(n) in STAND_IN_NAMES]
    # Any column but the one naming the row: Part # tells rows apart when Description names them.
    counting = {v for k, v in columns.items() if k not in names and not k.startswith("name")}
    variants = [h for h in written if h and h not in counting and _tells_apart(h)]
    rows: list[BomRow] = []
    for line, cells in raw_rows:
        if cells is None:
            diagnostics.append(
                error(
                    "row does not line up with the columns of its header; left out",
                    path,
                    line,
                )
            )
            continue
        if not any(c.strip() for c in cells):
            continue
        padded = list(cells) + [""] * (len(written) - len(cells))
        fields = {h: c.strip() for h, c in zip(written, padded, strict=False) if h}
        if [fields.get(h, "") for h in written if h] == [h for h in written if h]:
            continue  # the header again (a table pasted twice)
        if _is_total(fields, names):
            continue
        row = _row(path, line, fields, columns, names, diagnostics)
        if row is not None:
            named_by = next(n for n in names if fields.get(n))
            said = [fields[h] for h in variants if h != named_by and fields[h] not in ("", "~")]
            variant = ", ".join(dict.fromkeys(said))
            rows.append(replace(row, variant=variant) if variant else row)
    return rows


def _tells_apart(header: str) -> bool:
    normal = _normal(header)
    return normal in VARIANTS or normal.endswith(("partno", "partnumber"))


def _is_total(fields: dict[str, str], names: list[str]) -> bool:
    """A Total/Sum line: named so, or without a name and saying so in another cell."""
    title = next((fields[n] for n in names if fields.get(n)), "")
    if title:
        return bool(_TOTAL.fullmatch(title) or _TOTAL.match(title) and title.endswith(":"))
    return any(_TOTAL_WORD.search(cell) for cell in fields.values() if cell)


def _row(path, line, fields, columns, names, diagnostics) -> BomRow | None:
    title = next((fields[n] for n in names if fields.get(n)), "")
    if not title:
        diagnostics.append(error("row without a part name; left out", path, line, names[0]))
        return None
    designator_column = columns.get("designators")
    designators = designators_in(fields.get(designator_column, "")) if designator_column else ()
    quantity_column = columns.get("quantity")
    if quantity_column:
        count = quantity(fields.get(quantity_column, ""), path, line, quantity_column, diagnostics)
        if count is None:
            return None
        if designators and len(designators) != count:
            diagnostics.append(
                warning(
                    f"{quantity_column} {count} but {len(designators)} designators; "
                    f"{count} counted",
                    path,
                    line,
                    quantity_column,
                )
            )
    elif designators:
        count = len(designators)
    else:
        diagnostics.append(
            error(
                f"no designators to count and no quantity column; {title!r} is left out",
                path,
                line,
                designator_column,
            )
        )
        return None
    return BomRow(
        line=line,
        name=title,
        count=count,
        designators=designators,
        reference=fields.get(columns.get("reference", ""), ""),
        kind=fields.get(columns.get("kind", ""), ""),
        supplier=fields.get(columns.get("supplier", ""), ""),
        fields=fields,
    )


def _unreadable(header: list[str], columns: dict[str, str]) -> str:
    found = [f"{meaning} {column!r}" for meaning, column in columns.items()]
    missing = [] if "name" in columns else ["a part name"]
    if "quantity" not in columns and "designators" not in columns:
        missing.append("a quantity or designators")
    # A file without a header row offers its first row (50 designators of a JLCPCB export):
    # a few are enough to recognise it.
    shown = [c if len(c) <= SHOWN_WIDTH else c[: SHOWN_WIDTH - 1] + "…" for c in header]
    shown = shown[:SHOWN_COLUMNS]
    if len(header) > SHOWN_COLUMNS:
        shown.append(f"and {len(header) - SHOWN_COLUMNS} more")
    return (
        f"not a BOM SCIS can read: no column for {', nor for '.join(missing)} (found "
        + (", ".join(found) + " among " if found else "")
        + f"the columns {', '.join(shown)})"
    )
