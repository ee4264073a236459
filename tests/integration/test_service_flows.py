"""The other paths through an order's life, each through the service layer on both databases."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from chair_world import PARTIES, agreed_order, chair_services
from sqlalchemy import text

from core.service import lifecycle, records
from core.service.bus import Services
from core.service.commands import (
    Agree,
    AssertStage,
    ChoosePlan,
    CreateInvite,
    Decline,
    Disrupt,
    Join,
    PlaceOrder,
    ProposeSubstitution,
    QuotePrice,
    ReadOrder,
    Register,
    Restore,
    Reweave,
    Watch,
)
from core.service.listings import stage_list
from core.service.queries import (
    assess,
    may_read,
    order_state,
    stage_picture,
    timeline,
)
from core.service.results import Origin, Refused


@pytest.fixture
def services(engine) -> Services:
    return chair_services(engine)


def stage_of(services, order, item, kind) -> str:
    def read(session):
        contract = lifecycle.live_contract(session, order)
        return next(
            s.id
            for s in records.stage_graph(session, contract.id)
            if s.item == item and s.kind == kind
        )

    return services.read(read)


def test_a_decline_replans_without_that_party_and_releases_the_others(services):
    order = services.handle(PlaceOrder("dana", (("chair", 1),))).value
    services.handle(ChoosePlan("dana", order, 1))
    declined = services.handle(Decline("fern", order, "out of maple until spring"))
    assert declined.value > 0
    released = {m.participant_id for m in declined.messages if m.kind == "released"}
    assert released == {"ana", "gus", "hal", "bob"}
    buyer = next(m for m in declined.messages if m.participant_id == "dana")
    assert "out of maple until spring" in buyer.text and f"/choose {order}" in buyer.text
    offered = next(e for e in declined.events if e.kind == "rewoven").data["plans"]
    suppliers = {
        node["source"].get("supplier")
        for plan in offered
        for line in plan["tree"]
        for node in _walk(line)
    }
    assert "fern" not in suppliers
    services.handle(ChoosePlan("dana", order, 1))  # a new plan can be chosen
    assert services.read(lambda s: order_state(s, order)).contract_status == "potential"


def test_a_quote_fills_the_equation_and_every_party_hears_what_changed(services):
    order = services.handle(PlaceOrder("dana", (("chair", 1),))).value
    services.handle(ChoosePlan("dana", order, 1))
    quoted = services.handle(QuotePrice("gus", order, "B", 9.0))
    assert quoted.value == 9.0
    told = {m.participant_id: m for m in quoted.messages}
    assert set(told) == {"dana", *PARTIES} and len(quoted.messages) == len(told)
    assert "Gus Pappas Upholstery set B (" in told["ana"].text and "to 9.00" in told["ana"].text
    assert "the price is now" in told["ana"].text and len(told["ana"].text) < 200
    assert told["gus"].payload["outcome"] and told["gus"].text.startswith("Recorded: B (")


def test_out_of_order_assertions_are_kept_and_flagged(services):
    order = agreed_order(services, chairs=1)
    ship = stage_of(services, order, "leg", "ship")
    result = services.handle(AssertStage("fern", order, ship, "done", "", Origin("matrix", "$e1")))
    assert result.value == "done"
    assert "out of order" in result.messages[0].text
    with services.engine.connect() as connection:
        flagged = connection.execute(text("SELECT out_of_order FROM assertion")).scalar_one()
    assert flagged in (True, 1)


def test_a_failed_stage_is_the_root_cause_and_its_subtree_is_replanned(services):
    order = agreed_order(services, chairs=1)
    make = stage_of(services, order, "seat", "make")
    failed = services.handle(
        AssertStage("hal", order, make, "failed", "sewing machine broke", Origin("telegram", "f1"))
    )
    analysis = next(e for e in failed.events if e.kind == "error_analysis")
    assert analysis.data["root_causes"] == [make]
    replanned = next(e for e in failed.events if e.kind == "replanned")
    assert "hal" in replanned.data["released"]
    seat = replanned.data["tree"][0]["inputs"][1]
    assert seat["source"].get("facility") != "hal-shop"


def test_progress_and_the_picture_are_for_parties_only_and_refusals_are_recorded(services):
    order = agreed_order(services, chairs=1)
    fern_confirm = stage_of(services, order, "leg", "confirm")
    services.handle(AssertStage("fern", order, fern_confirm, "done", "", Origin("telegram", "p1")))
    progress = as_party(
        services, "ana", order, "progress", lambda s: stage_list(services, s, order)
    )
    assert progress.done == 1 and progress.total == 21
    picture = as_party(
        services, "dana", order, "stages", lambda s: stage_picture(s, services, order)
    )
    assert picture.startswith(b"\x89PNG")
    history = as_party(services, "rita", order, "history", lambda s: timeline(s, order))
    kinds = [e.kind for e in history if e.kind not in ("order_state", "order_woven")]
    assert kinds[:2] == ["order_placed", "plan_chosen"]
    # Plans × the ways of moving each part (examples/chair.yaml's header): the chair at
    # ana-shop 2 legs to Dana × 7 ways of legs × 18 of seats (fern 1 + gus 1 + Hal's 2·2·2 +
    # Ivy's 2·2·2: their seats and Bob's foam and fabric delivered or by Carol's van) × 1 back
    # = 252, at eli-studio 2 × 5 × 18 × 1 = 180: 432.
    assert history[0].actor_id == "dana" and history[0].data["lines"] == [["chair", 1]]
    assert any(e.kind == "order_woven" and e.data["plan_count"] == "432" for e in history)
    # Who asserted what, from which message: H(D, t).
    [asserted] = [e for e in history if e.kind == "stage_asserted"]
    assert (asserted.actor_id, asserted.data["stage"], asserted.data["status"]) == (
        "fern",
        fern_confirm,
        "done",
    )
    assert (asserted.platform, asserted.message_id) == ("telegram", "p1")
    with pytest.raises(Refused, match="only shown to its parties"):
        as_party(services, "carol", order, "history", lambda s: timeline(s, order))
    with services.engine.connect() as connection:
        recorded = connection.execute(
            text("SELECT actor_id FROM event WHERE kind = 'refused'")
        ).all()
    assert [r[0] for r in recorded] == ["carol"]


def as_party(services: Services, actor: str, order: int, what: str, query):
    """A read as the conversation makes it: only for a party (queries.may_read); a refusal is
    recorded like any other."""

    def read(session):
        may_read(services, session, actor, order)
        return query(session)

    try:
        return services.read(read)
    except Refused as refusal:
        services.record_refusal(ReadOrder(actor, order, what), refusal)
        raise


def test_restoring_a_resource_replans_the_orders_that_waited_for_it(services):
    for offer in ("fern-seats", "gus-seats", "hana-foam-seats"):
        services.handle(Disrupt("rita", offer, "sold out"))
    services.handle(Disrupt("rita", "ivy", "away"))
    order = agreed_order(services, chairs=1)
    flood = services.handle(Disrupt("hal", "hal-shop", "flooded"))
    # foam seats have no source either: nothing is proposed, the coordinator hears it
    assert not any(m.kind == "substitution" for m in flood.messages)
    assert ("rita", "stuck") in {(m.participant_id, m.kind) for m in flood.messages}
    state = services.read(lambda s: order_state(s, order))
    assert state.stages and state.status == "blocked"  # the plan waits
    assert services.read(lambda s: assess(services, s, order)) == ["0.1"]  # for a seat
    back = services.handle(Restore("rita", "gus-seats"))
    replanned = next(e for e in back.events if e.kind == "replanned")
    seat = replanned.data["tree"][0]["inputs"][1]
    assert seat["source"] == {"kind": "offer", "offer": "gus-seats", "supplier": "gus"}
    told = next(m for m in back.messages if m.participant_id == "rita" and m.payload.get("outcome"))
    assert f"{order} goes on" in told.text
    assert services.read(lambda s: order_state(s, order)).status == "in_progress"


def test_a_replan_that_drops_the_last_party_to_agree_waits_for_new_work_to_be_agreed(services):
    services.handle(Disrupt("rita", "ivy", "away"))
    order = services.handle(PlaceOrder("dana", (("chair", 1),))).value
    services.handle(ChoosePlan("dana", order, 1))
    for party in ("ana", "fern", "gus", "bob"):  # all but Hal
        services.handle(Agree(party, order))
    assert services.read(lambda s: order_state(s, order)).contract_status == "potential"
    flood = services.handle(Disrupt("hal", "hal-shop", "flooded"))
    seat = next(e for e in flood.events if e.kind == "replanned").data["tree"][0]["inputs"][1]
    assert seat["source"]["offer"] == "gus-seats"  # Gus, who agreed to his backs already
    # the seats are new work for Gus: he agrees to them too; Hal is no longer awaited
    assert services.read(lambda s: order_state(s, order)).contract_status == "potential"
    services.handle(Agree("gus", order))
    state = services.read(lambda s: order_state(s, order))
    assert state.contract_status == "agreed" and len(state.stages) == 14


def test_reweave_on_request_and_a_proposed_substitution(services):
    order = agreed_order(services, chairs=1)
    assert services.handle(Reweave("dana", order)).value == 0  # nothing is missing
    proposed = services.handle(ProposeSubstitution("ana", order, "seat", "foam-seat"))
    assert any(m.participant_id == "dana" and "/approve" in m.text for m in proposed.messages)
    with pytest.raises(Refused, match="only the buyer"):
        services.handle(Reweave("fern", order))


def test_invites_join_and_registration(services):
    code = services.handle(CreateInvite("rita", "maker")).value
    joined = services.handle(Join("telegram", "991", code, "Quinn's Lab"))
    assert joined.value == "quinn-s-lab"
    with pytest.raises(Refused, match="already used"):
        services.handle(Join("telegram", "992", code, "Someone else"))
    buyer = services.handle(Register("matrix", "@zoe:example.org", "buyer", "Zoe")).value
    assert buyer == "zoe"
    placed = services.handle(PlaceOrder(buyer, (("Chair", 1),)))
    assert placed.value > 0
    code = services.handle(CreateInvite("rita", "supplier", participant_id="ana")).value
    services.handle(Join("matrix", "@ana-shop:example.org", code))
    with services.engine.connect() as connection:
        roles = connection.execute(text("SELECT roles FROM participant WHERE id = 'ana'")).scalar()
    assert "supplier" in (roles if isinstance(roles, list) else __import__("json").loads(roles))


def _walk(node):
    yield node
    for child in node["inputs"]:
        yield from _walk(child)


def test_watchers_hear_of_disruptions_of_what_they_watch(services):
    services.handle(Watch("dana", "seat"))  # an item: any source of seats
    services.handle(Watch("rita", "hal-shop"))  # a resource
    services.handle(Watch("carol", "leg"))  # not affected by the flood
    flood = services.handle(Disrupt("hal", "hal-shop", "flooded"))
    alerts = {m.participant_id: m.text for m in flood.messages if m.kind == "alert"}
    assert set(alerts) == {"dana", "rita"}
    assert "flooded" in alerts["dana"] and "re-planned" in alerts["dana"]
    back = services.handle(Restore("hal", "hal-shop"))
    assert {m.participant_id for m in back.messages if m.kind == "alert"} == {"dana", "rita"}
    with pytest.raises(Refused, match="unknown resource"):
        services.handle(Watch("dana", "atlantis"))


def test_a_frame_says_when_each_part_is_due(services):
    due = datetime.combine(date.today() + timedelta(days=15), time())  # ahead, as due dates are
    order = services.handle(PlaceOrder("dana", (("chair", 1),), due=due)).value
    chosen = services.handle(ChoosePlan("dana", order, 1))
    hal = next(m.text for m in chosen.messages if m.participant_id == "hal")
    assert f"Your part: make 1 × Seat by {due.date().isoformat()}." in hal
