"""A bill of materials as a spreadsheet export: PartID, Part-Name EN/DE, Quantity, Supplier, ...

The OSE-style BOM of corpus/independent/losh-precious-hocker/bom.csv. One file describes one
product, named after its folder (the file itself never names the product): a design makes the
product from the rows, each row an item (English name, German name as alias) counted by Quantity.

Supply-Type is not defined by the file. LOSH sBoMs say STD (standard part), BUY (bought), POSH
(made from an open design) or MOSH (an open module); this BOM writes "OSH" on every row, wood glue
and sandpaper included, each with a supplier, so it marks a part of an open-hardware product, not
a part someone makes. We keep the value as the item's `supply-type` property and treat all rows
alike: an input of the product, bought through an offer when the row names a Supplier. No design
is invented for a row, whatever its type.
"""

from __future__ import annotations

import csv
from pathlib import Path

from core.importers.naming import slug
from core.importers.rows import Table, delimiter_of, quantity, read_table
from core.network.assemble import Fragment
from core.network.diagnostics import Diagnostic, error
from core.network.model import Design, Item, Offer, Origin, Participant, frozen_mapping

name = "bom-csv"

NAME_COLUMNS = ("Part-Name EN", "Part-Name", "Part-Name DE")
# Words a BOM uses for "no particular supplier": not a participant anyone can ask.
NOBODY = {"", "any", "-", "n/a", "none", "tbd"}


def recognizes(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() != ".csv":
        return False
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline().rstrip("\r\n")
        cells = next(csv.reader([first], delimiter=delimiter_of(first)), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    header = {cell.strip() for cell in cells}
    return {"PartID", "Quantity"} <= header and any(c in header for c in NAME_COLUMNS)


def read(path: Path) -> Fragment:
    fragment = Fragment(str(path))
    table = read_table(path)
    if isinstance(table, Diagnostic):
        fragment.diagnostics.append(table)
        return fragment
    folder = path.resolve().parent.name
    product = slug(folder, fallback=slug(path.stem))
    inputs: dict[str, int] = {}
    for line, row in table.rows:
        item = _row(fragment, path, line, row, product, table)
        if item:
            inputs[item[0]] = inputs.get(item[0], 0) + item[1]
    origin = Origin(str(path), 1)
    fragment.items.insert(0, Item(id=product, name=folder, origin=origin))
    # The BOM names no process, so any facility may assemble the product; a network file that
    # knows better declares its own design.
    fragment.designs.insert(
        0,
        Design(
            id=f"bom:{product}",
            makes=product,
            origin=origin,
            inputs=tuple(inputs.items()),
            name=folder,
        ),
    )
    return fragment


def _row(
    fragment: Fragment, path: Path, line: int, row: dict[str, str], product: str, table: Table
) -> tuple[str, int] | None:
    title = next((row[c] for c in NAME_COLUMNS if row.get(c)), "")
    if not title:
        name_field = next((c for c in NAME_COLUMNS if c in table.header), NAME_COLUMNS[0])
        fragment.diagnostics.append(
            error("row without a part name; left out", path, line, name_field)
        )
        return None
    count = quantity(row.get("Quantity", ""), path, line, "Quantity", fragment.diagnostics)
    if count is None:
        return None
    origin = Origin(str(path), line)
    item_id = f"{product}/{slug(title)}"
    name_de = row.get("Part-Name DE", "")
    properties = {
        key: row[column]
        for key, column in (
            ("description", "Description EN"),
            ("supply-type", "Supply-Type"),
            ("module", "Module"),
            ("manufacturer", "Manufacturer"),
            ("manufacturer-part-no", "Manufacturer-PartNo."),
        )
        if row.get(column) and row[column].lower() not in NOBODY
    }
    fragment.items.append(
        Item(
            id=item_id,
            name=title,
            origin=origin,
            properties=frozen_mapping(properties),
            aliases=(name_de,) if name_de and name_de != title else (),
        )
    )
    supplier = row.get("Supplier", "")
    if supplier.lower() not in NOBODY:
        _offer(fragment, product, item_id, supplier, row, origin)
    return item_id, count


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
