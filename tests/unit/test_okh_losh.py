"""OKH-LOSH edge cases on small repositories written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.importers import load_network, okh_losh
from core.importers.toml_lines import load_toml

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


def said(fragment):
    return [(d.severity, d.field, d.line) for d in fragment.diagnostics]


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
    assert module_design(by_folder).processes == {"asm"}


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
    assert module_design(okh_losh.read(folder)).processes == {"3dp", "cnc"}
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
    ]
    assert not fragment.offers  # nothing is invented to buy from
    rod = next(i for i in fragment.items if i.id == "rod")
    assert rod.properties == {"reference": "steel"}


def test_sbom_without_its_columns_falls_back_to_parts(tmp_path):
    folder = repo(tmp_path, manifest=MANIFEST + '[[part]]\nname = "Lid"\ntsdc = "LAS"\n')
    (folder / "sBoM.csv").write_text("Item,Count\nNut,4\n", encoding="utf-8")
    fragment = okh_losh.read(folder)
    assert module_design(fragment).inputs == ((f"{REPO}/lid", 1),)
    assert [(d.severity, d.field) for d in fragment.diagnostics] == [("error", "NAME")]


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
    assert clip.processes == {"3dp"} and clip.inputs == (("petg", 13),)  # 12.5 g, rounded up
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
    assert clip.processes == {"3dp"} and clip.inputs == (("pla", 1),)


def test_part_tables_outside_the_sbom_are_declared_not_counted(tmp_path):
    manifest = MANIFEST + '\n[[part]]\nname = "Spare"\ntsdc = "3DP"\n'
    fragment = okh_losh.read(repo(tmp_path, manifest=manifest, sbom="1\tNut\t4\tSTD\tISO 1\n"))
    assert module_design(fragment).inputs == (("iso-1", 4),)
    assert f"{REPO}/spare" in {d.makes for d in fragment.designs}
    assert said(fragment) == [("warning", "part[0].name", 8)]


def test_without_a_bom_each_part_counts_once_and_keys_have_their_lines(tmp_path):
    manifest = (
        MANIFEST.replace('bom = "sBoM.csv"\n', "")
        + '\n[[part]]\nname = "Frame"\ntsdc = ["CNC", "COT"]\nmaterial = "wood"\n'
        '[[part.mass]]\nvalue = 700\nunit = "g"\n'
        '\n[[part]]\nname = "Pin"\nexport = [\n  "a.stl",\n]\ntsdc = 7\nmaterial = "steel"\n'
        '[[part.mass]]\nvalue = 3\nunit = "lb"\n'
    )
    fragment = okh_losh.read(repo(tmp_path, manifest=manifest))
    assert module_design(fragment).inputs == ((f"{REPO}/frame", 1), (f"{REPO}/pin", 1))
    frame = next(d for d in fragment.designs if d.makes == f"{REPO}/frame")
    assert frame.processes == {"cnc", "cot"} and frame.inputs == (("wood", 700),)
    pin = next(d for d in fragment.designs if d.makes == f"{REPO}/pin")
    assert pin.inputs == (("steel", 1),)  # its mass is unreadable: 1 g stands for "some"
    assert said(fragment) == [
        ("warning", "part[1].mass", 14),  # unit "lb": the [[part]] line, mass has no own key
        ("warning", "part[1].tsdc", 19),
    ]


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
    assert [(d.field, d.line) for d in alone.diagnostics] == [("REFERENCE", 3)]
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
    assert fragment.diagnostics == []


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
