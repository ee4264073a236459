"""Edge cases of the PartID / Part-Name / Quantity BOM, on small files in tmp_path."""

from __future__ import annotations

from core.importers import bom_csv

HEADER = "PartID,Module,Part-Name EN,Part-Name DE,Quantity,Supply-Type,Supplier,Remarks\n"


def bom(tmp_path, rows: str, header: str = HEADER, folder: str = "stool"):
    (tmp_path / folder).mkdir()
    path = tmp_path / folder / "bom.csv"
    path.write_text(header + rows, encoding="utf-8")
    return path


def test_recognises_its_header_or_a_file_name_that_says_bom(tmp_path):
    assert bom_csv.recognizes(bom(tmp_path, ""))
    semicolons = bom(tmp_path, "", header="PartID;Part-Name;Quantity\n", folder="b")
    assert bom_csv.recognizes(semicolons)
    # Another header: a BOM only when its name says so (a repository holds other tables).
    other = bom(tmp_path, "", header="id,name,qty\n", folder="d")
    assert bom_csv.recognizes(other)
    parts = other.rename(other.with_name("parts.csv"))
    assert not bom_csv.recognizes(parts)
    sbom = other.with_name("sBoM.csv")
    sbom.write_text("POS\tNAME\tUNITS\n", encoding="utf-8")
    assert not bom_csv.recognizes(sbom)  # a LOSH sBoM is its manifest's to read
    assert not bom_csv.recognizes(tmp_path / "stool")


def test_quantities_are_whole_or_said_otherwise(tmp_path):
    path = bom(
        tmp_path,
        "1,,Board,Brett,2,OSH,,\n"
        "2,,Oil,Öl,0.25,OSH,,\n"  # rounded up to 1, with a warning
        "3,,Glue,Leim,,OSH,,\n"  # missing: left out
        "4,,Nails,Nägel,a few,OSH,,\n"  # not a number: left out
        ",,,,,,,\n"  # an empty row is no row
        "6,,,Schraube,1,OSH,,\n",  # the German name stands in
    )
    fragment = bom_csv.read(path)
    [design] = fragment.designs
    assert design.makes == "stool" and dict(design.inputs) == {
        "stool/board": 2,
        "stool/oil": 1,
        "stool/schraube": 1,
    }
    assert [(d.severity, d.field, d.line) for d in fragment.diagnostics] == [
        ("warning", "Quantity", 3),
        ("error", "Quantity", 4),
        ("error", "Quantity", 5),
        ("warning", None, 4),  # the glue and the nails: what goes in is not all known
    ]
    assert not design.inputs_known
    assert {i.id: i.aliases for i in fragment.items}["stool/oil"] == ("Öl",)


def test_row_without_any_name_is_left_out(tmp_path):
    fragment = bom_csv.read(bom(tmp_path, "1,,,,3,OSH,Shop,\n"))
    assert [(d.severity, d.field, d.line) for d in fragment.diagnostics] == [
        ("error", "Part-Name EN", 2),
        ("warning", None, 2),
    ]
    assert fragment.designs[0].inputs == () and not fragment.offers
    assert not fragment.designs[0].inputs_known


def test_offers_only_where_a_supplier_is_named(tmp_path):
    path = bom(
        tmp_path,
        '1,,Board,Brett,1,OSH,Sawmill,"see https://x, or ask"\n'
        "2,,Screws,Schrauben,8,OSH,any,\n"
        "3,,Glue,Leim,1,OSH,,\n"
        "4,,Oil,Öl,1,OSH,Sawmill,https://example.org/oil\n",
    )
    fragment = bom_csv.read(path)
    assert [p.id for p in fragment.participants] == ["stool/sawmill"]
    offers = {o.item: o for o in fragment.offers}
    assert set(offers) == {"stool/board", "stool/oil"}
    assert offers["stool/board"].properties == {}  # a remark that is not a link stays out
    assert offers["stool/oil"].properties == {"link": "https://example.org/oil"}
    assert all(o.price is None and o.supplier == "stool/sawmill" for o in offers.values())


def test_repeated_part_adds_up(tmp_path):
    fragment = bom_csv.read(bom(tmp_path, "1,,Screw,,4,OSH,,\n2,,Screw,,6,OSH,,\n"))
    assert fragment.designs[0].inputs == (("stool/screw", 10),)
