"""`scis db upgrade` and `scis db current`, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket

from typer.testing import CliRunner

from bots.cli import app
from core.store import migrate

runner = CliRunner()


def scis(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["db", *args], env=env)


def test_upgrade_creates_the_schema_then_has_nothing_to_do(empty_database_url):
    shown = migrate.shown(migrate.normalised(empty_database_url))

    result = scis("current", "--url", empty_database_url)
    assert result.exit_code == 0, result.output
    assert "has no schema yet" in result.output and "scis db upgrade" in result.output

    result = scis("upgrade", "--url", empty_database_url)
    assert result.exit_code == 0, result.output
    assert f"Created the schema in {shown}: now at {migrate.head()}" in result.output

    result = scis("upgrade", "--url", empty_database_url)
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output

    result = scis("current", "--url", empty_database_url)
    assert result.exit_code == 0, result.output
    assert f"is at {migrate.head()}" in result.output and "the newest" in result.output


def test_the_url_defaults_to_database_url(empty_database_url):
    result = scis("upgrade", env={"DATABASE_URL": empty_database_url})

    assert result.exit_code == 0, result.output
    assert migrate.current(empty_database_url) == migrate.head()


def test_current_does_not_create_a_sqlite_file(tmp_path):
    path = tmp_path / "none.db"

    result = scis("current", "--url", f"sqlite:///{path}")

    assert result.exit_code == 0 and "has no schema yet" in result.output
    assert not path.exists()


def test_an_unreachable_server_is_one_line_with_the_password_hidden():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgres://scis:s3cret@127.0.0.1:{port}/scis"

    for command in ("upgrade", "current"):
        result = scis(command, "--url", url)
        assert result.exit_code == 1
        assert "error: cannot" in result.output and "***" in result.output
        assert "s3cret" not in result.output and "Traceback" not in result.output


def test_an_unknown_revision_is_refused_before_anything_is_created(tmp_path):
    path = tmp_path / "scis.db"

    result = scis("upgrade", "--url", f"sqlite:///{path}", "--revision", "nope")

    assert result.exit_code == 1 and "nope" in result.output
    assert not path.exists()
