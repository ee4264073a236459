"""Every handler refuses bad input with a clear error, records the refusal, and changes nothing
else — on SQLite and on PostgreSQL."""

from __future__ import annotations

import math

import pytest
from chair_world import NETWORK, agreed_order, chair_services, order_chairs
from sqlalchemy import text
from sqlmodel import SQLModel

from core.importers import load_network
from core.service.bus import Services
from core.service.commands import (
    Agree,
    AssertStage,
    ChoosePlan,
    CreateInvite,
    DecideSubstitution,
    Decline,
    Disrupt,
    Join,
    LoadNetwork,
    PlaceOrder,
    ProposeSubstitution,
    QuotePrice,
    Register,
    Restore,
    Reweave,
)
from core.service.results import Origin, Refused

LONG = "x" * 5000


@pytest.fixture
def world(engine):
    """Two orders: 1 agreed with its stages, 2 waiting for agreement."""
    services = chair_services(engine)
    agreed = agreed_order(services, chairs=1)
    waiting = order_chairs(services, 2)
    services.handle(ChoosePlan("dana", waiting, 1))
    return services, agreed, waiting


def snapshot(services: Services) -> dict[str, list]:
    """Every row of every table, refusals aside (a wrong invite code is counted, as a refusal
    is recorded, so that guessing is limited)."""
    with services.engine.connect() as connection:
        tables = {}
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "join_attempt":
                continue
            rows = connection.execute(table.select().order_by(*table.primary_key.columns)).all()
            if table.name == "event":
                rows = [r for r in rows if r.kind != "refused"]
            tables[table.name] = [tuple(r) for r in rows]
        return tables


def refusals(services: Services) -> list[tuple]:
    with services.engine.connect() as connection:
        return connection.execute(
            text("SELECT actor_id, data FROM event WHERE kind = 'refused' ORDER BY id")
        ).all()


CASES = [
    # (command built from the agreed and the waiting order ids, words the refusal must say)
    (lambda a, w: PlaceOrder("nobody", (("chair", 1),)), "unknown participant"),
    (lambda a, w: PlaceOrder("fern", (("chair", 1),)), "only a buyer"),
    (lambda a, w: PlaceOrder("dana", (("sofa", 1),)), "unknown item"),
    (lambda a, w: PlaceOrder("dana", (("chair", 0),)), "positive whole number"),
    (lambda a, w: PlaceOrder("dana", (("chair", -3),)), "positive whole number"),
    (lambda a, w: PlaceOrder("dana", (("chair", 2.5),)), "positive whole number"),
    (lambda a, w: PlaceOrder("dana", ((LONG, 1),)), "too long"),
    (lambda a, w: PlaceOrder("dana", ()), "needs an item"),
    (lambda a, w: ChoosePlan("dana", 999, 1), "unknown order"),
    (lambda a, w: ChoosePlan("fern", w, 1), "only the buyer"),
    (lambda a, w: ChoosePlan("dana", w, 1), "already has a plan"),
    (lambda a, w: Agree("carol", w), "no part in order"),
    (lambda a, w: Agree("ana", a), "agreed to order"),
    (lambda a, w: Agree("nobody", w), "unknown participant"),
    (lambda a, w: Decline("dana", w, "no"), "buyer"),
    (lambda a, w: Decline("ana", w, LONG), "too long"),
    (lambda a, w: QuotePrice("gus", w, "p[nothing]", 3.0), "not in the equation"),
    (lambda a, w: QuotePrice("fern", w, "p[gus-backs]", 3.0), "B is set by Gus Pappas Upholstery"),
    (lambda a, w: QuotePrice("gus", w, "p[gus-backs]", -1.0), "number ≥ 0"),
    (lambda a, w: QuotePrice("gus", w, "p[gus-backs]", math.nan), "number ≥ 0"),
    (lambda a, w: AssertStage("fern", a, "s99", "done"), "s99"),
    (lambda a, w: AssertStage("gus", a, "s1", "done"), "belongs to Fern & Co. Chair Parts"),
    (lambda a, w: AssertStage("fern", a, "s1", "maybe"), "done, failed or reset"),
    (lambda a, w: AssertStage("fern", a, "s1", "done", LONG), "too long"),
    (lambda a, w: AssertStage("fern", a, "s1", "failed", ""), "say what went wrong"),
    (lambda a, w: AssertStage("fern", w, "s1", "done"), "no agreed plan"),
    (lambda a, w: AssertStage("fern", 999, "s1", "done"), "unknown order"),
    (lambda a, w: Disrupt("hal", "atlantis", "flood"), "unknown resource"),
    (lambda a, w: Disrupt("fern", "hal-shop", "flood"), "only the operator"),
    (lambda a, w: Disrupt("hal", "hal-shop", ""), "say what happened"),
    (lambda a, w: Restore("hal", "hal-shop"), "not out of service"),
    (lambda a, w: DecideSubstitution("fern", a, 1, True), "only the buyer"),
    (lambda a, w: DecideSubstitution("dana", a, 42, True), "no substitution 42"),
    (lambda a, w: Reweave("fern", a), "only the buyer"),
    (lambda a, w: Reweave("dana", 999), "unknown order"),
    (lambda a, w: ProposeSubstitution("carol", a, "seat", "foam-seat"), "not a party"),
    (lambda a, w: ProposeSubstitution("ana", a, "seat", "unicorn"), "unknown item"),
    (lambda a, w: ProposeSubstitution("ana", a, "foam-seat", "seat"), "uses no"),
    (lambda a, w: CreateInvite("dana", "maker"), "only a coordinator"),
    (lambda a, w: CreateInvite("rita", "wizard"), "invites are for"),
    (lambda a, w: Join("telegram", "777", "not-a-code"), "unknown or already used"),
    (lambda a, w: Register("telegram", "777", "maker", "Mo"), "invite code"),
    (lambda a, w: Register("fax", "777", "buyer", "Mo"), "unknown platform"),
    (lambda a, w: Register("telegram", "777", "buyer", LONG), "too long"),
    (lambda a, w: Register("telegram", "584210337", "buyer", "Dana again"), "already speaks for"),
    (lambda a, w: LoadNetwork("dana", load_network(NETWORK).network), "only a coordinator"),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_bad_input_is_refused_clearly_and_changes_nothing(world, case):
    services, agreed, waiting = world
    build, words = CASES[case]
    command = build(agreed, waiting)
    before = snapshot(services)
    with pytest.raises(Refused) as refusal:
        services.handle(command)
    message = str(refusal.value)
    assert words in message
    assert len(message) < 200 and "\n" not in message and "Traceback" not in message
    assert snapshot(services) == before
    recorded = refusals(services)
    assert len(recorded) == 1
    data = recorded[0][1]
    data = data if isinstance(data, dict) else __import__("json").loads(data)
    assert data["command"] == type(command).__name__ and data["reason"] == message


def test_a_stranger_cannot_assert_someone_elses_stage_and_it_is_recorded(world):
    services, agreed, _ = world
    before = snapshot(services)
    with pytest.raises(Refused, match="belongs to Fern & Co. Chair Parts"):
        services.handle(AssertStage("hal", agreed, "s1", "done", "", Origin("telegram", "x1")))
    assert snapshot(services) == before
    assert refusals(services)[0][0] == "hal"
