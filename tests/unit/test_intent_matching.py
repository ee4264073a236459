"""Matching intents: each rule on hand-built cases, the face-shield composite on the hurricane
city, and the matcher's pairs against a plain double loop over all intents."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.importers import load_network
from core.intents.covers import Cover, covered_share
from core.intents.matching import Matcher, rank_key
from core.intents.model import ITEM, OFFER, PROCESS, PROPOSAL, REQUEST, Intent, Quantity, Resource
from core.network.geo import haversine_km
from core.network.model import Item, Location, Network, Offer

HURRICANE_CITY = Path(__file__).resolve().parents[2] / "examples" / "hurricane-city.yaml"
SAN_JUAN = Location(18.4655, -66.1057, "Viejo San Juan")
LOIZA = Location(18.4313, -65.8802, "Loíza")  # 24 km east of San Juan
PONCE = Location(18.0111, -66.6141, "Ponce")  # 73 km south-west
FAJARDO = Location(18.3258, -65.6524, "Fajardo")  # 50 km east
BALTIMORE = Location(39.2904, -76.6122, "Baltimore")
TODAY = date(2026, 11, 1)

# A small network where the masks and shields can be bought: nothing is missing, so only
# direct matches count.
STOCKED = Network.of(
    items=[Item("mask", "Mask"), Item("shield", "Shield"), Item("pet", "PET", unit="sheet")],
    offers=[
        Offer("o-mask", None, "mask"),
        Offer("o-shield", None, "shield"),
        Offer("o-pet", None, "pet"),
    ],
)


def offer(id, resource="mask", amount=None, kind=ITEM, **fields) -> Intent:
    return _intent(OFFER, id, resource, amount, kind, **fields)


def request(id, resource="mask", amount=None, kind=ITEM, **fields) -> Intent:
    return _intent(REQUEST, id, resource, amount, kind, **fields)


def _intent(intent_kind, id, resource, amount, kind, per=None, unit="each", **fields) -> Intent:
    quantity = None if amount is None else Quantity(amount, unit, per)
    fields.setdefault("place", SAN_JUAN)
    return Intent(intent_kind, f"p{id}", Resource(kind, resource), quantity, id=id, **fields)


def matched(matcher: Matcher, intent: Intent, today=None) -> list[tuple[int, ...]]:
    return [m.offer_ids() for m in matcher.matches_for(intent, today)]


# -- resource ------------------------------------------------------------------------------


def test_an_offer_meets_requests_of_the_same_resource_only():
    want = request(1, "mask", 10)
    matcher = Matcher(
        STOCKED,
        [
            want,
            offer(2, "mask", 10),
            offer(3, "shield", 10),
            offer(4, "mask", 10, kind=PROCESS),  # a process that happens to share the name
            request(5, "mask", 10),  # offer 2 helps it too; it fills no request
        ],
    )
    assert matched(matcher, want) == [(2,)]
    assert [m.request for m in matcher.matches_for(matcher.intent(2))] == [1, 5]
    assert matcher.matches_for(matcher.intent(3)) == []


def test_a_proposal_is_matched_like_a_request():
    gathering = Intent(PROPOSAL, "p1", Resource(PROCESS, "sewing"), id=1, place=SAN_JUAN)
    sewing = offer(2, "sewing", kind=PROCESS)
    matcher = Matcher(STOCKED, [gathering, sewing])
    assert matched(matcher, gathering) == [(2,)]
    assert [m.request for m in matcher.matches_for(sewing)] == [1]


# -- quantity ------------------------------------------------------------------------------


def test_a_partial_offer_reports_its_share():
    [match] = Matcher(STOCKED, [offer(2, "mask", 50)]).matches_for(request(1, "mask", 200))
    assert match.offers == (Cover(2, "mask", 0.25, True, 0.0),)
    assert match.covered == 0.25


def test_several_offers_add_up_greedily_best_first_until_covered():
    offers = [offer(2, "mask", 100), offer(3, "mask", 120), offer(4, "mask", 50)]
    first, rest = Matcher(STOCKED, offers).matches_for(request(1, "mask", 200))
    # 120 (0.6) then 100 (0.5) cover the 200; the 50 left starts the next match.
    assert first.offer_ids() == (3, 2) and first.covered == 1.0
    assert [c.share for c in first.offers] == [0.6, 0.5]
    assert rest.offer_ids() == (4,) and rest.covered == 0.25


def test_an_offer_covering_alone_is_a_match_of_its_own():
    offers = [offer(2, "mask", 300), offer(3, "mask", 200), offer(4, "mask", 20)]
    got = Matcher(STOCKED, offers).matches_for(request(1, "mask", 200))
    assert [(m.offer_ids(), m.covered) for m in got] == [((2,), 1.0), ((3,), 1.0), ((4,), 0.1)]


def test_without_quantities_an_offer_covers_but_it_is_not_measured():
    [match] = Matcher(STOCKED, [offer(2, "mask")]).matches_for(request(1, "mask", 200))
    assert match.covered == 1.0 and not match.offers[0].measured


def test_rates_compare_per_day():
    weekly = request(1, "mask", 200, per="week")  # 28.6 a day
    matcher = Matcher(
        STOCKED, [offer(2, "mask", 10, per="day"), offer(3, "mask", 1000, per="month")]
    )
    shares = {c.offer: c.share for m in matcher.matches_for(weekly) for c in m.offers}
    assert shares[2] == pytest.approx(70 / 200)
    assert shares[3] == 1.0  # 33.3 a day


def test_a_rate_against_an_amount_counts_the_days_both_windows_share():
    ten_days = dict(starts=date(2026, 11, 1), ends=date(2026, 11, 10))
    assert covered_share(Quantity(100), Quantity(5, per="day"), 10) == (0.5, True)
    want = request(1, "mask", 100, **ten_days)
    [match] = Matcher(STOCKED, [offer(2, "mask", 5, per="day")]).matches_for(want)
    assert match.covered == 0.5
    # Unbounded: one period of the rate.
    [match] = Matcher(STOCKED, [offer(2, "mask", 5, per="day")]).matches_for(
        request(1, "mask", 100)
    )
    assert match.covered == 0.05


def test_units_that_cannot_be_compared_are_not_measured():
    assert covered_share(Quantity(10, "kg"), Quantity(5, "m")) == (1.0, False)
    assert covered_share(Quantity(10, "sheet"), Quantity(5)) == (0.5, True)


# -- time ----------------------------------------------------------------------------------


def test_windows_that_do_not_overlap_do_not_match():
    by_december = request(1, "mask", 10, ends=date(2026, 12, 20))
    late = offer(2, "mask", 10, starts=date(2026, 12, 21))
    on_time = offer(3, "mask", 10, starts=date(2026, 12, 20), ends=date(2027, 1, 5))
    open_ended = offer(4, "mask", 10)
    assert sorted(matched(Matcher(STOCKED, [late, on_time, open_ended]), by_december)) == [
        (3,),
        (4,),
    ]


def test_expired_withdrawn_or_past_intents_never_match():
    want = request(1, "mask", 10)
    expired = offer(2, "mask", 10, expires=TODAY - timedelta(days=1))
    lasting = offer(3, "mask", 10, expires=TODAY)
    over = offer(4, "mask", 10, ends=TODAY - timedelta(days=1))
    matcher = Matcher(STOCKED, [expired, lasting, over])
    assert matched(matcher, want, TODAY) == [(3,)]
    assert sorted(matched(matcher, want)) == [(2,), (3,), (4,)]  # no date given: not checked
    assert matcher.matches_for(expired, TODAY) == []
    assert matcher.matches_for(Intent(**{**want.__dict__, "status": "withdrawn"})) == []
    assert matcher.expire(TODAY) == [2, 4] and len(matcher) == 1


# -- distance ------------------------------------------------------------------------------


def test_far_offers_do_not_match_and_unknown_places_rank_last():
    want = request(1, "mask", 10, place=SAN_JUAN)
    offers = [
        offer(2, "mask", 10, place=PONCE),
        offer(3, "mask", 10, place=BALTIMORE),
        offer(4, "mask", 10, place=None),
        offer(5, "mask", 10, place=LOIZA),
    ]
    got = Matcher(STOCKED, offers).matches_for(want)
    assert [m.offer_ids() for m in got] == [(5,), (2,), (4,)]
    assert got[0].distance_km == pytest.approx(haversine_km(SAN_JUAN, LOIZA))
    assert got[2].distance_km is None
    assert matched(Matcher(STOCKED, offers, radius_km=40), want) == [(5,), (4,)]


# -- ranking -------------------------------------------------------------------------------


def test_ranking_is_coverage_then_distance_then_how_soon_then_id():
    want = request(1, "mask", 100)
    offers = [
        offer(2, "mask", 50, place=SAN_JUAN),  # half: last, however near
        offer(3, "mask", 100, place=LOIZA),
        offer(4, "mask", 100, place=SAN_JUAN, starts=date(2026, 12, 1)),
        offer(5, "mask", 100, place=SAN_JUAN, starts=date(2026, 11, 5)),
        offer(7, "mask", 100, place=SAN_JUAN),
        offer(6, "mask", 100, place=SAN_JUAN),
    ]
    got = Matcher(STOCKED, offers).matches_for(want, TODAY)
    assert [m.offer_ids() for m in got] == [(6,), (7,), (5,), (4,), (3,), (2,)]
    assert got[2].starts == date(2026, 11, 5) and got[0].starts == TODAY


def test_offers_gather_nearest_first_among_equal_shares():
    offers = [
        offer(2, "mask", 50, place=LOIZA),
        offer(3, "mask", 50, place=SAN_JUAN, starts=date(2026, 11, 5)),
        offer(4, "mask", 50, place=SAN_JUAN),
    ]
    got = Matcher(STOCKED, offers).matches_for(request(1, "mask", 100), TODAY)
    assert [m.offer_ids() for m in got] == [(4, 3), (2,)]
    assert got[0].starts == date(2026, 11, 5)  # when both can start


# -- the index -----------------------------------------------------------------------------


def test_edits_withdrawals_and_removals_keep_the_index_right():
    want = request(1, "mask", 10)
    matcher = Matcher(STOCKED, [want, offer(2, "mask", 10)])
    matcher.replace(offer(2, "shield", 10))  # edited to another item
    assert matched(matcher, want) == []
    assert matched(matcher, request(9, "shield", 10)) == [(2,)]
    matcher.replace(Intent(**{**offer(2, "mask", 10).__dict__, "status": "withdrawn"}))
    assert 2 not in matcher and matched(matcher, request(9, "shield", 10)) == []
    matcher.add(offer(3, "mask", 10))
    matcher.remove(3)
    matcher.remove(3)  # forgetting twice is harmless
    assert matched(matcher, want) == [] and len(matcher) == 1
    with pytest.raises(ValueError):
        matcher.add(want)


def test_an_offer_sees_what_it_alone_does_for_each_request_indexed_or_not():
    matcher = Matcher(
        STOCKED, [request(1, "mask", 200), request(2, "mask", 50), offer(3, "mask", 150)]
    )
    got = matcher.matches_for(offer(4, "mask", 100))
    assert [(m.request, m.offer_ids(), m.covered) for m in got] == [(2, (4,), 1.0), (1, (4,), 0.5)]
    assert len(matcher) == 3  # asking did not index it


# -- the network's needs: face shields with no source --------------------------------------


@cache
def hurricane_city() -> Network:
    return load_network([HURRICANE_CITY]).network


def without_face_shields() -> Network:
    """The hurricane city with no way to make face shields short of new offers: its ready-made
    visors and the PET and PP sheet they and the laser-cut headbands are cut from gone, and
    every 3D printer closed (headbands are printed or laser-cut from PP)."""
    city = hurricane_city()
    printers = [f.id for f in city.facilities.values() if "3d-printing" in f.processes]
    return city.without(facilities=printers, offers=["pc-visors", "pc-pet", "pc-pp-sheet"])


def test_which_records_make_face_shields():
    city = hurricane_city()
    [assembly] = [d for d in city.designs.values() if d.makes == "face-shield"]
    assert dict(assembly.inputs) == {"visor": 10, "headband": 10, "elastic": 4, "foam-strip": 3}
    assert {d.id: d.processes for d in city.designs.values() if d.makes == "headband"} == {
        "headband-3dp-pla": {"3d-printing"},
        "headband-3dp-petg": {"3d-printing"},
        "headband-laser": {"laser-cutting"},
    }
    assert [o.id for o in city.offers.values() if o.item in ("visor", "pet-sheet", "pp-sheet")] == [
        "pc-pet",
        "pc-pp-sheet",
        "pc-visors",
    ]


def shield_intents(pet_sheets: int):
    clinic = hurricane_city().participants["clinica-loiza"].location
    maker = hurricane_city().participants["carmen"].location
    supplier = hurricane_city().participants["plasticos-caribe"].location
    return (
        request(1, "face-shield", 200, place=clinic, ends=date(2026, 12, 20)),
        offer(2, "3d-printing", 10, kind=PROCESS, unit="h", per="week", place=maker),
        offer(3, "pet-sheet", pet_sheets, unit="sheet", place=supplier),
    )


def test_a_request_nobody_can_serve_is_matched_by_the_offers_its_designs_need():
    network = without_face_shields()
    want, printing, pet = shield_intents(pet_sheets=50)
    matcher = Matcher(network, [want, printing, pet])
    [match] = matcher.matches_for(want, TODAY)
    assert match.composite and match.covered == 1.0
    # 200 shields: 20 batches of 10 take 200 visors, cut 6 to a sheet: 34 sheets of the 50.
    assert [(c.offer, c.need, c.share, c.measured) for c in match.offers] == [
        (3, "pet-sheet", 1.0, True),
        (2, "3d-printing", 1.0, False),  # hours against headbands: a process need, filled
    ]
    # Each offerer sees what their offer alone does: half of what is missing.
    [seen] = matcher.matches_for(printing, TODAY)
    assert (seen.request, seen.offers, seen.covered) == (1, match.offers[1:], 0.5)
    [seen] = matcher.matches_for(pet, TODAY)
    assert (seen.request, seen.offers, seen.covered) == (1, match.offers[:1], 0.5)


def test_a_composite_match_reports_how_much_of_what_is_missing_it_fills():
    want, printing, pet = shield_intents(pet_sheets=17)  # half the 34 sheets
    [match] = Matcher(without_face_shields(), [printing, pet]).matches_for(want, TODAY)
    assert match.offers[0].share == 0.5
    assert match.covered == 0.75  # visors half, headbands whole
    [printing_only] = Matcher(without_face_shields(), [printing]).matches_for(want, TODAY)
    assert printing_only.covered == 0.5


def test_every_offer_that_helps_is_in_exactly_one_composite_match():
    want, printing, pet = shield_intents(pet_sheets=50)
    far_printer = offer(4, "3d-printing", kind=PROCESS, place=PONCE)
    headbands = offer(5, "headband", 100, place=LOIZA)  # half the 200 headbands
    elsewhere = offer(6, "pet-sheet", 50, place=BALTIMORE)
    every = [want, printing, pet, far_printer, headbands, elsewhere]
    matcher = Matcher(without_face_shields(), every)
    got = matcher.matches_for(want, TODAY)
    assert [(m.offer_ids(), m.covered) for m in got] == [
        ((3, 2), 1.0),  # printing fills the headbands whole, the headband offer half
        ((4,), 0.5),
        ((5,), 0.25),
    ]
    seen = {
        (m.request, o)
        for i in every
        if i.provides
        for m in matcher.matches_for(i, TODAY)
        for o in m.offer_ids()
    }
    assert seen == {(1, o) for m in got for o in m.offer_ids()}


def test_the_gap_of_face_shields_names_what_is_missing():
    gap = Matcher(without_face_shields()).gap("face-shield")
    assert gap.resources() == {
        (ITEM, "visor"),
        (ITEM, "pet-sheet"),
        (ITEM, "headband"),
        (ITEM, "pp-sheet"),
        (PROCESS, "3d-printing"),
    }


def test_a_servable_item_is_not_matched_against_its_inputs():
    want, printing, pet = shield_intents(pet_sheets=50)
    assert Matcher(hurricane_city(), [printing, pet]).matches_for(want, TODAY) == []


def test_n95_respirators_want_electret_charging():
    # The city's deliberately unorderable item: no facility charges melt-blown.
    want = request(1, "n95-respirator", 300)
    charging = offer(2, "electret-charging", kind=PROCESS)
    sewing = offer(3, "sewing", kind=PROCESS)
    matcher = Matcher(hurricane_city(), [charging, sewing])
    [match] = matcher.matches_for(want)
    assert match.offers == (Cover(2, "electret-charging", 1.0, False, 0.0),)
    assert match.covered == 1.0


# -- against a plain double loop -----------------------------------------------------------

PLACES = [SAN_JUAN, LOIZA, FAJARDO, PONCE, BALTIMORE, None]
DAYS = st.none() | st.integers(0, 20).map(lambda k: TODAY + timedelta(days=k - 5))


QUANTITIES = [None] + [
    Quantity(amount, unit, per)
    for amount in (1.0, 3.0, 4.0, 8.0)
    for unit in ("each", "kg")
    for per in (None, "day", "week")
]
RESOURCES = [Resource(ITEM, "mask"), Resource(ITEM, "shield"), Resource(PROCESS, "sewing")]
FIELDS = st.tuples(
    st.sampled_from([OFFER, OFFER, REQUEST, PROPOSAL]),
    st.sampled_from(RESOURCES),
    st.sampled_from(QUANTITIES),
    DAYS,
    DAYS,
    st.sampled_from(PLACES),
    DAYS,
    st.sampled_from(["open"] * 5 + ["withdrawn"]),
)


def intent_from(id, fields) -> Intent:
    kind, resource, quantity, starts, ends, place, expires, status = fields
    if starts and ends and ends < starts:
        starts, ends = ends, starts
    return Intent(
        kind, f"p{id}", resource, quantity, starts, ends, place, None, "", expires, id, status
    )


intent_sets = st.lists(FIELDS, max_size=12).map(
    lambda rows: [intent_from(k, row) for k, row in enumerate(rows)]
)


def oracle_pairs(every: list[Intent], today, radius) -> dict[tuple[int, int], float]:
    """Every (request, offer) pair the rules allow, with the offer's share: a double loop."""
    pairs = {}
    for want in every:
        for have in every:
            if want.provides or not have.provides or want.resource != have.resource:
                continue
            if not all(_holds(i, today) for i in (want, have)):
                continue
            if not _overlap(want, have):
                continue
            if want.place and have.place and haversine_km(want.place, have.place) > radius:
                continue
            pairs[want.id, have.id] = _share(want, have, today)
    return pairs


def _holds(intent, today):
    if intent.status != "open":
        return False
    if today is None:
        return True
    alive = intent.expires is None or intent.expires >= today
    return alive and (intent.ends is None or intent.ends >= today)


def _overlap(a, b):
    low = max(d for d in (a.starts, b.starts, date.min) if d is not None)
    high = min(d for d in (a.ends, b.ends, date.max) if d is not None)
    return low <= high


def _share(want, have, today):
    need, got = want.quantity, have.quantity
    if (
        need is None
        or got is None
        or (need.unit != got.unit and "each" not in (need.unit, got.unit))
    ):
        return 1.0
    starts = [d for d in (want.starts, have.starts, today) if d]
    ends = [d for d in (want.ends, have.ends) if d]
    days = (min(ends) - max(starts)).days + 1 if starts and ends else None
    if need.is_rate and got.is_rate:
        return min(1.0, got.per_day() / need.per_day())
    if need.is_rate != got.is_rate and days is not None:
        in_days = [q.per_day() * days if q.is_rate else q.amount for q in (got, need)]
        return min(1.0, in_days[0] / in_days[1])
    return min(1.0, got.amount / need.amount)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(intent_sets, st.sampled_from([None, TODAY]), st.sampled_from([30.0, 100.0]))
def test_the_pairs_are_those_of_a_double_loop_and_ranked(every, today, radius):
    matcher = Matcher(STOCKED, every, radius_km=radius)
    expected = oracle_pairs(every, today, radius)
    from_requests, from_offers = {}, set()
    for intent in every:
        got = matcher.matches_for(intent, today)
        assert [rank_key(m) for m in got] == sorted(rank_key(m) for m in got)
        for match in got:
            if intent.provides:
                assert intent.id in match.offer_ids()
                from_offers.add((match.request, intent.id))
                continue
            assert match.request == intent.id
            shares = [c.share for c in match.offers]
            assert match.covered == pytest.approx(min(1.0, sum(shares)))
            assert sum(shares[:-1]) < 1 - 1e-9  # greedy: no offer beyond the one that covers
            for cover in match.offers:
                from_requests[intent.id, cover.offer] = cover.share
    assert from_requests.keys() == expected.keys()
    assert from_offers == set(expected)
    for pair, share in expected.items():
        assert from_requests[pair] == pytest.approx(share)
