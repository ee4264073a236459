"""`scis health` as a supervisor runs it: one line per check, exit status 0 when everything is
healthy, 1 when anything is not, 2 for a wrong command line; nothing secret on the screen."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from scis_command import scis_command

from core.store import migrate

# Settings of the machine running the tests that would add checks to the ones under test.
OTHERS = (
    "REDIS_URL",
    "DATABASE_URL",
    "TELEGRAM_TOKEN",
    "MATRIX_HOMESERVER",
    "MATRIX_USER",
    "MATRIX_PASSWORD",
    "MATRIX_ACCESS_TOKEN",
)


def health(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in OTHERS} | {"NO_COLOR": "1"}
    return subprocess.run(
        [*scis_command(), "health", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env | settings,
        timeout=60,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('health') / 'scis.db'}"
    migrate.upgrade(url)
    return url


def test_sqlite_at_the_newest_schema_and_no_redis_is_healthy(migrated, tmp_path):
    result = health("--url", migrated, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["database", "ok"], ["broker", "ok"]]
    assert "in-process" in lines[1]


def test_a_database_that_was_never_migrated_is_unhealthy_and_left_as_it_was(tmp_path):
    result = health("--json", cwd=tmp_path)  # DATABASE_URL unset: ./scis.db
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["healthy"] is False
    [database] = [c for c in report["checks"] if c["name"] == "database"]
    assert not database["healthy"] and "no schema yet" in database["detail"]
    assert not (tmp_path / "scis.db").exists()  # asking created nothing


def test_a_redis_that_does_not_answer_fails_in_one_line_within_the_timeout(migrated, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    result = health(
        "--url",
        migrated,
        "--timeout",
        "2",
        cwd=tmp_path,
        REDIS_URL=f"redis://:hunter2-secret@127.0.0.1:{port}/0",
    )
    assert time.monotonic() - started < 30
    assert result.returncode == 1, result.stdout + result.stderr
    [broker] = [line for line in result.stdout.splitlines() if line.startswith("broker")]
    assert broker.split()[1] == "FAILED"
    assert f"Redis at 127.0.0.1:{port}:" in broker and "refused" in broker.lower()
    assert "hunter2" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_command_line_is_a_usage_error(tmp_path):
    assert health("--no-such-option", cwd=tmp_path).returncode == 2
