"""A bill of materials on its own: the OSE-style spreadsheet export (PartID, Part-Name EN/DE,
Quantity, Supplier, ...) of corpus/independent/losh-precious-hocker/bom.csv, or any file whose name
says it is a BOM (`bom.csv`, `YAEMK_bom.csv`, `BOM.md`) in a dialect core/importers/bom_table.py
reads. One file describes one product, named after the file when its name says more than "bom",
else after its folder (the file itself never names the product): a design makes the product from
the rows, each row an item (English name, German name as alias) counted by its quantity. A row
that cannot be read leaves the product's inputs unknown: the BOM no longer says all that goes in.

Supply-Type is not defined by the file. LOSH sBoMs say STD (standard part), BUY (bought), POSH
(made from an open design) or MOSH (an open module); this BOM writes "OSH" on every row, wood glue
and sandpaper included, each with a supplier, so it marks a part of an open-hardware product, not
a part someone makes. We keep the value as the item's `supply-type` property and treat all rows
alike: an input of the product, bought through an offer when the row names a Supplier. No design
is invented for a row, whatever its type.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from core.importers.bom_table import BomRow, read_bom
from core.importers.naming import slug
from core.importers.rows import delimiter_of
from core.network.assemble import Fragment
from core.network.diagnostics import Diagnostic, warning
from core.network.model import Design, Item, Offer, Origin, Participant, frozen_mapping

name = "bom-csv"

NAME_COLUMNS = ("Part-Name EN", "Part-Name", "Part-Name DE")
# Words a BOM uses for "no particular supplier": not a participant anyone can ask.
NOBODY = {"", "any", "-", "n/a", "none", "tbd"}


# Suffixes of the tables bom_table reads; a file of one of them is a BOM when its name says so.
BOM_SUFFIXES = (".csv", ".tsv", ".txt", ".md")
# Words of a file name that say "bill of materials" and nothing about the product. Not a LOSH
# `sBoM`: its POSH and MOSH rows mean something only beside the manifest that reads it.
_BOM_WORDS = re.compile(r"(?i)(^|[-_. ])(bom|bill[-_ ]of[-_ ]materials?)(?=$|[-_. ])")


def recognizes(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() not in BOM_SUFFIXES:
        return False
    if _BOM_WORDS.search(path.stem):
        return True
    if path.suffix.lower() != ".csv":
        return False
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline().rstrip("\r\n")
        cells = next(csv.reader([first], delimiter=delimiter_of(first)), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    header = {cell.strip() for cell in cells}
    return {"PartID", "Quantity"} <= header and any(c in header for c in NAME_COLUMNS)


def recognizes_named(path: Path) -> bool:
    """A table named explicitly, whatever its file name, when bom_table finds a BOM in it."""
    return (
        path.is_file()
        and path.suffix.lower() in BOM_SUFFIXES
        and not isinstance(read_bom(path), Diagnostic)
    )


def read(path: Path) -> Fragment:
    fragment = Fragment(str(path))
    bom = read_bom(path)
    if isinstance(bom, Diagnostic):
        fragment.diagnostics.append(bom)
        return fragment
    fragment.diagnostics.extend(bom.diagnostics)
    folder = path.resolve().parent.name
    own = _BOM_WORDS.sub(" ", path.stem).strip(" -_.")
    title = own or folder
    product = slug(title, fallback=slug(path.stem))
    inputs: dict[str, int] = {}
    for row in bom.rows:
        item_id = _row(fragment, path, row, product)
        inputs[item_id] = inputs.get(item_id, 0) + row.count
    origin = Origin(str(path), 1)
    fragment.items.insert(0, Item(id=product, name=title, origin=origin))
    # The BOM names no process: which facility can assemble the product is unknown, so none is
    # assumed (a network file that knows declares its own design, or `assume` says any will do).
    fragment.designs.insert(
        0,
        Design(
            id=f"bom:{product}",
            makes=product,
            origin=origin,
            inputs=tuple(inputs.items()),
            name=title,
            processes_known=False,
            inputs_known=not bom.left_out,
        ),
    )
    if bom.left_out:
        fragment.diagnostics.append(
            warning(
                f"{len(bom.left_out)} row(s) could not be read: the inputs of {title!r} are "
                "unknown, so it cannot be ordered until they are",
                path,
                bom.left_out[0].line,
            )
        )
    return fragment


def _row(fragment: Fragment, path: Path, row: BomRow, product: str) -> str:
    """The row's item (and its supplier's offer); rows without a name or count were already
    left out, with an error, by the reader."""
    origin = Origin(str(path), row.line)
    item_id = f"{product}/{slug(row.label)}"
    fields = row.fields
    name_de = fields.get("Part-Name DE", "")
    properties = {
        key: fields[column]
        for key, column in (
            ("description", "Description EN"),
            ("supply-type", "Supply-Type"),
            ("module", "Module"),
            ("manufacturer", "Manufacturer"),
            ("manufacturer-part-no", "Manufacturer-PartNo."),
        )
        if fields.get(column) and fields[column].lower() not in NOBODY
    }
    fragment.items.append(
        Item(
            id=item_id,
            name=row.label,
            origin=origin,
            properties=frozen_mapping(properties),
            aliases=(name_de,) if name_de and name_de != row.name else (),
        )
    )
    supplier = fields.get("Supplier", "")
    if supplier.lower() not in NOBODY:
        _offer(fragment, product, item_id, supplier, fields, origin)
    return item_id


def _offer(
    fragment: Fragment,
    product: str,
    item_id: str,
    supplier: str,
    row: dict[str, str],
    origin: Origin,
) -> None:
    # Scoped to the product: "Hardware Store" in one BOM is not the same shop as in another.
    participant = f"{product}/{slug(supplier)}"
    if all(p.id != participant for p in fragment.participants):
        fragment.participants.append(
            Participant(id=participant, name=supplier, roles=("supplier",), origin=origin)
        )
    remarks = row.get("Remarks", "")
    properties = frozen_mapping(
        {
            key: value
            for key, value in (
                ("supplier-part-no", row.get("Supplier-PartNo.", "")),
                ("link", remarks if remarks.startswith(("http://", "https://")) else ""),
            )
            if value
        }
    )
    offer_id = f"{item_id}@{slug(supplier)}"
    if all(o.id != offer_id for o in fragment.offers):
        # The BOM lists no price: None keeps it unknown (a symbol in the pricing equation).
        fragment.offers.append(
            Offer(
                id=offer_id,
                supplier=participant,
                item=item_id,
                price=None,
                origin=origin,
                properties=properties,
            )
        )
