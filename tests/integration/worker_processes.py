"""A group of real worker processes for the tests: `scis worker` (or any Dramatiq command line)
started as a child of the test run, its output in a log file, its worker children found with
psutil, killable one by one, and stopped so that no process of it survives the test.

The command runs in a session of its own (start_new_session), so every process it forks —
Dramatiq's worker children included, even once orphaned by a killed parent — is found again by
its session id and ended by stop(). Only processes of that session, started after the command,
are ever signalled.

Dramatiq's CLI (1.x and 2.x) shuts the whole group down when one worker child dies unexpectedly:
after kill9() of one child the parent SIGTERMs the others and exits with the dead child's code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import psutil
from local_servers import start_logged

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]

#: The project's worker command; --processes and --threads are appended.
SCIS_WORKER_COMMAND = (sys.executable, "-m", "bots.cli", "worker")
#: Plain Dramatiq on the sample actors (tests/integration/_sample_actors.py).
SAMPLE_COMMAND = (sys.executable, "-m", "dramatiq", "_sample_actors", "--path", str(HERE))
#: What Dramatiq logs once per worker process when its consumers run.
READY_TEXT = "Worker process is ready for action."
#: Environment variables the harness sets itself, never inherited from the test run.
OWN_VARIABLES = ("REDIS_URL", "DATABASE_URL", "SCIS_RECORDING_SENDER")

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    interval: float = 0.05,
    message: str | Callable[[], str] = "",
) -> T:
    """Poll `predicate` until it returns something truthy, and return that; AssertionError after
    `timeout` seconds (with `message`, or what a callable message returns then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = message() if callable(message) else message
            raise AssertionError(f"not true within {timeout}s: {detail}".rstrip(": "))
        time.sleep(interval)


def _alive(process: psutil.Process) -> bool:
    """Running and not a zombie (an orphan's zombie may never be reaped in a container)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class WorkerProcesses:
    """`command --processes N --threads M`, as a context manager or with start()/stop()."""

    def __init__(
        self,
        *,
        redis_url: str,
        log_path: Path,
        database_url: str | None = None,
        recording_path: Path | None = None,
        processes: int = 2,
        threads: int = 1,
        command: Sequence[str] = SCIS_WORKER_COMMAND,
        env: Mapping[str, str] | None = None,
        ready_text: str | None = READY_TEXT,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        cwd: Path = REPO_ROOT,
    ):
        self.redis_url = redis_url
        self.database_url = database_url
        self.recording_path = Path(recording_path) if recording_path is not None else None
        self.log_path = Path(log_path)
        self.processes = processes
        self.threads = threads
        self.command = [*command, "--processes", str(processes), "--threads", str(threads)]
        self.extra_env = dict(env or {})
        self.ready_text = ready_text
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.cwd = cwd
        self.process: subprocess.Popen | None = None
        self._parent: psutil.Process | None = None
        self._seen: dict[int, psutil.Process] = {}
        self.started_at: float | None = None

    # -- starting ---------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
        environment["REDIS_URL"] = self.redis_url
        if self.database_url is not None:
            environment["DATABASE_URL"] = self.database_url
        if self.recording_path is not None:
            environment["SCIS_RECORDING_SENDER"] = str(self.recording_path)
        environment["PYTHONUNBUFFERED"] = "1"
        environment.update(self.extra_env)
        return environment

    def start(self) -> WorkerProcesses:
        if self.process is not None:
            raise RuntimeError("already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = start_logged(
            self.command,
            self.log_path,
            f"--- {' '.join(self.command)}",
            cwd=self.cwd,
            env=self.environment(),
            start_new_session=True,
        )
        self.started_at = time.time()
        self._parent = psutil.Process(self.process.pid)
        self._seen[self.process.pid] = self._parent
        try:
            self.wait_until(self._ready, self.start_timeout, message="workers did not get ready")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if not self.running():
            raise AssertionError(
                f"worker command exited with {self.process.returncode} while starting\n"
                + self.log_tail()
            )
        if self.ready_text is not None:
            return self.log_text().count(self.ready_text) >= self.processes
        return len(self.worker_pids()) >= self.processes

    def __enter__(self) -> WorkerProcesses:
        return self.start() if self.process is None else self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop()
        if exc_type is not None:
            print(f"--- worker log {self.log_path}:\n{self.log_tail()}")

    # -- looking ----------------------------------------------------------------------------

    def running(self) -> bool:
        """Whether the command's own process still runs (reaps it when it has exited)."""
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def _descendants(self) -> list[psutil.Process]:
        if self._parent is None or not _alive(self._parent):
            return []
        try:
            children = self._parent.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for child in children:
            self._seen.setdefault(child.pid, child)
        return [self._seen[child.pid] for child in children]

    def worker_pids(self) -> list[int]:
        """The worker processes: the descendants of the command that fork no further (Dramatiq's
        worker children, however many wrappers stand above them), multiprocessing helpers left
        out. Empty once the command has exited."""
        pids = []
        for process in self._descendants():
            try:
                if not _alive(process) or process.children():
                    continue
                cmdline = " ".join(process.cmdline())
            except psutil.NoSuchProcess:
                continue
            if "resource_tracker" in cmdline or "forkserver" in cmdline:
                continue
            pids.append(process.pid)
        return sorted(pids)

    def group(self) -> list[psutil.Process]:
        """Every live process of this group: the command, its descendants, anything else in its
        session (orphans of a killed parent) and whatever was seen before and still runs."""
        if self.process is None:
            return []
        self._descendants()
        sid = self.process.pid
        for process in psutil.process_iter(["create_time"]):
            try:
                if (
                    process.pid not in self._seen
                    and os.getsid(process.pid) == sid
                    and process.info["create_time"] >= self._parent.create_time()
                ):
                    self._seen[process.pid] = process
            except (ProcessLookupError, PermissionError, psutil.Error):
                continue
        return [process for process in self._seen.values() if _alive(process)]

    def leftovers(self) -> list[psutil.Process]:
        """After stop(): the processes of this group that survived it (should be none)."""
        return self.group()

    # -- acting -----------------------------------------------------------------------------

    def kill9(self, pid: int, timeout: float = 10.0) -> None:
        """SIGKILL one process of this group (a worker child, usually) and wait until it is gone."""
        members = {process.pid: process for process in self.group()}
        if pid not in members:
            raise ValueError(f"pid {pid} is not a live process of this worker group {members}")
        members[pid].send_signal(signal.SIGKILL)
        self.wait_until(lambda: not _alive(members[pid]), timeout, message=f"pid {pid} survived")

    def stop(self) -> None:
        """SIGTERM to the command (Dramatiq passes it on and stops gracefully) — or, when it is
        gone, to each process of the group left behind — SIGKILL to every process of the group
        still there after `stop_timeout`, then reap the command."""
        if self.process is None:
            return
        members = self.group()
        for process in [self._parent] if self.running() else members:
            try:
                process.send_signal(signal.SIGTERM)
            except psutil.NoSuchProcess:
                pass
        survivors = self._wait_gone(members, self.stop_timeout)
        for _ in range(3):
            survivors = self._wait_gone(self.group(), 0)
            if not survivors:
                break
            with open(self.log_path, "a") as log:
                log.write(
                    f"--- harness: SIGKILL to {[p.pid for p in survivors]} still running "
                    f"{self.stop_timeout}s after SIGTERM\n"
                )
            for process in survivors:
                try:
                    process.send_signal(signal.SIGKILL)
                except psutil.NoSuchProcess:
                    pass
            self._wait_gone(survivors, 5)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # only when it survived SIGKILL: leftovers() says so
            pass

    @staticmethod
    def _wait_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
        deadline = time.monotonic() + timeout
        while True:
            alive = [process for process in processes if _alive(process)]
            if not alive or time.monotonic() >= deadline:
                return alive
            time.sleep(0.05)

    def wait_until(self, predicate: Callable[[], T], timeout: float, message: str = "") -> T:
        """wait_until, whose failure also tells the group's state and its log's end."""

        def describe() -> str:
            state = "running" if self.running() else f"exited with {self.returncode}"
            return f"{message} (worker command {state}, workers {self.worker_pids()})\n" + (
                self.log_tail()
            )

        return wait_until(predicate, timeout, message=describe)

    # -- reading ----------------------------------------------------------------------------

    def records(self) -> list[dict]:
        """The lines of the recording file, parsed (a last line still being written is left out)."""
        if self.recording_path is None:
            raise RuntimeError("no recording_path")
        try:
            text = self.recording_path.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_text()[-chars:]

    def __repr__(self) -> str:
        pid = self.process.pid if self.process is not None else None
        return f"WorkerProcesses(pid={pid}, command={self.command!r})"
