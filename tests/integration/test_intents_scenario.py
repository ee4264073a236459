"""Issue 7's scenario through the conversation, on both databases: the network starts without any
source of face shields (tests/scenarios/face-shields.yaml: the design and PLA, but nobody who
prints and no PET sheet). Maya offers 3D printing and Plásticos offers PET sheet in chat; the
clinic's request for 200 face shields is matched to both, accepted — the offers join the network
and the request becomes an order — and the order is woven, agreed and tracked to completion.
Meanwhile its plan asks the network for the inputs nobody has committed to yet."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from test_conversation import Chat, run

from bots.bootstrap import application
from core.importers import load_network
from core.service.bus import Services
from core.service.commands import ExpireIntents, LoadNetwork, MatchIntent, SyncDependentDemand
from core.store.tables import EventRow, IntentMatch, IntentRow, NetworkVersion, OrderRow

PROJECT = Path(__file__).resolve().parents[2]
NETWORK = PROJECT / "tests" / "scenarios" / "face-shields.yaml"
ACCOUNTS = {
    "clinic": ("telegram", "900001"),
    "maya": ("telegram", "900002"),
    "plasticos": ("telegram", "900003"),
    "filamentos": ("telegram", "900004"),
}
TODAY = datetime(2026, 12, 2, 9, 0)


class Clock:
    def __init__(self):
        self.now = TODAY

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class IntentChat(Chat):
    """The conversation harness, with the intent workers' jobs carried out too."""

    def submit(self, platform, message_id, command, arguments):
        inbound = super().submit(platform, message_id, command, arguments)
        settle(self.services)
        return inbound


def settle(services: Services) -> None:
    """Run the jobs the workers would: matching and dependent demand, until none is left."""
    with Session(services.engine) as session:
        intents = [r.id for r in session.exec(select(IntentRow)).all()]
        orders = [r.id for r in session.exec(select(OrderRow)).all()]
    for order_id in orders:
        run(services, services.handle(SyncDependentDemand(order_id)))
    for intent_id in intents:
        run(services, services.handle(MatchIntent(intent_id)))


@pytest.fixture
def chat(engine) -> IntentChat:
    services = application(engine, Clock())
    services.handle(LoadNetwork(None, load_network([NETWORK]).network))
    return IntentChat(services)


def says(chat: IntentChat, who: str, text: str) -> str:
    return chat.says(ACCOUNTS[who], text)


def cast(chat: IntentChat, who: str, command: str, readback: str) -> int:
    shown = says(chat, who, command)
    assert readback in shown and "Is that right?" in shown, shown
    assert "Sending your" in says(chat, who, "/cast")
    told = chat.outbox(who, "intent")[-1].text
    return int(re.search(r"(?:Offer|Request|Proposal) (\d+) is out", told)[1])


def test_a_clinics_request_finds_a_maker_and_a_supplier_and_becomes_an_order(chat):
    services = chat.services
    assert "no plan can deliver it" in _plans_for(chat, "face-shield 10")  # nobody can yet

    printing = cast(
        chat, "maya", "/offer 3d printing 10 h/week near San Juan", "3d-printing (process)"
    )
    sheets = cast(chat, "plasticos", "/offer PET sheet 50 sheets", "PET sheet 0.5 mm (item")
    request = cast(chat, "clinic", "/request face shields 200 by 2026-12-20", "Face shield")

    # The request is matched to both offers at once: printing for the process the design needs,
    # sheets for the input nobody sells; both sides hear of it, with a button to accept.
    told = chat.outbox("clinic", "match")[-1]
    match_id = told.payload["match"]
    assert f"Match {match_id} for your request {request}" in told.text
    assert "100% covered" in told.text
    assert told.payload["buttons"] == [[f"Accept {match_id}", f"/accept {match_id}"]]
    with Session(services.engine) as session:
        match = session.get(IntentMatch, match_id)
        covers = {(offer, need) for offer, need, _ in match.covers}
    assert covers == {(printing, "3d-printing"), (sheets, "pet-sheet")}
    for offerer in ("maya", "plasticos"):
        assert f"Match {match_id}: your offer" in chat.outbox(offerer, "match")[-1].text
    assert f"Match {match_id} (your request)" in says(chat, "clinic", "/matches")
    assert "1 match" in says(chat, "maya", "/intents")

    # A stranger cannot accept it; the clinic does, and the network grows from the offers.
    assert "between others" in _last(chat, "filamentos", f"/accept {match_id}")
    assert "Accepting match" in says(chat, "clinic", f"/accept {match_id}")
    with Session(services.engine) as session:
        order = session.exec(
            select(OrderRow).where(OrderRow.buyer_id == "clinic").order_by(OrderRow.id.desc())
        ).first()
        grown = session.exec(select(NetworkVersion).order_by(NetworkVersion.version.desc())).first()
        offers = [session.get(IntentRow, i) for i in (printing, sheets, request)]
    assert order.provenance == {"match": match_id, "request": request}
    assert f"match {match_id}" in grown.note
    assert [o.status for o in offers] == ["accepted"] * 3
    network = services.read(services.current_network)
    assert "3d-printing" in network.facilities["maya-workshop"].processes
    sheet_offer = [o for o in network.offers.values() if o.item == "pet-sheet"]
    assert [(o.supplier, o.capacity) for o in sheet_offer] == [("plasticos", 50.0)]
    for offerer in ("maya", "plasticos"):
        assert f"accepted match {match_id}" in chat.outbox(offerer, "match")[-1].text
    # The one who accepted hears what it became: the order's plans are the outcome of their
    # command, the match's news follows — never "Done: AcceptMatch".
    told = chat.outbox("clinic")
    assert any("Match" in m.text and "accepted" in m.text for m in told)
    assert not any(m.text.startswith("Done") for m in told)

    # The order: woven over the grown network, 200 shields = 20 batches of 20 sheets and spools.
    plans = chat.outbox("clinic", "plans")[-1]
    assert plans.order_id == order.id and "1 way to deliver it" in plans.text
    says(chat, "clinic", f"/choose {order.id} 1")
    frames = {p: chat.outbox(p, "frame")[-1].text for p in ("maya", "plasticos", "filamentos")}
    assert "Your part: make 200 × Face shield" in frames["maya"]
    assert "Your part: supply 20 × PET sheet 0.5 mm" in frames["plasticos"]
    assert "Your part: supply 20 × PLA filament 1 kg" in frames["filamentos"]

    # Dependent demand: until its suppliers agree, the plan asks for its bought inputs.
    assert _dependent(services, order.id) == {"pet-sheet": "maya", "pla-filament": "maya"}
    says(chat, "plasticos", f"/agree {order.id}")
    assert _dependent(services, order.id) == {"pla-filament": "maya"}
    says(chat, "filamentos", f"/agree {order.id}")
    says(chat, "maya", f"/agree {order.id}")
    assert _dependent(services, order.id) == {}
    assert f"Order {order.id} is agreed by everyone" in chat.outbox("clinic")[-1].text

    # Tracked: every stage asserted by its owner, and the order completes.
    listing = says(chat, "clinic", f"/stages {order.id}")
    named = {p.name: p.id for p in services.read(services.current_network).participants.values()}
    for stage, owner in re.findall(r"· (s\d+) \w+ .*? — (.+?), ", listing):  # owners by name
        assert "Recording" in says(chat, named[owner], f"/done {order.id} {stage}")
    assert f"Order {order.id} is complete" in chat.outbox("clinic")[-1].text
    with Session(services.engine) as session:
        kinds = [e.kind for e in session.exec(select(EventRow).order_by(EventRow.id))]
    for kind in ("intent_cast", "intents_matched", "match_accepted", "dependent_demand"):
        assert kind in kinds


def test_intents_are_listed_edited_withdrawn_and_refused_kindly(chat):
    offer = cast(chat, "maya", "/offer 3d printing 10 h/week", "3d-printing (process)")
    assert "Changing intent" in says(chat, "maya", f"/edit {offer} 3d printing 20 h/week")
    assert "20 h/week" in says(chat, "maya", "/intents")
    assert "not yours" in _last(chat, "plasticos", f"/withdraw {offer}")
    assert "Withdrawing" in says(chat, "maya", f"/withdraw {offer}")
    assert "withdrawn" in says(chat, "maya", "/intents")
    # Bad words: one line, what works instead, and nothing cast.
    bad = says(chat, "maya", "/offer 3d printing 10 h/fortnight")
    assert "e.g." in bad and "Is that right?" not in bad
    assert "nothing to cast" in says(chat, "maya", "/cast")
    assert "What do you offer" in says(chat, "maya", "/offer")  # asks, then reads it back
    assert "Is that right?" in says(chat, "maya", "laser cutting 5 h/day")
    assert "Sending your offer" in says(chat, "maya", "yes")


def _plans_for(chat: IntentChat, what: str) -> str:
    says(chat, "clinic", f"/order {what}")
    return chat.outbox("clinic", "plans")[-1].text


def _dependent(services: Services, order_id: int) -> dict[str, str]:
    with Session(services.engine) as session:
        rows = session.exec(select(IntentRow).where(IntentRow.status == "open")).all()
    return {
        r.resource_id: r.participant_id
        for r in rows
        if r.provenance.get("dependent_demand_of") == order_id
    }


def _last(chat: IntentChat, who: str, text: str) -> str:
    """The reply now, and what the worker sent, if anything, a moment later."""
    said = says(chat, who, text)
    later = chat.outbox(who)
    return said + ("\n" + later[-1].text if later else "")


def test_intents_expire_and_are_told_so(chat):
    offer = cast(chat, "maya", "/offer 3d printing 10 h/week until 2026-12-10", "2026-12-10")
    lasting = cast(chat, "plasticos", "/offer PET sheet 50 sheets", "PET sheet")
    services = chat.services
    services.clock.now = datetime(2026, 12, 10, 23, 0)
    assert services.handle(ExpireIntents()).value == []  # still good on its last day
    services.clock.now = datetime(2026, 12, 11, 9, 0)
    assert services.handle(ExpireIntents()).value == [offer]
    assert "has expired" in chat.outbox("maya", "intent")[-1].text
    with Session(services.engine) as session:
        statuses = {i: session.get(IntentRow, i).status for i in (offer, lasting)}
    assert statuses == {offer: "expired", lasting: "open"}
    assert "expired" in says(chat, "maya", "/intents")
