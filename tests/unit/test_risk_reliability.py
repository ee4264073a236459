"""Reliability: declared failure probabilities, learned from history, and the risk ranking."""

from __future__ import annotations

from dataclasses import replace
from math import log, prod

import pytest
from chair_files import CHAIR, SEAT_MAKER, chair_network
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_weave_oracle import _manageable, demand_lists, networks

from core.network.model import DEFAULT_FAILURE_PROBABILITY, Network, Participant
from core.risk.reliability import KIND_PRIORS, Reliability, smoothed
from core.weave import RISK, Bought, Demand, Weave
from core.weave.legs import DELIVERY
from core.weave.literal import literal_plans

KINDS = ("confirm", "ship", "receive", "make", "inspect", "accept")


@pytest.fixture(scope="module")
def chair() -> Network:
    return chair_network(CHAIR, SEAT_MAKER)


def chair_plans(network: Network, ranking) -> list:
    """The best 100 plans for Dana's chair, delivered to her reading room."""
    dana = network.participants["dana"].location
    return Weave(
        network, [Demand("chair", 1)], ranking=ranking, buyer="dana", deliver_to=dana
    ).best(100)


def sources_of(plan) -> set[str]:
    """ "Bought:OFFER", "Made:DESIGN" and "at:FACILITY" for every node of the plan."""
    named = set()
    for node in plan.nodes():
        if isinstance(node.source, Bought):
            named.add(f"Bought:{node.source.offer.id}")
        else:
            named |= {f"Made:{node.source.design.id}", f"at:{node.source.facility.id}"}
    return named


def delivered(plan) -> bool:
    """Every good moved by its sender's own delivery, or used where it is made (no leg)."""
    return all(node.leg is None or node.leg.kind == DELIVERY for node in plan.nodes())


def the_plan(plans, *wanted: str):
    """The one plan whose sources include every `wanted` ("Bought:gus-seats", "at:ana-shop")
    and whose every leg is its sender's delivery (the others take carol's van somewhere)."""
    found = [p for p in plans if set(wanted) <= sources_of(p) and delivered(p)]
    assert len(found) == 1, (wanted, len(found))
    return found[0]


# -- the smoothing rule --------------------------------------------------------------------------


@pytest.mark.parametrize(("failed", "total"), [(0, 0), (0, 1), (1, 1), (3, 10), (7, 7), (0, 50)])
def test_a_prior_of_one_half_is_laplaces_rule_of_succession(failed, total):
    network = Network.of([Participant("pat", "Pat", failure_probability=0.5)])
    reliability = Reliability(network, {("pat", "ship"): (failed, total)})
    assert reliability.p("pat", "ship") == pytest.approx((failed + 1) / (total + 2))
    assert smoothed(failed, total, 0.5) == pytest.approx((failed + 1) / (total + 2))


def test_the_prior_weighs_as_two_stages_and_history_takes_over():
    network = Network.of([Participant("pat", "Pat", failure_probability=0.1)])
    history = {("pat", "ship"): (2, 8), ("pat", "make"): (300, 1000)}
    reliability = Reliability(network, history)
    assert reliability.p("pat", "ship") == pytest.approx((2 + 2 * 0.1) / (8 + 2))
    assert reliability.p("pat", "make") == pytest.approx(300.2 / 1002)
    # Another kind, another participant, nobody: nothing observed, the prior stands — what Pat
    # declared speaks for making and shipping, not for confirming, which carries almost none.
    assert reliability.p("pat", "confirm") == pytest.approx(0.005)
    assert reliability.p("quinn", "make") == DEFAULT_FAILURE_PROBABILITY
    assert reliability.p("quinn", "ship") == KIND_PRIORS["ship"]
    assert reliability.p(None, "ship", prior=0.3) == pytest.approx(0.3)


@pytest.mark.parametrize("kind", ["confirm", "receive", "accept", "inspect"])
def test_handing_over_and_accepting_carry_almost_no_risk_whatever_is_declared(kind):
    network = Network.of([Participant("pat", "Pat", failure_probability=0.4)])
    reliability = Reliability(network)
    assert reliability.p("pat", kind) <= 0.01 < reliability.p("pat", "make") == 0.4
    # History still teaches: a receiver who lost half of what was handed over is a risk.
    assert Reliability(network, {("pat", kind): (5, 10)}).p("pat", kind) > 0.4


@pytest.mark.parametrize(("failed", "total"), [(-1, 3), (4, 3)])
def test_impossible_counts_are_refused(failed, total):
    with pytest.raises(ValueError):
        smoothed(failed, total, 0.1)


# -- a plan's failure probability on the chair network ------------------------------------------

# chair-okh at ana-shop, legs turned at eli-studio from bob's maple, gus's seat and back, for Dana,
# every leg its sender's delivery (ship → receive; carol's van would be pickup → deliver → receive).
# Eli declares 0.1; nobody else declares anything. Its 18 stages by owner, making and shipping
# at the declared figure or the kind's prior (make 0.05, ship 0.03), inspecting at 0.01, the
# rest (confirm, receive, accept) at 0.005:
#   bob   confirm, ship (maple)                                       0.005, 0.03
#   eli   receive (maple), make, inspect, ship (legs)                 0.005, 0.1, 0.01, 0.1
#   gus   confirm, ship (seat); confirm, ship (back)                  2 × (0.005, 0.03)
#   ana   receive (legs, seat, back), make, inspect, ship (chair)     3 × 0.005, 0.05, 0.01, 0.03
#   dana  receive, accept (chair)                                     2 × 0.005
TURNED = ("at:ana-shop", "Made:leg-turned", "Bought:gus-seats")
CONFIRM, SHIP, INSPECT = 0.005, KIND_PRIORS["ship"], KIND_PRIORS["inspect"]


def test_a_chair_plans_failure_with_the_declared_priors(chair):
    plan = the_plan(chair_plans(chair, RISK), *TURNED)
    risk = Reliability(chair).plan_risk(plan, buyer="dana")
    assert len(risk.stages) == 18
    assert risk.failure == pytest.approx(
        1 - 0.9**2 * 0.95 * (1 - SHIP) ** 4 * (1 - INSPECT) ** 2 * (1 - CONFIRM) ** 9
    )
    riskiest = risk.stages[:3]
    assert [(r.stage.owner, r.stage.kind) for r in riskiest] == [
        ("eli", "make"),
        ("eli", "ship"),
        ("ana", "make"),
    ]
    assert [r.failure for r in riskiest] == [pytest.approx(0.1), pytest.approx(0.1), 0.05]
    assert all(r.failure == pytest.approx(CONFIRM) for r in risk.stages[-9:])


def test_a_history_of_failed_shipments_makes_gus_the_risk_of_the_plan(chair):
    plan = the_plan(chair_plans(chair, RISK), *TURNED)
    # Gus failed 3 of his last 4 shipments, and confirmed 10 orders without fail.
    history = {("gus", "ship"): (3, 4), ("gus", "confirm"): (0, 10)}
    risk = Reliability(chair, history).plan_risk(plan, buyer="dana")
    ship, confirm = (3 + 2 * SHIP) / (4 + 2), (0 + 2 * CONFIRM) / (10 + 2)
    assert risk.failure == pytest.approx(
        1
        - 0.9**2
        * 0.95
        * (1 - SHIP) ** 2
        * (1 - INSPECT) ** 2
        * (1 - CONFIRM) ** 7
        * (1 - ship) ** 2
        * (1 - confirm) ** 2
    )
    first, second = risk.stages[:2]
    assert (first.stage.owner, first.stage.kind, first.stage.item) == ("gus", "ship", "seat")
    assert (second.stage.owner, second.stage.kind, second.stage.item) == ("gus", "ship", "back")
    assert (first.failure, first.prior, first.failed, first.total) == (
        pytest.approx(ship),
        SHIP,
        3,
        4,
    )
    assert risk.stages[-1].failure == pytest.approx(confirm)


def test_a_declared_offer_outweighs_its_suppliers_word(chair):
    backs = chair.offers["gus-backs"]
    network = chair.with_records(offers=[replace(backs, failure_probability=0.3)])
    plan = the_plan(chair_plans(network, RISK), *TURNED)
    risk = Reliability(network, {("gus", "ship"): (1, 1)}).plan_risk(plan, buyer="dana")
    by_item = {(r.stage.item, r.stage.kind): r for r in risk.stages if r.stage.owner == "gus"}
    assert by_item[("back", "confirm")].failure == pytest.approx(CONFIRM)
    assert by_item[("back", "ship")].failure == pytest.approx((1 + 0.6) / 3)
    assert by_item[("seat", "ship")].failure == pytest.approx((1 + 2 * SHIP) / 3)


def test_a_sub_tree_is_a_plan_delivered_to_its_maker(chair):
    plan = the_plan(chair_plans(chair, RISK), *TURNED)
    legs = next(n for n in plan.nodes() if n.item == "leg")
    risk = Reliability(chair).plan_risk(legs, buyer="ana")
    # bob confirm, ship; eli receive, make, inspect, ship; ana receive, accept.
    assert [r.stage.kind for r in risk.stages[:4]] == ["make", "ship", "ship", "inspect"]
    assert risk.failure == pytest.approx(
        1 - 0.9**2 * (1 - SHIP) * (1 - INSPECT) * (1 - CONFIRM) ** 4
    )


# -- the risk ranking ---------------------------------------------------------------------------


def buyer_part(reliability: Reliability, buyer: str | None, lines: int) -> float:
    """−log(1 − p) of the buyer's accept of every line: the same for every plan. (The buyer's
    receive is not: whether and how the root's goods travel depends on its leg.)"""
    return -lines * log(1 - reliability.p(buyer, "accept"))


def test_the_learned_risk_score_is_minus_log_of_the_plans_success(chair):
    reliability = Reliability(chair, {("gus", "ship"): (3, 4), ("ana", "receive"): (1, 5)})
    plans = chair_plans(chair, RISK.with_reliability(reliability))
    # 2 facilities × 3 legs × 4 seats (Gus's, Fern's, Hal's, Ivy's) × 1 back by sources, each
    # way to move them counted — a seat reaches a shop 1 + 1 + 2·2·2 + 2·2·2 = 18 ways: chair →
    # dana 2 ways · (7·18·1) + 2 ways · (5·18·1) = 432; `chair_plans` reads the best 100.
    assert len(plans) == 100
    for plan in plans:
        success = 1 - reliability.plan_failure(plan, buyer="dana")
        assert plan.score[0] == 0
        assert plan.score[1] + buyer_part(reliability, "dana", 1) == pytest.approx(-log(success))


def test_history_reorders_the_plans_the_risk_ranking_prefers(chair):
    trusting = chair_plans(chair, RISK.with_reliability(Reliability(chair)))
    # Fewest stages, all at 0.05: three offers assembled at Ana's; Bob's legs come first by the
    # order they are declared in, tied with Fern's.
    assert {"at:ana-shop", "Bought:bob-legs"} <= sources_of(trusting[0])
    assert trusting[0].score == trusting[3].score
    # Carol's van hands the goods over once more than a sender's delivery: the four come first.
    assert all(delivered(p) for p in trusting[:4])
    assert trusting[3].score < trusting[4].score
    # Bob failed both shipments he was given: his legs now make every plan worse.
    burned = Reliability(chair, {("bob", "ship"): (2, 2)})
    wary = chair_plans(chair, RISK.with_reliability(burned))
    assert {"at:ana-shop", "Bought:fern-legs"} <= sources_of(wary[0])
    bob_first = next(i for i, p in enumerate(wary) if "Bought:bob-legs" in sources_of(p))
    assert bob_first > 0
    assert burned.plan_failure(wary[0], "dana") < burned.plan_failure(wary[bob_first], "dana")
    # Without a reliability the ranking reads the declared figures, as before: Bob's history
    # does not move it.
    declared = chair_plans(chair, RISK)
    assert declared[0].signature() == chair_plans(chair, RISK.with_reliability(None))[0].signature()
    assert "Bought:bob-legs" in sources_of(declared[0])


def test_rankings_with_different_reliabilities_differ():
    network = Network.of()
    a, b = Reliability(network), Reliability(network)
    assert RISK.with_reliability(a) != RISK.with_reliability(b)
    assert RISK.with_reliability(a) == RISK.with_reliability(a)
    assert hash(RISK.with_reliability(a)) == hash(RISK.with_reliability(a))
    assert RISK.with_reliability(None) == RISK


# -- against the literal enumeration --------------------------------------------------------------


@st.composite
def learned_cases(draw):
    network = draw(networks())
    demands = draw(demand_lists(list(network.items), 5))
    keys = st.tuples(st.sampled_from(list(network.participants)), st.sampled_from(KINDS))
    counts = st.tuples(st.integers(0, 6), st.integers(0, 6)).map(sorted).map(tuple)
    history = draw(st.dictionaries(keys, counts, max_size=6))
    return network, demands, Reliability(network, history)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(learned_cases())
def test_the_learned_risk_ranking_matches_the_literal_enumeration(case):
    network, demands, reliability = case
    assume(_manageable(network, demands) <= 300)
    ranking = RISK.with_reliability(reliability)
    oracle = literal_plans(network, demands, ranking=ranking)
    got = Weave(network, demands, ranking=ranking).best(len(oracle) + 1)
    assert [p.signature() for p in got] == [p.signature() for p in oracle]
    assert [p.score for p in got] == [p.score for p in oracle]
    for plan in got[:10]:
        risk = reliability.plan_risk(plan)
        expected = risk.risk - buyer_part(reliability, None, len(demands))
        assert plan.score[1] == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert risk.failure == pytest.approx(1 - prod(1 - r.failure for r in risk.stages))
