"""The store on real databases, SQLite and PostgreSQL: the migrations build exactly the schema of
core.store.tables, the unit of work is all or nothing, locking an order serialises writers, and the
constraints and JSON columns hold.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from database_servers import ENV_URL, PostgresUnavailable, postgres_or_skip, resolve_postgres
from sqlalchemy import create_engine, func, inspect, pool, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from core.importers import load_network
from core.network.snapshot import from_document, to_document
from core.service import records
from core.store import migrate
from core.store.tables import (
    AssertionRow,
    Contract,
    EventRow,
    NetworkVersion,
    Notification,
    OrderLine,
    OrderRow,
    ParticipantRow,
    PlanRow,
    StageRow,
)
from core.store.unit_of_work import UnitOfWork

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ALL_TABLES = set(SQLModel.metadata.tables)
WAIT_S = 20  # the most any thread or event here may take before the test gives up
LOCK_SEEN_S = 5  # PostgreSQL shows a blocked backend within milliseconds; this is plenty


# --- helpers -------------------------------------------------------------------------------


def schema(url: str) -> dict[str, list[str]]:
    """Table name → column names, as the database itself reports them."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        found = inspect(engine)
        return {
            name: [c["name"] for c in found.get_columns(name)] for name in found.get_table_names()
        }
    finally:
        engine.dispose()


def drift(url: str) -> list:
    """What autogenerate would change to make the database match the tables: nothing, we hope."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, migrate.schema_metadata())
    finally:
        engine.dispose()


def counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
            for name in sorted(ALL_TABLES)
        }


def an_order(session: Session, buyer: str = "ana") -> OrderRow:
    if session.get(ParticipantRow, buyer) is None:
        session.add(ParticipantRow(id=buyer, name=buyer.title(), roles=["buyer"]))
        session.flush()  # no relationship() tells the session to insert the buyer first
    order = OrderRow(buyer_id=buyer, criteria=["latex-free"])
    session.add(order)
    session.flush()
    return order


def a_stage(session: Session) -> StageRow:
    order = an_order(session)
    plan = PlanRow(order_id=order.id, rank=1, network_version=1, tree=[], equation="P = K")
    session.add(plan)
    session.flush()
    contract = Contract(order_id=order.id, plan_id=plan.id)
    session.add(contract)
    session.flush()
    stage = StageRow(
        contract_id=contract.id,
        code="s1",
        kind="make",
        item_id="chair",
        quantity=1,
        node="chair",
        source="chair-okh@ana-shop",
    )
    session.add(stage)
    session.flush()
    return stage


def anas_word(stage_id: int, status: str, platform: str, message_id: str) -> AssertionRow:
    """Ana's assertion about a stage, as her message `message_id` on `platform` made it."""
    return AssertionRow(
        stage_id=stage_id,
        participant_id="ana",
        status=status,
        platform=platform,
        message_id=message_id,
    )


def closed_port() -> int:
    """A port nothing listens on: bound once to be free, then released without listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- migrations ----------------------------------------------------------------------------


def test_the_migration_creates_every_table_of_the_metadata(empty_database_url):
    assert schema(empty_database_url) == {}
    assert migrate.current(empty_database_url) is None

    before, after = migrate.upgrade(empty_database_url)

    assert (before, after) == (None, migrate.head())
    found = schema(empty_database_url)
    assert set(found) == ALL_TABLES | {"alembic_version"}
    for name, table in SQLModel.metadata.tables.items():
        assert sorted(found[name]) == sorted(c.name for c in table.columns), name
    # Types, nullability, indexes, unique constraints, foreign keys: autogenerate sees no change.
    assert drift(empty_database_url) == [], (
        "core.store.tables and the migrations disagree: write the next migration with "
        "core.store.migrate.new_revision('what changed') (or, before the first release, "
        "regenerate 0001_initial.py the same way with rev_id='0001')"
    )


def test_upgrading_twice_is_a_no_op(database_url):
    with Session(create_engine(database_url, poolclass=pool.NullPool)) as session:
        session.add(ParticipantRow(id="ana", name="Ana", roles=["maker"]))
        session.commit()
    before = schema(database_url)

    assert migrate.upgrade(database_url) == (migrate.head(), migrate.head())

    assert schema(database_url) == before
    with Session(create_engine(database_url, poolclass=pool.NullPool)) as session:
        assert session.get(ParticipantRow, "ana").roles == ["maker"]


def test_downgrade_to_base_and_up_again(database_url):
    assert migrate.downgrade(database_url, "base") == (migrate.head(), None)
    assert set(schema(database_url)) <= {"alembic_version"}
    assert migrate.current(database_url) is None

    assert migrate.upgrade(database_url) == (None, migrate.head())
    assert set(schema(database_url)) == ALL_TABLES | {"alembic_version"}
    assert drift(database_url) == []


# --- unit of work --------------------------------------------------------------------------


def test_the_unit_of_work_commits_everything_together(engine):
    with UnitOfWork(engine) as uow:
        order = an_order(uow.session)
        uow.session.add(OrderLine(order_id=order.id, item_id="chair", quantity=2))
        uow.session.add(EventRow(kind="order.created", actor_id="ana", order_id=order.id))
        uow.session.add(Notification(participant_id="ana", kind="order", text="Ordered."))
        uow.commit()

    after = counts(engine)
    assert {k: after[k] for k in ("participant", "supply_order", "order_line", "event")} == {
        "participant": 1,
        "supply_order": 1,
        "order_line": 1,
        "event": 1,
    }
    assert after["notification"] == 1


def test_an_exception_inside_the_unit_of_work_leaves_the_database_unchanged(engine):
    with UnitOfWork(engine) as uow:
        an_order(uow.session, buyer="bob")
        uow.commit()
    before = counts(engine)

    with pytest.raises(RuntimeError, match="handler broke"):
        with UnitOfWork(engine) as uow:
            order = an_order(uow.session, buyer="ana")
            uow.session.add(OrderLine(order_id=order.id, item_id="chair", quantity=2))
            uow.session.add(EventRow(kind="order.created", actor_id="ana", order_id=order.id))
            uow.session.flush()  # the rows reached the database, inside the transaction
            raise RuntimeError("handler broke")

    assert counts(engine) == before
    with Session(engine) as session:
        assert session.get(ParticipantRow, "ana") is None


def test_a_failing_statement_takes_the_earlier_writes_with_it(engine):
    with UnitOfWork(engine) as uow:
        stage_id = a_stage(uow.session).id
        uow.session.add(anas_word(stage_id, "done", "t", "1"))
        uow.commit()
    before = counts(engine)

    with pytest.raises(IntegrityError):
        with UnitOfWork(engine) as uow:
            uow.session.add(EventRow(kind="stage.done", actor_id="ana"))
            uow.session.add(anas_word(stage_id, "done", "t", "1"))
            uow.commit()

    assert counts(engine) == before


def test_nothing_is_written_unless_committed(engine):
    before = counts(engine)
    with UnitOfWork(engine) as uow:
        an_order(uow.session)
    assert counts(engine) == before


def test_locking_an_order_serialises_two_transactions_on_one_order(engine, database_url):
    """The second handler waits for the order's row (records.order with lock=True, as handlers
    take it) until the first commits, then sees its change."""
    with UnitOfWork(engine) as uow:
        order_id = an_order(uow.session).id
        uow.commit()
    on_postgres = database_url.startswith("postgresql")
    first_has_lock = threading.Event()
    second_asks = threading.Event()
    moments: dict[str, float] = {}
    seen: dict[str, int] = {}
    second_pid: list[int] = []
    failures: list[BaseException] = []

    def second_is_waiting_on_a_lock() -> bool:
        if not on_postgres:
            # SQLite shows no waiter; its BEGIN IMMEDIATE blocks inside records.order. Give the
            # second thread time to get there: if it did not block, it would finish first.
            time.sleep(0.3)
            return True
        query = text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
        deadline = time.monotonic() + LOCK_SEEN_S
        with engine.connect() as watcher:
            while time.monotonic() < deadline:
                if watcher.execute(query, {"pid": second_pid[0]}).scalar() == "Lock":
                    return True
                time.sleep(0.01)
        return False

    def first():
        try:
            with UnitOfWork(engine) as uow:
                order = records.order(uow.session, order_id, lock=True)
                first_has_lock.set()
                assert second_asks.wait(WAIT_S)
                moments["second_seen_waiting"] = second_is_waiting_on_a_lock()
                seen["first"] = order.revision
                order.revision += 1
                uow.session.add(order)
                moments["first_commits"] = time.monotonic()
                uow.commit()
        except BaseException as exc:
            failures.append(exc)
            first_has_lock.set()

    def second():
        try:
            assert first_has_lock.wait(WAIT_S)
            with UnitOfWork(engine) as uow:
                if on_postgres:
                    second_pid.append(uow.session.exec(select(func.pg_backend_pid())).one())
                moments["second_asks"] = time.monotonic()
                second_asks.set()
                order = records.order(uow.session, order_id, lock=True)
                moments["second_has_lock"] = time.monotonic()
                seen["second"] = order.revision
                order.revision += 1
                uow.session.add(order)
                uow.commit()
        except BaseException as exc:
            failures.append(exc)
            second_asks.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert not any(thread.is_alive() for thread in threads), "a transaction never finished"
    assert not failures, failures

    assert moments["second_seen_waiting"], "the second transaction never waited on the row lock"
    assert moments["second_asks"] < moments["first_commits"] < moments["second_has_lock"]
    # No lost update: the second read the row as the first left it.
    assert seen == {"first": 0, "second": 1}
    with Session(engine) as session:
        assert session.get(OrderRow, order_id).revision == 2


# --- constraints and JSON ------------------------------------------------------------------


def test_an_assertion_from_the_same_platform_message_is_rejected(engine):
    with Session(engine) as session:
        stage_id = a_stage(session).id
        session.add(anas_word(stage_id, "done", "telegram", "4711"))
        session.commit()
        # The same message id on another platform is another message.
        session.add(anas_word(stage_id, "done", "matrix", "4711"))
        session.commit()

        session.add(anas_word(stage_id, "failed", "telegram", "4711"))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        assert len(session.exec(select(AssertionRow)).all()) == 2


def test_json_columns_round_trip_dicts_and_lists(engine):
    contacts = {"telegram": "123456789", "matrix": "@ana:example.org", "note": "Zoë — 木工"}
    payload = {
        "buttons": [["Agree", "/agree 7"], ["Decline", "/decline 7"]],
        "price": 12.5,
        "count": 3,
        "unknown": None,
        "latex-free": True,
        "nested": {"a": [1, 2.0, {"b": []}], "empty": {}},
    }
    with Session(engine) as session:
        session.add(
            ParticipantRow(id="ana", name="Ana", roles=["maker", "buyer"], contacts=contacts)
        )
        session.add(Notification(participant_id="ana", kind="frame", text="…", payload=payload))
        session.add(EventRow(kind="x", data={"list": [], "dict": {}}))
        session.commit()

    with Session(engine) as session:
        ana = session.get(ParticipantRow, "ana")
        note = session.exec(select(Notification)).one()
        event = session.exec(select(EventRow)).one()
    assert ana.roles == ["maker", "buyer"] and type(ana.roles) is list
    assert ana.contacts == contacts
    assert note.payload == payload
    assert type(note.payload["nested"]["a"][1]) is float and type(note.payload["count"]) is int
    assert event.data == {"list": [], "dict": {}}


def test_a_network_snapshot_round_trips_through_the_database(engine):
    network = load_network([EXAMPLES / "hurricane-city.yaml"]).network
    with Session(engine) as session:
        session.add(NetworkVersion(actor="coordinator", document=to_document(network)))
        session.commit()
    with Session(engine) as session:
        stored = session.exec(select(NetworkVersion)).one()
    assert from_document(stored.document) == network


# --- where PostgreSQL comes from -----------------------------------------------------------


def test_under_ci_a_postgres_that_does_not_answer_fails_instead_of_skipping():
    environ = {ENV_URL: f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres", "CI": "true"}

    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        postgres_or_skip(environ)


def test_elsewhere_a_postgres_that_does_not_answer_skips_with_the_reason():
    environ = {ENV_URL: f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres"}

    with pytest.raises(pytest.skip.Exception, match="does not answer"):
        postgres_or_skip(environ)


def test_with_no_server_and_no_binaries_the_reason_says_so():
    local = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/postgres"

    with pytest.raises(pytest.fail.Exception, match="no initdb/pg_ctl"):
        postgres_or_skip({"CI": "true"}, local_url=local, binaries=None)
    with pytest.raises(pytest.skip.Exception, match="127.0.0.1:5432 does not answer"):
        postgres_or_skip({}, local_url=local, binaries=None)


def test_without_a_running_server_one_is_started_from_the_binaries():
    local = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/postgres"
    server = postgres_or_skip({}, local_url=local)  # skips only where no binaries are installed
    try:
        assert server.stop_command is not None, server.origin
        name = server.create_database()
        url = server.database_url(name)
        migrate.upgrade(url)
        assert set(schema(url)) == ALL_TABLES | {"alembic_version"}
        server.drop_database(name)
    finally:
        directory, url = server.directory, server.url
        server.close()
    assert not directory.exists()
    with pytest.raises(PostgresUnavailable):
        resolve_postgres({ENV_URL: url.render_as_string(hide_password=False)})
