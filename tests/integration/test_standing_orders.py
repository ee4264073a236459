"""Standing orders and use signals through the conversation, on both databases (the chair
network: Ana's shop makes 3 chairs a week and Eli's studio 2, so 5 a week at most; capacities
are units a week, core/weave/capacity.py)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from test_conversation import services as services  # noqa: F401 (a fixture)
from test_intents_scenario import IntentChat

from core.store.tables import EventRow, IntentRow, OrderRow


@pytest.fixture
def chat(services) -> IntentChat:  # noqa: F811
    return IntentChat(services)


def test_a_standing_order_is_planned_per_week_against_capacities(chat):
    assert "Working on it" in chat.says("dana", "/order chair 3/week")
    plans = chat.outbox("dana", "plans")[-1]
    assert "Prices are per week." in plans.text
    assert "Declared capacities make up to 5 Chair a week: enough." in plans.text
    with Session(chat.services.engine) as session:
        order = session.get(OrderRow, plans.order_id)
    assert order.per == "week"


def test_a_standing_order_beyond_the_capacities_says_how_short_they_are(chat):
    # Capacity is enforced: no plan makes 50 a week, and the buyer hears why.
    chat.says("dana", "/order chair 50 per week")
    short = chat.outbox("dana", "plans")[-1].text
    assert "Declared capacities make only 5 Chair a week of the 50 asked" in short


def test_used_pulls_a_replenishment_through_the_standing_order(chat, services):  # noqa: F811
    # Refused at once or by the worker, the hint is the declared command, worded in bots.
    refused = chat.says("dana", "/used chair 2") + " ".join(m.text for m in chat.outbox("dana"))
    assert "you have no standing order of Chair — /order chair N/week" in refused
    with Session(services.engine) as session:
        assert session.exec(select(OrderRow)).all() == []  # the refusal changed nothing

    chat.says("dana", "/order chair 3/week")  # within Ana's 3 a week: it has plans
    standing = chat.outbox("dana", "plans")[-1].order_id
    assert "Noting that you used 2 × chair" in chat.says("dana", "/used chair 2")
    with Session(services.engine) as session:
        again = session.exec(select(OrderRow).order_by(OrderRow.id.desc())).first()
        used = session.exec(select(EventRow).where(EventRow.kind == "used")).one()
        asked = session.exec(select(IntentRow).where(IntentRow.status == "open")).all()
    assert again.id != standing and again.provenance == {"used": 2, "standing": standing}
    assert used.order_id == standing and used.data == {"item": "chair", "quantity": 2}
    # The same best plan is chosen at once: its parties get their frames ...
    assert f"Order {again.id}: 2 × Chair" in chat.outbox("fern", "frame")[-1].text
    # ... and the demand travels upstream: every bought input is asked for until agreed.
    wanted = {r.resource_id for r in asked if r.provenance["dependent_demand_of"] == again.id}
    assert wanted == {"leg", "back", "foam-block", "seat-fabric"}  # the seat is made by Hal
