"""A PostgreSQL server for the tests, found or started, and throwaway databases on it.

Resolution, first that answers wins:

1. `SCIS_TEST_POSTGRES_URL` when set (any URL form `DATABASE_URL` takes; its database is the
   maintenance database the tests create theirs from). Set but not answering is an error, not a
   reason to look elsewhere.
2. 127.0.0.1:5432 as user `postgres` (CI's service, a developer's local server).
3. A private server started from the binaries (`initdb`, `pg_ctl` on PATH or under
   /usr/lib/postgresql/*/bin): a fresh cluster in a temporary directory, reachable only through a
   unix socket in that directory, on a free port; stopped and deleted at the end of the session.

When none is there, `postgres_or_skip` skips with the reason — except under `CI=true`, where a
missing PostgreSQL fails the test instead: CI must never go green by skipping.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL, Engine, make_url

from core.store.database import database_url

ENV_URL = "SCIS_TEST_POSTGRES_URL"
LOCAL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BIN_GLOB = "/usr/lib/postgresql/*/bin"
CONNECT_TIMEOUT_S = 3


class PostgresUnavailable(Exception):
    """No PostgreSQL server could be found or started; the message says why."""


def on_ci(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_unless_ci(
    reason: object, service: str, remedy: str = "", environ: Mapping[str, str] = os.environ
) -> NoReturn:
    """A service the tests need is missing: skip with the reason — or, under CI=true, fail,
    because CI must never go green by skipping."""
    if on_ci(environ):
        pytest.fail(
            f"{reason}. CI=true: {service} is required there, so this fails instead of skipping"
            + (f" ({remedy})." if remedy else "."),
            pytrace=False,
        )
    pytest.skip(str(reason))


@dataclass
class PostgresServer:
    """A server the tests may create and drop databases on."""

    url: URL  # to the maintenance database
    origin: str  # how it was found, for messages
    stop_command: list[str] | None = None  # set when this process started the server
    run_as: str | None = None
    directory: Path | None = None
    _admin: Engine | None = field(default=None, repr=False)
    _version: int | None = field(default=None, repr=False)

    def database_url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    @property
    def admin(self) -> Engine:
        if self._admin is None:
            self._admin = create_engine(
                self.url,
                isolation_level="AUTOCOMMIT",
                pool_size=1,
                connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
            )
        return self._admin

    def execute(self, sql: str) -> list:
        with self.admin.connect() as connection:
            result = connection.execute(text(sql))
            return list(result) if result.returns_rows else []

    def create_database(self, prefix: str = "scis_test", template: str = "template0") -> str:
        """A new, uniquely named database copied from `template`; returns its name."""
        name = f"{prefix}_{uuid.uuid4().hex[:16]}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        # A commit need not wait for the disk in a database that lives for one test: the
        # semantics are the same, only a crash of the server could lose the last commits.
        self.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        return name

    def drop_database(self, name: str) -> None:
        # FORCE (PostgreSQL 13+) ends sessions a test forgot to close.
        force = " WITH (FORCE)" if self.version() >= 130000 else ""
        self.execute(f'DROP DATABASE IF EXISTS "{name}"{force}')

    def version(self) -> int:
        if self._version is None:
            self._version = int(self.execute("SHOW server_version_num")[0][0])
        return self._version

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
            self._admin = None
        if self.stop_command is not None:
            _run(self.stop_command, self.run_as, check=False)
            self.stop_command = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


def answers(url: str | URL) -> str | None:
    """None when the server accepts a connection, else the reason it did not."""
    engine = create_engine(
        url, poolclass=pool.NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # OperationalError mostly; any failure means "not usable"
        detail = str(getattr(exc, "orig", None) or exc).strip()
        return detail.splitlines()[0] if detail else type(exc).__name__
    finally:
        engine.dispose()


def find_binaries(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The directory holding initdb and pg_ctl: PATH first, then the newest Debian layout."""
    initdb = shutil.which("initdb", path=environ.get("PATH"))
    if initdb and shutil.which("pg_ctl", path=environ.get("PATH")):
        return Path(initdb).parent

    def version(directory: str) -> float:
        try:
            return float(Path(directory).parent.name)
        except ValueError:
            return 0.0

    for directory in sorted(glob.glob(BIN_GLOB), key=version, reverse=True):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    return None


def resolve_postgres(
    environ: Mapping[str, str] = os.environ,
    local_url: str = LOCAL_URL,
    binaries: Path | None | bool = True,
) -> PostgresServer:
    """The server the tests use (see the module's docstring); raises PostgresUnavailable.

    `binaries=True` searches for them, a path uses that directory, None or False never starts one.
    """
    explicit = environ.get(ENV_URL)
    if explicit:
        url = make_url(database_url({"DATABASE_URL": explicit}))
        if url.database is None:
            url = url.set(database="postgres")
        problem = answers(url)
        if problem is not None:
            raise PostgresUnavailable(
                f"{ENV_URL}={url.render_as_string(hide_password=True)} does not answer: {problem}"
            )
        return PostgresServer(url=url, origin=ENV_URL)
    problem = answers(local_url)
    if problem is None:
        return PostgresServer(url=make_url(local_url), origin="127.0.0.1:5432")
    if binaries is True:
        binaries = find_binaries(environ)
    if not binaries:
        raise PostgresUnavailable(
            f"no PostgreSQL: {ENV_URL} is not set, 127.0.0.1:5432 does not answer ({problem}), "
            f"and no initdb/pg_ctl on PATH or under {BIN_GLOB} to start one"
        )
    return start_postgres(Path(binaries))


def postgres_or_skip(environ: Mapping[str, str] = os.environ, **options) -> PostgresServer:
    """resolve_postgres, turned into a skip — or, under CI=true, into a failure."""
    try:
        return resolve_postgres(environ, **options)
    except PostgresUnavailable as exc:
        skip_unless_ci(exc, "PostgreSQL", f"start the service, or set {ENV_URL}", environ)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[str], user: str | None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, user=user, check=check, capture_output=True, text=True, timeout=120
    )


def start_postgres(binaries: Path) -> PostgresServer:
    """A private cluster: initdb into a temporary directory, listening on a unix socket only."""
    run_as = None
    if os.geteuid() == 0:  # initdb refuses to run as root; a packaged install has a postgres user
        try:
            run_as = pwd.getpwnam("postgres").pw_name
        except KeyError:
            raise PostgresUnavailable(
                "initdb cannot run as root and there is no 'postgres' user to run it as"
            ) from None
    # Short, in /tmp: a unix socket path must stay under ~100 characters.
    directory = Path(tempfile.mkdtemp(prefix="scis-pg-"))
    data = directory / "data"
    port = free_port()
    if run_as is not None:
        shutil.chown(directory, user=run_as)
    options = (
        f"-c listen_addresses='' -c unix_socket_directories='{directory}' -p {port} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    )
    stop = [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
    try:
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as,
        )
        _run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(directory / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            run_as,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log = directory / "server.log"
        tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
        output = getattr(exc, "stderr", "") or ""
        _run(stop, run_as, check=False)
        shutil.rmtree(directory, ignore_errors=True)
        raise PostgresUnavailable(
            f"could not start PostgreSQL from {binaries}: {exc} {output.strip()} {tail.strip()}"
        ) from exc
    url = URL.create(
        "postgresql+psycopg",
        username="postgres",
        database="postgres",
        query={"host": str(directory), "port": str(port)},
    )
    server = PostgresServer(
        url=url,
        origin=f"started from {binaries} in {directory}",
        stop_command=stop,
        run_as=run_as,
        directory=directory,
    )
    atexit.register(server.close)  # in case the session ends without its finaliser
    problem = answers(url)
    if problem is not None:
        server.close()
        raise PostgresUnavailable(f"PostgreSQL started from {binaries} does not answer: {problem}")
    return server
