"""Issue 18, part 1: stages get due dates, and a stage running late is told to its owner and the
buyer once. Dana orders two chairs from Bob, whose chairs take two days; the parties arrange the
carrying (no transport is declared), so the stages are s1 confirm and s2 ship (Bob's), s3
receive and s4 accept (Dana's). A clock of our own moves past the due dates; the sweeper's tick
(workers/actors.py) runs the check."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlmodel import Session, select
from test_conversation import Chat

from bots.bootstrap import application
from bots.conversation.notices import render
from core.network.model import Item, Location, Network, Offer, Participant
from core.service import records
from core.service.commands import AssertStage, LoadNetwork
from core.service.lateness import TellLateStages
from core.service.lifecycle import live_contract
from core.service.notices import Next
from core.service.notices.stages import StageLate
from core.service.risk import order_risk
from core.store.tables import StageRow
from workers.actors import Actors

DANA = ("telegram", "9001")
BOB = ("telegram", "9002")
# The chat reads dates against today (UTC); the application's clock starts at nine this morning.
TODAY = datetime.now(UTC).date()
NINE = datetime.combine(TODAY, time(9))
TWO_DAYS = timedelta(days=2)


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def network() -> Network:
    here = Location(39.3312, -76.6341, "Hampden")
    return Network.of(
        participants=[
            Participant("dana", "Dana", ("buyer",), here, {"telegram": "9001"}),
            Participant("bob", "Bob's Hardwoods", ("supplier",), here, {"telegram": "9002"}),
            Participant("gus", "Gus Furniture", ("supplier",), here, {"telegram": "9004"}),
        ],
        items=[Item("chair", "Chair", mass_kg=6.0)],
        offers=[
            Offer("bob-chairs", "bob", "chair", 30.0, lead_time_days=2),
            # Dearer and slower: what a re-plan turns to when Bob cannot.
            Offer("gus-chairs", "gus", "chair", 40.0, lead_time_days=5),
        ],
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(NINE)


@pytest.fixture
def chat(engine, clock) -> Chat:
    services = application(engine, clock)
    services.handle(LoadNetwork(None, network()))
    return Chat(services)


def agreed_order(chat: Chat, text: str = "/order chair 2") -> int:
    chat.says(DANA, text)
    order = chat.outbox("dana", "plans")[-1].order_id
    chat.says(DANA, f"/choose {order} 1")
    chat.says(BOB, f"/agree {order}")
    assert stages(chat, order), "the order did not start"
    return order


def stages(chat: Chat, order: int) -> dict[str, StageRow]:
    with Session(chat.services.engine) as session:
        contract = live_contract(session, order)
        rows = session.exec(select(StageRow).where(StageRow.contract_id == contract.id)).all()
        return {row.code: row for row in rows}


def late_notices(chat: Chat, who: str) -> list[str]:
    return [n.text for n in chat.outbox(who, "late")]


def sweep(chat: Chat) -> None:
    """One tick of the sweeper, as `scis worker` and the in-process clock send it."""
    Actors(StubBroker(), chat.services, {})._sweep(30.0)


def test_without_a_due_date_stages_are_due_when_the_plan_can_do_them(chat):
    order = agreed_order(chat)
    due = {code: row.due_at for code, row in stages(chat, order).items()}
    # Bob's two days on his confirm; the carrying nobody timed takes none.
    assert due == {
        "s1": NINE + TWO_DAYS,
        "s2": NINE + TWO_DAYS,
        "s3": NINE + TWO_DAYS,
        "s4": NINE + TWO_DAYS,
    }


def test_a_stage_after_a_time_nobody_gave_is_never_told_late(engine, clock):
    """Bob gives no lead time: without an order due date, his confirm and everything after it
    promise no date, so nobody hears "late" a minute after agreeing (found by the pipeline
    benchmark: thousands of such notices at the first sweep), nor a week later."""
    untimed = network().with_records(offers=[Offer("bob-chairs", "bob", "chair", 30.0)])
    services = application(engine, clock)
    services.handle(LoadNetwork(None, untimed))
    chat = Chat(services)
    order = agreed_order(chat)
    assert {row.due_at for row in stages(chat, order).values()} == {None}
    for later in (timedelta(minutes=1), timedelta(days=7)):
        clock.at = NINE + later
        sweep(chat)
    assert late_notices(chat, "bob") == late_notices(chat, "dana") == []


def test_a_supplier_that_ships_the_same_day_is_late_only_once_that_day_is_over(engine, clock):
    """Bob ships the same day (lead time 0): his confirm is due the moment everyone agreed, at
    nine. People are promised days, so nobody hears "1 minute late" at one minute past nine
    (seen in a terminal session: the hurricane city's hardware store, told right after it
    agreed), nor in the evening; after midnight, Bob and Dana hear it once."""
    same_day = network().with_records(
        offers=[Offer("bob-chairs", "bob", "chair", 30.0, lead_time_days=0)]
    )
    services = application(engine, clock)
    services.handle(LoadNetwork(None, same_day))
    chat = Chat(services)
    order = agreed_order(chat)
    assert stages(chat, order)["s1"].due_at == NINE
    for later in (timedelta(minutes=1), timedelta(hours=14, minutes=59)):
        clock.at = NINE + later
        sweep(chat)
    assert late_notices(chat, "bob") == late_notices(chat, "dana") == []
    assert chat.services.read(lambda s: order_risk(chat.services, s, order)).late == ()
    clock.at = NINE + timedelta(hours=15, minutes=1)  # one minute past midnight
    sweep(chat)
    [to_bob] = late_notices(chat, "bob")
    assert "s1 (confirm 2 × Chair) was due" in to_bob and "is 15 hours late" in to_bob
    assert len(late_notices(chat, "dana")) == 1


def test_a_late_stage_is_told_to_its_owner_and_the_buyer_once(chat, clock):
    order = agreed_order(chat)
    clock.at = NINE + timedelta(days=1)
    chat.says(BOB, f"/done {order} s1")  # in time
    clock.at = NINE + TWO_DAYS - timedelta(minutes=1)
    sweep(chat)
    assert late_notices(chat, "bob") == late_notices(chat, "dana") == []

    clock.at = NINE + timedelta(days=3)
    sweep(chat)
    sweep(chat)  # a second tick tells nobody again
    [to_bob] = late_notices(chat, "bob")
    [to_dana] = late_notices(chat, "dana")
    due = NINE + TWO_DAYS
    day = f"{due:%a} {due.day} {due:%b}"
    assert to_bob == (
        f"Order {order}: s2 (ship 2 × Chair) was due {day} and is 1 day late; done now, the order "
        f"can arrive {clock.at:%a} {clock.at.day} {clock.at:%b}. Say /done {order} s2 when it is."
    )
    assert f"s2 (ship 2 × Chair by Bob's Hardwoods) was due {day}" in to_dana
    assert "We told Bob's Hardwoods" in to_dana and f"/stages {order}" in to_dana
    # s1, done in time, is never told; the stages behind s2 wait for their turn.
    rows = stages(chat, order)
    assert [code for code, row in sorted(rows.items()) if row.late_told_at] == ["s2"]
    assert chat.services.read(lambda s: order_risk(chat.services, s, order)).late == (
        "s2",
        "s3",
        "s4",
    )

    # Done late: s2 is not told again; s3, Dana's own and late now, is told to her once.
    chat.says(BOB, f"/done {order} s2")
    sweep(chat)
    assert len(late_notices(chat, "bob")) == 1
    assert [t.split(" was")[0] for t in late_notices(chat, "dana")] == [
        f"Order {order}: s2 (ship 2 × Chair by Bob's Hardwoods)",
        f"Order {order}: s3 (receive 2 × Chair)",
    ]


def test_two_sweepers_at_once_tell_each_late_stage_once(chat, clock, monkeypatch):
    order = agreed_order(chat)
    clock.at = NINE + timedelta(days=3)
    # Both sweepers read the late stages before either claims one: the race the claim is for.
    # SQLite takes its one write lock at BEGIN, so there the two run one after the other.
    racing = chat.services.engine.dialect.name == "postgresql"
    both_read = threading.Barrier(2 if racing else 1, timeout=10)
    read_once = threading.local()
    graph_of = records.stage_graph

    def read_then_wait(session, contract_id):
        graph = graph_of(session, contract_id)
        if not getattr(read_once, "done", False):
            read_once.done = True
            both_read.wait()
        return graph

    monkeypatch.setattr(records, "stage_graph", read_then_wait)
    told: list[list] = []
    failures: list[BaseException] = []

    def tick() -> None:
        try:
            told.append(chat.services.handle(TellLateStages()).value)
        except BaseException as problem:  # noqa: BLE001 -- reported below
            failures.append(problem)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and sorted(told) == [[], [(order, "s1")]], (told, failures)
    assert len(late_notices(chat, "bob")) == 1 and len(late_notices(chat, "dana")) == 1
    assert stages(chat, order)["s1"].late_told_at == NINE + timedelta(days=3)


def test_with_a_due_date_stages_are_due_counted_back_and_the_buyer_hears_it_cannot_make_it(
    chat, clock
):
    by = TODAY + timedelta(days=4)
    order = agreed_order(chat, f"/order chair 2 by {by.isoformat()}")
    end = datetime.combine(by + timedelta(days=1), time())
    # Nothing after Bob's confirm takes time, so each stage may be done until the end of that day.
    assert {row.due_at for row in stages(chat, order).values()} == {end}
    clock.at = end + timedelta(hours=5)
    sweep(chat)
    [to_dana] = late_notices(chat, "dana")
    assert f"is 5 hours late; the order can no longer arrive by {by:%a} {by.day} {by:%b}" in (
        to_dana
    )


def test_a_replan_makes_its_new_stages_due_from_the_time_it_is_adopted(chat, clock):
    order = agreed_order(chat)
    clock.at = NINE + timedelta(days=1)
    chat.says(BOB, f"/fail {order} s1 the lathe broke")
    live = {
        row.code: row
        for row in stages(chat, order).values()
        if row.status != "superseded" and row.owner_id == "gus"
    }
    assert live, "the order was not re-planned with Gus's chairs"
    # Gus's chairs take five days, counted from the re-plan.
    assert {row.due_at for row in live.values()} == {clock.at + timedelta(days=5)}


def test_a_late_stage_with_slack_left_says_by_when_it_must_be_done():
    # Counted back from the order's due date a late stage has no slack left, unless the plan's
    # times changed since (a re-plan); then the owner hears how long they still have.
    notice = StageLate(
        order_id=12,
        stage="s7",
        stage_kind="make",
        quantity=20,
        item="Face shield",
        owner="Bea's Bench",
        due=datetime(2026, 12, 8, 18, 0),
        late_minutes=24 * 60,
        order_due=date(2026, 12, 12),
        done_by=datetime(2026, 12, 10, 18, 0),
        slack_minutes=24 * 60,
        arrives=datetime(2026, 12, 11, 18, 0),
        unknown=0,
        to_owner=True,
        next=(Next(AssertStage, (12, "s7"), given=(("status", "done"),)),),
    )
    assert render(notice).text == (
        "Order 12: s7 (make 20 × Face shield) was due Tue 8 Dec and is 1 day late; the order "
        "can still arrive by Sat 12 Dec if it is done by Thu 10 Dec. Say /done 12 s7 when it is."
    )
