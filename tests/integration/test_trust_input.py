"""Issue 14, what people type and where it is kept: `1,000` is a thousand (finding 9), a digit
that is not 0–9 is refused in one line instead of failing for ever (finding 5's `/done 12 ²`),
due dates and criteria are checked before an order is accepted and again by PlaceOrder, the
SQLite file is its owner's alone and the compose services are hardened (finding 11)."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlmodel import Session, select
from test_conversation import NETWORK, Chat, agreed_order, dump

from bots.bootstrap import application
from core.importers import load_network
from core.service.commands import ApplyInbound, LoadNetwork, PlaceOrder, Receive
from core.service.results import Refused
from core.store import migrate
from core.store.database import make_engine
from core.store.tables import EventRow, InboundMessage, OrderRow, Quote

PROJECT = Path(__file__).resolve().parents[2]
COMPOSE = PROJECT / "deploy" / "compose.yaml"


@pytest.fixture
def chat(engine) -> Chat:
    services = application(engine)
    services.handle(LoadNetwork(None, load_network(NETWORK).network))
    return Chat(services)


def _chosen_order(chat: Chat) -> int:
    chat.says("dana", "/order chair 1")
    order = chat.outbox("dana", "plans")[-1].order_id
    chat.says("dana", f"/choose {order} 1")
    return order


def _quotes(chat: Chat, order: int) -> list[float]:
    with Session(chat.services.engine) as session:
        rows = session.exec(select(Quote).where(Quote.order_id == order)).all()
    return [row.value for row in rows]


def _orders(chat: Chat) -> int:
    with Session(chat.services.engine) as session:
        return len(session.exec(select(OrderRow)).all())


# -- finding 9: prices and quantities ------------------------------------------------------------


def test_finding_9_a_price_of_1_comma_000_is_one_thousand(chat):
    order = _chosen_order(chat)
    said = chat.says("gus", f"/quote {order} B 1,000")
    assert "Recording 1,000.00 for B" in said, said
    assert _quotes(chat, order) == [1000.0]
    assert "1000.00" in chat.outbox("ana", "frame")[-1].text.replace(",", "")

    before = dump(chat.services)
    submitted = len(chat.submitted)
    for typed, fix in (("1,5", "write 1.5 or 1500"), ("9,50", "write 9.50 or 9500")):
        said = chat.says("gus", f"/quote {order} B {typed}")
        assert fix in said, said
    assert len(chat.submitted) == submitted and dump(chat.services) == before
    assert "Recording 1,000.50" in chat.says("gus", f"/quote {order} B 1,000.50")


def test_finding_9_quantities_read_thousands_the_same_way(chat):
    assert "Working on it" in chat.says("dana", "/order chair 1,000")
    assert chat.submitted[-1][1]["lines"] == [["chair", 1000]]
    submitted = len(chat.submitted)
    assert "QTY should be a whole number" in chat.says("dana", "/order chair 1,5")
    said = chat.says("dana", "/offer chair leg 1,5")  # an offer's quantity: the intent grammar
    assert "write 1.5 or 1500" in said, said
    assert len(chat.submitted) == submitted


# -- finding 5: a digit int() refuses ------------------------------------------------------------


def test_finding_5_a_superscript_digit_stage_is_refused_in_one_line(chat):
    order = agreed_order(chat)
    said = chat.says("ana", f"/done {order} ²")
    assert "went wrong" not in said and "no stage ²" in said, said  # refused at once
    with Session(chat.services.engine) as session:
        kept = session.exec(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        refused = session.exec(select(EventRow).order_by(EventRow.id.desc())).first()
    assert kept.command != "AssertStage"  # nothing kept for a worker to fail on
    assert refused.kind == "refused" and "no stage ²" in refused.data["reason"]

    # Straight to a worker, as a kept command: a refusal, never an exception.
    inbound, _ = chat.services.handle(
        Receive(
            "telegram",
            "x:1",
            "AssertStage",
            {"actor": "ana", "order_id": order, "stage": "٣", "status": "done"},
        )
    ).value
    chat.services.handle(ApplyInbound(inbound))
    with Session(chat.services.engine) as session:
        assert session.get(InboundMessage, inbound).outcome.startswith("refused: no stage ٣")

    # Where a number is expected, other scripts' digits are refused with the fix.
    for typed in ("²", "٣", "１２"):
        said = chat.says("ana", f"/agree {typed}")
        assert "ORDER should be an order number like 12" in said and "digits 0–9" in said, said


# -- finding 11: due dates, criteria, the database file, compose ---------------------------------


def test_finding_11_due_dates_outside_a_sane_window_are_refused(chat):
    before, submitted = dump(chat.services), len(chat.submitted)
    assert "0001-01-01 has passed" in chat.says("dana", "/order chair 1 by 0001-01-01")
    assert "more than 5 years away" in chat.says("dana", "/order chair 1 by 9999-12-31")
    assert len(chat.submitted) == submitted and dump(chat.services) == before

    # PlaceOrder checks again: an adapter that forgot to ask is not trusted.
    for due in (datetime(1, 1, 1), datetime(9999, 12, 31)):
        with pytest.raises(Refused, match="the due date"):
            chat.services.handle(PlaceOrder("dana", (("chair", 1),), due=due))
    inbound, _ = chat.services.handle(
        Receive(
            "telegram",
            "x:2",
            "PlaceOrder",
            {"actor": "dana", "lines": [["chair", 1]], "due": "9999-12-31"},
        )
    ).value
    chat.services.handle(ApplyInbound(inbound))
    assert _orders(chat) == 0
    assert "more than 5 years away" in chat.outbox("dana", "refusal")[-1].text


def test_finding_11_unknown_criteria_are_refused_with_the_known_ones(chat):
    before, submitted = dump(chat.services), len(chat.submitted)
    said = chat.says("dana", "/order chair 1 +${jndi:x}")
    assert "A criterion is a word like +latex-free" in said, said
    said = chat.says("dana", "/order chair 1 +latex-fre")
    assert "Unknown criterion +latex-fre — did you mean +latex-free? Known: +latex-free" in said
    assert len(chat.submitted) == submitted and dump(chat.services) == before
    assert "Working on it" in chat.says("dana", "/order chair 1 +Latex-Free")  # case aside
    with Session(chat.services.engine) as session:
        assert session.exec(select(OrderRow)).one().criteria == ["latex-free"]

    for criteria in (("${jndi:x}",), ("latex-fre",)):
        with pytest.raises(Refused, match=r"unknown criterion .*Known: \+latex-free"):
            chat.services.handle(PlaceOrder("dana", (("chair", 1),), criteria))
    assert _orders(chat) == 1


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_finding_11_the_sqlite_database_is_its_owners_alone(tmp_path):
    was = os.umask(0o022)  # the usual umask, which made scis.db 0644
    try:
        path = tmp_path / "scis.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(url)  # `scis db upgrade` creates the file
        assert _mode(path) == 0o600
        engine = make_engine(url)
        with engine.begin() as connection:  # a rollback journal while a change is written
            connection.execute(text("CREATE TABLE probe (a INTEGER)"))
            connection.execute(text("INSERT INTO probe VALUES (1)"))
            journal = Path(f"{path}-journal")
            assert journal.exists() and _mode(journal) == 0o600
        engine.dispose()

        raw = sqlite3.connect(path)  # and the WAL files, when an operator turns WAL on
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("INSERT INTO probe VALUES (2)")
        raw.commit()
        for suffix in ("-wal", "-shm"):
            assert _mode(Path(f"{path}{suffix}")) == 0o600, suffix
        raw.close()

        older = tmp_path / "older.db"  # left world-readable by an earlier version: narrowed
        sqlite3.connect(older).close()
        os.chmod(older, 0o644)
        make_engine(f"sqlite:///{older}").dispose()
        assert _mode(older) == 0o600
        fresh = tmp_path / "fresh.db"  # created by the application itself
        make_engine(f"sqlite:///{fresh}").connect().close()
        assert _mode(fresh) == 0o600
    finally:
        os.umask(was)


# The PostgreSQL, Redis and Synapse images start as root to give their data folder to their
# user; these are the capabilities that takes. SCIS itself needs none.
DROPS_TO_ITS_USER = {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}
SCIS_SERVICES = {"migrate", "bot", "worker"}


def test_finding_11_compose_services_are_hardened():
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    assert SCIS_SERVICES | {"db", "redis", "synapse"} <= set(services)
    for name, service in services.items():
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert service.get("cap_drop") == ["ALL"], name
        assert service.get("read_only") is True, name
        assert "/tmp" in service.get("tmpfs", []), name
        assert not service.get("privileged"), name
        added = set(service.get("cap_add", []))
        assert added <= (set() if name in SCIS_SERVICES else DROPS_TO_ITS_USER), name
        # A read-only root needs somewhere to keep state: a named volume, never the host's root.
        writable = [v for v in service.get("volumes", []) if not str(v).endswith(":ro")]
        assert writable, f"{name} has nowhere to write"
    for name in SCIS_SERVICES:
        assert "scis-home:/var/lib/scis" in services[name]["volumes"], name
    assert "/var/run/postgresql" in services["db"]["tmpfs"]


def _last_inbound(chat: Chat) -> InboundMessage:
    with Session(chat.services.engine) as session:
        return session.exec(select(InboundMessage).order_by(InboundMessage.id.desc())).first()


def test_stage_numbers_in_0_to_9_still_name_stages(chat):
    order = agreed_order(chat)
    said = chat.says("fern", f"/done {order} 1")  # s1 is fern's: "1" is read as s1
    assert "went wrong" not in said
    assert not _last_inbound(chat).outcome.startswith("refused: no stage"), said
