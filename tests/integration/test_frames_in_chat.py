"""Issue 16, findings 5–7 (frames, quotes, agreeing, names): through the conversation on the
hurricane city and the chair network. A first frame fits a phone (≤ 700 characters) and names
people and items, not ids; the whole frame is /terms away; a quote or an agreement tells each
party what changed in one short message, with Agree and Decline only for those still asked;
equation letters never read as P; /stages and alerts name what they speak of."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from sqlmodel import Session, select
from test_conversation import NETWORK as CHAIR
from test_conversation import PARTIES as CHAIR_PARTIES
from test_conversation import Chat

from bots.bootstrap import application
from core.importers import load_network
from core.pricing.equation import plan_equation
from core.service import lifecycle, records
from core.service.commands import Agree, LoadNetwork
from core.store.tables import Notification, Quote

PROJECT = Path(__file__).resolve().parents[2]
HURRICANE = PROJECT / "examples" / "hurricane-city.yaml"
CLINIC = ("matrix", "@clinica-loiza:example.org")
MARISOL = ("telegram", "702318845")  # the coordinator
FIRST_FRAME = 700
IDS = re.compile(r"\b[Kp]\[")  # p[pc-visors], K[face-shield-okh@mf-santurce]


@cache
def _city():
    loaded = load_network([HURRICANE])
    assert loaded.errors == []
    return loaded.network


@pytest.fixture
def city(engine) -> Chat:
    services = application(engine)
    services.handle(LoadNetwork(None, _city()))
    return Chat(services)


@pytest.fixture
def chairs(engine) -> Chat:
    services = application(engine)
    services.handle(LoadNetwork(None, load_network(CHAIR).network))
    return Chat(services)


def account(chat: Chat, who: str) -> tuple[str, str] | None:
    """A chat account the network gives `who`, or None (an email-only supplier)."""
    contacts = _city().participants[who].contacts
    for platform in ("telegram", "matrix"):
        if platform in contacts:
            return platform, contacts[platform]
    return None


def face_shields(chat: Chat) -> int:
    chat.says(CLINIC, "/order face shield 5")
    order = chat.outbox("clinica-loiza", "plans")[-1].order_id
    chat.says(CLINIC, f"/choose {order} 1")
    return order


def frames(chat: Chat, order: int) -> dict[str, Notification]:
    """Each party's newest frame of the order."""
    with Session(chat.services.engine) as session:
        everyone = lifecycle.parties(session, records.order(session, order))
    found = {}
    for party in everyone:
        mine = [n for n in chat.outbox(party, "frame") if n.order_id == order]
        if mine:
            found[party] = mine[0]
    return found


def buttons(message: Notification) -> list[str]:
    return [label for label, _ in message.payload.get("buttons", [])]


def equation_of(chat: Chat, order: int):
    services = chat.services
    with Session(services.engine) as session:
        contract = lifecycle.live_contract(session, order)
        row = session.get(records.PlanRow, contract.plan_id)
        network = services.network_at(session, row.network_version)
        return plan_equation(network, records.rebuild_plan(network, row))


def test_every_first_frame_fits_a_phone_and_names_people_not_ids(city):
    order = face_shields(city)
    sent = frames(city, order)
    assert "clinica-loiza" in sent and len(sent) >= 3
    for party, frame in sent.items():
        assert len(frame.text) <= FIRST_FRAME, (party, len(frame.text), frame.text)
        assert not IDS.search(frame.text), frame.text
        assert "Price: P = " in frame.text
        if party == "clinica-loiza":  # the buyer agreed by choosing: nothing to press but Details
            assert buttons(frame) == ["Details"]
            assert "choosing this plan was your agreement" in frame.text
        else:
            assert buttons(frame) == ["Agree", "Decline", "Details"]
            assert "Your part: " in frame.text
    # One contact per other party: on the reader's own platform when they are there (the
    # clinic is on Matrix), else their first.
    network = _city()
    for line in sent["clinica-loiza"].text.splitlines():
        party = next(
            (
                p
                for p in network.participants.values()
                if line == f"• {p.name}" or line.startswith(f"• {p.name} (")
            ),
            None,
        )
        if party is None:
            continue
        contacts = dict(party.contacts)
        medium, address = (
            contacts.get("matrix")
            and ("matrix", contacts["matrix"])
            or next(iter(contacts.items()))
        )
        assert line.endswith(f" — {medium} {address}") and line.count(" — ") == 1, line


def test_terms_shows_the_whole_frame_with_every_letter(city):
    order = face_shields(city)
    equation = equation_of(city, order)
    terms = city.send(CLINIC, f"/terms {order}")[0]
    for letter in equation.letters.values():
        assert re.search(rf"^  {re.escape(letter)} = .+, set by ", terms.text, re.M), letter
    assert "email clinica.loiza@example.org" not in terms.text  # the reader's own contacts
    assert not IDS.search(terms.text)
    assert [b.label for row in terms.buttons for b in row] == []  # the buyer has agreed
    # A party sees the ids of its own offers and facilities: what /disrupt takes.
    name, variable = next(
        (n, v)
        for n, v in equation.variables.items()
        if v.setter != "clinica-loiza" and account(city, v.setter)
    )
    own = city.send(account(city, variable.setter), f"/terms {order}")[0]
    resource = variable.source if variable.kind == "price" else variable.source.split("@")[1]
    assert f"{equation.letters[name]} = " in own.text and f"[{resource}]" in own.text
    assert [b.label for row in own.buttons for b in row] == ["Agree", "Decline"]


def test_no_letter_reads_as_the_total_p(city):
    order = face_shields(city)
    letters = equation_of(city, order).letters.values()
    assert not any(letter.startswith("P") for letter in letters)
    assert "P'" not in frames(city, order)["clinica-loiza"].text


def test_a_quote_tells_each_party_what_changed_in_one_short_message(city):
    order = face_shields(city)
    equation = equation_of(city, order)
    setters = {v.setter for v in equation.variables.values()}
    quoting = next(p for p in sorted(setters) if account(city, p) and p != "clinica-loiza")
    name, variable = next((n, v) for n, v in equation.variables.items() if v.setter == quoting)
    letter = equation.letters[name]
    others = sorted(set(frames(city, order)) - {quoting, "clinica-loiza"})
    agreed_first = others[0]  # one party agrees before the price changes
    city.services.handle(Agree(agreed_first, order))
    before = {p: len(city.outbox(p)) for p in frames(city, order)}

    city.says(account(city, quoting), f"/quote {order} {letter.lower()} 0.25")  # lower case

    recorded = city.outbox(quoting)[before[quoting] :]
    assert len(recorded) == 1 and recorded[0].payload.get("outcome")
    assert recorded[0].text.startswith(f"Recorded: {letter} (")
    new_price = equation_of_quoted(city, order)
    for party in set(before) - {quoting}:
        news = city.outbox(party)[before[party] :]
        assert len(news) == 1, (party, [n.text for n in news])
        told = news[0].text
        assert len(told) < 200 and f"set {letter} (" in told and "to 0.25" in told
        assert f"the price is now {new_price}" in told
        expected = [] if party in ("clinica-loiza", agreed_first) else ["Agree", "Decline"]
        assert buttons(news[0])[:2] == expected or buttons(news[0]) == expected + ["Details"]


def equation_of_quoted(chat: Chat, order: int) -> str:
    services = chat.services
    with Session(services.engine) as session:
        contract = lifecycle.live_contract(session, order)
        row = session.get(records.PlanRow, contract.plan_id)
        network = services.network_at(session, row.network_version)
        quotes = {q.variable: q.value for q in session.exec(select(Quote))}
        price = plan_equation(network, records.rebuild_plan(network, row), quotes).price
    return f"{price:,.2f}"


def test_agreeing_says_who_agreed_and_whom_the_order_waits_for(city):
    order = face_shields(city)
    parties = sorted(set(frames(city, order)) - {"clinica-loiza"})
    talking = next(p for p in parties if account(city, p))
    said = city.says(CLINIC, f"/agree {order}")  # the buyer: what choosing meant
    answer = city.outbox("clinica-loiza")[-1]
    assert "when you chose its plan" in answer.text and "Still waiting for" in answer.text
    assert "Sorry" not in said

    before = len(city.outbox("clinica-loiza"))
    city.says(account(city, talking), f"/agree {order}")
    name = _city().participant_name(talking)
    heard = city.outbox("clinica-loiza")[before:]
    assert [n.text.split(". ")[0] for n in heard] == [f"Order {order}: {name} agreed"]
    assert "Still waiting for" in heard[0].text and not buttons(heard[0])
    own = city.outbox(talking)[-1]
    assert own.payload.get("outcome") and "Still waiting for" in own.text
    assert name not in own.text.split("Still waiting for")[1]
    # A party yet to agree is not told each step of the others (its frame still asks it): it
    # hears when everyone has agreed.
    still = next(p for p in parties if p != talking)
    assert city.outbox(still)[-1].kind == "frame"


def test_stages_and_alerts_name_people_and_resources(city):
    order = face_shields(city)
    for party in sorted(set(frames(city, order)) - {"clinica-loiza"}):
        city.services.handle(Agree(party, order))
    stages = city.send(CLINIC, f"/stages {order}")[0].text
    # "· s2 pickup … — Municipio de San Juan, Flota Municipal, pending": names hold commas too.
    owners = {
        line.split(" — ")[1].rsplit(", ", 1)[0] for line in stages.splitlines() if " — " in line
    }
    names = {p.name for p in _city().participants.values()}
    assert owners and owners <= names, owners

    watcher = ("telegram", "615227093")  # the hospital watches the melt-blown offer
    city.says(watcher, "/watch ms-meltblown")
    city.says(MARISOL, "/disrupt ms-meltblown the line flooded")
    (alert,) = city.outbox("hospital-santurce", "alert")
    assert alert.text.startswith(
        "Melt-blown polypropylene 25 g/m² (filter layer) from MediSupply PR (ms-meltblown) "
        "is out of service: the line flooded."
    )


def test_disrupt_help_says_where_resource_ids_come_from(city):
    assert "/terms ORDER" in city.says(MARISOL, "/help disrupt")


def test_every_first_frame_of_the_chair_fits_a_phone(chairs):
    chairs.says("dana", "/order chair 2")
    order = chairs.outbox("dana", "plans")[-1].order_id
    chairs.says("dana", f"/choose {order} 1")
    sent = frames(chairs, order)
    assert set(sent) >= {"dana", *CHAIR_PARTIES[:1]}
    for party, frame in sent.items():
        assert len(frame.text) <= FIRST_FRAME, (party, len(frame.text), frame.text)
        assert not IDS.search(frame.text)
