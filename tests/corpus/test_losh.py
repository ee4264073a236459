"""The OKH-LOSH manifests of ../shared/corpus, imported as published."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bots.cli import app
from core.importers import load_network, okh_losh
from core.network.model import Facility, Offer, Participant
from core.weave import PlanCounter, SupplyIndex

pytestmark = pytest.mark.corpus

A, B, C, D = (f"github.com/OPEN-NEXT/LOSH-dummy-MOSH-{m}" for m in "ABCD")
MPPT_2420 = "github.com/LibreSolar/mppt-2420-hc"
MPPT_1210 = "github.com/LibreSolar/mppt-1210-hus"
OHLOOM = "gitlab.com/OSEGermany/ohloom"
PLANKTOSCOPE = "github.com/PlanktoScope/PlanktoScope"


def tsdc(*codes: str) -> frozenset[str]:
    """The processes SCIS reads these TsDC codes as (its process vocabulary decides)."""
    return okh_losh.tsdc_processes(list(codes), None, None, "tsdc", [])


def recipes(network) -> dict[str, dict[str, int]]:
    """item -> inputs of the design making it (each item here has at most one)."""
    return {d.makes: dict(d.inputs) for d in network.designs.values()}


def test_the_four_modules_form_the_diamond(corpus):
    network = load_network([corpus / "losh"]).network
    made = recipes(network)

    assert made[A][B] == 1 and made[A][C] == 1
    assert made[B][D] == 1 and made[C][D] == 1
    assert made[B][MPPT_2420] == 1 and made[D][MPPT_1210] == 1
    assert {A, B, C, D} <= made.keys()
    # The module's own manifest names it; the parent's sBoM row name stays as an alias.
    assert network.items[B].name == "LOSH-dummy-MOSH-B"
    assert "Module B" in network.items[B].aliases
    assert network.find_item("Module C").id == C


def test_external_libresolar_modules_are_items_nobody_supplies(corpus):
    network = load_network([corpus / "losh"]).network
    made = recipes(network)
    for external, row_name in ((MPPT_2420, "MPPT 2420-HC"), (MPPT_1210, "MTTP 12")):
        assert external in network.items
        assert row_name in network.items[external].aliases
        assert external not in made
        assert not [o for o in network.offers.values() if o.item == external]


def test_standard_parts_are_one_item_across_modules_and_nobody_offers_them(corpus):
    network = load_network([corpus / "losh"]).network
    made = recipes(network)
    nut = network.items["iso-4032-m8"]  # "ISO 4032  M8" (two spaces) in every sBoM
    assert nut.name == "M8 Nuts" and "ISO 4032 M8" in nut.aliases
    assert all(made[module]["iso-4032-m8"] == 4 for module in (A, B, C, D))
    assert all(made[module]["3m-string"] == 1 for module in (A, B, C, D))  # BUY, by name
    assert not network.offers


def test_printed_parts_are_made_by_3dp_from_pla(corpus):
    result = load_network([corpus / "losh"])
    network = result.network
    for module in "ABCD":
        ring = network.designs[f"okh:github.com/OPEN-NEXT/LOSH-dummy-MOSH-{module}/clamp-ring"]
        assert ring.processes == tsdc("3DP")
        assert dict(ring.inputs) == {"pla": 1}  # no mass given: 1 g stands for "some"
        assert ring.origin.file.endswith(f"MOSH-{module}/3DParts/ClampRing/okh-ClampRing.toml")
    for module in "BCD":
        comb = network.designs[f"okh:github.com/OPEN-NEXT/LOSH-dummy-MOSH-{module}/comb-module"]
        assert comb.origin.file.endswith(f"MOSH-{module}/3DParts/CombModul/okh-CombModul.toml")
        assert network.items[comb.makes].aliases == ("Comb",)  # the part manifest's own name
    assert network.items["pla"].unit == "g"
    assert recipes(network)[B][f"{B}/comb-module"] == 5
    assert network.designs[f"okh:{A}"].processes == tsdc("MEC")


def test_module_a_alone_leaves_b_and_c_without_a_design(corpus):
    result = load_network([corpus / "losh" / "MOSH-A"])
    made = recipes(result.network)
    assert made[A][B] == 1 and made[A][C] == 1
    for module in (B, C):
        assert module in result.network.items and module not in made
        assert result.network.items[module].name == module
    assert D not in result.network.items


def test_dangling_comb_module_reference_is_reported_and_the_rest_of_a_loads(corpus):
    result = load_network([corpus / "losh"])
    [dangling] = result.errors
    assert dangling.file.endswith("MOSH-A/sBoM.csv")
    assert (dangling.line, dangling.field) == (11, "REFERENCE")
    assert "/3DParts/CombModul/okh-CombModul.toml" in dangling.message
    made = recipes(result.network)
    assert len(made[A]) == 13  # every sBoM row of A, the comb module included
    assert made[A][f"{A}/comb-module"] == 5
    assert f"{A}/comb-module" not in made
    assert f"{A}/clamp-ring" in made


def test_misspelt_readiness_levels_are_warned_with_their_lines(corpus):
    result = load_network([corpus / "losh"])
    warned = {
        (d.file.split("/")[-2], d.field, d.line)
        for d in result.diagnostics
        if d.severity == "warning"
    }
    assert warned == {
        ("MOSH-A", "technology-readiness-level", 11),  # "OTLR-5"
        ("MOSH-A", "documentation-readiness-level", 12),  # "ODLR-5"
        ("MOSH-B", "technology-readiness-level", 9),
        ("MOSH-C", "technology-readiness-level", 9),
        ("MOSH-D", "technology-readiness-level", 9),
        ("MOSH-B", "REFERENCE", 14),  # the LibreSolar MPPT 2420-HC, not loaded: said once
        ("MOSH-D", "REFERENCE", 13),  # the LibreSolar MPPT 1210-HUS
        # The printed parts name PLA but no mass: 1 g each stands in, and that is said.
        ("ClampRing", "material", 5),
        ("CombModul", "material", 5),
    }


def test_ohloom_parts(corpus):
    fragment = okh_losh.read(corpus / "independent" / "losh-ohloom")
    designs = {d.makes: d for d in fragment.designs}
    loom = designs[OHLOOM]
    # The corpus README says 17 parts; the manifest has 18 [[part]] tables (11 printed, 7 CNC).
    assert len(loom.inputs) == 18 and {n for _, n in loom.inputs} == {1}
    # Its sBoM.csv is not in the corpus: the parts are kept, but screws and string are missing,
    # so the loom is not orderable; each part (with its material) is.
    assert not loom.inputs_known
    assert all(designs[item].inputs_known for item, _ in loom.inputs)
    parts = [designs[item] for item, _ in loom.inputs]
    assert sum(p.processes == tsdc("3DP") for p in parts) == 11
    assert sum(p.processes == tsdc("CNC", "COT") for p in parts) == 7
    assert dict(designs[f"{OHLOOM}/crossbeam"].inputs) == {"wood": 550}
    assert dict(designs[f"{OHLOOM}/clamp-ring"].inputs) == {"abs": 30}
    items = {i.id: i for i in fragment.items}
    assert items[f"{OHLOOM}/sideframe"].mass_kg == pytest.approx(0.7)
    assert [(d.severity, d.field, d.line) for d in fragment.diagnostics] == [
        ("warning", "documentation-readiness-level", 17),  # "ODRL-5": the levels end at 4
        ("warning", "bom", 21),  # sBoM.csv is not beside the manifest
    ]


def test_planktoscope(corpus):
    fragment = okh_losh.read(corpus / "independent" / "losh-planktoscope" / "okh.toml")
    designs = {d.makes: d for d in fragment.designs}
    assert designs[PLANKTOSCOPE].processes == tsdc("CNC", "PCB", "MEC", "STD")  # tsdc as a list
    assert designs[f"{PLANKTOSCOPE}/planktoscope-case"].processes == tsdc("CNC")
    assert designs[f"{PLANKTOSCOPE}/planktoscope-hat"].processes == tsdc("PCB")
    # "ODRL-3*" is the OKH-LOSH level "full documentation, audited" (okh-losh.schema.json,
    # OTRL.ttl): valid, so nothing is said about it. The missing bom is, and the parts that name
    # no material: neither the module nor its parts can be made from what the manifest says.
    assert [(d.severity, d.field, d.line) for d in fragment.diagnostics if d.field != "tsdc"] == [
        ("warning", "bom", 23),
        ("warning", "part[0].material", 37),
        ("warning", "part[1].material", 46),
    ]
    assert not any(d.inputs_known for d in designs.values())


def test_every_losh_and_independent_file_is_read(corpus):
    folders = [corpus / "losh", *(corpus / "independent").glob("losh-*")]
    result = load_network(folders)
    touched = set()
    for fragment in result.fragments:
        touched.add(fragment.source)
        for kind in ("items", "designs", "participants", "offers"):
            touched.update(r.origin.file for r in getattr(fragment, kind))
        touched.update(d.file for d in fragment.diagnostics)
    published = {
        str(p)
        for p in [*(corpus / "losh").rglob("*"), *(corpus / "independent").rglob("*")]
        if p.is_file() and "okh-v1" not in p.parts
    }
    assert published - touched == set()


def test_only_bought_things_are_left_to_source_and_then_the_diamond_weaves(corpus):
    network = load_network([corpus / "losh"]).network
    made = recipes(network)
    leaves = [item for item in network.items if item not in made]
    assert set(leaves) == {
        "din-795-m8-x-180", "iso-4032-m8", "iso-7040-m8", "iso-4032-m6", "iso-8677-m6-x-70",
        "din-7997-4-x-60", "din-7997-4-x-35", "din-7997-4-x-12", "3m-string", "pla",
        f"{A}/comb-module", MPPT_2420, MPPT_1210,
    }  # fmt: skip
    assert PlanCounter(SupplyIndex(network)).count(A) == 0  # nobody offers or makes anything yet
    shop = network.with_records(
        participants=[Participant("shop", "Shop", ("maker", "supplier"))],
        facilities=[Facility("workshop", "shop", tsdc("MEC", "3DP"))],
        offers=[Offer(f"sells-{n}", "shop", item) for n, item in enumerate(leaves)],
    )
    counter = PlanCounter(SupplyIndex(shop))
    assert [counter.count(module) for module in (A, B, C, D)] == [1, 1, 1, 1]


def test_two_releases_of_module_a_coexist_and_the_newest_keeps_its_id(corpus):
    # tests/data/repositories/losh-dummy-submodules/okh.toml is MOSH-A 1.0.1; the corpus has 1.0.2.
    older = Path(__file__).parent.parent / "data/repositories/losh-dummy-submodules/okh.toml"
    result = load_network([corpus / "losh", older])
    assert not [d for d in result.errors if "already" in d.message or "duplicate" in d.message]
    designs = result.network.designs
    assert designs[f"okh:{A}"].origin.file.endswith("MOSH-A/okh.toml")  # 1.0.2, the newest
    assert designs[f"okh:{A}@1.0.1"].origin.file == str(older)
    made = recipes(result.network)
    assert made[f"{A}@1.0.1"][B] == 1 and made[f"{A}@1.0.1"][C] == 1  # both use B and C
    assert made[A][B] == 1
    # Ordering the module by its repository gets the newest release; the older one is there too.
    assert result.network.find_item(A).id == A
    assert f"{A}@1.0.1/clamp-ring" in made and f"{A}/clamp-ring" in made


def test_one_release_loaded_twice_is_a_clash_that_names_both_files_and_the_repo_field(corpus):
    # The 2021 MOSH-D and the corpus's MOSH-D both say this repository and neither a version:
    # nothing tells them apart, so the later is left out, and the error says why in their words.
    again = Path(__file__).parent.parent / "data/losh/mosh-d-2021"
    result = load_network([corpus / "losh" / "MOSH-D", again])
    module = next(d for d in result.errors if d.file == str(again / "okh.toml"))
    assert (module.line, module.field) == (2, "repo")
    assert f"design 'okh:{D}' (from `repo`) is already declared by" in module.message
    assert "MOSH-D/okh.toml:2 (from `repo`)" in module.message
    parts = [d for d in result.errors if d.file != str(again / "okh.toml")]
    assert len(parts) == 2 and all("(from `repo` and `name`)" in d.message for d in parts)
    assert result.network.designs[f"okh:{D}"].origin.file.startswith(str(corpus))


def test_a_plan_counts_material_in_its_unit(corpus, tmp_path):
    # `scis weave` on two clamp rings at the Helpful 3D-printing place: "2 g PLA", not "2 × PLA".
    shop = tmp_path / "pla.yaml"
    shop.write_text(
        "scis: 1\nparticipants: [{id: shop, name: Filament Shop, roles: [supplier]}]\n"
        "offers: [{id: pla-roll, supplier: shop, item: pla, price: 0.03}]\n",
        encoding="utf-8",
    )
    riya = Path(__file__).parent.parent / "data/okw/Riya3dprinting.yml"
    arguments = ["weave", "-n", str(corpus / "losh" / "MOSH-A"), "-n", str(riya), "-n", str(shop)]
    result = CliRunner().invoke(app, [*arguments, f"{A}/clamp-ring", "2"])
    assert result.exit_code == 0, result.output
    assert "└── 2 g PLA — bought from Filament Shop (pla-roll)" in result.stdout
    assert "2 × Clamp Ring — made by Riya3dprinting" in result.stdout
    text = " ".join(result.stdout.split())  # undo the terminal's wrapping
    assert "price of one g of PLA, set by Filament Shop" in text
