"""Service-layer benchmark: the chair story of tests/integration/test_chair_story.py, end to end,
on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/chair_story.py            # or: make bench

One scenario: load the chair network, Dana orders two chairs, chooses plan 1, the five parties
agree, four stages are asserted done, Hal's shop floods (error analysis and reweave: Ivy takes
the seats, and agrees), then every remaining stage is asserted done until the order completes.
Each run gets a fresh database at the newest schema (migrated once with
core.store.migrate.upgrade, then copied: SQLite copies the file, PostgreSQL uses CREATE
DATABASE … TEMPLATE; not timed), a fresh engine (core.store.database.make_engine, the
application's) and fresh Services; the network files are parsed once, outside the timing. The
time is the whole scenario, the few reads that look up stage ids included; one untimed warm-up
run per database comes first.

SQLite (a temporary file) is the baseline, measured in the same run. PostgreSQL is the server
DATABASE_URL names when it names one, else postgres@127.0.0.1:5432; the script creates its
databases there and drops them at the end, and skips PostgreSQL, saying why, when it cannot.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import project_paths
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from bots.bootstrap import application
from core.importers import load_network
from core.network.model import Network
from core.service import lifecycle, records
from core.service.bus import Services
from core.service.commands import (
    Agree,
    AssertStage,
    ChoosePlan,
    Disrupt,
    LoadNetwork,
    PlaceOrder,
)
from core.service.queries import order_state
from core.service.results import Origin
from core.store import migrate
from core.store.database import database_url, make_engine

RUNS = 5
PARTIES = ["ana", "fern", "gus", "hal", "bob"]
BEFORE_THE_FLOOD = [
    ("fern", ("leg", "confirm")),
    ("fern", ("leg", "ship")),
    ("ana", ("leg", "receive")),
    ("bob", ("foam-block", "confirm")),
]
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class Counting(Services):
    """Services that count the commands they handle."""

    def __init__(self, engine):
        wired = application(engine)  # the handler table and platforms of the composition root
        super().__init__(engine, handlers=wired.handlers, platforms=wired.platforms)
        self.commands = 0

    def handle(self, command):
        self.commands += 1
        return super().handle(command)


def live_stages(services: Services, order: int) -> dict:
    """Stage id → owner, dependencies first; and (item, kind) → stage id."""

    def read(session):
        contract = lifecycle.live_contract(session, order) or records.latest_contract(
            session, order
        )
        graph = records.stage_graph(session, contract.id)
        return {s.id: s.owner for s in graph}, {(s.item, s.kind): s.id for s in graph}

    return services.read(read)


def done(services: Services, order: int, actor: str, stage: str, message: str) -> None:
    services.handle(AssertStage(actor, order, stage, "done", "", Origin("bench", message)))


def scenario(services: Services, network: Network) -> None:
    services.handle(LoadNetwork(None, network))
    order = services.handle(PlaceOrder("dana", (("chair", 2),))).value
    services.handle(ChoosePlan("dana", order, 1))
    for party in PARTIES:
        services.handle(Agree(party, order))
    _, code = live_stages(services, order)
    for n, (actor, key) in enumerate(BEFORE_THE_FLOOD):
        done(services, order, actor, code[key], f"m{n}")
    flood = services.handle(Disrupt("hal", "hal-shop", "the shop flooded"))
    assert flood.value == [order], flood.value
    [replanned] = [e for e in flood.events if e.kind == "replanned"]
    for party in replanned.data["joined"]:  # Ivy, taking the seats over, agrees before working
        services.handle(Agree(party, order))
    who, _ = live_stages(services, order)
    state = services.read(lambda session: order_state(session, order))
    for n, stage in enumerate(who):
        if state.stages[stage] != "done":
            done(services, order, who[stage], stage, f"rest-{n}")
    final = services.read(lambda session: order_state(session, order))
    assert final.status == "completed" and set(final.stages.values()) == {"done"}, final


def timed_runs(fresh_database, network: Network) -> tuple[list[float], int]:
    """One warm-up, then RUNS timed scenarios, each on a database from `fresh_database()`, a
    context manager giving its URL. Returns the times and the commands per scenario."""
    times, commands = [], set()
    for run in range(RUNS + 1):
        with fresh_database() as url:
            engine = make_engine(url)
            try:
                services = Counting(engine)
                start = time.perf_counter()
                scenario(services, network)
                elapsed = time.perf_counter() - start
            finally:
                engine.dispose()
        if run:  # run 0 warms up
            times.append(elapsed)
            commands.add(services.commands)
    assert len(commands) == 1, commands
    return times, commands.pop()


class SQLiteFiles:
    def __init__(self, directory: Path):
        self.directory = directory
        self.template = directory / "template.db"
        migrate.upgrade(f"sqlite:///{self.template}")

    def __call__(self):
        return _Copy(self)


class _Copy:
    def __init__(self, files: SQLiteFiles):
        self.path = files.directory / f"run-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(files.template, self.path)

    def __enter__(self) -> str:
        return f"sqlite:///{self.path}"

    def __exit__(self, *_):
        self.path.unlink(missing_ok=True)


class PostgresDatabases:
    """Databases created on a server from one migrated template, every one dropped by close()."""

    def __init__(self, url: str):
        self.url = make_url(url)
        if self.url.database is None:
            self.url = self.url.set(database="postgres")
        self.admin = create_engine(
            self.url,
            isolation_level="AUTOCOMMIT",
            poolclass=pool.NullPool,
            connect_args={"connect_timeout": 3},
        )
        self.created: list[str] = []
        self.version = int(self.execute("SHOW server_version_num")[0][0])
        self.version_name = self.execute("SHOW server_version")[0][0].split()[0]
        self.synchronous_commit = self.execute("SHOW synchronous_commit")[0][0]
        self.template = self.create("template0")
        migrate.upgrade(self.database_url(self.template))

    def execute(self, sql: str) -> list:
        with self.admin.connect() as connection:
            result = connection.execute(text(sql))
            return list(result) if result.returns_rows else []

    def database_url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str) -> str:
        name = f"scis_bench_{uuid.uuid4().hex[:12]}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        force = " WITH (FORCE)" if self.version >= 130000 else ""
        self.execute(f'DROP DATABASE IF EXISTS "{name}"{force}')
        self.created.remove(name)

    def __call__(self):
        return _Database(self)

    def close(self) -> None:
        for name in list(reversed(self.created)):
            self.drop(name)
        self.admin.dispose()


class _Database:
    def __init__(self, databases: PostgresDatabases):
        self.databases = databases
        self.name = databases.create(databases.template)

    def __enter__(self) -> str:
        return self.databases.database_url(self.name)

    def __exit__(self, *_):
        self.databases.drop(self.name)


def postgres_url() -> tuple[str, str]:
    """The server to use and where it came from."""
    given = os.environ.get("DATABASE_URL")
    if given and not given.startswith("sqlite"):
        return database_url({"DATABASE_URL": given}), "DATABASE_URL"
    return LOCAL_POSTGRES, "127.0.0.1:5432"


def report(name: str, times: list[float], commands: int) -> float:
    median = statistics.median(times)
    per_command = median / commands * 1000
    print(
        f"{name:<11} {commands:>8} {median:>9.3f} {min(times):>8.3f} {per_command:>11.1f}"
        f"   runs: {', '.join(f'{t:.3f}' for t in times)}"
    )
    return median


def main() -> None:
    loaded = load_network(project_paths.CHAIR_NETWORK)
    assert loaded.errors == [], loaded.errors
    network = loaded.network
    print(f"Chair story through the service layer: {RUNS} timed runs per database after one")
    print("warm-up, each on a fresh migrated database, engine and Services.")
    print(f"{'database':<11} {'commands':>8} {'median s':>9} {'min s':>8} {'ms/command':>11}")
    with tempfile.TemporaryDirectory(prefix="scis-bench-") as directory:
        sqlite_times, sqlite_commands = timed_runs(SQLiteFiles(Path(directory)), network)
    sqlite_median = report("sqlite", sqlite_times, sqlite_commands)

    url, origin = postgres_url()
    shown = migrate.shown(url)
    try:
        databases = PostgresDatabases(url)
    except Exception as exc:  # unreachable, refused, no CREATE DATABASE right: say so and skip
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        print(f"postgresql  skipped: {shown} ({origin}): {detail[0] if detail else exc!r}")
        print(f"\nbaseline: SQLite {sqlite3.sqlite_version}, file in a temporary directory")
        return
    try:
        pg_times, pg_commands = timed_runs(databases, network)
    finally:
        databases.close()
    pg_median = report("postgresql", pg_times, pg_commands)
    print(
        f"\nPostgreSQL / SQLite, median: {pg_median / sqlite_median:.2f}×  "
        f"(min: {min(pg_times) / min(sqlite_times):.2f}×)"
    )
    print(
        f"baseline: SQLite {sqlite3.sqlite_version}, file in a temporary directory; "
        f"PostgreSQL {databases.version_name} at {shown} "
        f"({origin}), synchronous_commit={databases.synchronous_commit}"
    )


if __name__ == "__main__":
    main()
