"""Every command a person reads in a message or a button of a whole run is a declared chat
command (issue 16, finding 9): the chair story — ordered, chosen, agreed, flooded, re-planned
with a substitute, handed, cancelled — and every outbox row it left."""

from __future__ import annotations

import re

import pytest
from chair_world import agree_all, chair_services, done, order_two_chairs, stages
from sqlmodel import Session, select

from bots.conversation.declarations import BY_NAME
from core.service.commands import (
    CancelOrder,
    ChoosePlan,
    DecideSubstitution,
    Disrupt,
    HandStage,
    ProposeSubstitution,
)
from core.service.results import Refused
from core.store.tables import Notification

COMMAND = re.compile(r"(?:^|[\s(\[\"'])/([a-z]+)\b")


def _run(services) -> None:
    for offer in ("fern-seats", "gus-seats"):
        services.handle(Disrupt("rita", offer, "sold out"))
    services.handle(Disrupt("rita", "ivy", "away for the week"))
    order = order_two_chairs(services)
    services.handle(ChoosePlan("dana", order, 1))
    agree_all(services, order, ["ana", "fern", "gus", "hal", "bob"])
    code = stages(services, order)
    done(services, order, "fern", code[("leg", "confirm")], "m1")
    flood = services.handle(Disrupt("hal", "hal-shop", "the shop flooded"))
    proposal = next(e for e in flood.events if e.kind == "substitution_proposed")
    services.handle(DecideSubstitution("dana", order, proposal.data["substitution"], True))
    services.handle(ProposeSubstitution("ana", order, "leg", "seat", "legs are late"))
    services.handle(HandStage("rita", order, code[("leg", "ship")], "ana"))
    with pytest.raises(Refused):
        services.handle(ChoosePlan("dana", order, 1))  # under way already
    services.handle(CancelOrder("dana", order, "no longer needed"))


def test_every_command_a_person_reads_or_presses_is_declared(sqlite_engine):
    services = chair_services(sqlite_engine)
    _run(services)
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Notification)).all()
    kinds = {row.kind for row in rows}
    assert {"frame", "substitution", "handed", "cancelled", "plans"} <= kinds  # a whole run
    named = {
        (row.kind, word)
        for row in rows
        for text in [row.text, *(command for _, command in row.payload.get("buttons") or ())]
        for word in COMMAND.findall(text)
    }
    assert named, "the run's messages name commands"
    assert {(kind, word) for kind, word in named if word not in BY_NAME} == set()
    pressed = [b for row in rows for b in row.payload.get("buttons") or ()]
    assert any(label.startswith("Approve") for label, _ in pressed)  # from a Next
