"""Assertions on one order that arrive at the same moment, on SQLite and on PostgreSQL.

Each assertion writes rows of its own (its stage, its assertion, its event, its messages), so
two of them never overwrite each other's rows. What they share is what each handler derives
from the whole stage graph it reads: the progress it tells the person, the stages it unblocks,
the order's completion once every stage is done, and whether the message was seen before. Read
before the other commits, that graph is stale: both people are told the same progress, a
dependent whose last two prerequisites finish together is never unblocked, the order whose last
two stages finish together is never completed (each handler still saw the other stage
pending), and a redelivered message is applied twice (or the second insert hits the unique
constraint and the person gets an error). What keeps the graph fresh is the order's row lock
(records.order(..., lock=True)): the handlers of one order run one after the other, and the
second reads what the first committed. On SQLite, BEGIN IMMEDIATE serialises every writer
anyway. So the tests below demand that the outcome of two concurrent assertions is the outcome
of running them one after the other, in one order or the other.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from chair_world import (
    Clock,
    agree_all,
    agreed_order,
    chair_services,
    done,
    order_chairs,
    owners,
    stages,
)
from sqlalchemy import func
from sqlmodel import Session, select

from bots.bootstrap import application
from core.service import records
from core.service.bus import Services
from core.service.commands import AssertStage, ChoosePlan
from core.service.queries import order_state
from core.service.results import Origin
from core.stages.graph import StageGraph
from core.stages.progress import progress
from core.stages.update import Assertion, apply
from core.store.tables import AssertionRow, EventRow, Notification, StageRow

# Ten rounds, two stages each, owned by different people, asserted at the same moment; fern's
# leg confirm is done before. Some pairs depend on each other (out of order is then decided by
# who commits first), and the last pair is the last two stages: the order completes then.
ROUNDS = [
    (("leg", "ship"), ("foam-block", "confirm")),
    (("leg", "receive"), ("foam-block", "ship")),
    (("foam-block", "receive"), ("seat-fabric", "confirm")),
    (("seat-fabric", "ship"), ("back", "confirm")),
    (("seat-fabric", "receive"), ("back", "ship")),
    (("seat", "make"), ("back", "receive")),
    (("seat", "inspect"), ("seat", "receive")),
    (("seat", "ship"), ("chair", "make")),
    (("chair", "inspect"), ("chair", "receive")),
    (("chair", "ship"), ("chair", "accept")),
]
NOTED = re.compile(r"Order \d+: (\S+) .*?(\d+)% of the stages are done\.")
# The answer to the assertion that completes the order says so instead of "100%".
COMPLETING = re.compile(r"Order \d+: (\S+) \w+ is done\. Order \d+ is complete\.")
UNBLOCKED = re.compile(r"Order \d+: (\S+) ")
MOMENT = datetime(2026, 11, 23, 12, 0)  # when the model applies an assertion; it plays no part


@pytest.fixture
def world(engine):
    clock = Clock()
    services = chair_services(engine, clock)
    return engine, clock, services, agreed_order(services)


def at_once(engine, clock, *commands: AssertStage) -> list:
    """Each command handled in a thread of its own, by Services of its own (as two bot workers
    would), all released together by a barrier. Returns the values; an exception in a thread
    is raised here."""
    barrier = threading.Barrier(len(commands))

    def handle(command):
        services = application(engine, clock)
        barrier.wait()
        return services.handle(command).value

    with ThreadPoolExecutor(len(commands)) as pool:
        futures = [pool.submit(handle, command) for command in commands]
        return [future.result(timeout=60) for future in futures]


def graph_of(services: Services, order_id: int) -> StageGraph:
    def read(session):
        return records.stage_graph(session, records.latest_contract(session, order_id).id)

    return services.read(read)


def high_water(engine) -> tuple[int, int]:
    """The newest event and notification ids: what a round adds comes after them."""
    with Session(engine) as session:
        event = session.exec(select(func.max(EventRow.id))).one() or 0
        note = session.exec(select(func.max(Notification.id))).one() or 0
    return event, note


def outcome(engine, order_id: int, since: tuple[int, int], messages: list[str]) -> Counter:
    """What a round changed that depends on the graph each handler read: the progress each
    person was told, whom it unblocked, the out-of-order flags, and completions."""
    with Session(engine) as session:
        notes = session.exec(
            select(Notification).where(
                Notification.order_id == order_id, Notification.id > since[1]
            )
        ).all()
        events = session.exec(
            select(EventRow).where(EventRow.order_id == order_id, EventRow.id > since[0])
        ).all()
        flags = session.exec(
            select(StageRow.code, AssertionRow.out_of_order)
            .join(StageRow, StageRow.id == AssertionRow.stage_id)
            .where(AssertionRow.platform == "telegram", AssertionRow.message_id.in_(messages))
        ).all()
    found: Counter = Counter()
    for note in notes:
        if note.kind == "noted":
            stage, percent = NOTED.match(note.text).groups()
            found[("noted", note.participant_id, stage, int(percent))] += 1
        elif note.kind == "completed" and (completing := COMPLETING.match(note.text)):
            found[("noted", note.participant_id, completing.group(1), 100)] += 1
        elif note.kind == "unblocked":
            found[("unblocked", note.participant_id, UNBLOCKED.match(note.text).group(1))] += 1
    for code, flag in flags:
        found[("out_of_order", code, flag)] += 1
    found[("completed",)] = sum(e.kind == "completed" for e in events)
    return +found  # zero counts dropped


def serial(graph: StageGraph, first: AssertStage, second: AssertStage) -> Counter:
    """`outcome` of the two assertions applied one after the other, as the handler applies
    them (core.stages.update.apply on the graph it read)."""
    expected: Counter = Counter()
    for command in (first, second):
        applied = apply(graph, Assertion(command.stage, "done", command.actor, MOMENT))
        graph = applied.graph
        expected[("noted", command.actor, command.stage, progress(graph).overall.percent)] += 1
        for waiting in applied.unblocked:
            if waiting.owner and waiting.owner != command.actor:
                expected[("unblocked", waiting.owner, waiting.id)] += 1
        expected[("out_of_order", command.stage, applied.out_of_order)] += 1
    if all(s.status == "done" for s in graph):
        expected[("completed",)] += 1
    return expected


def rows_of(engine, platform: str, message: str) -> tuple[list[AssertionRow], list[EventRow]]:
    with Session(engine) as session:
        assertions = session.exec(
            select(AssertionRow).where(
                AssertionRow.platform == platform, AssertionRow.message_id == message
            )
        ).all()
        events = session.exec(
            select(EventRow).where(EventRow.platform == platform, EventRow.message_id == message)
        ).all()
    return list(assertions), list(events)


def test_two_assertions_at_once_are_both_kept_as_if_one_after_the_other(world):
    engine, clock, services, order = world
    code, who = stages(services, order), owners(services, order)
    done(services, order, "fern", code[("leg", "confirm")], "first")
    for n, keys in enumerate(ROUNDS):
        pair = [
            AssertStage(who[code[k]], order, code[k], "done", "", Origin("telegram", f"r{n}-{i}"))
            for i, k in enumerate(keys)
        ]
        a, b = pair
        assert a.actor != b.actor
        before, since = graph_of(services, order), high_water(engine)

        assert at_once(engine, clock, a, b) == ["done", "done"]

        state = services.read(lambda s: order_state(s, order))
        assert state.stages[a.stage] == state.stages[b.stage] == "done", n
        for command in pair:
            assertions, events = rows_of(engine, "telegram", command.origin.message_id)
            assert [(r.participant_id, r.status) for r in assertions] == [(command.actor, "done")]
            assert [(e.kind, e.actor_id, e.data["stage"]) for e in events] == [
                ("stage_asserted", command.actor, command.stage)
            ]
        # Both people heard back, and what they heard is what one order or the other says:
        # a handler that read the graph before the other committed fails this.
        got = outcome(engine, order, since, [a.origin.message_id, b.origin.message_id])
        assert got in (serial(before, a, b), serial(before, b, a)), (n, a.stage, b.stage, got)

    final = services.read(lambda s: order_state(s, order))
    assert final.status == "completed" and final.contract_status == "completed"
    assert set(final.stages.values()) == {"done"}


def test_a_redelivered_assertion_is_applied_once(world):
    engine, clock, services, order = world
    leg = stages(services, order)[("leg", "confirm")]
    since = high_water(engine)
    first = done(services, order, "fern", leg, "m1")
    once = high_water(engine)

    again = done(services, order, "fern", leg, "m1")

    assert first.value == "done" and again.value == "already applied"
    assert again.events == [] and again.messages == []
    assert high_water(engine) == once  # no event, no notification from the second
    assertions, events = rows_of(engine, "telegram", "m1")
    assert len(assertions) == 1 and [e.kind for e in events] == ["stage_asserted"]
    with Session(engine) as session:
        sent = session.exec(select(Notification).where(Notification.id > since[1])).all()
    assert [(n.participant_id, n.kind) for n in sent] == [("fern", "noted")]
    assert [(m.participant_id, m.kind) for m in first.messages] == [("fern", "noted")]


def test_a_message_delivered_twice_at_once_is_applied_once(world):
    engine, clock, services, order = world
    who = owners(services, order)
    for n, stage in enumerate(list(who)[:10]):  # dependencies first
        command = AssertStage(who[stage], order, stage, "done", "", Origin("telegram", f"d{n}"))
        before, since = graph_of(services, order), high_water(engine)

        values = at_once(engine, clock, command, command)  # no exception reaches the person

        assert sorted(values) == ["already applied", "done"], (n, stage, values)
        assertions, events = rows_of(engine, "telegram", f"d{n}")
        assert len(assertions) == 1 and [e.kind for e in events] == ["stage_asserted"]
        expected = apply(before, Assertion(stage, "done", command.actor, MOMENT))
        got = outcome(engine, order, since, [f"d{n}"])
        assert got[("noted", command.actor, stage, progress(expected.graph).overall.percent)] == 1
        assert sum(got[k] for k in got if k[0] == "noted") == 1


def test_one_message_at_once_on_two_orders_is_applied_once_and_never_errs(world):
    """Message ids are unique per platform (Telegram's adapter prefixes the chat), so the same id
    on two orders is one message delivered twice: applied once, and neither caller sees an
    error — the order locks do not serialise the two, the unique constraint does, and the
    loser runs again and finds the message seen."""
    engine, clock, services, first = world
    # ana-shop makes 3 chairs a week and the first order took 2 of them, so the second order's
    # cheapest plan assembles its 2 chairs at eli-studio: eli agrees instead of ana.
    second = order_chairs(services, 2)
    services.handle(ChoosePlan("dana", second, 1))
    agree_all(services, second, ["eli", "fern", "gus", "hal", "bob"])
    for n, (owner, key) in enumerate([("fern", ("leg", "confirm")), ("gus", ("back", "confirm"))]):
        origin = Origin("telegram", f"twin-{n}")
        values = at_once(
            engine,
            clock,
            AssertStage(owner, first, stages(services, first)[key], "done", "", origin),
            AssertStage(owner, second, stages(services, second)[key], "done", "", origin),
        )
        assert sorted(values) == ["already applied", "done"], (n, values)
        assertions, events = rows_of(engine, "telegram", f"twin-{n}")
        assert len(assertions) == 1 and len(events) == 1
