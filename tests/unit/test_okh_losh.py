"""OKH-LOSH edge cases on small repositories written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.importers import load_network, okh_losh
from core.importers.toml_lines import load_toml
from core.network.model import Facility, Offer, Participant
from core.weave import Demand, Weave

REPO = "github.com/example/box"
MANIFEST = """\
okhv = "OKH-LOSHv1.0"
name = "Box"
repo = "https://github.com/example/box"
tsdc = "ASM"
bom = "sBoM.csv"
"""
HEADER = "POS\tNAME\tUNITS\tTYPE\tREFERENCE\n"


def repo(
    tmp_path: Path,
    manifest: str = MANIFEST,
    sbom: str | None = None,
    files: dict[str, str] | None = None,
) -> Path:
    folder = tmp_path / "box"
    folder.mkdir(parents=True)
    (folder / "okh.toml").write_text(manifest, encoding="utf-8")
    if sbom is not None:
        (folder / "sBoM.csv").write_text(HEADER + sbom, encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def module_design(fragment):
    return next(d for d in fragment.designs if d.makes == REPO)


def tsdc(*codes: str) -> frozenset[str]:
    """The processes SCIS reads these TsDC codes as (its process vocabulary decides)."""
    return okh_losh.tsdc_processes(list(codes), None, None, "tsdc", [])


def said(fragment):
    """What is said, but for the 1 g of material standing in for a mass not given (its own
    test: test_a_material_without_a_mass_is_counted_1_g_and_said_so)."""
    return [(d.severity, d.field, d.line) for d in fragment.diagnostics if not _stand_in(d)]


def _stand_in(diagnostic) -> bool:
    return diagnostic.message.startswith("no mass given")


def said_of_inputs(fragment):
    """What is said, but for the processes (`tsdc`) and the 1 g of material standing in for a
    mass not given (test_a_material_without_a_mass_is_counted_1_g_and_said_so): they are other
    matters than which inputs there are."""
    return [
        (d.severity, d.field, d.line)
        for d in fragment.diagnostics
        if not (d.field or "").split(".")[-1].startswith("tsdc") and not _stand_in(d)
    ]


def test_a_material_without_a_mass_is_counted_1_g_and_said_so(tmp_path):
    lid = '[[part]]\nname = "Lid"\nmaterial = "PLA"\ntsdc = "3DP"\n'
    fragment = okh_losh.read(repo(tmp_path, MANIFEST + lid, sbom="1\tLid\t1\tPOSH\t\n"))
    lid = next(d for d in fragment.designs if d.makes.endswith("/lid"))
    assert lid.inputs == (("pla", 1),) and lid.inputs_known
    [stand_in] = [d for d in fragment.diagnostics if d.message.startswith("no mass given")]
    assert stand_in.field == "part[0].material" and "1 g of PLA" in stand_in.message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://github.com/OPEN-NEXT/LOSH-dummy-MOSH-B/commit/d11fbfbd74941236e5e3",
            "github.com/OPEN-NEXT/LOSH-dummy-MOSH-B",
        ),
        (
            "https://github.com/OPEN-NEXT/LOSH-dummy-MOSH-D/releases/tag/v1.0.0",
            "github.com/OPEN-NEXT/LOSH-dummy-MOSH-D",
        ),
        (
            "https://github.com/LibreSolar/mppt-1210-hus/tree/fe8b313",
            "github.com/LibreSolar/mppt-1210-hus",
        ),
        ("https://github.com/LibreSolar/mppt-2420-hc", "github.com/LibreSolar/mppt-2420-hc"),
        ("http://www.GitHub.com/o/r.git/", "github.com/o/r"),
        (
            "https://gitlab.com/OSEGermany/ohloom/-/tags/ohloom-0.10.0",
            "gitlab.com/OSEGermany/ohloom",
        ),
        ("https://gitlab.com/group/sub/project/-/tree/main", "gitlab.com/group/sub/project"),
        ("https://github.com/o/tree", "github.com/o/tree"),  # a repository called "tree"
        ("/3DParts/part.toml", None),
        ("ftp://example.org/x", None),
    ],
)
def test_repo_id(url, expected):
    assert okh_losh.repo_id(url) == expected


def test_recognizes_repository_folders_and_manifests(tmp_path):
    folder = repo(
        tmp_path,
        files={
            "okh-part.toml": 'name = "P"\n',
            "other.toml": 'okhv = "2"\n',
            "pyproject.toml": "[tool.x]\n",
            "okh.yml": "name: x\n",
        },
    )
    assert okh_losh.recognizes(folder)
    assert not okh_losh.recognizes(tmp_path)
    assert okh_losh.recognizes(folder / "okh.toml")
    assert okh_losh.recognizes(folder / "okh-part.toml")
    assert okh_losh.recognizes(folder / "other.toml")  # says okhv
    assert not okh_losh.recognizes(folder / "pyproject.toml")
    assert not okh_losh.recognizes(folder / "okh.yml")


def test_folder_and_manifest_read_alike(tmp_path):
    folder = repo(tmp_path, sbom="1\tNut\t4\tSTD\tISO 4032 M8\n")
    by_folder, by_file = okh_losh.read(folder), okh_losh.read(folder / "okh.toml")
    assert by_folder.designs == by_file.designs and by_folder.items == by_file.items
    assert module_design(by_folder).inputs == (("iso-4032-m8", 4),)
    assert module_design(by_folder).processes == tsdc("ASM")


def test_bad_toml_is_one_error_at_the_line_tomllib_names(tmp_path):
    folder = repo(tmp_path, manifest='name = "Box"\nrepo = "https://github.com/x/y"\ntsdc = [\n')
    fragment = okh_losh.read(folder)
    [problem] = fragment.diagnostics
    assert problem.severity == "error" and "not valid TOML" in problem.message
    assert problem.line == 3 and fragment.failed  # "at end of document": its last line
    midway = okh_losh.read(repo(tmp_path / "b", manifest='name = "Box"\nrepo = = 1\ntsdc = "A"\n'))
    assert [(d.severity, d.line) for d in midway.diagnostics] == [("error", 2)]


def test_tsdc_list_and_a_bad_tsdc(tmp_path):
    folder = repo(tmp_path, manifest=MANIFEST.replace('tsdc = "ASM"', 'tsdc = ["3DP", "CNC"]'))
    assert module_design(okh_losh.read(folder)).processes == tsdc("3DP", "CNC")
    other = repo(tmp_path / "b", manifest=MANIFEST.replace('tsdc = "ASM"', "tsdc = 3"))
    fragment = okh_losh.read(other)
    assert module_design(fragment).processes == frozenset()
    assert ("warning", "tsdc", 4) in said(fragment)


def test_readiness_levels_follow_the_okh_losh_schema(tmp_path):
    levels = 'technology-readiness-level = "OTRL-4"\ndocumentation-readiness-level = "ODRL-3*"\n'
    good = okh_losh.read(repo(tmp_path, manifest=MANIFEST + levels, sbom=""))
    assert good.diagnostics == []
    bad = okh_losh.read(
        repo(tmp_path / "b", sbom="", manifest=MANIFEST + levels.replace("ODRL-3*", "ODRL-3+"))
    )
    [problem] = bad.diagnostics
    assert (problem.severity, problem.field, problem.line) == (
        "warning",
        "documentation-readiness-level",
        7,
    )
    assert "ODRL-3+" in problem.message


def test_sbom_rows(tmp_path):
    sbom = (
        "1\tNut\t4\tSTD\tISO 4032  M8\n"
        "2\tNut again\t2\tSTD\tISO 4032 M8\n"  # the same standard part: counts add up
        "3\tRod\t0.5\tBUY\tsteel\n"  # rounded up, said so
        "4\tGlue\t\tBUY\t\n"  # no quantity: left out
        "5\tThing\t1\tWEIRD\t\n"  # unknown type: bought by name
        "6\tWasher\t2\tSTD\t\n"  # STD without a reference: bought by name
    )
    fragment = okh_losh.read(repo(tmp_path, sbom=sbom))
    assert dict(module_design(fragment).inputs) == {
        "iso-4032-m8": 6,
        "rod": 1,
        "thing": 1,
        "washer": 2,
    }
    assert said(fragment) == [
        ("warning", "UNITS", 4),
        ("error", "UNITS", 5),
        ("warning", "TYPE", 6),
        ("warning", "TYPE", 7),
        ("warning", "UNITS", 5),  # the glue's row is left out: the inputs are not all known
    ]
    assert not module_design(fragment).inputs_known
    assert not fragment.offers  # nothing is invented to buy from
    rod = next(i for i in fragment.items if i.id == "rod")
    assert rod.properties == {"reference": "steel"}


def test_a_bom_that_is_no_sbom_is_bought_by_name(tmp_path):
    folder = repo(tmp_path, manifest=MANIFEST + '[[part]]\nname = "Lid"\nmaterial = "PMMA"\n')
    (folder / "sBoM.csv").write_text("Item,Count\nNut,4\nNut,2\n", encoding="utf-8")
    fragment = okh_losh.read(folder)
    design = module_design(fragment)
    assert design.inputs == (("nut", 6),) and design.inputs_known
    assert said_of_inputs(fragment) == [("warning", "part[0].name", 7)]  # Lid: not in the BOM


def test_an_unreadable_bom_leaves_the_inputs_unknown_and_says_where(tmp_path):
    folder = repo(tmp_path, manifest=MANIFEST + '[[part]]\nname = "Lid"\nmaterial = "PMMA"\n')
    (folder / "sBoM.csv").write_text("Colour,Size\nred,4\n", encoding="utf-8")
    fragment = okh_losh.read(folder)
    design = module_design(fragment)
    assert not design.inputs_known
    assert design.inputs == ((f"{REPO}/lid", 1),)  # kept, but not the whole of it
    assert f"{REPO}/lid" in {d.makes for d in fragment.designs}
    assert said_of_inputs(fragment) == [("warning", "bom", 1)]
    problem = next(d for d in fragment.diagnostics if d.line == 1)
    assert problem.file.endswith("sBoM.csv")
    assert "Colour" in problem.message and "cannot be ordered" in problem.message


def test_posh_part_read_from_its_manifest_with_mass_as_material(tmp_path):
    part = 'name = "Clip"\ntsdc = "3DP"\nmaterial = "PETG"\n[mass]\nvalue = 0.0125\nunit = "kg"\n'
    fragment = okh_losh.read(
        repo(
            tmp_path,
            sbom="1\tClip\t3\tPOSH\t/parts/okh-clip.toml\n",
            files={"parts/okh-clip.toml": part},
        )
    )
    assert dict(module_design(fragment).inputs) == {f"{REPO}/clip": 3}
    clip = next(d for d in fragment.designs if d.makes == f"{REPO}/clip")
    assert clip.processes == tsdc("3DP") and clip.inputs == (("petg", 13),)  # 12.5 g, rounded up
    assert clip.origin.file.endswith("okh-clip.toml") and clip.origin.line == 1
    items = {i.id: i for i in fragment.items}
    assert items["petg"].unit == "g" and items[f"{REPO}/clip"].mass_kg == pytest.approx(0.0125)


def test_dangling_posh_keeps_the_input_and_says_where(tmp_path):
    fragment = okh_losh.read(
        repo(tmp_path, sbom="1\tNut\t4\tSTD\tISO 4032 M8\n2\tClip\t3\tPOSH\t/parts/okh-clip.toml\n")
    )
    assert said(fragment) == [("error", "REFERENCE", 3)]
    assert dict(module_design(fragment).inputs) == {"iso-4032-m8": 4, f"{REPO}/clip": 3}
    assert [d.makes for d in fragment.designs] == [REPO]


def test_posh_reference_outside_the_repository_is_not_followed(tmp_path):
    (tmp_path / "secret.toml").write_text('name = "Secret"\ntsdc = "X"\n', encoding="utf-8")
    fragment = okh_losh.read(repo(tmp_path, sbom="1\tClip\t1\tPOSH\t../secret.toml\n"))
    assert said(fragment) == [("error", "REFERENCE", 2)]
    assert [d.makes for d in fragment.designs] == [REPO]


def test_posh_file_missing_but_described_by_a_part_table(tmp_path):
    manifest = MANIFEST + '\n[[part]]\nname = "Clip"\ntsdc = "3DP"\nmaterial = "PLA"\n'
    fragment = okh_losh.read(
        repo(tmp_path, manifest=manifest, sbom="1\tClip\t2\tPOSH\t/parts/okh-clip.toml\n")
    )
    assert said(fragment) == [("warning", "REFERENCE", 2)]
    clip = next(d for d in fragment.designs if d.makes == f"{REPO}/clip")
    assert clip.processes == tsdc("3DP") and clip.inputs == (("pla", 1),)


def test_part_tables_outside_the_sbom_are_declared_not_counted(tmp_path):
    manifest = MANIFEST + '\n[[part]]\nname = "Spare"\ntsdc = "3DP"\nmaterial = "PLA"\n'
    fragment = okh_losh.read(repo(tmp_path, manifest=manifest, sbom="1\tNut\t4\tSTD\tISO 1\n"))
    assert module_design(fragment).inputs == (("iso-1", 4),)
    assert f"{REPO}/spare" in {d.makes for d in fragment.designs}
    assert said(fragment) == [("warning", "part[0].name", 8)]


def test_without_a_bom_the_parts_are_kept_but_the_inputs_are_unknown(tmp_path):
    manifest = (
        MANIFEST.replace('bom = "sBoM.csv"\n', "")
        + '\n[[part]]\nname = "Frame"\ntsdc = ["CNC", "COT"]\nmaterial = "wood"\n'
        '[[part.mass]]\nvalue = 700\nunit = "g"\n'
        '\n[[part]]\nname = "Pin"\nexport = [\n  "a.stl",\n]\ntsdc = 7\nmaterial = "steel"\n'
        '[[part.mass]]\nvalue = 3\nunit = "lb"\n'
    )
    fragment = okh_losh.read(repo(tmp_path, manifest=manifest))
    assert module_design(fragment).inputs == ((f"{REPO}/frame", 1), (f"{REPO}/pin", 1))
    assert not module_design(fragment).inputs_known
    frame = next(d for d in fragment.designs if d.makes == f"{REPO}/frame")
    assert frame.processes == tsdc("CNC", "COT") and frame.inputs == (("wood", 700),)
    pin = next(d for d in fragment.designs if d.makes == f"{REPO}/pin")
    assert pin.inputs == (("steel", 1),)  # its mass is unreadable: 1 g stands for "some"
    assert said_of_inputs(fragment) == [
        ("warning", "bom", 2),  # no BOM: at the manifest's name
        ("warning", "part[1].mass", 14),  # unit "lb": the [[part]] line, mass has no own key
    ]
    assert ("warning", "part[1].tsdc", 19) in said(fragment)
    assert "2 [[part]] tables are kept as inputs" in fragment.diagnostics[0].message


def test_repeated_part_name_is_left_out(tmp_path):
    manifest = MANIFEST + '\n[[part]]\nname = "Pin"\n\n[[part]]\nname = "pin"\n'
    fragment = okh_losh.read(repo(tmp_path, manifest=manifest))
    assert ("error", "part[1].name", 10) in said(fragment)
    assert [d.makes for d in fragment.designs].count(f"{REPO}/pin") == 1


def test_mosh_rows_meet_the_module_loaded_from_its_own_folder(tmp_path):
    parent = repo(
        tmp_path,
        sbom="1\tLid module\t2\tMOSH\t"
        "https://github.com/example/lid/commit/abc123\n"
        "2\tLocal\t1\tMOSH\t./lid/okh.toml\n",
    )
    # The folder's name says nothing; the manifest's repo field decides.
    child = tmp_path / "some-folder"
    child.mkdir()
    (child / "okh.toml").write_text(
        'name = "Lid"\nrepo = "https://github.com/example/lid.git"\ntsdc = "ASM"\n',
        encoding="utf-8",
    )
    alone = load_network([parent])
    assert "github.com/example/lid" in alone.network.items
    assert not [d for d in alone.network.designs.values() if d.makes == "github.com/example/lid"]
    # The lid not loaded is an external module, said once; the row that is no URL is an error.
    assert [(d.field, d.line) for d in alone.diagnostics] == [("REFERENCE", 3), ("REFERENCE", 2)]
    assert "external module github.com/example/lid (not loaded)" in alone.diagnostics[1].message
    both = load_network([parent, child])
    lid = both.network.items["github.com/example/lid"]
    assert lid.name == "Lid" and "Lid module" in lid.aliases
    assert both.network.designs["okh:github.com/example/lid"].makes == lid.id
    made = {d.makes: dict(d.inputs) for d in both.network.designs.values()}
    assert made[REPO]["github.com/example/lid"] == 2


def test_manifest_without_repo_is_named_by_its_name(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "okh-clamp.toml").write_text(
        'name = "Clamp Ring"\ntsdc = "3DP"\nmaterial = "PLA"\n', encoding="utf-8"
    )
    fragment = okh_losh.read(folder / "okh-clamp.toml")
    [design] = fragment.designs
    assert design.makes == "clamp-ring" and design.inputs == (("pla", 1),)
    assert said(fragment) == []


def test_line_of_skips_array_lines_and_stays_in_its_table(tmp_path):
    path = tmp_path / "okh.toml"
    path.write_text(
        'name = "x"\nlist = [\n  [1, 2],\n]\ntsdc = "A"\n[[part]]\nname = "p"\n'
        '[[part.mass]]\nvalue = 1\n[[part]]\ntsdc = "B"\n',
        encoding="utf-8",
    )
    toml = load_toml(path)
    assert toml.line_of("tsdc") == 5
    assert toml.line_of("name", "part", 0) == 7
    assert toml.line_of("value", "part", 0) is None  # inside [[part.mass]], not the part
    assert toml.line_of("tsdc", "part", 1) == 11
    assert toml.table_line("part", 1) == 10 and toml.table_line("part", 2) is None


# -- real manifests (tests/data/losh, see its PROVENANCE.md) -------------------------------------

DATA = Path(__file__).parent.parent / "data" / "losh"


def orderable(network, item: str) -> int:
    """Plans for one `item` when a shop sells every item and a workshop has every process."""
    processes = frozenset().union(*(d.processes for d in network.designs.values()))
    shop = network.with_records(
        participants=[Participant("shop", "Shop", ("maker", "supplier"))],
        facilities=[Facility("workshop", "shop", processes)],
        offers=[
            Offer(f"sells-{n}", "shop", i)
            for n, i in enumerate(network.items)
            if i not in {d.makes for d in network.designs.values()}
        ],
    )
    return Weave(shop, [Demand(item, 1)]).count()


def test_a_module_whose_bom_is_missing_cannot_be_ordered_but_its_parts_are_listed():
    # The manifest names /hardware/BOM.csv; the repository holds hardware/BOM.md instead.
    result = load_network([DATA / "smart-energy-monitor"])
    module = "code.curious.bio/curious.bio/iot-platform"
    design = result.network.designs[f"okh:{module}"]
    assert not design.inputs_known
    assert dict(design.inputs) == {f"{module}/case": 1, f"{module}/board": 1}
    # Case (3DP) and Board (PCB) name no material: made of nothing would be invented.
    for part in ("case", "board"):
        assert not result.network.designs[f"okh:{module}/{part}"].inputs_known
    assert orderable(result.network, module) == 0
    bom, case, board = [d for d in result.diagnostics if d.field != "tsdc"]
    assert (bom.field, bom.line) == ("bom", 23) and "'/hardware/BOM.csv'" in bom.message
    assert "(it holds hardware/BOM.md)" in bom.message  # said, not read in its place
    assert "cannot be ordered" in bom.message
    assert (case.field, case.line, board.field, board.line) == (
        "part[0].material",
        33,
        "part[1].material",
        42,
    )


def test_without_the_rule_the_same_module_would_be_made_of_its_parts_alone(tmp_path):
    # What the weave would count if a BOM-less module were taken at its [[part]] word.
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "okh.toml").write_text(
        'name = "M"\nrepo = "https://github.com/o/m"\nbom = "b.csv"\ntsdc = "MEC"\n'
        '[[part]]\nname = "Case"\nmaterial = "PLA"\ntsdc = "3DP"\n',
        encoding="utf-8",
    )
    (folder / "b.csv").write_text("Part,Qty\nCase,1\n", encoding="utf-8")
    assert orderable(load_network([folder]).network, "github.com/o/m") == 1
    (folder / "b.csv").unlink()
    assert orderable(load_network([folder]).network, "github.com/o/m") == 0


def test_a_bom_that_cannot_be_read_is_said_once_where_it_is():
    fragment = okh_losh.read(DATA / "yaemk")
    [design] = fragment.designs
    assert not design.inputs_known and design.inputs == ()
    [problem] = [d for d in fragment.diagnostics if d.field == "bom"]
    assert said_of_inputs(fragment) == [("warning", "bom", 1)]  # one, for the inputs
    assert problem.file.endswith("YAEMK_bom.csv") and problem.line == 1
    assert "100n" in problem.message  # the columns it found
    assert "C1,C2,C39,C38,C41,C37,C…" in problem.message  # each cut short: 50 designators
    assert len(problem.message) < 400
    assert "cannot be ordered" in problem.message


def test_a_markdown_bom_named_in_another_case_is_found(tmp_path):
    folder = tmp_path / "monitor"
    (folder / "hardware").mkdir(parents=True)
    (folder / "hardware" / "BOM.md").write_bytes(
        (DATA / "smart-energy-monitor" / "hardware" / "BOM.md").read_bytes()
    )
    (folder / "okh.toml").write_text(
        'name = "Monitor"\nrepo = "https://github.com/o/monitor"\nbom = "/hardware/bom.md"\n',
        encoding="utf-8",
    )
    fragment = okh_losh.read(folder)
    [design] = fragment.designs
    assert design.inputs_known and said_of_inputs(fragment) == []
    inputs = dict(design.inputs)
    assert len(inputs) == 6 and inputs["sct-013-100"] == 3
    assert inputs["10-kohm-resistors-1-4-w"] == 6
    assert design.origin.file.endswith("okh.toml")
    assert {i.origin.file for i in fragment.items if i.id == "sct-013-100"} == {
        str(folder / "hardware" / "BOM.md")
    }


def test_a_list_of_boms_adds_up(tmp_path):
    folder = tmp_path / "kit"
    (folder / "hardware").mkdir(parents=True)
    (folder / "hardware" / "BOM.md").write_bytes(
        (DATA / "smart-energy-monitor" / "hardware" / "BOM.md").read_bytes()
    )
    (folder / "extra.csv").write_text("item,quantity\nSCT-013-100,1\nDIN rail,1\n", "utf-8")
    (folder / "okh.toml").write_text(
        'name = "Kit"\nrepo = "https://github.com/o/kit"\nbom = ["hardware/BOM.md", "extra.csv"]\n',
        encoding="utf-8",
    )
    [design] = okh_losh.read(folder).designs
    assert design.inputs_known
    assert dict(design.inputs)["sct-013-100"] == 4 and dict(design.inputs)["din-rail"] == 1
    # One of the list missing: what was read stays, but the inputs are no longer known.
    (folder / "okh.toml").write_text(
        'name = "Kit"\nrepo = "https://github.com/o/kit"\nbom = ["hardware/BOM.md", "gone.csv"]\n',
        encoding="utf-8",
    )
    fragment = okh_losh.read(folder)
    assert not fragment.designs[0].inputs_known
    assert said_of_inputs(fragment) == [("warning", "bom", 3)]
    assert "'gone.csv'" in next(d.message for d in fragment.diagnostics if d.field == "bom")


def test_a_2021_manifest_with_simplified_bom_brings_its_sub_tree(tmp_path):
    fragment = okh_losh.read(DATA / "mosh-d-2021")
    module = "github.com/OPEN-NEXT/LOSH-dummy-MOSH-D"
    designs = {d.makes: d for d in fragment.designs}
    inputs = dict(designs[module].inputs)
    assert designs[module].inputs_known and len(inputs) == 12  # every sBoM row
    assert inputs[f"{module}/comb-module"] == 5 and inputs["iso-4032-m8"] == 4
    assert designs[f"{module}/clamp-ring"].inputs == (("pla", 1),)
    # tsdc-id goes the way tsdc goes; the free-text manufacturing-process is not read over it.
    same = repo(tmp_path, manifest='name = "x"\ntsdc = "ASM-MEC"\n')
    assert designs[module].processes == okh_losh.read(same).designs[0].processes
    older = fragment.diagnostics[0]
    assert (older.severity, older.field, older.line) == ("warning", "simplified-bom", 13)
    assert "`simplified-bom` is read as `bom`" in older.message
    assert "`tsdc-id` is read as `tsdc`" in older.message
    assert "`manufacturing-process` is not read" in older.message


def test_2021_part_tables_say_tsdc_id_and_process(tmp_path):
    fragment = okh_losh.read(DATA / "mosh-a-2021")
    ring = next(d for d in fragment.designs if d.makes.endswith("/clamp-ring"))
    same = repo(tmp_path, manifest='name = "x"\ntsdc = "3DP"\n')
    assert ring.processes == okh_losh.read(same).designs[0].processes
    assert ("warning", "part[0].tsdc-id", 24) in said(fragment)
    # Without a TsDC code, the free-text process is what there is: it is read.
    part = repo(
        tmp_path / "b", manifest='name = "Lid"\nmaterial = "PLA"\nmanufacturing-process = "3DP"\n'
    )
    fragment = okh_losh.read(part)
    assert fragment.designs[0].processes == okh_losh.read(same).designs[0].processes
    assert said(fragment) == [("warning", "manufacturing-process", 3)]


def test_part_quantity_counts_and_the_bom_wins_when_they_disagree(tmp_path):
    manifest = (
        MANIFEST.replace('bom = "sBoM.csv"\n', "")
        + '[[part]]\nname = "Shelf"\nmaterial = "oak"\nquantity = 5\n'
    )
    fragment = okh_losh.read(repo(tmp_path, manifest=manifest))
    assert module_design(fragment).inputs == ((f"{REPO}/shelf", 5),)
    with_bom = MANIFEST + '[[part]]\nname = "Shelf"\nmaterial = "oak"\nquantity = 5\n'
    fragment = okh_losh.read(repo(tmp_path / "b", manifest=with_bom, sbom="1\tShelf\t4\tPOSH\t\n"))
    assert module_design(fragment).inputs == ((f"{REPO}/shelf", 4),)
    assert said(fragment)[0] == ("warning", "part[0].quantity", 9)
    assert "the BOM's count is used" in fragment.diagnostics[0].message


def test_plain_number_mass_is_grams(tmp_path):
    fragment = okh_losh.read(DATA / "htwd-osh-cmm-arm")
    assert fragment.items[0].mass_kg == pytest.approx(2.0)  # mass= 2000.0
    assert not fragment.designs[0].inputs_known  # its bom is commented out
    assert said_of_inputs(fragment) == [("warning", "bom", 2)]
    part = repo(tmp_path, manifest='name = "Clip"\nmaterial = "PETG"\nmass = 12.5\n')
    [clip] = okh_losh.read(part).designs
    assert clip.inputs == (("petg", 13),) and clip.inputs_known
