"""Issue 18's acceptance on the paper's hurricane city (examples/hurricane-city.yaml), through the
conversation: an order of face shields, due in two weeks, is planned with the city's trucks —
the truck's operator reads its leg (from where to where, km, trips, price) and the day the order
arrives in its frame, agrees, and owns the leg's pick-up and delivery."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session
from test_conversation import Chat

from bots.bootstrap import application
from core.importers import load_network
from core.service import lifecycle, records
from core.service.commands import LoadNetwork

HURRICANE = Path(__file__).resolve().parents[2] / "examples" / "hurricane-city.yaml"
HOSPITAL = ("telegram", "615227093")
FLEET = ("telegram", "590442761")  # municipio-sj, the city's fleet
# The chat reads dates against today (UTC); the application's clock is nine this morning.
NINE = datetime.combine(datetime.now(UTC).date(), time(9))
DUE = NINE.date() + timedelta(days=14)


@pytest.fixture
def chat(engine) -> Chat:
    services = application(engine, clock=lambda: NINE)
    loaded = load_network([HURRICANE])
    assert loaded.errors == []
    services.handle(LoadNetwork(None, loaded.network))
    return Chat(services)


def test_face_shields_go_by_a_city_truck_named_with_km_and_price_and_its_operator_agrees(chat):
    chat.says(HOSPITAL, f"/order face-shield 20 by {DUE.isoformat()}")
    plans = chat.outbox("hospital-santurce", "plans")[-1]
    order = plans.order_id
    assert f"to deliver it by {DUE:%a} {DUE.day} {DUE:%b}" in plans.text, plans.text
    assert " carries it " in plans.text and " km" in plans.text  # who moves the parts, how far
    chat.says(HOSPITAL, f"/choose {order} 1")

    frame = chat.outbox("municipio-sj", "frame")[-1].text
    # "Your part: carry 20 × Face shield from Microfactoría … to Hospital … in Pickup 09:
    #  3 km in 1 trip, 8.60."
    carried = re.search(
        r"Your part: carry (\d+) × Face shield from (.+) to (.+) in (.+?): "
        r"(\d+) km in (\d+) trips?, (\d+\.\d\d)\.",
        frame,
    )
    assert carried, frame
    assert carried.group(1) == "20" and carried.group(3).startswith("Hospital Comunitario")
    assert float(carried.group(7)) > 0  # a truck is paid: base price + rate × km
    assert re.search(r"^Arrives by \w{3} \d+ \w{3}\.$", frame, re.M), frame

    answer = chat.says(FLEET, f"/agree {order}")
    assert "no part" not in answer
    with Session(chat.services.engine) as session:
        row = records.order(session, order)
        assert "municipio-sj" in lifecycle.parties(session, row)
        contract = lifecycle.live_contract(session, order)
        decided = lifecycle.decisions(session, contract)
    assert decided.get("municipio-sj") == lifecycle.Decision.AGREED
