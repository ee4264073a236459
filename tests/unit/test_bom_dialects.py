"""Each BOM dialect published in open hardware, read from a real file (tests/data/boms)."""

from __future__ import annotations

from pathlib import Path

from core.importers import load_network, okh_v1
from core.importers.bom_table import Bom, designators_in, find_on_disk, read_bom
from core.network.diagnostics import Diagnostic

BOMS = Path(__file__).parent.parent / "data" / "boms"


def bom(name: str) -> Bom:
    read = read_bom(BOMS / name)
    assert isinstance(read, Bom), read
    return read


def counts(read: Bom) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in read.rows:
        totals[row.name] = totals.get(row.name, 0) + row.count
    return totals


def test_kicad_export_names_parts_by_value_and_counts_by_qty():
    read = bom("kicad-mini-talkie.csv")
    assert read.columns["name"] == "Value" and read.columns["quantity"] == "Qty"
    assert read.columns["designators"] == "Reference"
    assert len(read.rows) == 25 and read.diagnostics == ()
    [caps] = [r for r in read.rows if r.name == "100n"]
    assert caps.count == 9 and caps.designators[:2] == ("C3", "C4") and caps.line == 3
    assert sum(r.count for r in read.rows) == 45


def test_jlcpcb_bom_counts_its_designators():
    read = bom("jlcpcb-buttonbar.csv")
    assert read.columns == {"name": "Comment", "designators": "Designator"}
    assert len(read.rows) == 10 and read.diagnostics == ()
    assert counts(read)["100nF 0603"] == 7  # "C1,C2,C3,C4,C5,C6,C7", quoted
    assert counts(read)["74HC14D"] == 1
    assert read.rows[0].fields["LCSC"] == "C14663"


def test_item_quantity_sheet():
    read = bom("item-quantity-hackpadplusplus.csv")
    assert read.columns == {"name": "Item", "quantity": "Quantity"}
    assert counts(read) == {
        "Switches": 6,
        "Hotswap sockets": 6,
        "Diodes": 6,
        "LEDs": 6,
        "Xiao": 1,
        "Keycaps": 6,
        "OLED": 1,
        "Battery": 1,
    }


def test_part_amount_with_quoted_commas_names_by_part_not_comment():
    read = bom("part-amount-switch-matrix.csv")
    assert read.columns["name"] == "Part" and read.columns["quantity"] == "Amount"
    assert len(read.rows) == 17
    wires = counts(read)[
        "4128-40, 200mm Jumper Wire Breadboard Jumper Wire in Black, Blue, Red, White, Yellow"
    ]
    assert wires == 160
    assert counts(read)["Arduino, Mega 2560 Rev 3"] == 2


def test_numbered_rows_and_part_numbers_do_not_name_parts():
    # "Item #" is 1, 2, 3, 4 and "Part #" a maker's number: the Description names the part.
    read = bom("item-number-lands.csv")
    assert read.columns["name"] == "Description" and read.columns["supplier"] == "Supplier"
    assert counts(read)["Three level, din-rail mounted terminal blocks"] == 20
    assert read.rows[0].supplier == "Spraying Systems Co. (spray.com)"


def test_markdown_bom_reads_every_section_table_after_the_prose():
    read = bom("bom-mouse-jiggler.md")
    assert read.columns == {"name": "Name", "quantity": "Quantity"} and read.header_line == 5
    assert len(read.rows) == 21  # 14 electronics + 7 mechanical; the 3D-printed table is empty
    assert counts(read)["1KΩ Resistor"] == 3
    assert counts(read)["M3 Hex Button Cap 12mm"] == 11
    [jack] = [r for r in read.rows if r.name == "Male barrel jack"]
    assert jack.line == 20 and jack.fields["Digkey"] == "CP-102A-ND"


def test_preamble_rows_before_the_header_are_skipped(tmp_path):
    # No real published file of this shape was found; the shape the issue describes.
    path = tmp_path / "export.csv"
    path.write_text(
        "Bill of materials;;\n;;\nRev B, 2021;;\nQTY;Device;Notes\n2;Screw, M3;\n1;Nut;x\n"
    )
    read = read_bom(path)
    assert isinstance(read, Bom) and read.header_line == 4
    assert [(r.line, r.name, r.count) for r in read.rows] == [(5, "Screw, M3", 2), (6, "Nut", 1)]


def test_designators_counted_in_lists_and_ranges():
    assert len(designators_in("R1, R2,R3")) == 3
    assert designators_in("R1 R2") == ("R1", "R2")
    assert designators_in("C1-C4") == ("C1", "C2", "C3", "C4")


def test_a_quantity_that_disagrees_with_the_designators_is_said(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text('Reference,Value,Qty\n"R1,R2",10k,3\n')
    read = read_bom(path)
    assert read.rows[0].count == 3
    [said] = read.diagnostics
    assert said.severity == "warning" and said.line == 2 and "2 designators" in said.message


def test_a_table_that_is_no_bom_says_which_columns_it_found(tmp_path):
    path = tmp_path / "pins.csv"
    path.write_text("Pin,Function,Reference\n1,GND,ISO 4032 M8\n")
    said = read_bom(path)
    assert isinstance(said, Diagnostic) and said.severity == "error"
    assert said.file == str(path) and said.line == 1
    assert "reference 'Reference'" in said.message and "Pin, Function, Reference" in said.message
    assert "no column for a part name, nor for a quantity or designators" in said.message


def test_found_on_disk_ignoring_case_never_outside_the_root(tmp_path):
    (tmp_path / "Hardware").mkdir()
    (tmp_path / "Hardware" / "BOM.csv").write_text("Part,Qty\nNut,1\n")
    (tmp_path / "secret.csv").write_text("x")
    root = tmp_path / "Hardware"
    assert find_on_disk(root, "bom.csv") == (root / "BOM.csv").resolve()
    assert find_on_disk(tmp_path, "hardware/bom.csv") == (root / "BOM.csv").resolve()
    assert find_on_disk(root, "../secret.csv") is None
    assert find_on_disk(root, "/etc/passwd") is None
    assert find_on_disk(root, "missing.csv") is None


def test_okh_v1_bom_file_beside_the_manifest_gives_counted_inputs(tmp_path):
    (tmp_path / "BOM.csv").write_bytes((BOMS / "jlcpcb-buttonbar.csv").read_bytes())
    manifest = tmp_path / "okh.yml"
    manifest.write_text("title: Button bar\nbom: bom.csv\n")
    fragment = okh_v1.read(manifest)
    [design] = fragment.designs
    assert design.inputs_known
    assert dict(design.inputs)["100nf-0603"] == 7 and len(design.inputs) == 10
    item = {i.id: i for i in fragment.items}["100nf-0603"]
    assert item.origin.file.endswith("BOM.csv") and item.origin.line == 2


def test_okh_v1_bom_file_missing_leaves_the_inputs_unknown(tmp_path):
    manifest = tmp_path / "okh.yml"
    manifest.write_text("title: Button bar\nbom: parts/bom.csv\n")
    fragment = okh_v1.read(manifest)
    [design] = fragment.designs
    assert not design.inputs_known and design.inputs == ()
    assert all(i.name != "parts/bom.csv" for i in fragment.items)
    [said] = [d for d in fragment.diagnostics if d.field == "bom"]
    assert said.line == 2 and "is not a file beside the manifest" in said.message


def test_okh_v1_design_files_link_is_never_an_input(tmp_path):
    manifest = tmp_path / "okh.yml"
    manifest.write_text(
        "title: Origami mask\n"
        "design-files:\n"
        "  - path: https://example.org/uploads/MM_Origami_Pattern.pdf\n"
        "    title: Materials and Design files\n"
        "  - path: https://drive.google.com/drive/folders/1UApAfX\n"
        "    title: Origami-Mask\n"
        "  - path: https://github.com/x/y/tree/master/driver-board\n"
        "    title: Driver Board\n"
    )
    [design] = okh_v1.read(manifest).designs
    assert dict(design.inputs) == {"driver-board": 1} and not design.inputs_known


def test_eagle_bom_export_counts_qty_and_reads_the_parts_column_as_designators():
    # bom.ulp CSV: "Qty";"Value";"Device";"Package";"Parts";... with `;` and a trailing `;`.
    read = bom("eagle-values-tinytorch.csv")
    assert read.columns["name"] == "Value" and read.columns["quantity"] == "Qty"
    assert read.columns["designators"] == "Parts" and read.diagnostics == ()
    assert counts(read)["10uF"] == 3 and counts(read)["ICSP"] == 1
    [caps] = [r for r in read.rows if r.name == "10uF"]
    assert caps.designators == ("C1", "C2", "C3") and caps.line == 4
    assert sum(r.count for r in read.rows) == 29


def test_eagle_partlist_in_columns_after_its_title_lines():
    # "Partlist / Exported from ... / EAGLE Version ... / Assembly variant:", then a header in
    # columns of spaces, one designator a row: each row is one of its Value.
    read = bom("eagle-partlist-tinytorch.txt")
    assert read.header_line == 9 and read.diagnostics == ()
    assert read.columns["name"] == "Value" and read.columns["designators"] == "Part"
    assert len(read.rows) == 27 and all(r.count == 1 for r in read.rows)
    assert counts(read)["10uF"] == 3 and counts(read)["ATtiny84A-SSU"] == 1
    [mcu] = [r for r in read.rows if r.name == "ATtiny84A-SSU"]
    assert mcu.line == 37 and mcu.designators == ("U2",) and mcu.fields["Package"] == "SO14"
    # The same board read from its other export counts the same parts (the logos aside).
    values = counts(bom("eagle-values-tinytorch.csv"))
    assert {n: c for n, c in values.items() if not n.startswith("OSHW")} == counts(read)


def test_a_partlist_row_out_of_its_columns_is_said_not_guessed(tmp_path):
    path = tmp_path / "partlist.txt"
    path.write_text(
        "Partlist\n\nPart     Value    Device\n\n"
        "R1       10K      R-US\n"
        "* C1       16pF   CAP_CERAMIC\n"
    )
    read = read_bom(path)
    assert [(r.line, r.name) for r in read.rows] == [(5, "10K")]
    [said] = read.diagnostics
    assert said.severity == "error" and said.line == 6 and "does not line up" in said.message


def test_same_value_in_another_footprint_is_another_part():
    read = bom("kicad-mini-talkie.csv")
    tens = [r for r in read.rows if r.name == "10u"]
    assert [(r.count, r.label) for r in tens] == [
        (6, "10u (Capacitor_SMD:C_0805_2012Metric_Pad1.18x1.45mm_HandSolder)"),
        (1, "10u (Capacitor_SMD:C_0603_1608Metric_Pad1.08x0.95mm_HandSolder)"),
    ]
    # A name no other row shares keeps its plain label, so item ids stay as they were.
    [caps] = [r for r in read.rows if r.name == "100n"]
    assert caps.label == "100n" and caps.variant.startswith("Capacitor_SMD:C_0603")


def test_rows_of_one_comment_with_other_lcsc_numbers_stay_apart(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text(
        "Comment,Designator,Footprint,LCSC Part #\n"
        '10k,"R1,R2",R_0603,C25804\n10k,R3,R_0603,C98220\n100n,C1,C_0603,C14663\n'
        "100n,C2,C_0603,C14663\n"
    )
    read = read_bom(path)
    assert [r.label for r in read.rows] == [
        "10k (R_0603, C25804)",
        "10k (R_0603, C98220)",
        "100n",
        "100n",
    ]


def test_screws_of_other_sizes_are_other_parts(tmp_path):
    path = tmp_path / "bom.md"
    path.write_text(
        "| Part | Size | Qty |\n|---|---|---|\n| Screw | M3x8 | 4 |\n| Screw | M3x12 | 2 |\n"
    )
    assert [(r.label, r.count) for r in read_bom(path).rows] == [
        ("Screw (M3x8)", 4),
        ("Screw (M3x12)", 2),
    ]


def test_counts_written_the_way_people_write_them(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("Part;Qty\nA;1x\nB;10 x\nC;x2\nD;10 pcs\nE;2 Stk.\nF;3×\nG;M3\nH;2 m\n")
    read = read_bom(path)
    assert [(r.name, r.count) for r in read.rows] == [
        ("A", 1),
        ("B", 10),
        ("C", 2),
        ("D", 10),
        ("E", 2),
        ("F", 3),
    ]
    assert [(d.line, d.severity) for d in read.diagnostics] == [(8, "error"), (9, "error")]
    assert "'M3' is not a number" in read.diagnostics[0].message


def test_a_total_row_is_no_part_and_no_error(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text(
        "Item,Quantity,Price\nNut,4,0.40\nBolt,4,1.20\nSubtotal,8,1.60\n,,1.60 Total\n"
        "Total,8,1.60\nWasher,2,0.10\n"
    )
    read = read_bom(path)
    assert [(r.name, r.count) for r in read.rows] == [("Nut", 4), ("Bolt", 4), ("Washer", 2)]
    assert read.diagnostics == ()


# -- a BOM on its own, and one that does not say everything ------------------------------------


def test_a_bom_named_on_its_own_is_a_product_named_after_the_file(tmp_path):
    # `scis catalog -n kicad-mini-talkie.csv`: named one by one, it is read whatever its name.
    result = load_network([BOMS / "kicad-mini-talkie.csv"])
    assert not result.errors
    design = result.network.designs["bom:kicad-mini-talkie"]
    assert design.inputs_known and not design.processes_known  # a BOM names no process
    assert sum(n for _, n in design.inputs) == 45
    # In a folder only files whose name says "bom" are BOMs: a repository holds other tables.
    folder = tmp_path / "radio"
    folder.mkdir()
    (folder / "pinout.csv").write_text("Pin,Name,Qty\n1,GND,1\n", encoding="utf-8")
    (folder / "radio_BOM.csv").write_bytes((BOMS / "kicad-mini-talkie.csv").read_bytes())
    network = load_network([folder]).network
    assert [d.id for d in network.designs.values()] == ["bom:radio"]


def test_a_bom_with_a_row_it_cannot_read_leaves_the_inputs_unknown(tmp_path):
    folder = tmp_path / "lamp"
    folder.mkdir()
    (folder / "bom.csv").write_text("Part,Qty\nLED,3\nWire,0.5 m\nPLA,120 g\n", encoding="utf-8")
    result = load_network([folder])
    design = result.network.designs["bom:lamp"]
    assert not design.inputs_known  # the wire and the PLA are not known: not orderable
    assert dict(design.inputs) == {"lamp/led": 3}
    [said] = [d for d in result.diagnostics if "inputs of 'lamp' are unknown" in d.message]
    assert said.line == 3 and "2 row(s) could not be read" in said.message
    # The same rows through a LOSH manifest: the module's inputs are unknown too.
    (folder / "okh.toml").write_text(
        'name = "Lamp"\nrepo = "https://github.com/o/lamp"\nbom = "bom.csv"\ntsdc = "MEC"\n',
        encoding="utf-8",
    )
    module = load_network([folder]).network.designs["okh:github.com/o/lamp"]
    assert not module.inputs_known and dict(module.inputs) == {"led": 3}


def test_a_count_column_counts_and_a_count_not_given_is_no_count():
    # A README's Bill of Materials section: `| Count | Part |`, delimited `| - | - |`.
    read = bom("count-rollivr-README.md")
    assert read.columns == {"name": "Part", "quantity": "Count"}
    assert [(r.name, r.count, r.line) for r in read.rows] == [
        ("Arduino Uno (or similar)", 1, 39),
        ("Grove Optical Rotary Encoder (TCUT1600X01)", 2, 40),
        ("Grove Universal 4 Pin Cable", 2, 41),
    ]
    # "- | Jumper Wires": how many is not said, so the row is left out and that is told.
    [left_out] = read.left_out
    assert (left_out.line, left_out.field) == (42, "Count") and "'-'" in left_out.message
