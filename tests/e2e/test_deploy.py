"""deploy/: what an operator runs SCIS with must be accepted by the tools that run it.

The compose file by `docker compose config` (no engine needed; the older `docker-compose` 1.29
when only it is here), the systemd units by `systemd-analyze verify` and `security`, the Synapse
config by the installed Synapse itself (started on a free port, the bot account made with
register_new_matrix_user as the README says); and deploy/example.env names every setting the
code reads. A tool missing on this machine skips its test with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from functools import cache
from pathlib import Path

import pytest
import yaml
from scis_command import scis_command

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
EXAMPLE_ENV = DEPLOY / "example.env"
UNITS = DEPLOY / "systemd"
HOMESERVER = DEPLOY / "synapse" / "homeserver.yaml"
INSTALLED_SCIS = "/opt/scis/.venv/bin/scis"  # where the units expect the venv (README)

SCIS_SERVICES = {"migrate", "bot", "worker"}
SERVICES = {"db", "redis"} | SCIS_SERVICES

# os.environ.get("X"), os.environ["X"], environ.get(\n "X", os.getenv("X"), environ.pop("X").
READS_SETTING = re.compile(
    r"\b(?:environ|getenv)\b(?:\.(?:get|pop|setdefault))?\s*[\[(]\s*[\"']([A-Z][A-Z0-9_]+)[\"']"
)
# KEY=value, or `# KEY=default` for a setting left at its default.
DOCUMENTED_SETTING = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)


# --- example.env -----------------------------------------------------------------------------


def settings_read_by_code() -> set[str]:
    names = set()
    for package in ("bots", "workers", "core"):
        for source in (PROJECT / package).rglob("*.py"):
            names.update(READS_SETTING.findall(source.read_text(encoding="utf-8")))
    return names


def test_example_env_names_every_setting_the_code_reads():
    read = settings_read_by_code()
    # The scan itself works: these are read today, so an empty or broken scan cannot pass.
    assert {"DATABASE_URL", "REDIS_URL", "TELEGRAM_TOKEN", "MATRIX_HOMESERVER"} <= read
    documented = set(DOCUMENTED_SETTING.findall(EXAMPLE_ENV.read_text(encoding="utf-8")))
    assert not read - documented, f"settings missing from deploy/example.env: {read - documented}"


def test_every_setting_in_example_env_says_what_it_does():
    """Each KEY= line has a comment just above it, and secrets are never filled in."""
    lines = EXAMPLE_ENV.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if not DOCUMENTED_SETTING.match(line):
            continue
        above = number - 1  # settings that go together share the comment above the first
        while above >= 0 and DOCUMENTED_SETTING.match(lines[above]):
            above -= 1
        assert above >= 0 and lines[above].startswith("#"), (
            f"example.env:{number + 1} {line!r} has no comment"
        )
        key, _, value = line.lstrip("# ").partition("=")
        if not line.startswith("#") and re.search(r"TOKEN|PASSWORD|SECRET", key):
            assert value == "", f"example.env ships a value for the secret {key}"


# --- compose ---------------------------------------------------------------------------------


def check_services(services: dict, matrix: bool) -> None:
    """What an operator relies on, in the compose file as written or as compose resolved it."""
    assert set(services) - {"synapse"} == SERVICES
    if matrix:
        assert "synapse" in services
    # The local Synapse is for trials: it starts only with `--profile matrix`. (docker compose
    # leaves it out of `config` without the profile; docker-compose 1.29 lists it with its
    # profiles.)
    assert "synapse" not in services or services["synapse"]["profiles"] == ["matrix"]
    for name in ("bot", "worker"):
        service = services[name]
        # `scis health` decides whether a bot or worker container is healthy.
        assert service["healthcheck"]["test"] == ["CMD", "scis", "health"]
        # Neither starts before the schema is up to date and its database and broker answer.
        depends = service["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == depends["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["scis", "db", "upgrade"]
    assert services["worker"]["command"][:2] == ["scis", "worker"]
    # `--scale worker=N` fails on a fixed container name or a published host port.
    assert "container_name" not in services["worker"]
    assert not services["worker"].get("ports")
    # Data outlives the containers.
    assert any("/var/lib/postgresql/data" in str(v) for v in services["db"]["volumes"])


def test_compose_file_as_written_has_the_services_an_operator_relies_on():
    check_services(yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"], matrix=True)


@cache
def compose_command() -> list[str] | None:
    """`docker compose` (v2) when its plugin is here, else docker-compose 1.29+, else None."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        version = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=60)
        if version.returncode == 0:
            return command
    return None


def compose_config(*options: str) -> dict:
    command = compose_command()
    if command is None:
        pytest.skip(
            "neither `docker compose` (the docker CLI's compose plugin) nor docker-compose "
            "is installed here"
        )
    result = subprocess.run(
        [*command, "-f", str(COMPOSE), *options, "config"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT,
        # The settings as shipped; without SCIS_ENV_FILE compose wants deploy/scis.env.
        env={**os.environ, "SCIS_ENV_FILE": str(EXAMPLE_ENV)},
    )
    assert result.returncode == 0, f"{' '.join(command)} config refused it:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


def test_docker_compose_accepts_the_compose_file():
    services = compose_config()["services"]
    check_services(services, matrix=False)
    # The settings file reaches every SCIS container.
    for name in SCIS_SERVICES:
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_docker_compose_accepts_the_matrix_profile():
    services = compose_config("--profile", "matrix")["services"]
    check_services(services, matrix=True)
    published = [str(p) for p in services["synapse"]["ports"]]
    assert any("8008" in p for p in published)


# --- systemd ---------------------------------------------------------------------------------


def units_with_this_scis(directory: Path) -> list[Path]:
    """The units, as verify needs them: ExecStart's binary must exist, so the venv's scis
    stands where /opt/scis/.venv/bin/scis would be; the worker template as instance 1."""
    scis = scis_command()
    if len(scis) != 1:
        pytest.skip("no `scis` console script beside this Python or on PATH")
    for unit in UNITS.glob("*.service"):
        text = unit.read_text(encoding="utf-8").replace(INSTALLED_SCIS, scis[0])
        (directory / unit.name).write_text(text, encoding="utf-8")
    names = sorted(p.name for p in UNITS.glob("*.service"))
    assert names == ["scis-bot.service", "scis-db-upgrade.service", "scis-worker@.service"]
    return [directory / name.replace("@.", "@1.") for name in names]


@pytest.fixture
def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed here")
    return found


def test_systemd_units_pass_systemd_analyze_verify(systemd_analyze, tmp_path):
    units = units_with_this_scis(tmp_path)
    result = subprocess.run(
        [systemd_analyze, "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    # An unknown key or a bad value is only a warning: anything said counts as a failure.
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_systemd_units_are_hardened(systemd_analyze, tmp_path):
    """systemd's own exposure score (0 best, 10 worst): every unit stays under 2.5."""
    for unit in units_with_this_scis(tmp_path):
        result = subprocess.run(
            [systemd_analyze, "security", "--offline=yes", "--no-pager", str(unit)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        if "offline" in result.stderr and result.returncode != 0:
            pytest.skip(f"this systemd-analyze has no --offline: {result.stderr.strip()}")
        score = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
        assert score, result.stdout + result.stderr
        assert float(score.group(1)) <= 2.5, f"{unit.name} exposure {score.group(1)}"


def test_long_running_units_restart_and_wait_for_the_schema():
    for name in ("scis-bot.service", "scis-worker@.service"):
        text = (UNITS / name).read_text(encoding="utf-8")
        for line in (
            "User=scis",
            "EnvironmentFile=/etc/scis/scis.env",
            "Restart=on-failure",
            "Requires=scis-db-upgrade.service",
            "After=scis-db-upgrade.service",
        ):
            assert re.search(f"^{re.escape(line)}$", text, re.MULTILINE), f"{name}: {line}"


# --- Synapse ---------------------------------------------------------------------------------


def test_synapse_config_has_what_the_readme_relies_on():
    config = yaml.safe_load(HOMESERVER.read_text(encoding="utf-8"))
    assert config["server_name"] == "localhost"  # MATRIX_USER=@scis:localhost
    assert config["database"]["name"] == "sqlite3"
    assert config["enable_registration"] is False
    assert config["registration_shared_secret_path"].startswith("/data/")
    [listener] = config["listeners"]
    assert listener["port"] == 8008  # MATRIX_HOMESERVER=http://synapse:8008
    assert "client" in listener["resources"][0]["names"]
    # Everything Synapse writes goes to the volume; /config is mounted read-only.
    for key in ("media_store_path", "signing_key_path", "pid_file"):
        assert config[key].startswith("/data/")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def here(config: dict, directory: Path, port: int) -> dict:
    """The trial config as it would run in the container, but with `directory` for /data and
    on `port`."""

    def moved(value):
        if isinstance(value, str) and value.startswith("/data/"):
            return str(directory / value.removeprefix("/data/"))
        if isinstance(value, dict):
            return {k: moved(v) for k, v in value.items()}
        if isinstance(value, list):
            return [moved(v) for v in value]
        return value

    config = moved(config)
    config["listeners"][0].update(port=port, bind_addresses=["127.0.0.1"])
    config["public_baseurl"] = f"http://127.0.0.1:{port}/"
    return config


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"Synapse did not answer {url} (exit code {process.poll()})")


def test_synapse_runs_the_trial_config_and_registers_the_bot(tmp_path):
    """The README's steps on the installed Synapse: it starts with this config (making its
    signing key and shared secret), register_new_matrix_user makes @scis:localhost, and that
    account logs in with its password, as MATRIX_USER and MATRIX_PASSWORD will."""
    register = Path(sys.executable).with_name("register_new_matrix_user")
    if not register.exists():
        pytest.skip(f"matrix-synapse is not installed in {sys.prefix} (the dev extras bring it)")
    port = free_port()
    data, config_directory = tmp_path / "data", tmp_path / "config"
    data.mkdir()
    config_directory.mkdir()
    config_path = config_directory / "homeserver.yaml"
    config = yaml.safe_load(HOMESERVER.read_text(encoding="utf-8"))
    config_path.write_text(yaml.safe_dump(here(config, data, port)), encoding="utf-8")
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "synapse.log").open("wb") as log:
        synapse = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config_path)],
            cwd=data,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_for(f"{url}/_matrix/client/versions", synapse)
        made = subprocess.run(
            [str(register), "-c", str(config_path), "-u", "scis", "-p", "trial-password"]
            + ["--no-admin", url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        login = urllib.request.Request(
            f"{url}/_matrix/client/v3/login",
            data=json.dumps(
                {
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": "scis"},
                    "password": "trial-password",
                }
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(login, timeout=30) as answer:
            assert json.loads(answer.read())["user_id"] == "@scis:localhost"
        # compose mounts the config read-only: Synapse wrote its key and secret to /data only.
        assert [p.name for p in config_directory.iterdir()] == ["homeserver.yaml"]
        assert {"localhost.signing.key", "registration_shared_secret"} <= {
            p.name for p in data.iterdir()
        }
    finally:
        os.killpg(synapse.pid, signal.SIGTERM)
        try:
            synapse.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(synapse.pid, signal.SIGKILL)
            synapse.wait(timeout=10)
