"""Issue 18, part 1, through the conversation: a plan's legs and its arrival where people read
plans and frames. On a network built here — three sellers of chairs, near and far in time, and
one truck that carries every leg — the plans offered say who carries the chairs how far and the
day each can arrive; the truck's operator is a party with its frame (its leg, km, trips, price);
`/order … by DATE` offers only the plans that make it and counts the others, and a date no plan
can make is answered with the day the soonest could arrive."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import Session, select
from test_conversation import Chat

from bots.bootstrap import application
from core.network.geo import haversine_km
from core.network.model import Item, Location, Network, Offer, Participant, Transport
from core.service import lifecycle, records
from core.service.commands import LoadNetwork
from core.store.tables import OrderRow, PlanRow

HAMPDEN = Location(39.3312, -76.6341, "Hampden")
HIGHLANDTOWN = Location(39.2904, -76.5702, "Highlandtown")
DANA = ("telegram", "9001")
CAROL = ("telegram", "9003")
# The chat reads dates against today (UTC); the application's clock is nine this morning.
TODAY = datetime.now(UTC).date()
NINE = datetime.combine(TODAY, time(9))


def network() -> Network:
    """Dana buys in Hampden; Bob, Gus and Fern sell chairs in Highlandtown, ready in 2, 5 and
    10 days (the later, the cheaper); Carol's truck carries any leg at 5.00 + 1.20 a km."""
    sellers = [("bob", "Bob's Hardwoods", 30.0, 2), ("gus", "Gus Furniture", 28.0, 5)]
    sellers.append(("fern", "Fern & Daughters", 25.0, 10))
    return Network.of(
        participants=[
            Participant("dana", "Dana", ("buyer",), HAMPDEN, {"telegram": "9001"}),
            Participant("carol", "Carol's Vans", ("transporter",), None, {"telegram": "9003"}),
            *(Participant(who, name, ("supplier",), HIGHLANDTOWN) for who, name, *_ in sellers),
        ],
        items=[Item("chair", "Chair", mass_kg=6.0)],
        offers=[
            Offer(f"{who}-chairs", who, "chair", price, lead_time_days=days)
            for who, _, price, days in sellers
        ],
        transport=[
            Transport(
                "truck-03",
                "carol",
                capacity_kg=500,
                price_per_km=1.2,
                base_price=5.0,
                speed_kmh=40,
                name="Truck 3",
            )
        ],
    )


KM = haversine_km(HIGHLANDTOWN, HAMPDEN)
LEG_PRICE = f"{5.0 + 1.2 * KM:.2f}"
ON_THE_ROAD = timedelta(minutes=-(-KM * 60 // 40))  # at 40 km/h, whole minutes


@pytest.fixture
def chat(engine) -> Chat:
    services = application(engine, clock=lambda: NINE)
    services.handle(LoadNetwork(None, network()))
    return Chat(services)


def day(when: date) -> str:
    """How the chat names a day: "Tue 8 Dec"."""
    return f"{when:%a} {when.day} {when:%b}"


def arriving(lead_days: int) -> date:
    return (NINE + timedelta(days=lead_days) + ON_THE_ROAD).date()


def offered(chat: Chat, text: str):
    chat.says(DANA, text)
    return chat.outbox("dana", "plans")[-1]


def stored_offers(chat: Chat, order: int) -> list[str]:
    with Session(chat.services.engine) as session:
        rows = session.exec(select(PlanRow).where(PlanRow.order_id == order)).all()
        return sorted(row.tree[0]["source"]["offer"] for row in rows)


def test_each_plan_says_who_carries_it_how_far_and_the_day_it_arrives(chat):
    plans = offered(chat, "/order chair 2")
    text = plans.text
    assert f"Order {plans.order_id}: 3 ways to deliver it. The best:" in text
    for seller, lead in (("Bob", 2), ("Gus", 5), ("Fern", 10)):
        line = next(row for row in text.splitlines() if f"arrives {day(arriving(lead))}" in row)
        carried = text.splitlines()[text.splitlines().index(line) + 1]
        assert seller in carried and f"Truck 3 carries it {KM:.0f} km" in carried, text
    assert [p["arrives"] for p in plans.payload["plans"]] == [
        arriving(lead).isoformat()
        for lead in (10, 5, 2)  # cheapest first
    ]


def bobs_chairs(chat: Chat) -> int:
    order = offered(chat, "/order chair 2").order_id
    chat.says(DANA, f"/choose {order} 3")  # Bob's: the dearest and the soonest
    return order


def test_the_truck_operator_gets_a_frame_with_its_leg_and_the_arrival(chat):
    order = bobs_chairs(chat)
    frame = chat.outbox("carol", "frame")[-1].text
    assert (
        f"Your part: carry 2 × Chair from Bob's Hardwoods to Dana in Truck 3: {KM:.0f} km in "
        f"1 trip, {LEG_PRICE}." in frame
    ), frame
    assert re.search(r"^Arrives (by \w{3} \d+ \w{3}|within \d+ days? of the order)\.$", frame, re.M)
    buyer = chat.outbox("dana", "frame")[-1].text
    assert "• Carol's Vans (transporter) — telegram 9003" in buyer
    whole = chat.says(DANA, f"/terms {order}")
    assert f"carried by Carol's Vans (Truck 3), {KM:.0f} km in 1 trip, {LEG_PRICE}" in whole


def test_the_frame_names_the_day_the_order_arrives(chat):
    bobs_chairs(chat)
    assert f"Arrives by {day(arriving(2))}." in chat.outbox("carol", "frame")[-1].text


def test_the_truck_operator_is_a_party_of_the_order_and_agrees(chat):
    order = bobs_chairs(chat)
    with Session(chat.services.engine) as session:
        assert "carol" in lifecycle.parties(session, records.order(session, order))
    assert "no part" not in chat.says(CAROL, f"/agree {order}")


def test_an_order_by_a_date_keeps_the_plans_that_make_it_and_counts_the_others(chat):
    by = TODAY + timedelta(days=3)  # Bob's chairs make it; Gus's and Fern's cannot
    plans = offered(chat, f"/order chair 2 by {by.isoformat()}")
    assert f"1 way to deliver it by {day(by)}; 2 more cannot make it. The best:" in plans.text
    assert f"· arrives {day(arriving(2))} ·" in plans.text
    assert stored_offers(chat, plans.order_id) == ["bob-chairs"]
    with Session(chat.services.engine) as session:
        assert session.get(OrderRow, plans.order_id).status == "open"


def test_a_date_no_plan_can_make_is_answered_with_the_soonest_arrival(chat):
    plans = offered(chat, "/order chair 2 by today")
    assert (
        f"no plan arrives by {day(TODAY)}; of the 3 there are, the soonest arrives "
        f"{day(arriving(2))}." in plans.text
    ), plans.text
    assert plans.payload["plans"] == [] and stored_offers(chat, plans.order_id) == []
    with Session(chat.services.engine) as session:
        order = session.get(OrderRow, plans.order_id)
        assert order.status == "unplannable"
        assert order.reason == f"no plan can deliver it by {TODAY.isoformat()}"
