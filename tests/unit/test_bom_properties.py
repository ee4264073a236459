"""Any BOM a person could write, in any dialect read here, reads back as the parts written."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import given, settings
from hypothesis import strategies as st

from core.importers.bom_table import _TOTAL, Bom, read_bom

NAME_HEADERS = ("Name", "Part", "Item", "Component", "Description", "Bezeichnung", "Comment")
QUANTITY_HEADERS = ("Quantity", "Qty", "QTY", "Count", "Amount", "Menge", "Anzahl", "Units")
DESIGNATOR_HEADERS = ("Designator", "Designators", "RefDes", "References")
PREAMBLE = ("Bill of materials", "", "Rev B, 2021", "Project: lamp; board v2", "")
PROSE = "# Bill of materials\n\nWhat to buy, with | a pipe and a, comma.\n\n"

# Names as people write them: commas, semicolons, quotes, pipes, unicode, even line separators
# that are not CSV line ends. A backslash is left out: in Markdown it escapes the next mark.
PIECES = (",", ";", '"', "'", "|", " ", "Ω", "µ", "Ä", "中", "\u2028", "\u00a0", "M3", "10k", "#")
names = (
    st.lists(
        st.sampled_from(PIECES)
        | st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\")),
        min_size=1,
        max_size=6,
    )
    .map(lambda pieces: "".join(pieces).strip())
    .filter(lambda n: n and not n.isdigit() and not _TOTAL.match(n) and n != "~")
)
counts = st.integers(min_value=1, max_value=100_000)
written = st.sampled_from(("{}", "{}x", "{} x", "x{}", "{} pcs", "{} Stk."))


@st.composite
def boms(draw):
    rows = draw(st.lists(st.tuples(names, counts, written), min_size=1, max_size=8))
    with_designators = draw(st.booleans())
    with_quantity = not with_designators or draw(st.booleans())
    header = [draw(st.sampled_from(NAME_HEADERS))]
    if with_quantity:
        header.append(draw(st.sampled_from(QUANTITY_HEADERS)))
    if with_designators:
        header.append(draw(st.sampled_from(DESIGNATOR_HEADERS)))
        # Designators count the row: as many as its count, a few at most.
        rows = [(n, min(c, 5), w) for n, c, w in rows]
    body = []
    for index, (name, count, form) in enumerate(rows):
        cells = [name]
        if with_quantity:
            cells.append(form.format(count))
        if with_designators:
            cells.append(", ".join(f"R{index * 10 + k + 1}" for k in range(count)))
        body.append(cells)
    if draw(st.booleans()):
        order = draw(st.permutations(range(len(header))))
        header = [header[i] for i in order]
        body = [[cells[i] for i in order] for cells in body]
    return rows, header, body


def rendered(draw, header, body) -> tuple[str, str, int]:
    """The file's text, its suffix, and the line of its first row."""
    if draw(st.booleans()):
        lines = [PROSE.rstrip("\n")] if draw(st.booleans()) else []
        escape = [[c.replace("|", "\\|") for c in cells] for cells in [header, *body]]
        table = ["| " + " | ".join(cells) + " |" for cells in escape]
        table.insert(1, "|" + "---|" * len(header))
        prose = PROSE if lines else ""
        first = prose.count("\n") + 3
        return prose + "\n".join(table) + "\n", ".md", first
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    preamble = draw(st.integers(min_value=0, max_value=3))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\n")
    for text in PREAMBLE[:preamble]:
        writer.writerow([text] if text else [])
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue(), draw(st.sampled_from([".csv", ".tsv", ".txt"])), preamble + 2


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_dialect_reads_back_the_names_and_counts_written(data):
    rows, header, body = data.draw(boms())
    text, suffix, first = rendered(data.draw, header, body)
    with TemporaryDirectory() as folder:
        path = Path(folder) / f"bom{suffix}"
        path.write_text(text, encoding="utf-8", newline="")
        read = read_bom(path)
    assert isinstance(read, Bom), (read, text)
    assert read.diagnostics == (), text
    assert [(r.name, r.count) for r in read.rows] == [(n, c) for n, c, _ in rows], text
    assert [r.line for r in read.rows] == list(range(first, first + len(rows))), text
