"""The example networks of examples/: they load without a single diagnostic, have the shape the
paper describes, and hold the plan counts written in their header comments.

The counts are recomputed here by the weave's formula (ARCHITECTURE.md, Weave), written out
plainly and independently of core.weave, so that the numbers a person reads at the top of each
file stay true.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from core.importers import load_network
from core.network.model import Network

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHAIR = EXAMPLES / "chair.yaml"
HURRICANE = EXAMPLES / "hurricane-city.yaml"


@cache
def _load(path):
    return load_network([path])


def network(path) -> Network:
    return _load(path).network


@pytest.mark.parametrize("path", [CHAIR, HURRICANE], ids=lambda p: p.name)
def test_loads_without_any_diagnostic(path):
    result = _load(path)
    assert [str(d) for d in result.diagnostics] == []
    # Nothing was left out on the way: every record of the file is in the network.
    (fragment,) = result.fragments
    for kind in ("participants", "items", "designs", "facilities", "offers", "transport"):
        assert len(getattr(result.network, kind)) == len(getattr(fragment, kind)), kind
    assert len(result.network.substitutes) == len(fragment.substitutes)


@pytest.mark.parametrize("path", [CHAIR, HURRICANE], ids=lambda p: p.name)
def test_every_reference_resolves_and_fits_the_role(path):
    net = network(path)
    people = net.participants
    for facility in net.facilities.values():
        assert "maker" in people[facility.operator].roles, facility.id
    for offer in net.offers.values():
        assert "supplier" in people[offer.supplier].roles, offer.id
        assert offer.item in net.items, offer.id
    for truck in net.transport.values():
        assert "transporter" in people[truck.operator].roles, truck.id
    for design in net.designs.values():
        assert design.makes in net.items, design.id
        assert all(item in net.items for item, _ in design.inputs), design.id
    for substitute in net.substitutes:
        assert substitute.item in net.items and substitute.by in net.items


@pytest.mark.parametrize("path", [CHAIR, HURRICANE], ids=lambda p: p.name)
def test_every_participant_can_be_reached_and_found(path):
    for participant in network(path).participants.values():
        assert participant.roles, participant.id
        assert participant.contacts, participant.id
        assert participant.location is not None, participant.id


@pytest.mark.parametrize("path", [CHAIR, HURRICANE], ids=lambda p: p.name)
def test_ids_are_unique_across_kinds(path):
    """`/disrupt RESOURCE` and `/watch` take a bare id: no id names two different records."""
    net = network(path)
    seen: list[str] = []
    for kind in ("participants", "items", "designs", "facilities", "offers", "transport"):
        seen.extend(getattr(net, kind))
    assert len(seen) == len(set(seen))


# -- the chair --------------------------------------------------------------------------------


def test_chair_is_the_papers_chair():
    net = network(CHAIR)
    (chair_okh,) = [d for d in net.designs.values() if d.makes == "chair"]
    assert dict(chair_okh.inputs) == {"leg": 4, "seat": 1, "back": 1}
    assert chair_okh.labor == 15.0
    assert not [o for o in net.offers.values() if o.item == "chair"]  # chairs only by design
    turned = net.designs["leg-turned"]
    assert (turned.makes, dict(turned.inputs), turned.yield_) == ("leg", {"maple-board": 1}, 2)
    assert [o.price for o in net.offers.values() if o.item == "back"] == [None]  # B is unknown
    roles = {role for p in net.participants.values() for role in p.roles}
    assert {"buyer", "maker", "supplier", "transporter"} <= roles
    for participant in net.participants.values():  # Baltimore and around
        assert 39.0 < participant.location.lat < 39.6, participant.id
        assert -77.0 < participant.location.lon < -76.3, participant.id
    assert [(s.item, s.by) for s in net.substitutes] == [("seat", "foam-seat")]


def test_chair_counts_in_the_header():
    net = network(CHAIR)
    assert counts(net) == {
        "chair": 12,
        "leg": 3,
        "seat": 2,
        "back": 1,
        "maple-board": 1,
        "foam-seat": 1,
    }
    assert counts(net, "latex-free") == {
        "chair": 4,
        "leg": 2,
        "seat": 1,
        "back": 1,
        "maple-board": 1,
        "foam-seat": 0,
    }


def test_chair_prices_in_the_header():
    net = network(CHAIR)
    prices = sorted(price for price, _ in plans(net, "chair", 1))
    assert prices == [35.5, 35.5, 36.5, 36.5, 37.0, 37.0, 37.5, 37.5, 38.0, 38.0, 39.0, 39.0]
    best_price, best = min(plans(net, "chair", 1), key=lambda plan: plan[0])
    assert best_price == 35.5
    assert {"4 × fern-legs", "1 × gus-seats", "1 × gus-backs (price unknown)"} <= set(best)
    latex_free = sorted(plans(net, "chair", 1, "latex-free"), key=lambda plan: plan[0])
    assert [price for price, _ in latex_free] == [38.0, 38.0, 39.0, 39.0]
    assert {"leg-turned at eli-studio × 2", "2 × bob-maple", "1 × fern-seats"} <= set(
        latex_free[0][1]
    )


# -- the hurricane city ---------------------------------------------------------------------


def test_hurricane_city_has_the_papers_shape():
    net = network(HURRICANE)
    microfactories = [f for f in net.facilities.values() if f.id.startswith("mf-")]
    assert len(microfactories) == 5
    mf_operators = {f.operator for f in microfactories}
    makers = [
        p for p in net.participants.values() if "maker" in p.roles and p.id not in mf_operators
    ]
    assert len(makers) == 25
    for maker in makers:  # one small workshop each
        assert len([f for f in net.facilities.values() if f.operator == maker.id]) == 1
    assert len(net.transport) == 10
    assert {t.operator for t in net.transport.values()} == {"municipio-sj"}
    buyers = [p for p in net.participants.values() if "buyer" in p.roles]
    assert len(buyers) >= 2
    assert any("coordinator" in p.roles for p in net.participants.values())
    suppliers = {o.supplier for o in net.offers.values()}
    assert len(suppliers) >= 6
    for participant in net.participants.values():  # around San Juan
        assert 18.3 < participant.location.lat < 18.5, participant.id
        assert -66.25 < participant.location.lon < -65.85, participant.id


def test_hurricane_city_latex():
    net = network(HURRICANE)
    latex_free = {i for i, item in net.items.items() if item.properties.get("latex-free") is True}
    assert {"pet-sheet", "meltblown", "silicone-rtv"} <= latex_free
    assert "elastic" not in latex_free
    said_no = [o.id for o in net.offers.values() if o.properties.get("latex-free") is False]
    assert said_no  # some sources are not latex-free


def test_hurricane_city_some_labor_and_prices_unknown():
    net = network(HURRICANE)
    assert any(d.labor is None for d in net.designs.values())
    assert any(o.price is None for o in net.offers.values())


HURRICANE_COUNTS = {
    "visor": 9,
    "headband": 64,
    "face-shield": 46_080,
    "cloth-mask": 132,
    "surgical-mask": 208,
    "tubing-adapter": 34,
    "splitter-body": 34,
    "valve-housing": 34,
    "valve-membrane": 11,
    "flow-restrictor": 28,
    "check-valve": 14_960,
    "vent-splitter": 85_451_520,
    "n95-respirator": 0,
}
HURRICANE_LATEX_FREE = {
    **HURRICANE_COUNTS,
    "face-shield": 11_520,
    "cloth-mask": 22,
    "surgical-mask": 104,
    "check-valve": 7_480,
    "vent-splitter": 21_362_880,
}


def test_hurricane_city_counts_in_the_header():
    net = network(HURRICANE)
    every = counts(net)
    assert {item: every[item] for item in HURRICANE_COUNTS} == HURRICANE_COUNTS
    latex_free = counts(net, "latex-free")
    assert {item: latex_free[item] for item in HURRICANE_LATEX_FREE} == HURRICANE_LATEX_FREE


def test_hurricane_city_only_n95_is_unorderable():
    assert [item for item, n in counts(network(HURRICANE)).items() if n == 0] == ["n95-respirator"]


# -- the weave's formula (ARCHITECTURE.md, Weave), written out plainly --------------------------


def qualifies(record_properties, item_properties, criterion: str | None) -> bool:
    """A source asserts the criterion itself; silent, it takes what its item asserts."""
    if criterion is None:
        return True
    if criterion in record_properties:
        return record_properties[criterion] is True
    return item_properties.get(criterion) is True


def sources(net: Network, item_id: str, criterion: str | None):
    item_properties = net.items[item_id].properties
    for offer in net.offers.values():
        if offer.item == item_id and qualifies(offer.properties, item_properties, criterion):
            yield offer, None
    for design in net.designs.values():
        if design.makes != item_id:
            continue
        if not qualifies(design.properties, item_properties, criterion):
            continue
        for facility in net.facilities.values():
            if design.processes <= facility.processes:
                yield design, facility


def count(net: Network, item_id: str, criterion: str | None, path: frozenset = frozenset()) -> int:
    """count(T, path) = #offers(T) + [T ∉ path] · Σ_(D,F) Π_inputs count(I, path ∪ {T})"""
    total = 0
    for source, facility in sources(net, item_id, criterion):
        if facility is None:
            total += 1
        elif item_id not in path:
            product = 1
            for input_id, _ in source.inputs:
                product *= count(net, input_id, criterion, path | {item_id})
            total += product
    return total


def counts(net: Network, criterion: str | None = None) -> dict[str, int]:
    return {item_id: count(net, item_id, criterion) for item_id in net.items}


def plans(
    net: Network, item_id: str, quantity: int, criterion: str | None = None, path=frozenset()
):
    """Every plan of (item, quantity) as (known price, its parts); a small network only."""
    for source, facility in sources(net, item_id, criterion):
        if facility is None:
            unknown = " (price unknown)" if source.price is None else ""
            yield quantity * (source.price or 0.0), [f"{quantity} × {source.id}{unknown}"]
        elif item_id not in path:
            batches = -(-quantity // source.yield_)
            here = ((source.labor or 0.0) * batches, [f"{source.id} at {facility.id} × {batches}"])
            partial = [here]
            for input_id, per_batch in source.inputs:
                partial = [
                    (price + sub_price, parts + sub_parts)
                    for price, parts in partial
                    for sub_price, sub_parts in plans(
                        net, input_id, per_batch * batches, criterion, path | {item_id}
                    )
                ]
            yield from partial


def test_a_file_named_twice_or_inside_a_named_folder_is_read_once(tmp_path):
    chair = EXAMPLES / "chair.yaml"
    twice = load_network([chair, chair])
    assert twice.errors == []
    assert twice.network == load_network([chair]).network
    copy = tmp_path / "chair.yaml"
    copy.write_text(chair.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_network([copy, tmp_path]).errors == []
