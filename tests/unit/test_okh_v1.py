"""OKH v1 manifests (with Helpful's atoms): edge cases, each a small manifest in tmp_path."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from core.importers import load_network, okh_v1, okw_helpful, scis_yaml
from core.network.assemble import Fragment


def write(tmp_path: Path, text: str, name: str = "okh.yml") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def read(tmp_path: Path, text: str, name: str = "okh.yml") -> Fragment:
    return okh_v1.read(write(tmp_path, text, name))


def only(fragment: Fragment, words: str):
    [found] = [d for d in fragment.diagnostics if words in d.message]
    return found


CHAIR = """
    title: Chair
    okh-manifest-version: 1.0.0
    bom-atoms:
      - identifier: Q79928004
        description: chair legs
        quantity: 4
      - identifier: Q2207370
        description: seat
        quantity: 1
    tool-list-atoms:
      - identifier: Q25294
        description: hammer
"""


def test_quantities_given_are_used_and_nothing_is_assumed(tmp_path):
    fragment = read(tmp_path, CHAIR)
    [design] = fragment.designs
    assert design.id == "chair" and design.makes == "chair" and design.name == "Chair"
    assert design.inputs == (("wikidata:Q79928004", 4), ("wikidata:Q2207370", 1))
    assert design.processes == {"wikidata:Q25294"}
    # A hammer implies no one process: kept as the tool it is, and said once.
    [unknown] = fragment.diagnostics
    assert (unknown.severity, unknown.line, unknown.field) == ("warning", 11, "tool-list-atoms")
    assert "'hammer (wikidata:Q25294)' is no process SCIS knows" in unknown.message
    assert design.inputs_known is True
    legs = next(i for i in fragment.items if i.id == "wikidata:Q79928004")
    assert (legs.name, legs.aliases, legs.origin.line) == ("chair legs", ("chair-legs",), 4)


def test_missing_quantities_count_one_each_and_say_so(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Stool
        bom-atoms:
          # TODO: size, quantity
          - {identifier: Q1, description: leg, quantity: 3}
          - {identifier: Q2, description: seat}
        """,
    )
    assert fragment.designs[0].inputs == (("wikidata:Q1", 3), ("wikidata:Q2", 1))
    note = only(fragment, "no quantities")
    assert (note.severity, note.line, note.field) == ("warning", 2, "bom-atoms")
    assert "1 of the 2 inputs (the manifest marks them TODO)" in note.message


@pytest.mark.parametrize("quantity", ["2 sticks", 0, -1, 1.5, True])
def test_a_quantity_that_is_not_a_whole_number_is_reported(tmp_path, quantity):
    fragment = read(
        tmp_path,
        f"""
        title: Bread
        bom-atoms:
          - identifier: Q34172
            description: butter
            quantity: {quantity!r}
        """.replace("'", '"'),
    )
    assert fragment.designs[0].inputs == (("wikidata:Q34172", 1),)
    note = only(fragment, "not a whole number")
    assert (note.severity, note.line, note.field) == ("warning", 3, "bom-atoms[0].quantity")


def test_a_repeated_input_adds_up(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Table
        bom-atoms:
          - {identifier: Q1, description: leg, quantity: 2}
          - {identifier: Q1, description: leg, quantity: 2}
        """,
    )
    assert fragment.designs[0].inputs == (("wikidata:Q1", 4),)
    assert only(fragment, "more than once").severity == "warning"


def test_plain_bom_splits_on_commas_outside_parentheses(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Mask
        bom: NWPP bags ( 3 sheets, 8 by 9), Bias tape (e.g., cotton),  Coffee tin ties,
        tool-list: "Sewing machine, Scissors and pins, "
        """,
    )
    [design] = fragment.designs
    assert [i for i, _ in design.inputs] == [
        "nwpp-bags-3-sheets-8-by-9",
        "bias-tape-e-g-cotton",
        "coffee-tin-ties",
    ]
    assert {q for _, q in design.inputs} == {1}
    # A sewing machine means sewing, the process every format names the same.
    assert design.processes == {"sewing", "scissors-and-pins"}
    names = {i.id: i.name for i in fragment.items}
    assert names["nwpp-bags-3-sheets-8-by-9"] == "NWPP bags ( 3 sheets, 8 by 9)"
    note = only(fragment, "plain `bom` text")
    assert (note.line, note.field) == (2, "bom")
    assert "3 name(s)" in note.message and "'Coffee tin ties'" in note.message


def test_plain_bom_as_a_list(tmp_path):
    fragment = read(tmp_path, "title: Bread\nbom: [flour, water, salt]\n")
    assert [i for i, _ in fragment.designs[0].inputs] == ["flour", "water", "salt"]


def test_tool_atoms_are_preferred_to_the_plain_tool_list(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Chair
        bom: legs
        tool-list: hammer, saw
        tool-list-atoms:
          - {identifier: Q25294, description: hammer}
        """,
    )
    assert fragment.designs[0].processes == {"wikidata:Q25294"}


def test_a_bom_that_is_only_a_link_leaves_the_inputs_unknown(tmp_path):
    fragment = read(tmp_path, "title: Mask\nbom: https://example.org/materials/\n")
    [design] = fragment.designs
    assert design.inputs == () and design.inputs_known is False
    note = only(fragment, "only a link")
    assert (note.severity, note.line, note.field) == ("warning", 2, "bom")


def test_no_bom_takes_named_design_files_as_sub_assemblies(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Reactor
        design-files:
          - {path: https://example.org/base, title: Reactor Base}
          - {path: https://example.org/x.stl, title: housing.stl}
          - {path: https://example.org/latest, title: /reactor/latest}
          - {path: https://example.org/board, title: Driver Board}
        """,
    )
    [design] = fragment.designs
    assert design.inputs == (("reactor-base", 1), ("driver-board", 1))
    assert design.inputs_known is False
    note = only(fragment, "sub-assemblies")
    assert (note.line, note.field) == (2, "design-files")


def test_no_bom_and_no_named_parts_leaves_the_inputs_unknown(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Microscope
        manifest-author: {name: Joel}
        design-files:
          - {path: https://example.org/latest, title: /microscope/latest}
        """,
    )
    [design] = fragment.designs
    assert design.inputs == () and design.inputs_known is False
    assert [i.id for i in fragment.items] == ["microscope"]
    assert "inputs of 'Microscope' are unknown" in only(fragment, "no BOM").message


def test_a_wikidata_product_atom_names_the_product(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Vanishing Oatmeal Raisin Cookies
        bom: oats
        product-atom:
          identifier: Q16682389
          description: Oatmeal raisin cookie
        """,
    )
    product = fragment.items[0]
    assert product.id == "wikidata:Q16682389" == fragment.designs[0].makes
    assert product.name == "Oatmeal raisin cookie"
    assert product.aliases == ("oatmeal-raisin-cookie", "Vanishing Oatmeal Raisin Cookies")
    assert product.origin.line == 4


def test_a_private_product_id_is_not_matched_on(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Chair
        bom: legs
        product-atom:
          - identifier: QH00002
            description: chair
          - identifier: Q1
            description: stool
        """,
    )
    assert fragment.designs[0].makes == "chair"
    note = only(fragment, "not a Wikidata id")
    assert (note.line, note.field) == (4, "product-atom.identifier")
    assert only(fragment, "2 product atoms").field == "product-atom"


def test_a_product_atom_naming_nothing_falls_back_to_the_title(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Chocolate Chip Cookies
        bom: butter
        product-atom:
          identifier: QQ14169302
          descroption: Chocolet Chip Cookies
        """,
    )
    assert fragment.designs[0].makes == "chocolate-chip-cookies"
    skipped = only(fragment, "names nothing")
    assert "'QQ14169302' is not a Wikidata id" in skipped.message
    assert "descroption" in skipped.message
    assert only(fragment, "named by the title").severity == "warning"


def test_swapped_identifier_and_description_are_read_and_reported(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Seat
        bom-atoms:
          - identifier: nail
            description: Q37077
          - identifier:
            description:
        """,
    )
    assert fragment.designs[0].inputs == (("wikidata:Q37077", 1),)
    assert next(i for i in fragment.items if i.id == "wikidata:Q37077").name == "nail"
    assert only(fragment, "look swapped").line == 3
    skipped = only(fragment, "names nothing")
    assert (skipped.line, skipped.field) == (5, "bom-atoms[1]")


def test_a_manifest_naming_no_product_is_left_out(tmp_path):
    fragment = read(tmp_path, "okh-manifest-version: 1.0.0\nbom: legs\n")
    [problem] = fragment.diagnostics
    assert (problem.severity, problem.line, problem.field) == ("error", 1, "title")
    assert fragment.records_count == 0


def test_not_yaml_is_one_error_at_its_line_and_nothing_else(tmp_path):
    fragment = read(tmp_path, "title: Scope\nbom: lens\ncontact:\n  handle: @scope\n")
    [problem] = fragment.diagnostics
    assert (problem.severity, problem.line) == ("error", 4)
    assert problem.message.startswith("not valid YAML")
    assert fragment.records_count == 0


@pytest.mark.parametrize("text", ["", "- title: a list\n"])
def test_a_manifest_must_be_a_mapping(tmp_path, text):
    fragment = read(tmp_path, text)
    [problem] = fragment.diagnostics
    assert problem.severity == "error" and fragment.records_count == 0


# -- duplicate keys ----------------------------------------------------------------------


def test_a_duplicate_key_scis_does_not_read_is_a_warning(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Carer
        bom: wheels
        project-link: https://a.example
        project-link: https://b.example
        contact:
          name: Jan
          name: Jan R.
        """,
    )
    assert len(fragment.designs) == 1
    by_field = {d.field: d for d in fragment.diagnostics if "duplicate" in d.message}
    assert (by_field["project-link"].severity, by_field["project-link"].line) == ("warning", 4)
    assert "first at line 3" in by_field["project-link"].message
    assert by_field["contact.name"].severity == "warning"


def test_a_used_key_given_twice_alike_is_a_warning(tmp_path):
    fragment = read(tmp_path, "title: Chair\nbom: legs, seat\nbom: legs, seat\n")
    assert len(fragment.designs) == 1
    note = only(fragment, "duplicate key")
    assert (note.severity, note.line, note.field) == ("warning", 3, "bom")


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("title: Chair\nbom: legs\ntitle: Stool\n", 3, "title"),
        (
            "title: Chair\nbom-atoms:\n  - identifier: Q1\n    identifier: Q2\n",
            4,
            "bom-atoms[0].identifier",
        ),
        ("title: Chair\nbom: legs\nproduct-atom:\n  identifier: Q1\n  identifier: Q2\n", 5,
         "product-atom.identifier"),
    ],
)  # fmt: skip
def test_a_used_key_given_twice_differently_leaves_the_manifest_out(tmp_path, text, line, field):
    fragment = read(tmp_path, text)
    [problem] = fragment.diagnostics
    assert (problem.severity, problem.line, problem.field) == ("error", line, field)
    assert "different value" in problem.message
    assert fragment.records_count == 0


# -- recognising -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("title: Chair\nokh-manifest-version: 1.0.0\n", "a.yml", okh_v1),
        ("title: Chair\nbom: legs\n", "a.yaml", okh_v1),
        ("title: Carer\nmanifest-author: {name: Robin}\n", "a.yml", okh_v1),
        ("title: Scope\ndesign-files:\n  - {title: x}\nbad: @x\n", "a.yml", okh_v1),
        ("title: Shop\nbom: legs\nsupply-atoms: []\n", "a.yml", okw_helpful),
        ("title: Shop\ntool-list-atoms: []\n", "shop.okw.yml", okw_helpful),
        ("scis: 1\nitems: []\n", "a.yml", scis_yaml),
        ("title: Notes\nauthor: me\n", "a.yml", None),
        ("title: Chair\nbom: legs\n", "a.txt", None),
    ],
)
def test_recognises_only_okh_manifests(tmp_path, text, name, expected):
    path = write(tmp_path, text, name)
    assert okh_v1.recognizes(path) == (expected is okh_v1)
    assert okw_helpful.recognizes(path) == (expected is okw_helpful)
    assert not okh_v1.recognizes(tmp_path)


def test_an_okh_and_an_okw_meet_on_wikidata_items_in_a_folder(tmp_path):
    write(tmp_path, CHAIR, "chair.yml")
    write(
        tmp_path,
        """
        title: Leg Shop
        supply-atoms:
          - {identifier: Q79928004, description: Chair Legs}
        """,
        "legs.okw.yml",
    )
    result = load_network([tmp_path])
    assert result.errors == []
    network = result.network
    [offer] = network.offers.values()
    assert offer.item == "wikidata:Q79928004" == network.designs["chair"].inputs[0][0]
    assert network.find_item("Chair Legs").name == "chair legs"


# -- identity: what the manifest says it is, never its file name ---------------------------


@pytest.mark.parametrize(
    ("head", "expected", "fields"),
    [
        # a link to a file in a repository names the repository
        (
            "project-link: https://github.com/PubInv/okh-x/blob/main/README.md\nversion: 1.2\n",
            "github-com-pubinv-okh-x@1.2",
            ("project-link", "version"),
        ),
        (
            "documentation-home: www.example.org/docs/\n",
            "example-org-docs",
            ("documentation-home",),
        ),
        (
            "project-link: \nversion: v0.3T and V0.4T\n",
            "chair@v0.3t-and-v0.4t",
            ("title", "version"),
        ),
        ("project-link: not a link\n", "chair", ("title",)),
    ],
)
def test_the_design_id_comes_from_the_manifest(tmp_path, head, expected, fields):
    fragment = read(tmp_path, head + dedent(CHAIR).lstrip("\n"))
    [design] = fragment.designs
    assert design.id == expected
    assert fragment.id_fields[design.id][0] == fields


def test_two_project_links_that_disagree_do_not_name_the_design(tmp_path):
    fragment = read(
        tmp_path,
        """
        title: Carer
        project-link: https://github.com/a/one
        project-link: https://github.com/b/two
        documentation-home: https://wiki.example.org/Carer
        """,
    )
    [design] = fragment.designs
    assert design.id == "wiki-example-org-carer"
    note = only(fragment, "duplicate key 'project-link'")
    assert (note.severity, note.line) == ("warning", 3)
    assert "does not name the design" in note.message
