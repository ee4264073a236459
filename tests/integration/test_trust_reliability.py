"""Issue 14, findings 5–7: no command fails forever, a command kept while the broker is down is
carried out once, and a delivery cut short repeats at most one message.

The workers here are the real actors, on the in-process broker or a real Redis of the test's
own; the clock is the application's, moved by the test where back-off and claims are timed."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from chair_world import NETWORK
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import text
from sqlmodel import Session, select

from bots.bootstrap import application
from bots.conversation.conversation import ChatConversation
from bots.conversation.messages import Incoming
from bots.conversation.rate_limit import RateLimiter
from core.importers import load_network
from core.service.bus import Services
from core.service.commands import (
    Agree,
    ApplyInbound,
    ChoosePlan,
    Decline,
    LoadNetwork,
    PlaceOrder,
    Receive,
)
from core.service.results import Refused
from core.store.tables import InboundMessage, Notification
from workers.actors import Actors
from workers.broker import make_broker
from workers.delivery import deliver_pending
from workers.senders import RecordingSender, recorded
from workers.sweeper import stale_work

DANA = "584210337"  # Dana's Telegram account in the chair world; Rita is its coordinator
SECRET = "door code 4711"  # what a person typed, which must never reach a log


class Clock:
    """The application's time, moved by the test."""

    def __init__(self):
        self.now = datetime(2026, 11, 23, 9, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def actors(engine, clock, tmp_path) -> Actors:
    """The chair world, and the actors on an in-process broker no worker reads (the test calls
    the actors itself)."""
    services = application(engine, clock)
    services.handle(LoadNetwork(None, load_network(NETWORK).network))
    record = tmp_path / "sent.jsonl"
    return Actors(StubBroker(), services, {"telegram": RecordingSender(record, "telegram")})


@pytest.fixture
def app(actors) -> Services:
    return actors.services


def inbound(services: Services, inbound_id: int) -> InboundMessage:
    with Session(services.engine) as session:
        return session.get(InboundMessage, inbound_id)


def outbox(services: Services, participant: str) -> list[Notification]:
    with Session(services.engine) as session:
        return list(
            session.exec(
                select(Notification)
                .where(Notification.participant_id == participant)
                .order_by(Notification.id)
            )
        )


def count(services: Services, sql: str) -> int:
    with services.engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


class Broken:
    """PlaceOrder's handler made to fail as a bug would: a statement the database refuses
    (a unique key taken), its parameters holding what the person typed."""

    def __init__(self):
        self.calls = 0

    def __call__(self, command, ctx):
        self.calls += 1
        ctx.session.add(
            InboundMessage(
                platform="telegram", message_id=f"{DANA}:1", command="Say", arguments={"w": SECRET}
            )
        )
        ctx.session.flush()


def test_finding_5_a_command_that_keeps_failing_is_a_dead_letter_after_five_tries(
    app, actors, clock, monkeypatch, caplog
):
    broken = Broken()
    monkeypatch.setitem(app.handlers, PlaceOrder, broken)
    caplog.set_level(logging.DEBUG)
    inbound_id = actors.take_in(
        "telegram", f"{DANA}:1", PlaceOrder, {"actor": "dana", "lines": [["chair", 2]]}
    )
    waits = [5, 10, 20, 40]  # seconds before each next try
    for attempt, wait in enumerate(waits, start=1):
        actors.apply_inbound(inbound_id)  # the error is counted, not raised to Dramatiq
        row = inbound(app, inbound_id)
        assert (row.attempts, row.processed_at, row.failed_at) == (attempt, None, None)
        assert row.next_try_at == clock.now + timedelta(seconds=wait)
        # The sweeper leaves a failed command alone until its next try is overdue.
        assert inbound_id not in stale_work(app, 30).inbound
        clock.advance(wait + 31)
        assert inbound_id in stale_work(app, 30).inbound
    actors.apply_inbound(inbound_id)
    row = inbound(app, inbound_id)
    assert row.attempts == 5 and row.processed_at == row.failed_at == clock.now
    assert row.outcome == "failed: IntegrityError" + (
        " (UniqueViolation)" if app.engine.dialect.name == "postgresql" else " (IntegrityError)"
    )
    assert broken.calls == 5
    # Done with: neither the sweeper nor a redelivered job tries it again.
    clock.advance(3600)
    assert inbound_id not in stale_work(app, 30).inbound
    actors.apply_inbound(inbound_id)
    assert broken.calls == 5
    # Dana hears once, in one line, that it could not be done and that a coordinator knows.
    told = outbox(app, "dana")
    assert len(told) == 1 and told[0].payload.get("outcome") is True
    assert "could not carry out" in told[0].text and "coordinator has been told" in told[0].text
    assert "\n" not in told[0].text
    # Rita, the coordinator, hears which command and whose, never the person's words.
    (alert,) = [n for n in outbox(app, "rita") if n.kind == "dead_letter"]
    assert "PlaceOrder" in alert.text and "dana" in alert.text and SECRET not in alert.text
    assert count(app, "SELECT count(*) FROM event WHERE kind = 'dead_letter'") == 1
    # The logs say where it failed, five times, and never what Dana typed.
    assert caplog.text.count("traceback (most recent call last)") == 5
    assert SECRET not in caplog.text


def test_finding_5_sql_errors_never_show_their_parameters(engine):
    with pytest.raises(Exception) as raised, Session(engine) as session:
        session.add(InboundMessage(platform="telegram", message_id="1", command="Say"))
        session.add(
            InboundMessage(platform="telegram", message_id="1", command=SECRET[:60])
        )  # the same key twice
        session.flush()
    assert SECRET not in str(raised.value)
    assert "hidden" in str(raised.value)


def test_finding_5_the_workers_stop_retrying_a_dead_letter(app, clock, monkeypatch, tmp_path):
    """With real worker threads and the application's own back-off (made short): five tries,
    then nothing, however long the workers run."""
    from core.service import inbound as inbound_module

    broken = Broken()
    monkeypatch.setattr(inbound_module, "FIRST_WAIT", timedelta(milliseconds=20), raising=False)
    real = application(app.engine)  # the wall clock: Dramatiq's delays are real time
    monkeypatch.setitem(real.handlers, PlaceOrder, broken)
    broker = StubBroker()
    actors = Actors(
        broker, real, {"telegram": RecordingSender(tmp_path / "sent.jsonl", "telegram")}
    )
    worker = Worker(broker, worker_threads=2, worker_timeout=20)
    worker.start()
    try:
        inbound_id = actors.take_in(
            "telegram", f"{DANA}:1", PlaceOrder, {"actor": "dana", "lines": [["chair", 2]]}
        )
        deadline = time.monotonic() + 20
        while inbound(real, inbound_id).failed_at is None:
            assert time.monotonic() < deadline, f"tried {broken.calls} times, never given up"
            time.sleep(0.05)
        time.sleep(1.5)  # Dramatiq's own retries would come now
        assert broken.calls == 5
        broker.join(actors.apply_inbound.queue_name, timeout=5000)
        assert broker.dead_letters == []  # ended as done, not as Dramatiq's failure
    finally:
        worker.stop()


def placed_with_plans(services: Services) -> int:
    return services.handle(PlaceOrder("dana", (("chair", 2),))).value


def concurrently(services: Services, commands: list) -> list[BaseException]:
    """Each command kept and applied by its own thread, all at once, as workers would."""
    kept = [
        services.handle(
            Receive("telegram", f"race:{n}:{time.monotonic_ns()}", c.__name__, a)
        ).value[0]
        for n, (c, a) in enumerate(commands)
    ]
    start = threading.Barrier(len(kept))
    errors: list[BaseException] = []

    def apply(inbound_id):
        start.wait()
        try:
            services.handle(ApplyInbound(inbound_id))
        except Refused:
            pass
        except BaseException as error:  # noqa: BLE001 — what the test looks for
            errors.append(error)

    threads = [threading.Thread(target=apply, args=(i,)) for i in kept]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_choose_agree_and_decline_of_one_order_at_once_are_carried_out_or_refused(app):
    """The cause found in issue 14 (UniqueViolation): every handler now locks the order first,
    so these wait for one another; each ends done or refused, none in an error."""
    for _ in range(3):
        order = placed_with_plans(app)
        errors = concurrently(
            app,
            [
                (ChoosePlan, {"actor": "dana", "order_id": order, "rank": 1}),
                (ChoosePlan, {"actor": "dana", "order_id": order, "rank": 2}),
                (ChoosePlan, {"actor": "dana", "order_id": order, "rank": 1}),
                (Agree, {"actor": "ana", "order_id": order}),
                (Agree, {"actor": "bob", "order_id": order}),
                (Decline, {"actor": "gus", "order_id": order, "reason": "busy"}),
            ],
        )
        assert errors == []
        assert count(app, f"SELECT count(*) FROM contract WHERE order_id = {order}") >= 1
    assert count(app, "SELECT count(*) FROM inbound_message WHERE processed_at IS NULL") == 0


def test_finding_6_a_command_kept_while_the_broker_is_down_is_received_and_done_once(
    engine, redis_server, tmp_path
):
    services = application(engine)
    services.handle(LoadNetwork(None, load_network(NETWORK).network))
    broker = make_broker(redis_server.url)
    record = tmp_path / "sent.jsonl"
    actors = Actors(broker, services, {"telegram": RecordingSender(record, "telegram")})
    conversation = ChatConversation(
        services, actors.take_in, limiter=RateLimiter(per_minute=60_000, burst=1000)
    )
    redis_server.kill()  # the broker is down when Dana orders
    try:
        replies = conversation.answer(Incoming("telegram", DANA, f"{DANA}:1", "/order chair 2"))
        said = " ".join(r.text for r in replies)
        assert "try again" not in said.lower() and "went wrong" not in said.lower()
        assert count(services, "SELECT count(*) FROM inbound_message") == 1  # kept
        assert count(services, "SELECT count(*) FROM supply_order") == 0  # not yet carried out
    finally:
        redis_server.start()
    worker = Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        actors.sweep.send(0.0)  # what the sweeper's clock does every few seconds
        deadline = time.monotonic() + 20
        while count(services, "SELECT count(*) FROM inbound_message WHERE processed_at IS NULL"):
            assert time.monotonic() < deadline, "the kept command was never carried out"
            time.sleep(0.05)
        deadline = time.monotonic() + 20
        while len(recorded(record)) < 2:
            assert time.monotonic() < deadline, recorded(record)
            time.sleep(0.05)
    finally:
        worker.stop()
    assert count(services, "SELECT count(*) FROM supply_order") == 1
    # 432: examples/chair.yaml's 48 plans to dana, with seat-maker.yaml's 18 ways to a seat
    assert [r["text"].split(".")[0] for r in recorded(record)] == [
        "Order 1 received",
        "Order 1: 432 ways to deliver it",
    ]


class Crash(BaseException):  # noqa: N818 — the process dying, which no `except Exception` sees
    pass


class CrashAfter:
    """Sends, and after the `n`th message dies before anything is recorded."""

    platform = "telegram"

    def __init__(self, record, n: int):
        self.inner, self.n, self.sent = RecordingSender(record, "telegram"), n, 0

    def send(self, address, message):
        self.inner.send(address, message)
        self.sent += 1
        if self.sent == self.n:
            raise Crash()


def queue_messages(services: Services, participant: str, n: int) -> None:
    with Session(services.engine) as session, session.begin():
        for i in range(n):
            session.add(Notification(participant_id=participant, kind="note", text=f"message {i}"))


def duplicates(record) -> int:
    return sum(c - 1 for c in Counter(r["notification"] for r in recorded(record)).values())


def test_finding_7_a_crash_in_the_middle_of_a_delivery_repeats_at_most_one_message(
    app, clock, tmp_path, monkeypatch
):
    monkeypatch.setenv("SCIS_DELIVERY_CLAIM_SECONDS", "60")
    record = tmp_path / "sent.jsonl"
    queue_messages(app, "dana", 20)
    with pytest.raises(Crash):
        deliver_pending(app, {"telegram": CrashAfter(record, 6)}, "dana")
    # At once, another worker sends nothing: the sixth message may be on its way still, and
    # Dana's messages go in order.
    assert deliver_pending(app, {"telegram": RecordingSender(record, "telegram")}, "dana").sent == 0
    clock.advance(61)  # the claim is stale: the worker that held it is dead
    drained = deliver_pending(app, {"telegram": RecordingSender(record, "telegram")}, "dana")
    texts = [r["text"] for r in recorded(record)]
    print(f"\nfinding 7, crash after the 6th of 20: {len(texts)} sent, {duplicates(record)} twice")
    assert sorted(set(texts), key=lambda t: int(t.split()[1])) == [
        f"message {i}" for i in range(20)
    ]
    assert duplicates(record) == 1 and texts[5] == texts[6] == "message 5"  # only the one
    assert (
        drained.sent == 15
        and count(app, "SELECT count(*) FROM notification WHERE status = 'pending'") == 0
    )


class TerminatesItsDatabase:
    """Sends, and after the `n`th message has every other connection to the database cut
    (pg_terminate_backend), as a failover or a restarted server would."""

    platform = "telegram"

    def __init__(self, record, engine, n: int):
        self.inner, self.engine, self.n, self.sent = (
            RecordingSender(record, "telegram"),
            engine,
            n,
            0,
        )
        self.terminated = 0

    def send(self, address, message):
        self.inner.send(address, message)
        self.sent += 1
        if self.sent == self.n:
            with self.engine.connect() as connection:
                self.terminated = connection.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_finding_7_a_connection_cut_during_a_delivery_sends_nothing_twice(app, tmp_path):
    from sqlalchemy import create_engine

    record = tmp_path / "sent.jsonl"
    queue_messages(app, "dana", 20)
    killer = create_engine(app.engine.url, poolclass=__import__("sqlalchemy").pool.NullPool)
    sender = TerminatesItsDatabase(record, killer, 10)
    for _ in range(3):  # as the actor's retries would
        try:
            deliver_pending(app, {"telegram": sender}, "dana")
            break
        except Exception:  # noqa: BLE001 — the cut connection, retried
            continue
    killer.dispose()
    assert sender.terminated >= 1
    print(f"\nfinding 7, connection cut after the 10th of 20: {duplicates(record)} twice")
    assert {r["text"] for r in recorded(record)} == {f"message {i}" for i in range(20)}
    assert duplicates(record) <= 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_cut_while_a_send_is_recorded_is_recorded_on_a_new_one(app, tmp_path):
    """The connection dies in the very transaction that records a message as sent: that record
    is made again on a new connection, and the message is not sent twice."""
    from sqlalchemy import create_engine, event, pool

    record = tmp_path / "sent.jsonl"
    queue_messages(app, "dana", 5)
    killer = create_engine(app.engine.url, poolclass=pool.NullPool)
    cut: list[int] = []

    def cut_the_first_record(conn, cursor, statement, parameters, context, executemany):
        if not cut and statement.startswith("UPDATE notification SET status"):
            backend = cursor.connection.info.backend_pid
            with killer.connect() as connection:
                connection.execute(text(f"SELECT pg_terminate_backend({backend})"))
            cut.append(backend)

    event.listen(app.engine, "before_cursor_execute", cut_the_first_record)
    try:
        drained = deliver_pending(app, {"telegram": RecordingSender(record, "telegram")}, "dana")
    finally:
        event.remove(app.engine, "before_cursor_execute", cut_the_first_record)
        killer.dispose()
    assert cut and drained.sent == 5 and duplicates(record) == 0
    assert count(app, "SELECT count(*) FROM notification WHERE status = 'sent'") == 5
