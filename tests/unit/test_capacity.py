"""Capacity across orders, the pure rules (core/weave/capacity.py): weeks, a plan's usage, what
is left, the weave skipping what has too little left (held to the literal oracle), and the
split rule (held to a brute-force search for the cheapest allocation)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import product

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from test_weave_oracle import _manageable, timed_cases

from core.network.model import Design, Facility, Item, Network, Offer, Participant
from core.weave import PRICE, SOONEST, Demand, Weave
from core.weave.capacity import (
    Candidate,
    LimitedIndex,
    Use,
    left_now,
    overbooked,
    plan_usage,
    resource_of,
    split,
    week_of,
)
from core.weave.literal import literal_plans
from core.weave.timing import plan_arrival

MONDAY = date(2026, 12, 7)


def test_a_week_runs_from_monday_midnight_utc():
    assert week_of(datetime(2026, 12, 7, 0, 0)) == MONDAY
    assert week_of(datetime(2026, 12, 13, 23, 59)) == MONDAY  # Sunday night: the same week
    assert week_of(datetime(2026, 12, 14, 0, 0)) == MONDAY + timedelta(days=7)
    # An aware time is read in UTC: Monday 01:00 in UTC+2 is still Sunday in UTC.
    aware = datetime(2026, 12, 14, 1, 0, tzinfo=UTC) + timedelta(hours=-2)
    assert week_of(aware) == MONDAY


def mask_world() -> Network:
    """Cloth masks sewn from fabric: a maker sews 2 days a batch of 10; the fabric takes 3 days
    to come; another maker states no capacity (unlimited)."""
    return Network.of(
        [Participant("ana", "Ana"), Participant("bo", "Bo"), Participant("cy", "Cy")],
        [Item("mask", "Mask"), Item("fabric", "Fabric")],
        [
            Design(
                "mask-okh",
                "mask",
                inputs=(("fabric", 1),),
                yield_=10,
                processes=frozenset({"sew"}),
                labor=5.0,
                make_days=2,
            )
        ],
        [
            Facility("ana-shop", "ana", processes=frozenset({"sew"}), capacity={"mask": 30}),
            Facility("bo-shop", "bo", processes=frozenset({"sew"})),
        ],
        [Offer("cy-fabric", "cy", "fabric", price=2.0, capacity=4, lead_time_days=3)],
    )


def test_a_plan_uses_each_source_in_the_week_its_work_ends():
    network = mask_world()
    plan = Weave(network, [Demand("mask", 20)]).plan(1)
    assert plan.lines[0].source.facility.id == "ana-shop"
    # Agreed Thursday noon: the fabric is confirmed 3 days later (Sunday, this week); the two
    # batches are sewn 4 days after that (Thursday of the next week).
    usage = plan_usage(plan, datetime(2026, 12, 10, 12, 0))
    assert usage == (
        Use("facility:ana-shop:mask", MONDAY + timedelta(days=7), 20),
        Use("offer:cy-fabric", MONDAY, 2),
    )


def test_what_is_left_is_the_capacity_less_the_fullest_week_to_come():
    network = mask_world()
    reserved = {
        ("facility:ana-shop:mask", MONDAY - timedelta(days=7)): 30,  # last week: over
        ("facility:ana-shop:mask", MONDAY): 10,
        ("facility:ana-shop:mask", MONDAY + timedelta(days=7)): 25,
        ("offer:cy-fabric", MONDAY): 1,
    }
    left = left_now(network, reserved, datetime(2026, 12, 9, 8, 0))
    # bo-shop states no capacity: it is no limit at all.
    assert left == {"facility:ana-shop:mask": 5, "offer:cy-fabric": 3}


def test_a_use_that_does_not_fit_its_week_is_overbooked():
    network = mask_world()
    uses = [Use("facility:ana-shop:mask", MONDAY, 20), Use("facility:bo-shop:mask", MONDAY, 999)]
    short = overbooked(network, uses, {("facility:ana-shop:mask", MONDAY): 11})
    assert [(s.use.resource, s.capacity, s.reserved) for s in short] == [
        ("facility:ana-shop:mask", 30, 11)
    ]
    assert overbooked(network, uses, {("facility:ana-shop:mask", MONDAY): 10}) == []


def test_the_weave_skips_a_maker_with_too_little_left_for_the_node():
    network = mask_world()
    limits = {"facility:ana-shop:mask": 15, "offer:cy-fabric": 4}
    weave = Weave(network, [Demand("mask", 20)], limits=limits)
    assert [p.lines[0].source.facility.id for p in weave.plans()] == ["bo-shop"]
    # 15 masks fit ana's 15; 20 masks need 2 of the fabric, 1 is left: no plan, whoever sews.
    assert Weave(network, [Demand("mask", 15)], limits=limits).count() == 2
    assert Weave(network, [Demand("mask", 20)], limits={"offer:cy-fabric": 1}).count() == 0


# -- the skip, held to the literal oracle --------------------------------------------------


@st.composite
def limited_cases(draw):
    network, demands, criteria, ranking, deliver_to, buyer, spread = draw(timed_cases())
    keys = [f"offer:{o}" for o in network.offers] + [
        f"facility:{f}:{i}" for f in network.facilities for i in network.items
    ]
    units = st.sampled_from([0, 1, 2, 3, 5, 8, 30])
    limits = {k: draw(units) for k in keys if draw(st.integers(0, 2))}
    return network, demands, criteria, ranking, deliver_to, buyer, spread, limits


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limited_cases())
def test_the_limited_weave_is_the_literal_weave_less_the_nodes_without_enough_left(case):
    """At every node, a source with less left than the node's quantity is no option: counts
    (windowed and not) and every plan in order, by the case's ranking and soonest first, are
    the literal enumeration's without those nodes."""
    network, demands, criteria, ranking, deliver_to, buyer, spread, limits = case
    assume(_manageable(network, demands, buyer, deliver_to) <= 1500)

    def both(ranking, within):
        oracle = literal_plans(
            network, demands, criteria, ranking, deliver_to, buyer, within, limits=limits
        )
        weave = Weave(
            network, demands, criteria, ranking, deliver_to, None, buyer, within, limits=limits
        )
        return oracle, weave

    every = both(ranking, None)[0]
    unlimited = literal_plans(network, demands, criteria, ranking, deliver_to, buyer)
    assert [p.signature() for p in every] == [
        p.signature()
        for p in unlimited
        if all(
            limits.get(resource_of(n.item, n.source), n.quantity) >= n.quantity
            for n in p.nodes()
            if resource_of(n.item, n.source) is not None
        )
    ]
    event("some plans skipped" if len(every) < len(unlimited) else "none skipped")
    arrivals = sorted(plan_arrival(p).minutes for p in every) or [0]
    window = max(0, arrivals[round(spread * (len(arrivals) - 1))] - (spread == 0.0))
    for ranking_, within in ((ranking, None), (ranking, window), (SOONEST, None)):
        oracle, weave = both(ranking_, within)
        assert weave.count() == len(oracle)
        got = list(weave.plans())
        assert [p.signature() for p in got] == [p.signature() for p in oracle]
        assert [p.key for p in got] == [p.key for p in oracle]


# -- the split rule, held to a brute-force search ------------------------------------------

CANDIDATES = st.lists(
    st.builds(
        Candidate,
        source=st.just(""),
        index=st.just(0),
        left=st.integers(0, 6).map(float),
        per_unit=st.tuples(st.integers(0, 1), st.integers(1, 9).map(float)),
    ),
    max_size=4,
).map(lambda cs: [Candidate(f"s{k}", k, c.left, c.per_unit) for k, c in enumerate(cs)])


def cost(chunks, candidates) -> tuple[int, float]:
    price = {c.source: c.per_unit for c in candidates}
    return (
        sum(price[s][0] * units for s, units in chunks),
        sum(price[s][1] * units for s, units in chunks),
    )


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 15), CANDIDATES)
def test_the_split_is_the_cheapest_way_to_share_the_line_and_only_when_it_fits(
    quantity, candidates
):
    chunks = split(quantity, candidates)
    every = [
        taken
        for taken in product(*(range(int(c.left) + 1) for c in candidates))
        if sum(taken) == quantity
    ]
    if not every:
        assert chunks is None  # together they cannot take it: no split, no plan
        return
    assert chunks is not None
    assert sum(units for _, units in chunks) == quantity
    by_source = {c.source: c for c in candidates}
    assert all(0 < units <= by_source[s].left for s, units in chunks)
    assert len({s for s, _ in chunks}) == len(chunks)
    best = min(
        cost([(c.source, t) for c, t in zip(candidates, taken, strict=True)], candidates)
        for taken in every
    )
    ours = cost(chunks, candidates)
    assert ours[0] == best[0] and abs(ours[1] - best[1]) < 1e-9


def test_the_cheapest_source_takes_all_it_has_left_first():
    candidates = [
        Candidate("design:m@dear", 0, 50.0, (0, 3.0)),
        Candidate("design:m@cheap", 1, 30.0, (0, 2.5)),
        Candidate("design:m@unpriced", 2, 100.0, (1, 0.5)),  # an unknown price comes last
    ]
    assert split(70, candidates) == [("design:m@cheap", 30), ("design:m@dear", 40)]
    assert split(200, candidates) is None


def test_a_pinned_chunk_weaves_only_its_source():
    network = mask_world()
    index = LimitedIndex(network, {}, pinned={"mask": "design:mask-okh@bo-shop"})
    plans = list(Weave(network, [Demand("mask", 10)], ranking=PRICE, index=index).plans())
    assert {p.lines[0].source.facility.id for p in plans} == {"bo-shop"}


def test_two_designs_at_one_maker_share_its_week():
    candidates = [
        Candidate("design:plain@ana", 0, 30.0, (0, 2.0), "facility:ana:mask"),
        Candidate("design:filter@ana", 1, 30.0, (0, 2.2), "facility:ana:mask"),
        Candidate("design:plain@bo", 2, 50.0, (0, 3.0), "facility:bo:mask"),
    ]
    assert split(60, candidates) == [("design:plain@ana", 30), ("design:plain@bo", 30)]
    assert split(90, candidates) is None  # ana's 30 count once
