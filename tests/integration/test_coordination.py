"""What a buyer or a coordinator does to an order that cannot go on as it is — cancel it, hand
a stage to someone else, list orders by state, propose a substitute — through the service layer
and through the conversation, on both databases."""

from __future__ import annotations

import pytest
from chair_world import Clock, agreed_order, chair_services, done, owners, stages
from sqlalchemy import text
from sqlmodel import Session, select
from test_conversation import Chat
from test_conversation import agreed_order as chat_agreed_order

from bots.conversation import views
from core.service import lifecycle, records
from core.service.bus import Services
from core.service.commands import (
    Agree,
    AssertStage,
    CancelOrder,
    Disrupt,
    HandStage,
    PlaceOrder,
    ProposeSubstitution,
    Register,
)
from core.service.listings import order_list
from core.service.queries import history_at, order_state
from core.service.results import Refused
from core.store.tables import Contract, EventRow, Notification, OrderRow, StageRow

PARTIES = {"ana", "fern", "gus", "hal", "bob"}


@pytest.fixture
def services(engine) -> Services:
    return chair_services(engine, Clock())


def outcomes(result, who: str) -> list:
    return [m for m in result.messages if m.participant_id == who and m.payload.get("outcome")]


def told(result) -> dict[str, str]:
    return {m.participant_id: m.text for m in result.messages if not m.payload.get("outcome")}


def order_row(services: Services, order_id: int) -> OrderRow:
    return services.read(lambda session: session.get(OrderRow, order_id))


def contract_of(services: Services, order_id: int) -> Contract:
    return services.read(lambda session: records.latest_contract(session, order_id))


def counts(services: Services) -> dict[str, int]:
    with services.engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("event", "notification", "stage", "contract", "supply_order")
        }


def stuck_order(services: Services) -> int:
    """Dana's order of a chair when nobody sells chair backs: no plan can deliver it."""
    services.handle(Disrupt("rita", "gus-backs", "sold out for the season"))
    order = services.handle(PlaceOrder("dana", (("chair", 1),))).value
    assert order_row(services, order).status == "unplannable"
    return order


# -- cancel ------------------------------------------------------------------------------------


def test_the_buyer_cancels_and_every_party_is_released_and_told(services):
    order = agreed_order(services)
    ids = stages(services, order)
    for stage in (ids["leg", "confirm"], ids["leg", "ship"]):
        done(services, order, "fern", stage, f"m-{stage}")
    done(services, order, "ana", ids["leg", "receive"], "m-receive")  # Ana holds the legs

    result = services.handle(CancelOrder("dana", order, "the reading room closed"))

    assert len(outcomes(result, "dana")) == 1
    assert "Order 1 is cancelled" in outcomes(result, "dana")[0].text.replace(str(order), "1")
    messages = told(result)
    assert set(messages) == PARTIES  # every party of the plan, nobody twice, not the sender
    for said in messages.values():
        assert f"Order {order} is cancelled" in said and "the reading room closed" in said
    assert "Keep what you made or received for it (8 × Chair leg)" in messages["ana"]
    assert "until the buyer or a coordinator tells you where it goes" in messages["ana"]
    assert "released" in messages["fern"] and "Keep what" not in messages["fern"]
    assert "Ana's Woodshop keeps what they made" in outcomes(result, "dana")[0].text

    row, contract = order_row(services, order), contract_of(services, order)
    assert row.status == "cancelled" and "the reading room closed" in row.reason
    assert contract.status == "cancelled" and contract.ended_at is not None
    kinds = [e.kind for e in result.events]
    assert {"contract_state", "order_cancelled", "order_state"} <= set(kinds)
    cancelled = next(e for e in result.events if e.kind == "order_cancelled")
    assert cancelled.actor_id == "dana" and cancelled.data["holders"] == {"ana": ["8 × Chair leg"]}

    # the history rebuilt from the events alone says the same
    def both(session):
        return order_state(session, order), history_at(session, order, services.clock())

    live, rebuilt = services.read(both)
    assert (rebuilt.status, rebuilt.contract_status) == (live.status, live.contract_status)
    assert live.status == "cancelled" and live.contract_status == "cancelled"

    with pytest.raises(Refused, match="cancelled already"):
        services.handle(CancelOrder("dana", order))
    with pytest.raises(Refused, match="no agreed plan"):
        services.handle(AssertStage("gus", order, ids["back", "confirm"], "done"))


@pytest.mark.parametrize("who", ["ana", "carol"])  # a party who is not the buyer; a stranger
def test_only_the_buyer_or_a_coordinator_cancels_and_a_refusal_changes_nothing(services, who):
    order = agreed_order(services)
    before = counts(services)
    with pytest.raises(Refused) as refused:
        services.handle(CancelOrder(who, order, "I want out"))
    assert str(refused.value) == f"only the buyer of order {order} or a coordinator cancels it"
    after = counts(services)
    assert after == {**before, "event": before["event"] + 1}  # the refusal, recorded
    assert order_row(services, order).status == "in_progress"
    assert contract_of(services, order).status == "agreed"
    with Session(services.engine) as session:
        event = session.exec(select(EventRow).order_by(EventRow.id.desc())).first()
    assert (event.kind, event.actor_id, event.order_id) == ("refused", who, order)


def test_a_coordinator_cancels_and_the_buyer_and_every_party_hear_it(services):
    order = agreed_order(services)
    result = services.handle(CancelOrder("rita", order, "the supplier network changed"))
    assert len(outcomes(result, "rita")) == 1
    assert "the buyer is told" in outcomes(result, "rita")[0].text
    messages = told(result)
    assert set(messages) == PARTIES | {"dana"}
    assert "cancelled by Rita Osei, Baltimore Makers Network (coordinator)" in messages["dana"]
    assert "the supplier network changed" in messages["dana"]
    assert "nothing more is expected of you" in messages["gus"]
    assert order_row(services, order).status == "cancelled"


def test_a_coordinator_cancels_a_stuck_order_that_has_no_plan(services):
    order = stuck_order(services)
    result = services.handle(CancelOrder("rita", order))
    assert [m.participant_id for m in result.messages] == ["dana", "rita"]
    assert outcomes(result, "rita")[0].text == f"Order {order} is cancelled; the buyer is told."
    row = order_row(services, order)
    assert row.status == "cancelled" and row.reason.startswith("cancelled by Rita")
    with pytest.raises(Refused, match="cancelled already"):
        services.handle(CancelOrder("dana", order))


def test_a_completed_order_is_not_cancelled(services):
    order = agreed_order(services)
    for stage, owner in owners(services, order).items():
        done(services, order, owner, stage, f"m-{stage}")
    assert order_row(services, order).status == "completed"
    with pytest.raises(Refused, match="completed; it can no longer be cancelled"):
        services.handle(CancelOrder("rita", order))


# -- hand a stage ------------------------------------------------------------------------------


def stage_owner(services: Services, order: int, code: str) -> str:
    def read(session):
        contract = lifecycle.live_contract(session, order)
        return session.exec(
            select(StageRow).where(StageRow.contract_id == contract.id, StageRow.code == code)
        ).one()

    return services.read(read).owner_id


def test_a_coordinator_hands_a_stage_and_both_owners_are_told(services):
    order = agreed_order(services)
    foam = stages(services, order)["foam-block", "confirm"]  # Bob's
    result = services.handle(HandStage("rita", order, foam, "gus"))
    assert result.value == foam and stage_owner(services, order, foam) == "gus"
    handed = next(e for e in result.events if e.kind == "stage_handed")
    assert handed.data == {
        "contract": contract_of(services, order).id,
        "stage": foam,
        "from": "bob",
        "to": "gus",
    }
    messages = told(result)
    assert set(messages) == {"gus", "bob"}
    assert f"handed you {foam} confirm of 2 × Foam block" in messages["gus"]
    assert f"/done {order} {foam}" in messages["gus"] and "/agree" not in messages["gus"]
    gus = next(m for m in result.messages if m.participant_id == "gus")
    assert gus.payload["buttons"] == [["Done", f"/done {order} {foam}"]]
    assert "you are released from it" in messages["bob"]
    assert len(outcomes(result, "rita")) == 1
    # the new owner asserts it; the old one no longer can
    with pytest.raises(Refused, match="belongs to Gus"):
        services.handle(AssertStage("bob", order, foam, "done"))
    assert services.handle(AssertStage("gus", order, foam, "done")).value == "done"
    history = services.read(
        lambda session: session.exec(
            select(EventRow).where(EventRow.order_id == order, EventRow.kind == "stage_handed")
        ).all()
    )
    assert [(e.actor_id, e.data["to"]) for e in history] == [("rita", "gus")]


def test_a_stage_handed_to_someone_outside_the_plan_asks_them_to_agree(services):
    order = agreed_order(services)
    ship = stages(services, order)["seat", "ship"]  # Hal's
    result = services.handle(HandStage("rita", order, ship, "carol"))
    assert f"/agree {order} to take it on" in told(result)["carol"]
    carol = next(m for m in result.messages if m.participant_id == "carol")
    assert carol.payload["buttons"] == [["Agree", f"/agree {order}"]]
    assert "carol is asked to agree" in outcomes(result, "rita")[0].text.replace(
        "Carol Reyes Courier", "carol"
    )


def test_handing_is_refused_with_one_line_and_changes_nothing(services):
    order = agreed_order(services)
    ids = stages(services, order)
    done(services, order, "fern", ids["leg", "confirm"], "m1")
    before = counts(services)
    cases = [
        (HandStage("dana", order, "s4", "gus"), "only a coordinator"),  # the buyer
        (HandStage("carol", order, "s4", "gus"), "only a coordinator"),  # a stranger
        (HandStage("rita", order, "s99", "gus"), "no stage s99"),
        (HandStage("rita", order, "s4", "nobody"), "unknown participant 'nobody'"),
        (HandStage("rita", order, ids["leg", "confirm"], "bob"), "is done"),
        (HandStage("rita", order, ids["chair", "accept"], "ana"), "buyer's acceptance"),
        (HandStage("rita", order, ids["foam-block", "confirm"], "bob"), "already"),
    ]
    for command, words in cases:
        with pytest.raises(Refused, match=words) as refused:
            services.handle(command)
        assert "\n" not in str(refused.value)
    assert counts(services) == {**before, "event": before["event"] + len(cases)}
    assert stage_owner(services, order, "s4") == "bob"


# -- /orders -----------------------------------------------------------------------------------


def test_orders_by_state_for_a_coordinator_a_buyer_a_party_and_a_stranger(services):
    under_way = agreed_order(services)
    services.handle(Register("telegram", "7007", "buyer", "Zoe"))
    zoes = services.handle(PlaceOrder("zoe", (("leg", 4),))).value
    gone = services.handle(PlaceOrder("dana", (("leg", 8),))).value
    services.handle(CancelOrder("dana", gone, "ordered twice"))
    stuck = stuck_order(services)  # disrupts gus-backs: Dana's first order is blocked too

    def listed(who, state=None):
        return services.read(lambda session: order_list(services, session, who, state))

    every = listed("rita")
    assert every.everyone
    assert [o.order_id for o in every.orders] == [stuck, under_way, zoes, gone]
    assert [o.status.value for o in every.orders[:2]] == ["unplannable", "blocked"]
    shown = views.orders(every).text.splitlines()
    assert shown[0] == "Every order: 2 stuck, 1 waiting, 1 cancelled."
    assert shown[1].startswith(f"⚠ {stuck} · 1 × Chair for Dana Whitfield")
    assert shown[1].endswith("— no plan can deliver it with the network as it is")
    assert shown[2].startswith(f"⚠ {under_way} · 2 × Chair for Dana")
    assert "— blocked: " in shown[2]
    assert shown[3] == f"{zoes} · 4 × Chair leg for Zoe — waiting for the buyer to choose a plan"
    assert shown[4].endswith("— cancelled by Dana Whitfield (Hampden Reading Room): ordered twice")
    assert "/cancel" in shown[-1] and len(shown) <= 15

    dana = listed("dana")
    assert not dana.everyone and {o.order_id for o in dana.orders} == {stuck, under_way, gone}
    assert "for Dana" not in views.orders(dana).text  # her own orders
    assert [o.order_id for o in listed("ana").orders] == [under_way]  # a party of its plan
    assert [o.order_id for o in listed("zoe").orders] == [zoes]
    stranger = listed("carol")
    assert stranger.orders == []
    assert "part of no order" in views.orders(stranger).text

    assert [o.order_id for o in listed("rita", "stuck").orders] == [stuck, under_way]
    assert [o.order_id for o in listed("rita", "waiting").orders] == [zoes]
    assert [o.order_id for o in listed("dana", "Cancelled").orders] == [gone]
    assert [o.order_id for o in listed("rita", "open").orders] == [stuck, under_way, zoes]
    assert listed("rita", "under-way").orders == []
    assert "No orders (completed)" in views.orders(listed("rita", "completed")).text
    with pytest.raises(Refused, match="not a state of an order"):
        listed("rita", "soon")


def test_a_long_list_is_cut_short(services):
    for _ in range(16):
        services.handle(PlaceOrder("dana", (("leg", 4),)))
    shown = views.orders(services.read(lambda s: order_list(services, s, "rita"))).text
    lines = shown.splitlines()
    assert len(lines) <= 15 and "… and 4 more: /orders STATE narrows the list" in shown


# -- a substitute proposed with a reason -------------------------------------------------------


def test_a_party_proposes_a_substitute_with_a_reason_and_the_buyer_decides(services):
    order = agreed_order(services)
    result = services.handle(
        ProposeSubstitution("ana", order, "seat", "foam-seat", reason="softer and in stock")
    )
    buyer = next(m for m in result.messages if m.participant_id == "dana")
    assert "Ana's Woodshop proposes Foam seat" in buyer.text
    assert "softer and in stock" in buyer.text and f"/approve {order} {result.value}" in buyer.text
    assert len(outcomes(result, "ana")) == 1 and not outcomes(result, "dana")
    proposed = next(e for e in result.events if e.kind == "substitution_proposed")
    assert proposed.data["reason"] == "softer and in stock"
    with pytest.raises(Refused, match="not a party"):
        services.handle(ProposeSubstitution("carol", order, "seat", "foam-seat"))


# -- through the conversation ------------------------------------------------------------------


@pytest.fixture
def chat(services) -> Chat:
    return Chat(services)


def outcome_rows(chat: Chat, who: str) -> list[Notification]:
    return [n for n in chat.outbox(who) if n.payload.get("outcome")]


def test_cancel_alone_still_forgets_the_question_just_asked(chat):
    assert "What would you like" in chat.says("dana", "/order")
    assert "forgotten" in chat.says("dana", "/cancel")
    assert "nothing to cancel" in chat.says("dana", "/cancel")
    assert "understand commands" in chat.says("dana", "chair 1")  # the question is gone
    assert chat.submitted == []


def test_cancel_an_order_from_chat(chat):
    order = chat_agreed_order(chat)
    assert "Only the buyer" not in chat.says("dana", "/help cancel")
    refused = chat.says("ana", f"/cancel {order}")
    assert refused == (
        f"Sorry — only the buyer of order {order} or a coordinator cancels it. "
        "/orders lists the orders you are part of."
    )
    assert "I don't know order 999" in chat.says("dana", "/cancel 999")
    assert [c for c, _ in chat.submitted if c is CancelOrder] == []

    before = len(outcome_rows(chat, "dana"))
    assert f"Cancelling order {order}" in chat.says("dana", f"/cancel {order} plans changed")
    assert chat.submitted[-1] == (
        CancelOrder,
        {"actor": "dana", "order_id": order, "reason": "plans changed"},
    )
    mine = outcome_rows(chat, "dana")[before:]
    assert len(mine) == 1 and f"Order {order} is cancelled" in mine[0].text
    assert "plans changed" in chat.outbox("fern", "cancelled")[-1].text
    assert f"{order} · 1 × Chair — cancelled by Dana" in chat.says("dana", "/orders")
    assert "cancelled the order: plans changed" in chat.says("dana", f"/history {order}")
    submitted = len(chat.submitted)
    again = chat.says("rita", f"/cancel {order}")  # refused before anything is acknowledged
    assert again.startswith(f"Sorry — order {order} is cancelled already.")
    assert len(chat.submitted) == submitted


def test_orders_hand_and_substitute_from_chat(chat):
    order = chat_agreed_order(chat)
    listing = chat.says("rita", "/orders")
    assert listing.startswith("Every order: 1 under way.")
    assert "part of no order" in chat.says("carol", "/orders")
    assert "'soon' is not a state of an order" in chat.says("rita", "/orders soon")

    assert "/hand is for coordinators" in chat.says("dana", f"/hand {order} s4 gus")
    assert "Handing s4" in chat.says("rita", f"/hand {order} s4 gus")
    assert "handed you s4" in chat.outbox("gus", "handed")[-1].text
    assert "released from it" in chat.outbox("bob", "released")[-1].text
    handed = "handed s4 from Bob's Hardwoods to Gus Pappas Upholstery"  # names, not ids
    assert handed in chat.says("rita", f"/history {order}")
    assert "no stage s99" in chat.says("rita", f"/hand {order} s99 gus")  # at once

    said = chat.says("ana", f"/substitute {order} seat foam-seat softer and in stock")
    assert "Passing on your proposal of foam-seat instead of seat" in said
    proposal = chat.outbox("dana", "substitution")[-1]
    assert "softer and in stock" in proposal.text and "/approve" in proposal.text
    assert "you are not one of them" in chat.says("carol", f"/substitute {order} seat foam-seat")


def test_agreeing_to_a_handed_stage_is_possible(services):
    """A participant a stage is handed to who had no part in the plan agrees, then does it."""
    order = agreed_order(services)
    ship = stages(services, order)["seat", "ship"]
    services.handle(HandStage("rita", order, ship, "carol"))
    services.handle(Agree("carol", order))
    ids = stages(services, order)
    for stage in (ids["foam-block", "confirm"], ids["foam-block", "ship"]):
        done(services, order, "bob", stage, f"m-{stage}")
    for stage in (ids["seat-fabric", "confirm"], ids["seat-fabric", "ship"]):
        done(services, order, "bob", stage, f"m-{stage}")
    for item, kind in (("foam-block", "receive"), ("seat-fabric", "receive"), ("seat", "make")):
        done(services, order, "hal", ids[item, kind], f"m-{item}-{kind}")
    done(services, order, "hal", ids["seat", "inspect"], "m-inspect")
    assert services.handle(AssertStage("carol", order, ship, "done")).value == "done"
