"""Where the state lives: SQLite in a local file by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import create_engine

DEFAULT_URL = "sqlite:///scis.db"


def database_url(environ: Mapping[str, str] = os.environ) -> str:
    url = environ.get("DATABASE_URL") or DEFAULT_URL
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        private_sqlite_file(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        _sqlite_takes_the_write_lock_at_begin(engine)
        return engine
    # SQL parameters hold what people typed: an error names the statement, never its values.
    # No ping before every checkout (a round trip per transaction): a connection is stale only
    # after the server restarted or cut it, and then the first statement fails as a disconnect,
    # SQLAlchemy renews the whole pool, and the unit of work runs once more (Services.handle).
    # Connections older than RECYCLE_SECONDS are renewed, before a firewall drops them idle.
    return create_engine(url, pool_recycle=RECYCLE_SECONDS, hide_parameters=True)


RECYCLE_SECONDS = 1800


def private_sqlite_file(url: str) -> None:
    """The database holds invite codes and every chat line: only its owner reads it. SQLite
    gives its -journal, -wal and -shm files the database file's mode, so creating that one 0600
    is enough; a file left wider by an older version is narrowed."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # no such folder, or not ours to write: SQLite says so in its own words
    try:
        if os.fstat(descriptor).st_mode & 0o077:
            os.fchmod(descriptor, 0o600)
    except OSError:
        pass  # another account's file: not ours to narrow
    finally:
        os.close(descriptor)


def _sqlite_takes_the_write_lock_at_begin(engine: Engine) -> None:
    """SQLite's deferred transactions let two writers read the same state and then collide;
    a writing transaction (see `writing`) begins IMMEDIATE, so the second waits instead, as a
    row lock makes it elsewhere. Reads begin deferred and never hold the write lock."""

    @event.listens_for(engine, "connect")
    def _no_pysqlite_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        immediate = connection.get_execution_options().get(WRITING)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


WRITING = "scis_writing"


def writing(engine: Engine) -> Engine:
    """The engine for a transaction that will write: on SQLite it takes the write lock first.
    Elsewhere the engine itself (an engine with options is built anew on each call)."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{WRITING: True})
