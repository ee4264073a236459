"""A Synapse homeserver of the tests' own, started from the installed `matrix-synapse` package.

Like redis_servers.py, it is never borrowed: the Matrix tests register people, fill rooms and
lift every rate limit, which may only ever happen to a server this process started.

The server is `python -m synapse.app.homeserver` of this interpreter, in a new process group
(Synapse may start helpers; a group kill leaves none behind), with a homeserver.yaml written
here: SQLite, one client listener on a free 127.0.0.1 port, no federation, registration only
through the shared-secret admin API, and rate limits high enough that no test meets one by
accident. People are registered with `register(name)`. When Synapse cannot start on this
machine, `synapse_or_skip` skips with the reason — except under `CI=true`, where it fails.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from database_servers import free_port, skip_unless_ci
from local_servers import start_logged, stop_process, tail, wait_for_answer

SERVER_NAME = "scis.test"
START_TIMEOUT_S = 60
SHARED_SECRET = "scis-tests-only-shared-secret"
# Plenty for a test run, finite so that a runaway loop still meets a limit.
GENEROUS = {"per_second": 10_000, "burst_count": 100_000}


class SynapseUnavailable(Exception):
    """Synapse could not be started here; the message says why."""


@dataclass(frozen=True)
class Person:
    user_id: str
    password: str
    access_token: str
    device_id: str


def homeserver_config(directory: Path, port: int) -> dict:
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(directory / "log.yaml"),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "registration_shared_secret": SHARED_SECRET,
        "enable_registration": False,
        "bcrypt_rounds": 4,
        "report_stats": False,
        "suppress_key_server_warning": True,
        "trusted_key_servers": [],
        "federation_domain_whitelist": [],
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "enable_metrics": False,
        "max_upload_size": "10M",
        "rc_message": GENEROUS,
        "rc_registration": GENEROUS,
        "rc_registration_token_validity": GENEROUS,
        "rc_login": {"address": GENEROUS, "account": GENEROUS, "failed_attempts": GENEROUS},
        "rc_admin_redaction": GENEROUS,
        "rc_joins": {"local": GENEROUS, "remote": GENEROUS},
        "rc_joins_per_room": GENEROUS,
        "rc_3pid_validation": GENEROUS,
        "rc_invites": {"per_room": GENEROUS, "per_user": GENEROUS, "per_issuer": GENEROUS},
        "rc_third_party_invite": GENEROUS,
        "rc_media_create": GENEROUS,
        "rc_presence": {"per_user": GENEROUS},
        "rc_delayed_event_mgmt": GENEROUS,
        "rc_room_creation": GENEROUS,
        "rc_reports": GENEROUS,
        "rc_user_directory": GENEROUS,
        "rc_profile": GENEROUS,
        "rc_key_requests": GENEROUS,
    }


def log_config(directory: Path) -> dict:
    # Warnings only: Synapse logs every request at INFO, which costs a shared 2-core machine.
    return {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "filename": str(directory / "homeserver.log"),
                "formatter": "plain",
            }
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


def write_signing_key(path: Path) -> None:
    # In-process: `--generate-keys` would cost a second Synapse start-up (imports take seconds).
    from signedjson.key import generate_signing_key, write_signing_keys

    with path.open("w") as handle:
        write_signing_keys(handle, [generate_signing_key("a_test")])


class SynapseServer:
    """A private Synapse on http://127.0.0.1:`port` that this process owns (a Popen)."""

    def __init__(self, directory: Path | None = None, port: int | None = None):
        self._own_directory = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="scis-synapse-"))
        self.port = port or free_port()
        self.output_path = self.directory / "output.log"
        self.process: subprocess.Popen | None = None
        self.started_in: float | None = None  # seconds from Popen to a first answer
        atexit.register(self.stop)  # in case the session ends without its finaliser

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_name(self) -> str:
        return SERVER_NAME

    def user_id(self, name: str) -> str:
        return f"@{name}:{SERVER_NAME}"

    def start(self) -> SynapseServer:
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"Synapse already running as pid {self.process.pid}")
        config_path = self.directory / "homeserver.yaml"
        config_path.write_text(yaml.safe_dump(homeserver_config(self.directory, self.port)))
        (self.directory / "log.yaml").write_text(yaml.safe_dump(log_config(self.directory)))
        (self.directory / "media").mkdir(exist_ok=True)
        if not (self.directory / "signing.key").exists():
            write_signing_key(self.directory / "signing.key")
        command = [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config_path)]
        began = time.monotonic()
        self.process = start_logged(
            command, self.output_path, cwd=self.directory, start_new_session=True
        )
        why = wait_for_answer(self.process, self._answers, START_TIMEOUT_S, 0.05, (OSError,))
        if why is not None:
            tail = self.log_tail()  # read before stop() takes the directory away
            self.stop()
            raise SynapseUnavailable(
                f"Synapse {why} (/_matrix/client/versions, port {self.port}): {tail}"
            )
        self.started_in = time.monotonic() - began
        return self

    def _answers(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1) as answer:
            return answer.status == 200

    def request(self, method: str, path: str, body: dict | None = None, token: str = "") -> dict:
        """One client-server API call; an error answer raises urllib.error.HTTPError."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            headers=headers,
            method=method,
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"{}")

    def register(self, name: str, password: str | None = None, admin: bool = False) -> Person:
        """A new account through `/_synapse/admin/v1/register` (HMAC over a fresh nonce)."""
        password = password or f"{name}-password"
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        signed = "\x00".join((nonce, name, password, "admin" if admin else "notadmin"))
        mac = hmac.new(SHARED_SECRET.encode(), signed.encode(), hashlib.sha1)
        answer = self.request(
            "POST",
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": name,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        return Person(answer["user_id"], password, answer["access_token"], answer["device_id"])

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=10, group=True)
            self.process = None
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, chars: int = 3000) -> str:
        return tail(self.output_path, self.directory / "homeserver.log", chars=chars)

    def __repr__(self) -> str:
        pid = self.process.pid if self.process is not None else None
        return f"SynapseServer(url={self.url}, pid={pid})"


def start_synapse() -> SynapseServer:
    """A started SynapseServer; raises SynapseUnavailable."""
    # Only whether it is there: importing Synapse here would cost seconds and its warnings.
    if importlib.util.find_spec("synapse") is None:
        raise SynapseUnavailable(
            f"matrix-synapse is not installed in {sys.prefix}; `pip install -e '.[dev]'` brings it"
        )
    server = SynapseServer()
    try:
        return server.start()
    except OSError as exc:
        server.stop()
        raise SynapseUnavailable(f"could not start Synapse: {exc}") from exc
    except SynapseUnavailable:
        server.stop()
        raise


def synapse_or_skip(environ: Mapping[str, str] = os.environ) -> SynapseServer:
    """start_synapse, turned into a skip — or, under CI=true, into a failure."""
    try:
        return start_synapse()
    except SynapseUnavailable as exc:
        skip_unless_ci(exc, "Synapse", environ=environ)
