"""The comma-separated BOM of the Precious Plastic stool, independent/losh-precious-hocker."""

from __future__ import annotations

import pytest

from core.importers import bom_csv, load_network

pytestmark = pytest.mark.corpus

PRODUCT = "losh-precious-hocker"


@pytest.fixture
def bom(corpus):
    return corpus / "independent" / PRODUCT / "bom.csv"


def test_recognised_by_its_header_not_by_its_suffix(corpus, bom):
    assert bom_csv.recognizes(bom)
    assert not any(bom_csv.recognizes(p) for p in (corpus / "losh").rglob("sBoM.csv"))


def test_one_design_for_the_stool_with_every_row_as_input(bom):
    fragment = bom_csv.read(bom)
    assert fragment.diagnostics == []
    [design] = fragment.designs
    assert design.makes == PRODUCT and design.processes == frozenset()
    assert dict(design.inputs) == {
        f"{PRODUCT}/scaffolding-board": 1,
        f"{PRODUCT}/plastic-bars": 1,
        f"{PRODUCT}/sandpaper": 3,
        f"{PRODUCT}/screws": 4,
        f"{PRODUCT}/wood-glue": 1,
        f"{PRODUCT}/hard-wax-oil": 1,
        f"{PRODUCT}/wooden-slats": 2,
        f"{PRODUCT}/round-wooden-stick": 1,
    }


def test_items_keep_german_names_and_quoted_commas(bom):
    items = {i.id: i for i in bom_csv.read(bom).items}
    board = items[f"{PRODUCT}/scaffolding-board"]
    assert board.aliases == ("Gerüstbohle",)
    assert board.properties["description"] == "Spruce, untreated, 1000x320x45 mm"
    assert board.properties["supply-type"] == "OSH"
    assert items[f"{PRODUCT}/hard-wax-oil"].aliases == ("Hartwachs-Öl",)
    assert items[f"{PRODUCT}/plastic-bars"].properties["manufacturer"] == "Precious Plastic"
    assert board.origin.line == 2 and items[f"{PRODUCT}/round-wooden-stick"].origin.line == 9


def test_every_supplier_row_becomes_an_offer_with_unknown_price(bom):
    fragment = bom_csv.read(bom)
    suppliers = {p.id: p.name for p in fragment.participants}
    assert suppliers == {
        f"{PRODUCT}/wholeseller": "Wholeseller",
        f"{PRODUCT}/precious-plastic": "Precious Plastic",
        f"{PRODUCT}/hardware-store": "Hardware Store",
    }
    assert len(fragment.offers) == 8
    assert all(o.price is None for o in fragment.offers)
    by_item = {o.item: o for o in fragment.offers}
    assert by_item[f"{PRODUCT}/screws"].supplier == f"{PRODUCT}/hardware-store"
    assert by_item[f"{PRODUCT}/plastic-bars"].properties["link"].startswith("https://community")


def test_loading_the_folder_gives_an_orderable_shape(corpus):
    result = load_network([corpus / "independent" / PRODUCT])
    assert result.diagnostics == []
    network = result.network
    assert network.find_item("Schleifpapier").id == f"{PRODUCT}/sandpaper"
    assert {o.item for o in network.offers.values()} == {
        item for item, _ in network.designs[f"bom:{PRODUCT}"].inputs
    }
