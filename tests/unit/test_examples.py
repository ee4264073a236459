"""The example networks of examples/: they load without a single diagnostic, have the shape the
paper describes, and hold the plan counts written in their header comments.

The counts are recomputed here by the weave's formula with legs (ARCHITECTURE.md, Weave;
core/weave/legs.py), written out plainly and independently of core.weave, so that the numbers a
person reads at the top of each file stay true; then core.weave is asked the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from math import ceil
from pathlib import Path

import pytest

from core.importers import load_network
from core.network.geo import haversine_km
from core.network.model import Facility, Location, Network, frozen_mapping
from core.weave import Demand, Weave
from core.weave.timing import Arrival, plan_arrival

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
    dana, ana_shop, eli_studio = (
        buyer(net, "dana"),
        at_facility(net, net.facilities["ana-shop"]),
        at_facility(net, net.facilities["eli-studio"]),
    )
    for criterion, expected in [
        (None, {"chair": 48, "leg@ana": 7, "leg@eli": 5, "seat": 2, "back": 1, "maple": 2}),
        ("latex-free", {"chair": 20, "leg@ana": 6, "leg@eli": 4, "seat": 1, "back": 1, "maple": 2}),
    ]:
        assert {
            "chair": count(net, "chair", dana, criterion),
            "leg@ana": count(net, "leg", ana_shop, criterion),
            "leg@eli": count(net, "leg", eli_studio, criterion),
            "seat": count(net, "seat", ana_shop, criterion),
            "back": count(net, "back", ana_shop, criterion),
            "maple": count(net, "maple-board", eli_studio, criterion),
        } == expected, criterion
    # A substitute is not a source until the buyer approves it; hana would deliver it.
    assert count(net, "foam-seat", ana_shop) == 1
    assert count(net, "foam-seat", ana_shop, "latex-free") == 0


def test_chair_prices_in_the_header():
    net = network(CHAIR)
    dana = buyer(net, "dana")
    every = sorted(plans(net, "chair", 1, dana), key=lambda plan: plan[0])
    assert len(every) == 48
    # Every leg by the sender's free delivery: the 12 plans of the paper, at the paper's prices.
    free = [(price, parts) for price, parts in every if not any("carol-van" in p for p in parts)]
    assert [price for price, _ in free] == [
        35.5, 35.5, 36.5, 36.5, 37.0, 37.0, 37.5, 37.5, 38.0, 38.0, 39.0, 39.0
    ]  # fmt: skip
    assert free == every[:12]
    # The cheapest with the van: the cheapest plan, its chair driven 1.75 km to dana for
    # 5.00 + 1.20 × 1.745 = 7.09.
    assert round(every[12][0], 2) == 42.59
    assert "carol-van 1.75 km" in every[12][1]
    best_price, best = every[0]
    assert best_price == 35.5
    assert {"4 × fern-legs", "1 × gus-seats", "1 × gus-backs (price unknown)"} <= set(best)
    latex_free = sorted(plans(net, "chair", 1, dana, "latex-free"), key=lambda plan: plan[0])
    assert len(latex_free) == 20
    assert [price for price, _ in latex_free[:4]] == [38.0, 38.0, 39.0, 39.0]
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


# Without legs (the network's transport left out: nothing says how goods move, so every move is
# left to the parties), the counts of the paper's formula.
HURRICANE_UNWOVEN = {
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
HURRICANE_UNWOVEN_LATEX_FREE = {
    **HURRICANE_UNWOVEN,
    "face-shield": 11_520,
    "cloth-mask": 22,
    "surgical-mask": 104,
    "check-valve": 7_480,
    "vent-splitter": 21_362_880,
}
# With legs, one unit delivered to hospital-santurce: every leg by one of the trucks in range.
HURRICANE_COUNTS = {
    "visor": 810,
    "headband": 6_400,
    "face-shield": 367_081_416_000,
    "cloth-mask": 7_765_920,
    "surgical-mask": 18_472_000,
    "tubing-adapter": 3_400,
    "splitter-body": 3_400,
    "valve-housing": 3_400,
    "valve-membrane": 1_010,
    "flow-restrictor": 2_800,
    "check-valve": 12_389_848_000,
    "vent-splitter": 57_307_788_108_160_000_000,
    "n95-respirator": 0,
}
HURRICANE_LATEX_FREE = {
    **HURRICANE_COUNTS,
    "face-shield": 91_484_560_000,
    "cloth-mask": 195_600,
    "surgical-mask": 9_560_000,
    "check-valve": 6_131_048_000,
    "vent-splitter": 14_171_306_765_440_000_000,
}
HURRICANE_TO_LOIZA = {"visor": 728, "headband": 5_760, "face-shield": 325_757_376_000}


def hurricane_counts(net: Network, to: str, criterion: str | None = None) -> dict[str, int]:
    memo: dict = {}
    return {item: count(net, item, buyer(net, to), criterion, memo=memo) for item in net.items}


def test_hurricane_city_counts_in_the_header():
    net = network(HURRICANE)
    unwoven = replace(net, transport=frozen_mapping())
    for criterion, expected in [
        (None, HURRICANE_UNWOVEN),
        ("latex-free", HURRICANE_UNWOVEN_LATEX_FREE),
    ]:
        every = hurricane_counts(unwoven, "hospital-santurce", criterion)
        assert {item: every[item] for item in expected} == expected, criterion
    for criterion, expected in [(None, HURRICANE_COUNTS), ("latex-free", HURRICANE_LATEX_FREE)]:
        every = hurricane_counts(net, "hospital-santurce", criterion)
        assert {item: every[item] for item in expected} == expected, criterion
    to_loiza = hurricane_counts(net, "clinica-loiza")
    assert {item: to_loiza[item] for item in HURRICANE_TO_LOIZA} == HURRICANE_TO_LOIZA


def test_hurricane_city_only_n95_is_unorderable():
    every = hurricane_counts(network(HURRICANE), "hospital-santurce")
    assert [item for item, n in every.items() if n == 0] == ["n95-respirator"]


@pytest.mark.parametrize("criterion", [None, "latex-free"])
def test_the_weave_counts_what_the_headers_say(criterion):
    criteria = () if criterion is None else (criterion,)
    chair = network(CHAIR)
    dana = chair.participants["dana"]
    woven = Weave(chair, [Demand("chair", 1)], criteria, buyer="dana", deliver_to=dana.location)
    assert woven.count() == (48 if criterion is None else 20)
    if criterion is None:  # the cheapest plan, all delivered, and when it arrives
        (best,) = woven.best(1)
        assert plan_arrival(best) == Arrival(7_221)
    city = network(HURRICANE)
    hospital = city.participants["hospital-santurce"]
    expected = HURRICANE_COUNTS if criterion is None else HURRICANE_LATEX_FREE
    woven_counts = {
        item: Weave(
            city,
            [Demand(item, 1)],
            criteria,
            buyer="hospital-santurce",
            deliver_to=hospital.location,
        ).count()
        for item in expected
    }
    assert woven_counts == expected


def test_hurricane_city_moves_everything_by_truck():
    net = network(HURRICANE)
    assert not [o.id for o in net.offers.values() if o.delivery is not None]
    assert not [f.id for f in net.facilities.values() if f.delivery is not None]
    assert not [p.id for p in net.participants.values() if p.pickup is not None]
    for truck in net.transport.values():
        assert None not in (truck.range_km, truck.capacity_kg, truck.base_price), truck.id
        assert truck.speed_kmh and truck.name, truck.id
    assert [t.id for t in net.transport.values() if t.price_per_km is None] == ["truck-10"]
    # Face shields from the Santurce microfactory to the hospital: a short leg, every truck.
    santurce = at_facility(net, net.facilities["mf-santurce"])
    hospital = buyer(net, "hospital-santurce")
    ways = leg_choices(net, "face-shield", 100, santurce, hospital, None)
    assert [way.split()[0] for way, _ in ways] == list(net.transport)
    km = haversine_km(santurce.location, hospital.location)
    assert 0.05 < km < 1
    truck_01 = net.transport["truck-01"]
    assert ways[0] == (f"truck-01 {km:.2f} km", truck_01.base_price + truck_01.price_per_km * km)
    assert ways[-1][1] is None  # truck-10 has no rate: the leg's price is unknown
    # Across the metro area the two pickups are out of range.
    ramon = at_facility(net, net.facilities["taller-ramon"])
    far = leg_choices(net, "face-shield", 1, ramon, buyer(net, "clinica-loiza"), None)
    assert [way.split()[0] for way, _ in far] == [f"truck-{n:02}" for n in range(1, 9)]


def test_hurricane_city_says_when_and_how_heavy():
    net = network(HURRICANE)
    assert all(item.mass_kg for item in net.items.values())
    assert all(offer.lead_time_days is not None for offer in net.offers.values())
    unknown = [d.id for d in net.designs.values() if d.make_days is None]
    assert unknown == ["valve-housing-cnc"]
    assert all(f.capacity for f in net.facilities.values())


# -- the weave's formula with legs (ARCHITECTURE.md, Weave; core/weave/legs.py), written out plainly


@dataclass(frozen=True)
class End:
    """One end of a leg: who is there, which facility, and where."""

    participant: str | None
    facility: str | None
    location: Location | None


def buyer(net: Network, participant_id: str) -> End:
    return End(participant_id, None, net.participants[participant_id].location)


def at_facility(net: Network, facility: Facility) -> End:
    operator = net.participants[facility.operator]
    return End(operator.id, facility.id, facility.location or operator.location)


def one_place(a: End, b: End) -> bool:
    if a.facility is not None and a.facility == b.facility:
        return True
    return haversine_km(a.location, b.location) < 0.05


def within(km: float, range_km: float | None) -> bool:
    return range_km is None or km <= range_km


def leg_choices(net: Network, item_id, quantity, origin: End, destination: End, delivery):
    """Each way to move the goods as (what, price; None unknown). Nothing to choose within one
    place, or when the network says nothing about moving goods: one way, free, unnamed."""
    says_how = bool(
        net.transport
        or any(o.delivery for o in net.offers.values())
        or any(f.delivery for f in net.facilities.values())
        or any(p.pickup for p in net.participants.values())
    )
    if not says_how or one_place(origin, destination):
        return [("", 0.0)]
    km = haversine_km(origin.location, destination.location)
    mass = net.items[item_id].mass_kg
    kg = None if mass is None else mass * quantity
    ways = []
    if delivery is not None and within(km, delivery.range_km):
        stated = delivery.price is not None or delivery.price_per_km is not None
        price = (delivery.price or 0.0) + (delivery.price_per_km or 0.0) * km
        ways.append((f"delivery by {origin.participant}", price if stated else None))
    for truck in net.transport.values():
        if within(km, truck.range_km):
            trips = ceil(kg / truck.capacity_kg) if kg and truck.capacity_kg else 1
            price = None
            if truck.price_per_km is not None:
                price = trips * ((truck.base_price or 0.0) + truck.price_per_km * km)
            ways.append((f"{truck.id} {km:.2f} km", price))
    fetch = net.participants[destination.participant].pickup
    if fetch is not None and within(km, fetch.range_km):
        price = (fetch.price or 0.0) + (fetch.price_per_km or 0.0) * km
        ways.append((f"pickup by {destination.participant}", price))
    return ways


def qualifies(record_properties, item_properties, criterion: str | None) -> bool:
    """A source asserts the criterion itself; silent, it takes what its item asserts."""
    if criterion is None:
        return True
    if criterion in record_properties:
        return record_properties[criterion] is True
    return item_properties.get(criterion) is True


def sources(net: Network, item_id: str, criterion: str | None):
    """(source, its facility or None, where it is, how it delivers)"""
    item_properties = net.items[item_id].properties
    for offer in net.offers.values():
        if offer.item == item_id and qualifies(offer.properties, item_properties, criterion):
            supplier = net.participants[offer.supplier]
            yield offer, None, End(supplier.id, None, supplier.location), offer.delivery
    for design in net.designs.values():
        if design.makes != item_id:
            continue
        if not qualifies(design.properties, item_properties, criterion):
            continue
        for facility in net.facilities.values():
            if design.processes <= facility.processes:
                yield design, facility, at_facility(net, facility), facility.delivery


def count(
    net: Network,
    item_id: str,
    destination: End,
    criterion: str | None = None,
    path: frozenset = frozenset(),
    memo: dict | None = None,
) -> int:
    """count(T → d, path) = Σ_sources #legs(source → d) · ([offer] or [T ∉ path] ·
    Π_inputs count(I → the source's facility, path ∪ {T})). The number of ways to move goods
    does not depend on how many: one unit's count is every quantity's."""
    memo = {} if memo is None else memo
    key = (item_id, destination, criterion, path)
    if key in memo:
        return memo[key]
    total = 0
    for source, facility, origin, delivery in sources(net, item_id, criterion):
        ways = len(leg_choices(net, item_id, 1, origin, destination, delivery))
        if facility is None:
            total += ways
        elif item_id not in path and ways:
            product = ways
            for input_id, _ in source.inputs:
                below = at_facility(net, facility)
                product *= count(net, input_id, below, criterion, path | {item_id}, memo)
            total += product
    memo[key] = total
    return total


def plans(
    net: Network,
    item_id: str,
    quantity: int,
    destination: End,
    criterion: str | None = None,
    path=frozenset(),
):
    """Every plan of (item, quantity) to `destination` as (known price, its parts); a small
    network only. A part whose price is unknown says so."""
    for source, facility, origin, delivery in sources(net, item_id, criterion):
        ways = leg_choices(net, item_id, quantity, origin, destination, delivery)
        if facility is None:
            unknown = " (price unknown)" if source.price is None else ""
            here = [(quantity * (source.price or 0.0), [f"{quantity} × {source.id}{unknown}"])]
        elif item_id in path:
            continue
        else:
            batches = -(-quantity // source.yield_)
            here = [
                ((source.labor or 0.0) * batches, [f"{source.id} at {facility.id} × {batches}"])
            ]
            for input_id, per_batch in source.inputs:
                here = [
                    (price + sub_price, parts + sub_parts)
                    for price, parts in here
                    for sub_price, sub_parts in plans(
                        net,
                        input_id,
                        per_batch * batches,
                        at_facility(net, facility),
                        criterion,
                        path | {item_id},
                    )
                ]
        for price, parts in here:
            for way, leg_price in ways:
                leg = (
                    []
                    if not way
                    else [f"{way}" + (" (price unknown)" if leg_price is None else "")]
                )
                yield price + (leg_price or 0.0), parts + leg


def test_a_file_named_twice_or_inside_a_named_folder_is_read_once(tmp_path):
    chair = EXAMPLES / "chair.yaml"
    twice = load_network([chair, chair])
    assert twice.errors == []
    assert twice.network == load_network([chair]).network
    copy = tmp_path / "chair.yaml"
    copy.write_text(chair.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_network([copy, tmp_path]).errors == []
