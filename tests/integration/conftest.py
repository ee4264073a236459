"""Databases for the integration tests: every test that takes `database_url` or `engine` runs on
SQLite (a file in tmp_path) and on PostgreSQL (a database of its own, dropped afterwards).

Both start from a template migrated once per session with the real Alembic migrations: SQLite
copies the template file, PostgreSQL runs `CREATE DATABASE x TEMPLATE t`, which takes
milliseconds. Where the PostgreSQL server comes from is database_servers.py's business; without
one the PostgreSQL half skips with the reason, or fails under CI=true.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from database_servers import PostgresServer, postgres_or_skip
from redis_servers import RedisServer, redis_or_skip
from sqlalchemy.engine import Engine
from synapse_server import SynapseServer, synapse_or_skip
from telegram_emulator import TelegramEmulator, emulator_or_skip
from worker_processes import WorkerProcesses

from core.store import migrate
from core.store.database import make_engine

DATABASES = ["sqlite", "postgresql"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "postgres: runs on PostgreSQL (found, or started from its binaries)"
    )


def pytest_collection_modifyitems(items):
    """`-m "not postgres"` leaves PostgreSQL out (marked here: at import the marker is not yet
    registered, and --strict-markers would refuse it)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and "postgresql" in callspec.params.values():
            item.add_marker("postgres")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = postgres_or_skip()
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> Iterator[str]:
    """A database at the newest schema, for CREATE DATABASE … TEMPLATE."""
    name = postgres_server.create_database(prefix="scis_template")
    try:
        migrate.upgrade(postgres_server.database_url(name))
        yield name
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "scis.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database of this test's own, for tests that need only one database
    (the `engine` fixture also runs on PostgreSQL)."""
    path = tmp_path / "scis.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _postgres_database(request: pytest.FixtureRequest, template: str) -> str:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(template=template)
    request.addfinalizer(lambda: server.drop_database(name))
    return server.database_url(name)


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of this test's own, already at the newest schema."""
    if request.param == "sqlite":
        path = tmp_path / "scis.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return _postgres_database(request, request.getfixturevalue("postgres_template"))


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of this test's own with no table at all (PostgreSQL: copied from template0)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return _postgres_database(request, "template0")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The application's engine (make_engine) on a migrated database of this test's own."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


# Chat servers ------------------------------------------------------------------------------------
# One Synapse (synapse_server.py) and one telegram-test-api (telegram_emulator.py) per session:
# each takes seconds to start. Tests keep apart by fresh accounts (Matrix) and bot tokens
# (Telegram). Without them the tests skip with the reason, or fail under CI=true.


@pytest.fixture(scope="session")
def synapse() -> Iterator[SynapseServer]:
    server = synapse_or_skip()
    print(f"\nSynapse answered {server.started_in:.1f} s after it was started")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def telegram_emulator() -> Iterator[TelegramEmulator]:
    emulator = emulator_or_skip()
    yield emulator
    emulator.stop()


# Redis and worker processes ------------------------------------------------------------------
# A redis-server of the test's own (redis_servers.py) and real worker processes on it
# (worker_processes.py). Starting Redis takes ~25 ms, so each test gets a fresh one: no state
# leaks between tests, and a test may kill or restart its server.

WORKER_GROUPS = pytest.StashKey[list[WorkerProcesses]]()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own on a free 127.0.0.1 port; `restart()` loses its data.
    Without the binary the test skips with the reason, or fails under CI=true."""
    server = redis_or_skip()
    yield server
    server.stop()


@pytest.fixture
def worker_processes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcesses]]:
    """Starts worker groups: `worker_processes(redis_url, processes=2, threads=1, ...)` returns a
    started WorkerProcesses (keyword arguments as its constructor's). The recording file is
    tmp_path/recorded.jsonl, shared by the test's groups. At teardown every group is stopped and
    the test fails if any of its processes survived; a failed test shows the groups' logs."""
    groups: list[WorkerProcesses] = []
    request.node.stash[WORKER_GROUPS] = groups

    def start(redis_url: str, **options) -> WorkerProcesses:
        options.setdefault("log_path", tmp_path / f"workers-{len(groups) + 1}.log")
        options.setdefault("recording_path", tmp_path / "recorded.jsonl")
        group = WorkerProcesses(redis_url=redis_url, **options)
        groups.append(group)
        return group.start()

    yield start
    for group in groups:
        group.stop()
    leftovers = {repr(group): group.leftovers() for group in groups}
    assert not any(leftovers.values()), f"worker processes survived the test: {leftovers}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed:
        for number, group in enumerate(item.stash.get(WORKER_GROUPS, []), start=1):
            report.sections.append(
                (f"worker group {number} log ({group.log_path})", group.log_tail())
            )
    return report
