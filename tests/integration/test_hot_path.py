"""The assertion path's database work, counted, on SQLite and on PostgreSQL: a stage asserted
from chat is kept in one transaction and carried out in one more, with no savepoint and no ping
before a checkout; its answers leave from the worker that carried it out, first claimed in its
transaction, in a drain that commits around each send and reads the outbox only when what it
read ran out; a connection the server cut is renewed without an error
reaching anyone. Every statement costs CPU on both sides: these tests fail when one comes back."""

from __future__ import annotations

import pytest
from chair_world import agreed_order, chair_services, owners, stage_status
from dramatiq.brokers.stub import StubBroker
from dramatiq.message import Message
from sqlalchemy import create_engine, event, pool, text
from sqlmodel import Session, select

from core.service.bus import Context
from core.service.commands import ApplyInbound, AssertStage, Receive
from core.store.tables import EventRow, Notification
from core.store.unit_of_work import UnitOfWork
from workers.actors import Actors
from workers.delivery import FirstClaims, deliver_pending
from workers.senders import RecordingSender, recorded


class Counted:
    """What reaches the database through `engine` while it is on: statements (BEGIN aside),
    transactions, savepoints, and pings before a checkout."""

    def __init__(self, engine, monkeypatch):
        self.engine = engine
        self.statements: list[str] = []
        self.transactions = self.savepoints = self.pings = 0
        ping = engine.dialect.do_ping

        def counted_ping(connection):
            self.pings += 1
            return ping(connection)

        monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)

    def _statement(self, _conn, _cursor, statement, _parameters, _context, _many):
        if not statement.startswith("BEGIN"):
            self.statements.append(" ".join(statement.split()[:3]))

    def _begin(self, _conn):
        self.transactions += 1

    def _savepoint(self, _conn, _name):
        self.savepoints += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "begin", self._begin)
        event.listen(self.engine, "savepoint", self._savepoint)
        return self

    def __exit__(self, *_):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "begin", self._begin)
        event.remove(self.engine, "savepoint", self._savepoint)


def first_stage(services, order):
    stage, owner = next(iter(owners(services, order).items()))
    return stage, owner


def test_a_stage_asserted_from_chat_takes_two_transactions_and_no_savepoint(engine, monkeypatch):
    services = chair_services(engine)
    order = agreed_order(services)
    stage, owner = first_stage(services, order)
    arguments = {"actor": owner, "order_id": order, "stage": stage, "status": "done"}
    loaded: list[object] = []  # ORM objects: what the assertion reads is read as Core rows

    def remember(_session, instance):
        loaded.append(instance)

    event.listen(Session, "loaded_as_persistent", remember)
    try:
        with Counted(engine, monkeypatch) as counted:
            kept = services.handle(Receive("telegram", "hot-1", "AssertStage", arguments))
            inbound, new = kept.value
            applied = services.handle(ApplyInbound(inbound))
    finally:
        event.remove(Session, "loaded_as_persistent", remember)
    assert loaded == []
    assert new and applied.value == "done"
    assert [m.kind for m in applied.messages][:1] == ["noted"]
    assert (counted.transactions, counted.savepoints, counted.pings) == (2, 0, 0)
    # Keep: one INSERT. Carry out: the message marked done and locked in one UPDATE that
    # returns what it carries; the order locked with the asserter's row, then the contract
    # with its stages and their owners' decisions (as Core rows); the assertion, the event,
    # the messages inserted (one INSERT for all of them), the stage updated.
    assert len(counted.statements) <= 8, counted.statements
    again = services.handle(Receive("telegram", "hot-1", "AssertStage", arguments)).value
    assert again == (inbound, False)  # a message delivered twice is kept once


def test_a_handlers_events_and_messages_are_one_insert_each_read_back_and_rolled_back(
    engine, monkeypatch
):
    services = chair_services(engine)
    order = agreed_order(services)
    said = select(EventRow.data).where(EventRow.order_id == order, EventRow.kind == "said")
    queued = select(Notification.text).where(Notification.kind == "chat")
    with UnitOfWork(engine) as uow:
        ctx = Context(uow.session, services.clock, services)
        ctx.record("said", {"text": "dropped"}, order, "dana")
        ctx.tell("ana", "chat", "dropped")
        uow.rollback()  # as a refused chat command's transaction is: nothing of it stays
        with Counted(engine, monkeypatch) as counted:
            first = ctx.record("said", {"text": "one"}, order, "dana")
            ctx.record("said", {"text": "two"}, order, "dana")
            ctx.tell("ana", "chat", "one", order)
            ctx.tell("bob", "chat", "two", order)
            # Read back in the same transaction, as /history and plan counts read events.
            assert uow.session.exec(said).all() == [{"text": "one"}, {"text": "two"}]
        # The events with their ids in the order recorded: on SQLite, whose RETURNING keeps no
        # order, one INSERT each.
        events = 1 if engine.dialect.name == "postgresql" else 2
        assert counted.statements == ["INSERT INTO event"] * events + [
            "INSERT INTO notification",
            "SELECT event.data FROM",
        ]
        assert first.id > 0  # known once written: it names a relayed chat line
        uow.commit()
    with Session(engine) as session:
        assert session.exec(said).all() == [{"text": "one"}, {"text": "two"}]
        assert session.exec(queued).all() == ["one", "two"]


def test_a_drain_commits_around_each_send_and_never_reads_an_empty_round(
    engine, monkeypatch, tmp_path
):
    services = chair_services(engine)
    with Session(engine) as session, session.begin():
        for n in range(3):
            session.add(Notification(participant_id="dana", kind="note", text=f"message {n}"))
    record = tmp_path / "sent.jsonl"
    with Counted(engine, monkeypatch) as counted:
        drained = deliver_pending(
            services, {"telegram": RecordingSender(record, "telegram")}, "dana"
        )
    assert drained.sent == 3
    assert [r["text"] for r in recorded(record)] == ["message 0", "message 1", "message 2"]
    # The first claim (the recipient locked, with their chat accounts and pending messages
    # read in the same statement; the message claimed), then one transaction per send: it
    # marked sent, the next claimed (after the last: the outbox read again, for what came
    # meanwhile).
    assert (counted.transactions, counted.pings) == (4, 0)
    assert len(counted.statements) == 2 + 2 * 3, counted.statements


def test_a_chat_commands_answers_leave_from_its_worker_first_claimed_in_its_transaction(
    engine, monkeypatch, tmp_path
):
    """The worker that carries out a kept command sends its messages itself: no `deliver` job
    through the broker, and each recipient's first message claimed in the command's own
    transaction; then one transaction per message sent, as every drain has."""
    services = chair_services(engine)
    order = agreed_order(services)
    stage, owner = first_stage(services, order)
    record = tmp_path / "sent.jsonl"
    broker = StubBroker()
    senders = {platform: RecordingSender(record, platform) for platform in ("telegram", "matrix")}
    actors = Actors(broker, services, senders)
    with engine.begin() as connection:  # what the set-up told people is out already
        connection.execute(text("UPDATE notification SET status = 'sent'"))
    arguments = {"actor": owner, "order_id": order, "stage": stage, "status": "done"}
    inbound = actors.take_in("telegram", "hot-3", AssertStage, arguments)
    queue = broker.queues["default"]
    assert Message.decode(queue.get_nowait()).actor_name == "apply_inbound"
    with Counted(engine, monkeypatch) as counted:
        actors.apply_inbound.fn(inbound)
    sent = recorded(record)
    assert sent and sent[0]["text"].startswith(f"Order {order}: {stage} ")  # the answer first
    assert queue.empty()  # nothing went through the broker
    assert (counted.transactions, counted.savepoints) == (1 + len(sent), 0)
    with Session(engine) as session:
        pending = select(Notification).where(Notification.status != "sent")
        assert session.exec(pending).all() == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_message_behind_another_workers_send_is_sent_after_the_commit(
    engine, monkeypatch, tmp_path
):
    """Another worker is sending to the asserter when the assertion is carried out, and it
    finishes (its message marked sent, the outbox found empty) before the assertion commits:
    the answer is not claimed in the assertion's transaction, and the worker's drain after the
    commit sends it, instead of leaving it to the sweeper."""
    services = chair_services(engine)
    order = agreed_order(services)
    stage, owner = first_stage(services, order)
    record = tmp_path / "sent.jsonl"
    senders = {platform: RecordingSender(record, platform) for platform in ("telegram", "matrix")}
    actors = Actors(StubBroker(), services, senders)
    with engine.begin() as connection:
        connection.execute(text("UPDATE notification SET status = 'sent'"))
    with Session(engine) as session, session.begin():
        in_flight = Notification(
            participant_id=owner, kind="note", text="in flight", claimed_at=services.clock()
        )
        session.add(in_flight)
        session.flush()
        in_flight_id = in_flight.id
    arguments = {"actor": owner, "order_id": order, "stage": stage, "status": "done"}
    inbound = actors.take_in("telegram", "hot-4", AssertStage, arguments)
    claim = FirstClaims.__call__

    def then_the_other_worker_finishes(self, session, result):
        claim(self, session, result)
        with engine.begin() as connection:
            sent = "UPDATE notification SET status = 'sent' WHERE id = :id"
            connection.execute(text(sent), {"id": in_flight_id})

    monkeypatch.setattr(FirstClaims, "__call__", then_the_other_worker_finishes)
    actors.apply_inbound.fn(inbound)
    sent = recorded(record)
    assert len(sent) == 1 and sent[0]["text"].startswith(f"Order {order}: {stage} ")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_the_server_cut_is_renewed_and_the_command_carried_out(engine):
    services = chair_services(engine)
    order = agreed_order(services)
    stage, owner = first_stage(services, order)
    killer = create_engine(engine.url, poolclass=pool.NullPool)
    try:
        with killer.connect() as connection:
            cut = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        killer.dispose()
    assert cut >= 1  # the pool's connections, as a restarted server leaves them
    disconnects: list[bool] = []
    event.listen(engine, "handle_error", lambda error: disconnects.append(error.is_disconnect))
    arguments = {"actor": owner, "order_id": order, "stage": stage, "status": "done"}
    inbound, _ = services.handle(Receive("telegram", "after-cut", "AssertStage", arguments)).value
    assert services.handle(ApplyInbound(inbound)).value == "done"
    assert disconnects == [True]  # met once, by the first statement, and run again
    assert stage_status(services, order, stage) == "done"
