"""Issue 6 in chat, on both databases: the plans and frames show each plan's chance of failing
and how local it is, `/risk ORDER` gives the figures and a picture to the order's parties only,
and failures people assert make the same plan riskier for the next buyer.

The chair network declares no failure probability but Eli's (0.1), so the stages of the price-
best chair (Ana's shop; Fern's legs; Hal's seat of Bob's foam and fabric; Gus's back: 21 stages,
none of them Eli's) have their kind's prior: Ana's and Hal's making 0.05, their inspecting 0.01,
six shipments 0.03, and eleven confirmations, receipts and the accept 0.005 — it fails with
probability 1 − 0.95² · 0.99² · 0.97⁶ · 0.995¹¹ ≈ 30 %.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from test_conversation import PARTIES, Chat, agreed_order
from test_conversation import services as services  # noqa: F401 (a fixture)

from core.service.commands import AssertStage
from core.service.risk import failure_history

PLAN_1 = 1 - 0.95**2 * 0.99**2 * 0.97**6 * 0.995**11


@pytest.fixture
def chat(services) -> Chat:  # noqa: F811
    return Chat(services)


def test_plans_frames_and_risk_show_the_chance_of_failing(chat):
    chat.says("dana", "/order chair 1")
    plans = chat.outbox("dana", "plans")[-1]
    order = plans.order_id
    best = plans.payload["plans"][0]["outlook"]
    assert best["failure"] == pytest.approx(PLAN_1)
    assert best["local_mass"] == 1.0  # all of it within 50 km of Dana, in Baltimore
    assert "\n1. " in plans.text and "30 % risk, riskiest: " in plans.text
    assert "30 % risk" in chat.says("dana", f"/plans {order}")

    before = chat.send("dana", f"/risk {order}")
    assert len(before) == 1
    figures = before[0].text
    assert f"Order {order}: plan 1 has a 30 % chance something goes wrong in its 21 stages." in (
        figures
    )
    # Every plan of a chair needs Gus's backs: nobody else makes a back.
    assert (
        "Every plan needs (a single point of failure): Chair back from Gus Pappas Upholstery "
        "(gus-backs); Gus Pappas Upholstery." in figures
    )
    # Two shops assemble chairs, and nothing else joins the routes to a chair: said so that
    # "2 routes" cannot read as "no weak spot" — nor as "either shop failing cuts them all".
    routes = re.search(
        r"(\d+) separate supply routes to Chair; losing (.+) together would cut every one", figures
    )
    assert routes[1] == "2" and set(routes[2].split(" and ")) == {
        "Ana's Woodshop, Remington",
        "Station North Turning Studio",
    }
    assert "Local: 100 % of the weight made within 50 km" in figures
    picture = before[0].picture
    assert picture is not None and picture.png.startswith(b"\x89PNG")

    chat.says("dana", f"/choose {order} 1")
    frame = chat.outbox("fern", "frame")[-1].text
    assert "Outlook: 30 % risk (riskiest: " in frame
    assert " · 100 % of the weight made within 50 km." in frame
    for party in PARTIES:
        chat.says(party, f"/agree {order}")
    assert "the 21 stages left" in chat.says("fern", f"/risk {order}")
    chat.says("fern", f"/done {order} s1")
    assert "the 20 stages left" in chat.says("ana", f"/risk {order}")


def test_only_the_parties_see_the_risk_of_an_order(chat, services):  # noqa: F811
    order = agreed_order(chat)
    with services.engine.connect() as connection:
        before = connection.execute(text("SELECT count(*) FROM event")).scalar_one()
    refusal = chat.send("carol", f"/risk {order}")  # a transporter, not in this plan
    assert refusal[0].text.startswith(f"Sorry — order {order} is only shown to its parties")
    assert refusal[0].picture is None
    assert "I don't know order 999" in chat.says("dana", "/risk 999")
    assert "Usage: /risk ORDER" in chat.says("dana", "/risk soon")
    with services.engine.connect() as connection:
        after = connection.execute(text("SELECT count(*) FROM event")).scalar_one()
    assert after == before + 1  # the refusal, recorded; nothing else


def test_failures_people_assert_make_the_next_plan_riskier(chat, services):  # noqa: F811
    order = agreed_order(chat)
    # Fern confirms her legs, then cannot ship them.
    services.handle(AssertStage("fern", order, "s1", "done"))
    services.handle(AssertStage("fern", order, "s2", "failed", "van broke down"))
    assert services.read(failure_history)[("fern", "confirm")] == (0, 1)
    assert services.read(failure_history)[("fern", "ship")] == (1, 1)

    chat.says("dana", "/order chair 1")
    again = chat.outbox("dana", "plans")[-1].payload["plans"][0]
    assert "fern-legs" in again["sources"]  # the same plan 1
    # Smoothed with two pseudo-stages of the kind's prior: (0 + 2 · 0.005)/3, (1 + 2 · 0.03)/3.
    confirm, ship = 0.01 / 3, 1.06 / 3
    expected = 1 - 0.95**2 * 0.99**2 * 0.97**5 * 0.995**10 * (1 - confirm) * (1 - ship)
    assert again["outlook"]["failure"] == pytest.approx(expected)


def test_a_disruption_counts_against_whoever_said_it_of_their_own_not_those_it_stopped(
    chat,
    services,  # noqa: F811
):
    """Ana's shop floods: its making fails, and so do the stages moving what it made and the
    receipts of those who would have had it. Ana said so of her own shop: her failures count;
    those who would have carried or received its goods failed nothing, and their learned risk
    stays as it was (else one flood would make every later plan through them look far riskier)."""
    order = agreed_order(chat)
    before = services.read(failure_history)
    answer = chat.says("ana", "/disrupt ana-shop flooded until Monday")
    assert "out of service" in answer
    failed = services.read(
        lambda session: session.exec(
            text(
                "SELECT s.owner_id, s.kind FROM assertion a JOIN stage s ON s.id = a.stage_id "
                "JOIN contract c ON c.id = s.contract_id "
                "WHERE a.status = 'failed' AND c.order_id = :order"
            ),
            params={"order": order},
        ).all()
    )
    owners = {owner for owner, _ in failed}
    assert "ana" in owners and owners - {"ana"}  # the flood failed others' stages too
    after = services.read(failure_history)
    for (owner, kind), (failures, _) in after.items():
        if owner != "ana":
            assert failures == before.get((owner, kind), (0, 0))[0], (owner, kind)
    assert after[("ana", "make")][0] == 1
