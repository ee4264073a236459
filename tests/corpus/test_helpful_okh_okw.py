"""Helpful Engineering's OKH and OKW files, and the independent OKH v1 manifests, of
../shared/corpus, imported as published: the chair of the SCIS paper is makeable from them, and
each broken file is reported precisely while its neighbours still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.importers import importers, load_network, okh_v1, okw_helpful
from core.weave import PlanCounter, SupplyIndex

pytestmark = pytest.mark.corpus

LEGS, SEAT, BACK = "wikidata:Q79928004", "wikidata:Q2207370", "wikidata:Q95968272"
HAMMER, SAW, SCREWDRIVER = "wikidata:Q25294", "wikidata:Q125356", "wikidata:Q161071"
OVEN, SHEET_PAN, SPATULA = "wikidata:Q36539", "wikidata:Q502335", "wikidata:Q15148"
OATMEAL_COOKIE = "wikidata:Q16682389"
OATMEAL_DESIGN = "quakeroats-com-cooking-and-recipes-vanishing-oatmeal-raisin-cookies@0.0.1"
PHOTOREACTOR = "github-com-uw-madison-chem-shops-wisconsin-photoreactor"
# Its two `project-link`s disagree, so its documentation names it.
AGROCIRCLE = "wiki-opensourceecology-de-agrocircle"
SURGE = "makermask-org-masks-surge@0.0.1"


def alpha(corpus: Path, *names: str) -> list[Path]:
    return [corpus / "helpful" / "alpha" / ("okw" if ".okw" in n else "okh") / n for n in names]


def warnings_of(result, file_name: str) -> list:
    return [d for d in result.diagnostics if d.file and d.file.endswith(file_name)]


# -- the chair ---------------------------------------------------------------------------


def test_chair_okh_with_chair_parts_and_devhawk_makes_a_chair(corpus):
    files = alpha(
        corpus, "okh-chair-helpful.yml", "ChairParts.okw.yml", "DevhawkEngineering.okw.yml"
    )
    result = load_network(files)
    network = result.network
    assert result.errors == []

    design = network.designs["chair@0.0.1"]
    assert design.makes == "chair" and network.items["chair"].name == "chair"
    assert dict(design.inputs) == {LEGS: 1, SEAT: 1, BACK: 1}
    assert [network.items[i].name for i, _ in design.inputs] == ["chair legs", "seat", "chair back"]
    assert design.processes == {HAMMER, SAW, SCREWDRIVER}
    # The files meet on Wikidata ids; people can still type the words.
    assert network.find_item("chair-legs").id == LEGS
    assert network.find_item("chair back").id == BACK

    workshop = network.facilities["james-maker-space-facility"]
    assert workshop.operator == "james-maker-space"
    assert design.processes <= workshop.processes
    assert network.participants["james-maker-space"].roles == ("maker",)

    offers = {o.item: o for o in network.offers.values()}
    assert set(offers) == {LEGS, SEAT, BACK}
    assert {o.supplier for o in offers.values()} == {"chair-supplies"}
    assert all(o.price is None and o.capacity is None for o in offers.values())
    assert network.participants["chair-supplies"].roles == ("supplier",)

    # One way to get a chair: assemble it at James Maker Space from the three offered parts.
    assert PlanCounter(SupplyIndex(network)).count("chair") == 1


def test_the_chair_manifest_says_what_it_does_not_give(corpus):
    result = load_network(alpha(corpus, "okh-chair-helpful.yml"))
    by_field = {(d.field, d.line): d for d in warnings_of(result, "okh-chair-helpful.yml")}
    assert {d.severity for d in by_field.values()} == {"warning"}
    quantities = by_field[("bom-atoms", 44)]
    assert "no quantities given for 3 of the 3 inputs" in quantities.message
    assert "TODO" in quantities.message
    # QH00002 is Helpful's private id (RobsArduinoShop uses it for a propeller): not matched on.
    private = by_field[("product-atom.identifier", 70)]
    assert "'QH00002' is not a Wikidata id" in private.message


def test_chair_parts_repeats_tool_list_atoms_with_the_same_value(corpus):
    result = load_network(alpha(corpus, "ChairParts.okw.yml"))
    [duplicate] = warnings_of(result, "ChairParts.okw.yml")
    assert (duplicate.severity, duplicate.line, duplicate.field) == (
        "warning",
        19,
        "tool-list-atoms",
    )
    assert "repeats line 2 with the same value" in duplicate.message
    assert len(result.network.offers) == 3 and not result.network.facilities


# -- broken files, and their neighbours --------------------------------------------------


def test_the_seat_is_not_yaml_and_the_rest_of_the_folder_loads(corpus):
    folder = corpus / "helpful" / "alpha" / "okh"
    result = load_network([folder])
    broken, clash = result.errors
    assert clash.file == str(folder / "okh-manifest-surge-english.yml")
    assert result.network.designs[SURGE].origin.file == str(
        folder / "okh-manifest-surge-english-helpful.yml"
    )
    assert broken.file == str(folder / "okh-seat-helpful.yml")
    assert (broken.line, broken.field) == (3, None)
    assert broken.message.startswith("not valid YAML: mapping values are not allowed here")
    assert not [d for d in result.diagnostics if d.file == broken.file and d is not broken]
    assert set(result.network.designs) == {
        "github-com-pubinv-okh-character-generator",
        "chair@0.0.1",
        "chocolate-chip-cookies@0.0.1",
        "covisor-org@1.0.0",
        "makermask-org-masks-origami-fitted-mask@beta",
        SURGE,  # from the -helpful copy; the plain copy claims the same identity
        "makermask-org-es-masks-surge@0.0.1",
        "maskproject-tech-face-shield-design@1",
        "github-com-pubinv-ventmon-ventilator-inline-test-monitor@v0.3t-and-v0.4t",
    }
    assert not [i for i in result.network.items.values() if i.origin.file == broken.file]


def test_openflexure_is_not_yaml_and_the_other_manifests_load(corpus):
    folder = corpus / "independent" / "okh-v1"
    result = load_network([folder])
    [broken] = result.errors
    assert broken.file == str(folder / "openflexure-microscope-malformed.yml")
    assert (broken.line, broken.field) == (37, None)
    assert "found character '@' that cannot start any token" in broken.message
    assert set(result.network.designs) == {PHOTOREACTOR, AGROCIRCLE}


def test_agrocircle_duplicates_a_key_scis_does_not_read_and_still_loads(corpus):
    result = load_network([corpus / "independent" / "okh-v1" / "agrocircle-duplicate-key.yml"])
    assert result.errors == []
    [duplicate] = [d for d in result.diagnostics if d.field == "project-link"]
    assert (duplicate.severity, duplicate.line) == ("warning", 36)
    assert "duplicate key 'project-link' (first at line 35)" in duplicate.message
    design = result.network.designs[AGROCIRCLE]
    assert design.makes == "fruit-nut-vegetable-carer" and design.inputs == ()
    assert design.inputs_known is False


def test_the_photoreactor_is_built_from_its_six_sub_assemblies(corpus):
    result = load_network([corpus / "independent" / "okh-v1" / "wisconsin-photoreactor.yml"])
    network = result.network
    design = network.designs[PHOTOREACTOR]
    assert design.makes == "wisconsin-photoreactor-platform"
    assert [network.items[i].name for i, _ in design.inputs] == [
        "Analog Driver Board",
        "Digital Controller",
        "Digital Driver Board",
        "Photoreactor Base",
        "Photoreactor Light Shield",
        "Photoreactor Reaction Modules",
    ]
    assert {q for _, q in design.inputs} == {1}
    assert design.inputs_known is False
    assert design.processes_known is False  # no tool-list either
    note, tools = result.diagnostics
    assert "names no process" in tools.message
    assert (note.severity, note.line, note.field) == ("warning", 24, "design-files")
    assert "inputs of 'Wisconsin Photoreactor Platform' are unknown" in note.message
    # Nobody offers or designs the sub-assemblies, so the photoreactor cannot be made yet.
    assert PlanCounter(SupplyIndex(network)).count("wisconsin-photoreactor-platform") == 0


# -- every file ----------------------------------------------------------------------------

# file -> (design id, product id, inputs, processes); None: the file is not valid YAML.
OKH = {
    "alpha/okh/okh-Character-Generator.yml": (
        "github-com-pubinv-okh-character-generator", "character-generator", 0, 0),
    "alpha/okh/okh-chair-helpful.yml": ("chair@0.0.1", "chair", 3, 3),
    "alpha/okh/okh-chococolate-chip-cookies-recipe.yml": (
        "chocolate-chip-cookies@0.0.1", "chocolate-chip-cookies", 11, 3),
    "alpha/okh/okh-manifest-covisor.yml": (
        "covisor-org@1.0.0", "covisor-mk-ii-protective-face-shield", 1, 1),
    "alpha/okh/okh-manifest-makermask-origami.yml": (
        "makermask-org-masks-origami-fitted-mask@beta", "makermask-origami-beta-fitted-mask", 0, 0),
    "alpha/okh/okh-manifest-surge-english-helpful.yml": (
        SURGE, "surge-pleated-mask-from-makermask-english", 5, 4),
    "alpha/okh/okh-manifest-surge-english.yml": (
        SURGE, "surge-pleated-mask-from-makermask-english", 4, 3),
    "alpha/okh/okh-manifest-surge-spanish.yml": (
        "makermask-org-es-masks-surge@0.0.1", "makermask-surge-oleada-instrucciones-espanol", 4, 2),
    "alpha/okh/okh-orgami-face-shield.yml": (
        "maskproject-tech-face-shield-design@1", "origami-face-shield", 2, 0),
    "alpha/okh/okh-seat-helpful.yml": None,
    "alpha/okh/okh-ventmon-T0.4.yml": (
        "github-com-pubinv-ventmon-ventilator-inline-test-monitor@v0.3t-and-v0.4t",
        "ventmon-v0-4t", 0, 0),
    "beta/okh/bread.yml": ("ghanaian-sugar-bread", "ghanaian-sugar-bread", 8, 4),
    "beta/okh/microscope.yml": (
        "openflexure-org-projects-microscope@7.0", "openflexure-microscope", 0, 0),
    "beta/okh/okh-quaker-oats-oatmeal-recipe.yml": (
        OATMEAL_DESIGN, OATMEAL_COOKIE, 11, 3),
}  # fmt: skip

# file -> (participant, roles, facility processes, offers)
# Processes: a tool SCIS's vocabulary knows is its process (the sewing machine is sewing, both
# soldering atoms of the Arduino shop are electronics assembly); one it does not know is run
# under its Wikidata id and its own words (`wikidata:Q36539` and `oven`), 2 per tool.
OKW = {
    "alpha/okw/ChairParts.okw.yml": ("chair-supplies", ("supplier",), None, 3),
    "alpha/okw/DevhawkEngineering.okw.yml": ("james-maker-space", ("maker",), 6, 0),
    "alpha/okw/RobTestOKWForSewing.yml": (
        "robert-s-test-okw-for-sewing", ("supplier", "maker"), 12, 3),
    "alpha/okw/RobsArduinoShop.yml": ("robs-arduino-shop", ("supplier", "maker"), 1, 8),
    "beta/okw/GenericGrocery.yml": ("generic-grocery", ("supplier",), None, 14),
    "beta/okw/RobDessertKitchen.yml": ("rob-s-dessert-kitchen", ("supplier", "maker"), 6, 11),
    "beta/okw/TimsTastyTreatsKitchen.yml": (
        "tim-s-tasty-treats-kitchen", ("supplier", "maker"), 6, 8),
    "beta/okw/james-kitchen.yml": ("james-kitchen", ("supplier", "maker"), 6, 11),
}  # fmt: skip


def test_the_tables_cover_every_helpful_file(corpus):
    on_disk = {p.relative_to(corpus / "helpful").as_posix() for p in corpus.glob("helpful/*/*/*")}
    assert on_disk == set(OKH) | set(OKW)


@pytest.mark.parametrize("name", sorted(OKH))
def test_each_okh_manifest(corpus, name):
    path = corpus / "helpful" / name
    assert [i.name for i in importers() if i.recognizes(path)] == [okh_v1.name]
    fragment = okh_v1.read(path)
    if OKH[name] is None:
        assert fragment.records_count == 0 and fragment.failed
        return
    design_id, product, inputs, processes = OKH[name]
    [design] = fragment.designs
    assert (design.id, design.makes, len(design.inputs), len(design.processes)) == (
        design_id,
        product,
        inputs,
        processes,
    )
    assert {i.id for i in fragment.items} == {product} | {i for i, _ in design.inputs}
    assert not [d for d in fragment.diagnostics if d.severity == "error"]
    # Whatever is assumed is said: no quantity in any of these manifests.
    if inputs:
        assert any("no quantities" in d.message for d in fragment.diagnostics)
    else:
        assert any("unknown" in d.message for d in fragment.diagnostics)


@pytest.mark.parametrize("name", sorted(OKW))
def test_each_okw_file(corpus, name):
    path = corpus / "helpful" / name
    assert [i.name for i in importers() if i.recognizes(path)] == [okw_helpful.name]
    fragment = okw_helpful.read(path)
    participant_id, roles, processes, offers = OKW[name]
    [participant] = fragment.participants
    assert (participant.id, participant.roles) == (participant_id, roles)
    if processes is None:
        assert fragment.facilities == []
    else:
        [facility] = fragment.facilities
        assert (facility.operator, len(facility.processes)) == (participant_id, processes)
    assert len(fragment.offers) == offers
    assert {o.supplier for o in fragment.offers} <= {participant_id}
    assert {o.item for o in fragment.offers} <= {i.id for i in fragment.items}
    assert not [d for d in fragment.diagnostics if d.severity == "error"]


@pytest.mark.parametrize(
    "name", ["agrocircle-duplicate-key.yml", "openflexure-microscope-malformed.yml",
             "wisconsin-photoreactor.yml"],
)  # fmt: skip
def test_each_independent_okh_is_read_by_the_okh_importer(corpus, name):
    path = corpus / "independent" / "okh-v1" / name
    assert [i.name for i in importers() if i.recognizes(path)] == [okh_v1.name]


def test_independent_okh_folder_is_covered(corpus):
    names = {p.name for p in (corpus / "independent" / "okh-v1").iterdir()}
    assert names == {
        "agrocircle-duplicate-key.yml",
        "openflexure-microscope-malformed.yml",
        "wisconsin-photoreactor.yml",
    }


# -- the kitchens --------------------------------------------------------------------------


def test_kitchens_can_bake_the_oatmeal_cookie_from_what_the_grocers_stock(corpus):
    result = load_network([corpus / "helpful" / "beta"])
    network = result.network
    assert result.errors == []
    design = network.designs[OATMEAL_DESIGN]
    assert design.makes == OATMEAL_COOKIE
    assert network.items[OATMEAL_COOKIE].name == "Oatmeal raisin cookie"
    assert network.find_item("Vanishing Oatmeal Raisin Cookies").id == OATMEAL_COOKIE
    assert design.processes == {OVEN, SHEET_PAN, SPATULA}
    kitchens = {f.id for f in network.facilities.values() if design.processes <= f.processes}
    assert kitchens == {
        "rob-s-dessert-kitchen-facility",
        "tim-s-tasty-treats-kitchen-facility",
        "james-kitchen-facility",
    }
    offered = {o.item for o in network.offers.values()}
    assert {i for i, _ in design.inputs} <= offered
    # Three kitchens list the cookie among what they make without an OKH.
    sellers = {o.supplier for o in network.offers.values() if o.item == OATMEAL_COOKIE}
    assert sellers == {"rob-s-dessert-kitchen", "tim-s-tasty-treats-kitchen", "james-kitchen"}
    assert PlanCounter(SupplyIndex(network)).count(OATMEAL_COOKIE) > 3


def test_the_private_qh_id_does_not_make_the_arduino_shop_sell_chairs(corpus):
    alpha_folder = corpus / "helpful" / "alpha"
    result = load_network(
        [
            alpha_folder / "okh" / "okh-chair-helpful.yml",
            alpha_folder / "okw" / "RobsArduinoShop.yml",
        ]
    )
    network = result.network
    # Both files say QH00002: for the chair, and for an "Unscrew Propeller".
    assert not [o for o in network.offers.values() if o.item == "chair"]
    assert network.items["unscrew-propeller"].name == "Unscrew Propeller"
    assert any(
        d.line == 53 and "'QH00002' is not a Wikidata id" in d.message
        for d in warnings_of(result, "RobsArduinoShop.yml")
    )


# -- identity: real manifests are all called okh.yml ----------------------------------------

REAL = {
    "helpful/alpha/okh/okh-chair-helpful.yml": "chair@0.0.1",
    "helpful/alpha/okh/okh-manifest-covisor.yml": "covisor-org@1.0.0",
    "helpful/alpha/okh/okh-manifest-surge-spanish.yml": "makermask-org-es-masks-surge@0.0.1",
    "helpful/beta/okh/bread.yml": "ghanaian-sugar-bread",
    "independent/okh-v1/wisconsin-photoreactor.yml": PHOTOREACTOR,
}


def test_a_folder_of_manifests_all_named_okh_yml_loads_every_design(corpus, tmp_path):
    for index, name in enumerate(REAL):
        project = tmp_path / f"project-{index}"
        project.mkdir()
        (project / "okh.yml").write_bytes((corpus / name).read_bytes())
    result = load_network([tmp_path])
    assert result.errors == []
    assert set(result.network.designs) == set(REAL.values())
    assert {Path(d.origin.file).name for d in result.network.designs.values()} == {"okh.yml"}


def test_two_copies_of_one_manifest_clash_naming_both_files_and_the_field(corpus, tmp_path):
    manifest = (corpus / "helpful/alpha/okh/okh-manifest-covisor.yml").read_bytes()
    for folder in ("first", "second"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "okh-manifest.yml").write_bytes(manifest)
    result = load_network([tmp_path])
    [clash] = result.errors
    first, second = tmp_path / "first/okh-manifest.yml", tmp_path / "second/okh-manifest.yml"
    assert (clash.file, clash.line, clash.field) == (str(second), 14, "project-link")
    assert f"{first}:14 (from `project-link` and `version`)" in clash.message
    assert "'covisor-org@1.0.0'" in clash.message and "duplicate id" not in clash.message
    assert result.network.designs["covisor-org@1.0.0"].origin.file == str(first)
