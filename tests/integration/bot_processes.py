"""Real `scis serve` processes for the tests, as worker_processes.py starts `scis worker`: the
command as a child of the test run, configured only by its environment, its output in a log
file, stopped with SIGTERM as a supervisor would, and killed if it does not stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from local_servers import start_logged
from worker_processes import REPO_ROOT

SERVE_COMMAND = (sys.executable, "-m", "bots.cli", "serve")
#: Settings the test gives each process itself, never inherited from the test run.
OWN_VARIABLES = ("DATABASE_URL", "REDIS_URL", "SCIS_RECORDING_SENDER", "TELEGRAM_", "MATRIX_")


class ServeProcess:
    def __init__(self, name: str, env: Mapping[str, str], log_path: Path, cwd: Path = REPO_ROOT):
        self.name = name
        self.env = dict(env)
        self.log_path = Path(log_path)
        self.cwd = cwd
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(OWN_VARIABLES)}
        return inherited | {"PYTHONUNBUFFERED": "1"} | self.env

    def start(self) -> ServeProcess:
        if self.running():
            raise RuntimeError(f"{self.name} runs already")
        self.process = start_logged(
            SERVE_COMMAND,
            self.log_path,
            f"--- {self.name}: {' '.join(SERVE_COMMAND)}",
            cwd=self.cwd,
            env=self.environment(),
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM, as systemd or compose stops it; SIGKILL to its session when it lingers.
        The exit code (None when it had to be killed)."""
        if self.process is None:
            return None
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            return None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __repr__(self) -> str:
        pid = self.process.pid if self.process is not None else None
        return f"ServeProcess({self.name!r}, pid={pid})"
