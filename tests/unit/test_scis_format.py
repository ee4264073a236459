"""The native `scis: 1` format: every mistake is reported at its file, line and field, the record
it spoils is left out, and the rest of the network still loads (ARCHITECTURE.md, The network
format).

Each test writes a small network to tmp_path and loads it through `core.importers.load_network`,
as `scis serve --network FILE` would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.importers import LoadResult, load_network

# A sound little network; tests add one bad record to a section (or replace a section).
BASE: dict[str, list[str]] = {
    "participants": [
        "- {id: ana, name: Ana's Woodshop, roles: [maker]}",
        "- {id: bob, name: Bob's Hardwoods, roles: [supplier]}",
    ],
    "items": ["- {id: chair}", "- {id: leg}", "- {id: seat}"],
    "designs": ["- {id: chair-okh, makes: chair, inputs: {leg: 4, seat: 1}, processes: [wood]}"],
    "facilities": ["- {id: ana-shop, operator: ana, processes: [wood]}"],
    "offers": [
        "- {id: bob-legs, supplier: bob, item: leg, price: 2.5}",
        "- {id: bob-seats, supplier: bob, item: seat, price: 9.0}",
    ],
}

SOUND = {
    "participants": {"ana", "bob"},
    "items": {"chair", "leg", "seat"},
    "designs": {"chair-okh"},
    "facilities": {"ana-shop"},
    "offers": {"bob-legs", "bob-seats"},
}


def network_text(extra: dict[str, list[str]] | None = None, header: str = "scis: 1") -> str:
    sections = {kind: list(lines) for kind, lines in BASE.items()}
    for kind, lines in (extra or {}).items():
        sections.setdefault(kind, []).extend(lines)
    out = [header] if header else []
    for kind, lines in sections.items():
        out.append(f"{kind}:")
        for line in lines:
            out.extend("  " + part for part in line.split("\n"))
    return "\n".join(out) + "\n"


def write(tmp_path: Path, text: str, name: str = "network.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, snippet: str) -> int:
    """The 1-based line holding `snippet`, which must appear exactly once."""
    hits = [number for number, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(hits) == 1, f"{snippet!r} on lines {hits}"
    return hits[0]


def where(result: LoadResult) -> list[tuple[str, str | None, int | None, str | None]]:
    return [(d.severity, d.file, d.line, d.field) for d in result.diagnostics]


def ids(result: LoadResult, kind: str) -> set[str]:
    return set(getattr(result.network, kind))


def assert_rest_loaded(result: LoadResult, **missing: set[str]) -> None:
    """Everything of BASE is in the network, except what `missing` names per kind."""
    for kind, expected in SOUND.items():
        assert ids(result, kind) >= expected - missing.get(kind, set()), kind


def load_one(tmp_path: Path, text: str) -> tuple[Path, LoadResult]:
    path = write(tmp_path, text)
    return path, load_network([path])


# -- the base itself ---------------------------------------------------------------------------


def test_base_network_loads_clean(tmp_path):
    _, result = load_one(tmp_path, network_text())
    assert result.diagnostics == []
    assert {kind: ids(result, kind) for kind in SOUND} == SOUND


# -- references ------------------------------------------------------------------------------


def test_unknown_item_in_design_inputs(tmp_path):
    text = network_text(
        {
            "designs": [
                "- id: stool-okh\n  makes: chair\n  inputs:\n    leg: 3\n    cushion: 1\n"
                "  processes: [wood]"
            ]
        }
    )
    path, result = load_one(tmp_path, text)
    # The error is reported at the design's own line (its origin), naming the input field.
    assert where(result) == [("error", str(path), line_of(text, "id: stool-okh"), "inputs.cushion")]
    assert "cushion" in result.diagnostics[0].message
    assert "stool-okh" not in result.network.designs
    assert_rest_loaded(result)


def test_unknown_item_a_design_makes(tmp_path):
    text = network_text({"designs": ["- {id: table-okh, makes: table, inputs: {leg: 4}}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "table-okh"), "makes")]
    assert "table-okh" not in result.network.designs
    assert_rest_loaded(result)


def test_facility_of_unknown_operator(tmp_path):
    text = network_text({"facilities": ["- {id: zed-shop, operator: zed, processes: [wood]}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "zed-shop"), "operator")]
    assert "'zed'" in result.diagnostics[0].message
    assert "zed-shop" not in result.network.facilities
    assert_rest_loaded(result)


def test_offer_of_unknown_supplier(tmp_path):
    text = network_text({"offers": ["- {id: cy-legs, supplier: cy, item: leg, price: 2.0}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "cy-legs"), "supplier")]
    assert "cy-legs" not in result.network.offers
    assert_rest_loaded(result)


def test_offer_of_unknown_item(tmp_path):
    text = network_text({"offers": ["- {id: bob-backs, supplier: bob, item: back, price: 4}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "bob-backs"), "item")]
    assert_rest_loaded(result)


def test_transport_of_unknown_operator(tmp_path):
    text = network_text({"transport": ["- {id: van, operator: carol, capacity_kg: 500}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "id: van"), "operator")]
    assert result.network.transport == {}
    assert_rest_loaded(result)


def test_substitute_of_unknown_item(tmp_path):
    text = network_text({"substitutes": ["- {item: seat, by: foam-seat}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "foam-seat"), "by")]
    assert result.network.substitutes == ()
    assert_rest_loaded(result)


def test_references_may_cross_files(tmp_path):
    """One file may refer to what another declares: references are checked on the whole."""
    first = write(tmp_path, network_text(), "a.yaml")
    second = write(
        tmp_path,
        "scis: 1\nparticipants:\n  - {id: cy, roles: [supplier]}\n"
        "offers:\n  - {id: cy-legs, supplier: cy, item: leg, price: 2.0}\n",
        "b.yaml",
    )
    result = load_network([first, second])
    assert result.diagnostics == []
    assert result.network.offers["cy-legs"].supplier == "cy"


# -- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["-4", "0", "2.5", "four", "true"])
def test_design_input_quantity_must_be_a_positive_whole_number(tmp_path, quantity):
    text = network_text(
        {
            "designs": [
                f"- id: stool-okh\n  makes: chair\n  inputs:\n    seat: 1\n    leg: {quantity}"
            ]
        }
    )
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, f"leg: {quantity}"), "inputs.leg")]
    assert "positive whole number" in result.diagnostics[0].message
    assert "stool-okh" not in result.network.designs
    assert_rest_loaded(result)


def test_negative_price(tmp_path):
    text = network_text(
        {"offers": ["- id: bob-legs-2\n  supplier: bob\n  item: leg\n  price: -2.5"]}
    )
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "price: -2.5"), "price")]
    assert "negative" in result.diagnostics[0].message
    assert "bob-legs-2" not in result.network.offers
    assert_rest_loaded(result)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "'2.5'"])
def test_price_must_be_a_finite_number(tmp_path, value):
    text = network_text(
        {"offers": [f"- id: bob-legs-2\n  supplier: bob\n  item: leg\n  price: {value}"]}
    )
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, f"price: {value}"), "price")]
    assert "bob-legs-2" not in result.network.offers
    assert_rest_loaded(result)


def test_no_price_is_an_unknown_not_an_error(tmp_path):
    text = network_text({"offers": ["- {id: bob-legs-2, supplier: bob, item: leg}"]})
    _, result = load_one(tmp_path, text)
    assert result.diagnostics == []
    assert result.network.offers["bob-legs-2"].price is None


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "two"])
def test_yield_must_be_a_positive_whole_number(tmp_path, value):
    text = network_text(
        {"designs": [f"- id: leg-turned\n  makes: leg\n  yield: {value}\n  inputs: {{seat: 1}}"]}
    )
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, f"yield: {value}"), "yield")]
    assert "leg-turned" not in result.network.designs
    assert_rest_loaded(result)


@pytest.mark.parametrize(
    "kind, record",
    [
        ("participants", "- {id: cy, roles: [supplier], failure_probability: 1.5}"),
        ("facilities", "- {id: cy-shop, operator: ana, failure_probability: 1.5}"),
        ("offers", "- {id: cy-legs, supplier: bob, item: leg, failure_probability: 1.5}"),
    ],
)
def test_probability_above_one(tmp_path, kind, record):
    text = network_text({kind: [record]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [
        ("error", str(path), line_of(text, "failure_probability: 1.5"), "failure_probability")
    ]
    assert "between 0 and 1" in result.diagnostics[0].message
    assert not ids(result, kind) & {"cy", "cy-shop", "cy-legs"}
    assert_rest_loaded(result)


def test_negative_probability(tmp_path):
    text = network_text({"participants": ["- {id: cy, failure_probability: -0.1}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "id: cy"), "failure_probability")]
    assert_rest_loaded(result)


@pytest.mark.parametrize(
    "location",
    [
        "{lat: 95.0, lon: -76.6}",
        "{lat: 39.3, lon: -200}",
        "{lat: 39.3}",
        "{lat: north, lon: -76.6}",
    ],
)
def test_location_out_of_range(tmp_path, location):
    text = network_text({"participants": [f"- id: cy\n  roles: [buyer]\n  location: {location}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "location:"), "location")]
    assert "lat" in result.diagnostics[0].message
    assert "cy" not in result.network.participants
    assert_rest_loaded(result)


def test_a_place_with_an_unquoted_comma_is_an_error_not_a_lost_word(tmp_path):
    # In a flow mapping YAML reads `San Juan` as a key of its own: the place would silently
    # lose it, and "near San Juan" would never find this maker.
    location = "{lat: 18.44, lon: -66.06, place: Santurce, San Juan}"
    text = network_text({"participants": [f"- id: cy\n  roles: [maker]\n  location: {location}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "location:"), "location.San Juan")]
    assert 'needs quotes: place: "Santurce, San Juan"' in result.diagnostics[0].message
    assert "cy" not in result.network.participants
    assert_rest_loaded(result)


def test_facility_location_out_of_range(tmp_path):
    text = network_text(
        {
            "facilities": [
                "- id: ana-annex\n  operator: ana\n  location:\n    lat: 39.3\n    lon: 181"
            ]
        }
    )
    path, result = load_one(tmp_path, text)
    # The location mapping starts on the line after `location:`, at `lat:`.
    assert where(result) == [("error", str(path), line_of(text, "lat: 39.3"), "location")]
    assert "ana-annex" not in result.network.facilities
    assert_rest_loaded(result)


def test_bad_role(tmp_path):
    text = network_text({"participants": ["- id: cy\n  roles: [maker, wizard]"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "wizard"), "roles")]
    assert "'wizard'" in result.diagnostics[0].message
    assert "cy" not in result.network.participants
    assert_rest_loaded(result)


def test_unknown_field(tmp_path):
    text = network_text(
        {"offers": ["- id: bob-legs-2\n  supplier: bob\n  item: leg\n  colour: red"]}
    )
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "colour: red"), "colour")]
    assert "unknown field" in result.diagnostics[0].message
    assert "bob-legs-2" not in result.network.offers
    assert_rest_loaded(result)


def test_unknown_section(tmp_path):
    text = network_text({"warehouses": ["- {id: depot}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "warehouses:"), "warehouses")]
    assert_rest_loaded(result)


def test_missing_required_field(tmp_path):
    text = network_text({"offers": ["- {id: bob-legs-2, supplier: bob, price: 2}"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "bob-legs-2"), "item")]
    assert_rest_loaded(result)


def test_empty_contact_is_left_out_with_a_warning(tmp_path):
    text = network_text(
        {"participants": ["- id: cy\n  contacts:\n    telegram:\n    email: cy@example.org"]}
    )
    path, result = load_one(tmp_path, text)
    assert where(result) == [
        ("warning", str(path), line_of(text, "telegram:"), "contacts.telegram")
    ]
    assert dict(result.network.participants["cy"].contacts) == {"email": "cy@example.org"}
    assert_rest_loaded(result)


# -- duplicates ------------------------------------------------------------------------------------


def test_duplicate_id_in_one_file(tmp_path):
    text = network_text({"offers": ["- id: bob-legs\n  supplier: bob\n  item: leg\n  price: 25.0"]})
    path, result = load_one(tmp_path, text)
    first = line_of(text, "{id: bob-legs,")
    assert where(result) == [("error", str(path), line_of(text, "- id: bob-legs"), "id")]
    assert f"first at line {first}" in result.diagnostics[0].message
    assert result.network.offers["bob-legs"].price == 2.5  # the first declaration stands
    assert_rest_loaded(result)


def test_duplicate_id_across_two_files(tmp_path):
    first = write(tmp_path, network_text(), "a.yaml")
    second_text = (
        "scis: 1\n"
        "participants:\n"
        "  - {id: cy, roles: [supplier]}\n"
        "offers:\n"
        "  - {id: cy-legs, supplier: cy, item: leg, price: 2.0}\n"
        "  - {id: bob-legs, supplier: cy, item: leg, price: 1.0}\n"
    )
    second = write(tmp_path, second_text, "b.yaml")
    result = load_network([first, second])
    assert where(result) == [("error", str(second), line_of(second_text, "id: bob-legs"), "id")]
    message = result.diagnostics[0].message
    assert f"first declared at {first}:{line_of(network_text(), 'id: bob-legs')}" in message
    assert result.network.offers["bob-legs"].supplier == "bob"
    assert "cy-legs" in result.network.offers  # the rest of the second file loads
    assert_rest_loaded(result)


def test_items_with_one_id_in_two_files_merge(tmp_path):
    """Items are shared vocabulary: declaring one again elsewhere is not a duplicate."""
    first = write(tmp_path, network_text(), "a.yaml")
    second = write(
        tmp_path, "scis: 1\nitems:\n  - {id: leg, name: Chair leg, mass_kg: 0.4}\n", "b.yaml"
    )
    result = load_network([first, second])
    assert result.diagnostics == []
    assert result.network.items["leg"].mass_kg == 0.4


def test_duplicate_key_leaves_the_record_out(tmp_path):
    """A key written twice is an error: the record is not loaded with whichever value came last."""
    text = network_text(
        {"offers": ["- id: bob-legs-2\n  supplier: bob\n  item: leg\n  price: 2.5\n  price: 25"]}
    )
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "price: 25"), "price")]
    assert "bob-legs-2" not in result.network.offers
    assert_rest_loaded(result)


def test_duplicate_key_in_a_nested_mapping_leaves_the_record_out(tmp_path):
    text = network_text(
        {"designs": ["- id: stool-okh\n  makes: chair\n  inputs:\n    leg: 3\n    leg: 5"]}
    )
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "leg: 5"), "leg")]
    assert "stool-okh" not in result.network.designs
    assert_rest_loaded(result)


# -- whole files ---------------------------------------------------------------------------------


def test_malformed_yaml(tmp_path):
    good = write(tmp_path, network_text(), "good.yaml")
    bad_text = (
        "scis: 1\n"
        "participants:\n"
        "  - id: cy\n"
        "   roles: [supplier]\n"  # one space too many
    )
    bad = write(tmp_path, bad_text, "bad.yaml")
    result = load_network([bad, good])
    assert where(result) == [("error", str(bad), line_of(bad_text, "roles:"), None)]
    assert result.diagnostics[0].message.startswith("not valid YAML")
    assert "cy" not in result.network.participants
    assert_rest_loaded(result)  # the other file still imports


def test_missing_scis_header(tmp_path):
    """A named file without `scis: 1` is not taken for a network; the other files still load."""
    good = write(tmp_path, network_text(), "good.yaml")
    headless = write(tmp_path, network_text(header=""), "headless.yaml")
    result = load_network([headless, good])
    assert where(result) == [("error", str(headless), None, None)]
    assert "not a format SCIS reads" in result.diagnostics[0].message
    assert_rest_loaded(result)


@pytest.mark.parametrize("header", ["scis: 2", "scis: '1'", "scis:"])
def test_wrong_scis_version(tmp_path, header):
    good = write(tmp_path, network_text(), "good.yaml")
    text = network_text(header=header).replace("ana", "ann").replace("bob", "bo")
    other = write(tmp_path, text, "other.yaml")
    result = load_network([other, good])
    assert where(result) == [("error", str(other), 1, "scis")]
    assert "scis: 1" in result.diagnostics[0].message
    assert "ann" not in result.network.participants
    assert_rest_loaded(result)


def test_empty_file(tmp_path):
    good = write(tmp_path, network_text(), "good.yaml")
    empty = write(tmp_path, "scis: 1\n", "empty.yaml")
    result = load_network([empty, good])
    assert result.diagnostics == []
    assert_rest_loaded(result)


def test_section_must_be_a_list(tmp_path):
    text = "scis: 1\nparticipants:\n  ana: {roles: [maker]}\nitems:\n  - {id: leg}\n"
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), 2, "participants")]
    assert set(result.network.items) == {"leg"}


def test_a_record_must_be_a_mapping(tmp_path):
    text = network_text({"items": ["- back"]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, "- back"), "items[3]")]
    assert_rest_loaded(result)


def test_several_mistakes_are_all_reported_in_order(tmp_path):
    text = network_text(
        {
            "participants": ["- {id: cy, roles: [wizard]}"],
            "offers": [
                "- {id: bob-legs-2, supplier: bob, item: leg, price: -1}",
                "- {id: bob-legs-3, supplier: dan, item: leg, price: 1}",
            ],
        }
    )
    path, result = load_one(tmp_path, text)
    assert where(result) == [
        ("error", str(path), line_of(text, "wizard"), "roles"),
        ("error", str(path), line_of(text, "bob-legs-2"), "price"),
        ("error", str(path), line_of(text, "bob-legs-3"), "supplier"),
    ]
    assert_rest_loaded(result)


# -- logistics and time ------------------------------------------------------------------------

LOGISTICS = {
    "participants": [
        "- id: cy\n  roles: [transporter]\n  pickup: {range_km: 12, price_per_km: 0.4}",
    ],
    "designs": ["- {id: leg-turned, makes: leg, inputs: {seat: 1}, make_days: 1.5}"],
    "facilities": [
        "- id: cy-shop\n  operator: ana\n  delivery: {range_km: 20, price: 0, speed_kmh: 30}"
    ],
    "offers": [
        "- id: bob-legs-2\n  supplier: bob\n  item: leg\n  lead_time_days: 2\n"
        "  delivery: {range_km: 25, price: 4, price_per_km: 0.5, speed_kmh: 35}"
    ],
    "transport": [
        "- {id: cy-van, name: Cy's van, operator: cy, capacity_kg: 400, price_per_km: 1.1,\n"
        "   base_price: 6, range_km: 60, speed_kmh: 45, failure_probability: 0.08}"
    ],
}


def test_logistics_and_time_are_read(tmp_path):
    from core.network.model import Delivery

    _, result = load_one(tmp_path, network_text(LOGISTICS))
    assert result.diagnostics == []
    net = result.network
    assert net.participants["cy"].pickup == Delivery(range_km=12.0, price_per_km=0.4)
    assert net.participants["ana"].pickup is None
    assert net.designs["leg-turned"].make_days == 1.5
    assert net.designs["chair-okh"].make_days is None  # nobody said: unknown, not 0
    assert net.facilities["cy-shop"].delivery == Delivery(range_km=20.0, price=0.0, speed_kmh=30.0)
    offer = net.offers["bob-legs-2"]
    assert offer.lead_time_days == 2.0
    assert offer.delivery == Delivery(25.0, 4.0, 0.5, 35.0)
    assert net.offers["bob-legs"].delivery is None
    van = net.transport["cy-van"]
    assert (van.name, van.operator, van.capacity_kg, van.price_per_km) == (
        "Cy's van",
        "cy",
        400,
        1.1,
    )
    assert (van.base_price, van.range_km, van.speed_kmh, van.failure_probability) == (
        6.0,
        60.0,
        45.0,
        0.08,
    )
    assert net.failure_probability_of_transport(van) == 0.08
    assert net.plans_transport


def test_a_network_saying_nothing_of_transport_plans_none(tmp_path):
    _, result = load_one(tmp_path, network_text())
    assert not result.network.plans_transport


def test_items_mass_is_read(tmp_path):
    text = network_text({"items": ["- {id: back, mass_kg: 1.2}"]})
    _, result = load_one(tmp_path, text)
    assert result.network.items["back"].mass_kg == 1.2
    assert result.network.items["leg"].mass_kg is None


@pytest.mark.parametrize(
    "kind, record, snippet, field",
    [
        # A nested field is named with its mapping, at its own line.
        (
            "offers",
            "- id: bob-legs-2\n  supplier: bob\n  item: leg\n  delivery:\n    range_km: -5",
            "range_km: -5",
            "delivery.range_km",
        ),
        (
            "offers",
            "- id: bob-legs-2\n  supplier: bob\n  item: leg\n  delivery:\n    price: free",
            "price: free",
            "delivery.price",
        ),
        (
            "offers",
            "- id: bob-legs-2\n  supplier: bob\n  item: leg\n  delivery:\n    by: drone",
            "by: drone",
            "delivery.by",
        ),
        (
            "offers",
            "- id: bob-legs-2\n  supplier: bob\n  item: leg\n  delivery: yes please",
            "delivery: yes please",
            "delivery",
        ),
        (
            "facilities",
            "- id: cy-shop\n  operator: ana\n  delivery:\n    price_per_km: .nan",
            "price_per_km: .nan",
            "delivery.price_per_km",
        ),
        (
            "facilities",
            "- id: cy-shop\n  operator: ana\n  delivery:\n    speed_kmh: 0",
            "speed_kmh: 0",
            "delivery.speed_kmh",
        ),
        (
            "participants",
            "- id: cy\n  pickup:\n    range_km: far",
            "range_km: far",
            "pickup.range_km",
        ),
        (
            "participants",
            "- id: cy\n  pickup:\n    rate: 2",
            "rate: 2",
            "pickup.rate",
        ),
        ("designs", "- id: cy-okh\n  makes: leg\n  make_days: -1", "make_days: -1", "make_days"),
        (
            "designs",
            "- id: cy-okh\n  makes: leg\n  make_days: soon",
            "make_days: soon",
            "make_days",
        ),
        (
            "offers",
            "- id: bob-legs-2\n  supplier: bob\n  item: leg\n  lead_time_days: -2",
            "lead_time_days: -2",
            "lead_time_days",
        ),
        ("transport", "- id: cy-van\n  operator: ana\n  range_km: -1", "range_km: -1", "range_km"),
        (
            "transport",
            "- id: cy-van\n  operator: ana\n  base_price: ten",
            "base_price: ten",
            "base_price",
        ),
        ("transport", "- id: cy-van\n  operator: ana\n  speed_kmh: 0", "speed_kmh: 0", "speed_kmh"),
        (
            "transport",
            "- id: cy-van\n  operator: ana\n  speed_kmh: -30",
            "speed_kmh: -30",
            "speed_kmh",
        ),
        (
            "transport",
            "- id: cy-van\n  operator: ana\n  capacity_kg: -1",
            "capacity_kg: -1",
            "capacity_kg",
        ),
        ("transport", "- id: cy-van\n  operator: ana\n  name: [a, b]", "name: [a, b]", "name"),
        (
            "transport",
            "- id: cy-van\n  operator: ana\n  failure_probability: 2",
            "failure_probability: 2",
            "failure_probability",
        ),
        ("transport", "- id: cy-van\n  operator: ana\n  wheels: 4", "wheels: 4", "wheels"),
    ],
)
def test_a_bad_logistics_or_time_field_is_reported_where_it_is(
    tmp_path, kind, record, snippet, field
):
    text = network_text({kind: [record]})
    path, result = load_one(tmp_path, text)
    assert where(result) == [("error", str(path), line_of(text, snippet), field)]
    assert not ids(result, kind) & {"cy", "cy-shop", "cy-okh", "cy-van", "bob-legs-2"}
    assert_rest_loaded(result)
