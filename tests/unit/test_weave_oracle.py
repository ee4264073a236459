"""The weave against the paper's literal enumeration, on random small networks: with places,
masses, vehicles, deliveries, pick-ups, lead times and make times, so that legs, arrivals and
deadline windows are woven too."""

from __future__ import annotations

import os
from dataclasses import replace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.network.model import (
    Delivery,
    Design,
    Facility,
    Item,
    Location,
    Network,
    Offer,
    Participant,
    Transport,
)
from core.risk.reliability import Reliability
from core.weave import RANKINGS, SOONEST, Demand, Weave
from core.weave.literal import literal_plans
from core.weave.ranking import leg_risk
from core.weave.timing import plan_arrival

PROCESSES = ("cut", "print", "sew")
CRITERION = "latex-free"
# SCIS_ORACLE_EXAMPLES=5000 for a long hunt; the default keeps the suite quick.
EXAMPLES = int(os.environ.get("SCIS_ORACLE_EXAMPLES", "400"))


# Ways goods move: a range (km; the places below are up to ~280 km apart), a price per trip and
# per km (either may be unstated), a speed (None: the default).
DELIVERIES = st.none() | st.builds(
    Delivery,
    range_km=st.sampled_from([None, 60.0, 200.0]),
    price=st.sampled_from([None, 0.0, 4.0]),
    price_per_km=st.sampled_from([None, 0.0, 0.5]),
    speed_kmh=st.sampled_from([None, 70.0]),
)
DAYS = st.none() | st.sampled_from([0.0, 0.5, 1.0, 2.5])


@st.composite
def networks(draw):
    n_items = draw(st.integers(1, 5))
    items = [
        Item(
            f"i{k}",
            f"Item {k}",
            properties=draw(_properties()),
            mass_kg=draw(st.none() | st.sampled_from([0.5, 4.0, 30.0])),
        )
        for k in range(n_items)
    ]
    item_ids = [i.id for i in items]
    places = st.builds(Location, st.floats(38.0, 40.0), st.floats(-78.0, -76.0))
    # Mostly located: a leg with an end nobody located is left to the parties (ARRANGED).
    places = st.one_of(st.none(), places, places, places)
    # Transport declared or not: a network that says nothing about it weaves no legs.
    moves = draw(st.booleans())
    deliveries = DELIVERIES if moves else st.none()
    participants = [
        Participant(
            f"p{k}",
            f"P {k}",
            location=draw(places),
            failure_probability=draw(st.none() | st.sampled_from([0.0, 0.01, 0.1, 0.3])),
            pickup=draw(deliveries),
        )
        for k in range(draw(st.integers(1, 3)))
    ]
    people = [p.id for p in participants]
    prices = st.none() | st.integers(0, 40).map(lambda x: x / 4)
    offers = [
        Offer(
            f"o{k}",
            draw(st.sampled_from(people)),
            draw(st.sampled_from(item_ids)),
            price=draw(prices),
            properties=draw(_properties()),
            failure_probability=draw(st.none() | st.sampled_from([0.02, 0.2])),
            lead_time_days=draw(DAYS),
            delivery=draw(deliveries),
        )
        for k in range(draw(st.integers(0, 6)))
    ]
    designs = []
    for k in range(draw(st.integers(0, 5))):
        inputs = draw(st.dictionaries(st.sampled_from(item_ids), st.integers(1, 3), max_size=3))
        designs.append(
            Design(
                f"d{k}",
                draw(st.sampled_from(item_ids)),
                inputs=tuple(inputs.items()),
                yield_=draw(st.integers(1, 3)),
                processes=frozenset(draw(st.sets(st.sampled_from(PROCESSES), max_size=2))),
                labor=draw(prices),
                properties=draw(_properties()),
                processes_known=draw(_mostly_stated()),
                make_days=draw(DAYS),
            )
        )
    facilities = [
        Facility(
            f"f{k}",
            draw(st.sampled_from(people)),
            processes=frozenset(draw(st.sets(st.sampled_from(PROCESSES), max_size=3))),
            location=draw(places),
            processes_known=draw(_mostly_stated()),
            delivery=draw(deliveries),
        )
        for k in range(draw(st.integers(0, 3)))
    ]
    vehicles = [
        Transport(
            f"t{k}",
            draw(st.sampled_from(people)),
            capacity_kg=draw(st.sampled_from([None, 10.0, 50.0])),
            price_per_km=draw(st.sampled_from([None, 0.25, 1.0])),
            range_km=draw(st.sampled_from([None, None, 100.0, 250.0])),
            base_price=draw(st.sampled_from([None, 0.0, 3.0])),
            speed_kmh=draw(st.sampled_from([None, 50.0])),
            failure_probability=draw(st.sampled_from([None, 0.05])),
        )
        for k in range(draw(st.sampled_from([0, 1, 1, 2])) if moves else 0)
    ]
    network = Network.of(participants, items, designs, facilities, offers, vehicles)
    return replace(network, unknown_processes_match_any=draw(st.booleans()))


def _mostly_stated():
    """Whether a record says which processes it needs or runs: mostly it does."""
    return st.sampled_from([True, True, True, False])


def _properties():
    return st.sampled_from([{}, {CRITERION: True}, {CRITERION: False}])


@st.composite
def demand_lists(draw, items: list[str], most: int) -> list[Demand]:
    """One or two demands, each for one of `items`, of 1 to `most` units."""
    return [
        Demand(draw(st.sampled_from(items)), draw(st.integers(1, most)))
        for _ in range(draw(st.integers(1, 2)))
    ]


@st.composite
def cases(draw, learned: bool = False):
    """A network, an order and how to rank it; `learned`: sometimes with risks learned from a
    history, as orders are woven in chat (else the figures the network declares)."""
    network = draw(networks())
    demands = draw(demand_lists(list(network.items), 7))
    criteria = draw(st.sampled_from([frozenset(), frozenset({CRITERION})]))
    ranking = RANKINGS[draw(st.sampled_from(sorted(RANKINGS)))]
    if learned and draw(st.booleans()):
        ranking = ranking.with_reliability(Reliability(network, draw(histories(network))))
    deliver_to = draw(st.none() | st.just(Location(39.29, -76.61)))
    return network, demands, criteria, ranking, deliver_to


def histories(network):
    """(failed, total) stages of some kinds for some of the network's participants."""
    kinds = ["make", "ship", "confirm", "inspect", "pickup", "deliver", "receive"]
    return st.dictionaries(
        st.tuples(st.sampled_from(sorted(network.participants)), st.sampled_from(kinds)),
        st.integers(0, 5).flatmap(lambda failed: st.tuples(st.just(failed), st.integers(5, 12))),
        max_size=6,
    )


@st.composite
def timed_cases(draw):
    """A case with who buys (their pick-up serves the last leg) and where in the spread of its
    plans' arrivals a deadline window falls (0: the earliest, 1: the latest)."""
    network, demands, criteria, ranking, deliver_to = draw(cases())
    buyer = draw(st.none() | st.sampled_from(sorted(network.participants)))
    window = draw(st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]))
    return network, demands, criteria, ranking, deliver_to, buyer, window


def _manageable(network, demands, buyer=None, deliver_to=None) -> int:
    """An upper bound of the plans the oracle will build (criteria and windows only remove
    some; where the order goes changes the last leg's options)."""
    total = 1
    for d in demands:
        total *= max(1, Weave(network, [d], buyer=buyer, deliver_to=deliver_to).count_unwindowed())
    return total


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(learned=True))
def test_count_and_best_plans_match_the_literal_enumeration(case):
    network, demands, criteria, ranking, deliver_to = case
    assume(_manageable(network, demands, None, deliver_to) <= 3000)
    oracle = literal_plans(network, demands, criteria, ranking, deliver_to)
    weave = Weave(network, demands, criteria, ranking, deliver_to)

    assert weave.count() == len(oracle)
    k = min(len(oracle), 30)
    got = weave.best(k + 1)
    assert [p.signature() for p in got[:k]] == [p.signature() for p in oracle[:k]]
    assert [p.score for p in got[:k]] == [p.score for p in oracle[:k]]
    assert [p.key for p in got[:k]] == [p.key for p in oracle[:k]]
    if len(oracle) <= k:
        assert len(got) == len(oracle)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_every_plan_is_distinct_and_scores_never_improve(case):
    network, demands, criteria, ranking, deliver_to = case
    assume(_manageable(network, demands, None, deliver_to) <= 500)
    weave = Weave(network, demands, criteria, ranking, deliver_to)
    plans = list(weave.plans())
    assert len(plans) == weave.count()
    assert len({p.signature() for p in plans}) == len(plans)
    assert all(a.key <= b.key for a, b in zip(plans, plans[1:], strict=False))
    assert [p.rank for p in plans] == list(range(1, len(plans) + 1))
    for rank in (1, len(plans) // 2 + 1, len(plans)):  # one plan by its rank, as /plans pages
        if plans:
            assert (
                Weave(network, demands, criteria, ranking, deliver_to).plan(rank) == plans[rank - 1]
            )


@settings(max_examples=200, deadline=None)
@given(cases())
def test_plans_that_rank_the_same_come_likeliest_first_then_nearest(case):
    """Equal by the ranking (the same price), the plan likelier to succeed comes first; equally
    likely, the one whose goods travel less; against every plan the oracle builds."""
    network, demands, criteria, ranking, deliver_to = case
    assume(_manageable(network, demands, None, deliver_to) <= 500)
    plans = Weave(network, demands, criteria, ranking, deliver_to).best(500)
    assert [p.signature() for p in plans] == [
        p.signature() for p in literal_plans(network, demands, criteria, ranking, deliver_to)
    ]
    # SOONEST's key is (arrival, *the PRICE key): the arrival decides first.
    decided = 3 if ranking.soonest else 2
    for first, then in zip(plans, plans[1:], strict=False):
        if first.key[:decided] != then.key[:decided]:
            continue  # the ranking itself decides
        assert _risk(network, ranking, first) <= _risk(network, ranking, then) + 1e-5
        if first.key[: decided + 1] == then.key[: decided + 1]:
            (unplaced, km), (unplaced_then, km_then) = _distance(first), _distance(then)
            assert unplaced < unplaced_then or (unplaced == unplaced_then and km <= km_then + 1e-5)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timed_cases())
def test_legs_windows_and_soonest_match_the_literal_enumeration(case):
    """Every plan, in order, with its legs: unwindowed, windowed (counted exactly), and ranked
    soonest first; every windowed plan arrives within the window."""
    network, demands, criteria, ranking, deliver_to, buyer, spread = case
    assume(_manageable(network, demands, buyer, deliver_to) <= 1500)

    def both(ranking, within):
        oracle = literal_plans(network, demands, criteria, ranking, deliver_to, buyer, within)
        weave = Weave(network, demands, criteria, ranking, deliver_to, None, buyer, within)
        return oracle, weave

    every = both(ranking, None)[0]
    arrivals = sorted(plan_arrival(p).minutes for p in every) or [0]
    # At 0, a minute before the earliest arrival: no plan fits (unless that is minute 0).
    window = max(0, arrivals[round(spread * (len(arrivals) - 1))] - (spread == 0.0))

    for ranking_, within in (
        (ranking, None),
        (ranking, window),
        (SOONEST, None),
        (SOONEST, window),
    ):
        oracle, weave = both(ranking_, within)
        assert weave.count() == len(oracle)
        got = list(weave.plans())
        assert [p.signature() for p in got] == [p.signature() for p in oracle]
        assert [p.key for p in got] == [p.key for p in oracle]
        assert [p.score for p in got] == [p.score for p in oracle]
        assert [p.rank for p in got] == list(range(1, len(got) + 1))
        assert [tuple(p.nodes()) for p in got] == [tuple(p.nodes()) for p in oracle]
        if within is not None:
            assert all(plan_arrival(p).minutes <= within for p in got)
            assert weave.count_unwindowed() == len(every)


def _risk(network, ranking, plan) -> float:
    """−log of the probability of success, straight from the nodes' sources and vehicles."""
    return sum(
        ranking.source_risk(network, node.source) + leg_risk(network, node.leg)
        for node in plan.nodes()
    )


def _distance(plan) -> tuple[int, float]:
    """(how many legs have no known distance, the km of the others)."""
    legs = [node.distance_km for node in plan.nodes()]
    return sum(km is None for km in legs), sum(km for km in legs if km is not None)
