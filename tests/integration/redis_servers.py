"""A Redis server of the tests' own, started from the `redis-server` binary.

Unlike PostgreSQL (database_servers.py), Redis is never borrowed from 127.0.0.1:6379, CI's
service included: the tests kill and restart the server to show what a lost queue does to the
project, and that may only ever happen to a server this process started.

Resolution: `SCIS_TEST_REDIS_SERVER` (a path to the binary) when set, else `redis-server` on
PATH. The server is a child process of the test run (no daemonize), listens on a free port of
127.0.0.1 only, persists nothing (`--save "" --appendonly no`) and keeps its working directory
and log in a temporary directory. When there is no binary, `redis_or_skip` skips with the
reason — except under `CI=true`, where a missing Redis fails the test instead.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import redis
from database_servers import free_port, skip_unless_ci
from local_servers import start_logged, stop_process, tail, wait_for_answer

ENV_BINARY = "SCIS_TEST_REDIS_SERVER"
START_TIMEOUT_S = 10


class RedisUnavailable(Exception):
    """No Redis server could be started; the message says why."""


def find_binary(environ: Mapping[str, str] = os.environ) -> Path | None:
    explicit = environ.get(ENV_BINARY)
    if explicit:
        return Path(explicit) if os.access(explicit, os.X_OK) else None
    found = shutil.which("redis-server", path=environ.get("PATH"))
    return Path(found) if found else None


class RedisServer:
    """A private `redis-server` on 127.0.0.1:`port` that this process owns (a Popen)."""

    def __init__(self, binary: Path, directory: Path | None = None, port: int | None = None):
        self.binary = binary
        self._own_directory = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="scis-redis-"))
        self.port = port or free_port()
        self.log_path = self.directory / "redis.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0
        atexit.register(self.stop)  # in case the session ends without its finaliser

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def client(self, **options) -> redis.Redis:
        options.setdefault("socket_timeout", 5)
        return redis.Redis(host="127.0.0.1", port=self.port, **options)

    def start(self) -> RedisServer:
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"redis-server already running as pid {self.process.pid}")
        data = self.directory / "data"
        shutil.rmtree(data, ignore_errors=True)  # a new server starts with nothing
        data.mkdir()
        command = [
            str(self.binary),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(data),
        ]  # fmt: skip
        heading = f"--- start #{self.starts + 1}: {' '.join(command)}"
        self.process = start_logged(command, self.log_path, heading)
        self.starts += 1
        self._wait_for_ping()
        return self

    def _wait_for_ping(self) -> None:
        client = self.client(socket_connect_timeout=1, socket_timeout=1)
        try:
            why = wait_for_answer(
                self.process, client.ping, START_TIMEOUT_S, 0.02, (redis.ConnectionError,)
            )
        finally:
            client.close()
        if why is not None:
            self.kill()
            raise RedisUnavailable(
                f"redis-server {why} (PING, port {self.port}): {self.log_tail()}"
            )

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: nothing is saved."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def restart(self) -> RedisServer:
        """Kill the server and start a fresh one on the same port with no data: every queued
        message is gone, the case "Redis restarted with its data lost". Clients keep the URL."""
        self.kill()
        return self.start()

    def flushall(self) -> None:
        client = self.client()
        try:
            client.flushall()
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=5)
            self.process = None
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, chars: int = 2000) -> str:
        return tail(self.log_path, chars=chars)

    def __repr__(self) -> str:
        return f"RedisServer(port={self.port}, pid={self.pid}, binary={self.binary})"


def start_redis(environ: Mapping[str, str] = os.environ) -> RedisServer:
    """A started RedisServer; raises RedisUnavailable."""
    binary = find_binary(environ)
    if binary is None:
        where = environ.get(ENV_BINARY) or "redis-server on PATH"
        raise RedisUnavailable(
            f"no Redis: {where} not found or not executable (Debian: apt-get install redis-server)"
        )
    server = RedisServer(binary)
    try:
        return server.start()
    except (OSError, RedisUnavailable) as exc:
        server.stop()
        if isinstance(exc, RedisUnavailable):
            raise
        raise RedisUnavailable(f"could not start {binary}: {exc}") from exc


def redis_or_skip(environ: Mapping[str, str] = os.environ) -> RedisServer:
    """start_redis, turned into a skip — or, under CI=true, into a failure."""
    try:
        return start_redis(environ)
    except RedisUnavailable as exc:
        skip_unless_ci(exc, "Redis", f"install redis-server, or set {ENV_BINARY}", environ)
