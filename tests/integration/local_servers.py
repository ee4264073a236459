"""Starting and stopping the servers the integration tests run as child processes of their own
(redis-server, telegram-test-api, Synapse, `scis serve`, `scis worker`): each one's output
appended to a log file of its own, waited for until it answers, and stopped with SIGTERM, then
SIGKILL when it lingers."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def start_logged(
    command: Sequence[str], log_path: Path, heading: str = "", **popen
) -> subprocess.Popen:
    """`command` started with nothing on stdin and its stdout and stderr appended to `log_path`,
    after the line `heading` when there is one (so that a log of several starts says which is
    which). `popen`: Popen's other arguments (cwd, env, start_new_session)."""
    with log_path.open("ab") as log:
        if heading:
            log.write(f"{heading}\n".encode())
            log.flush()
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **popen
        )


def wait_for_answer(
    process: subprocess.Popen,
    answers: Callable[[], object],
    timeout: float,
    every: float,
    not_yet: tuple[type[BaseException], ...] = (),
) -> str | None:
    """Asks `answers()` every `every` seconds until it is true, and returns None; or says why it
    never was: the process exited, or `timeout` seconds passed. An exception of `not_yet` from
    `answers` (a refused connection, while the server starts) counts as no answer yet."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            return f"exited with {process.returncode} at start"
        try:
            if answers():
                return None
        except not_yet:
            pass
        if time.monotonic() > deadline:
            return f"did not answer within {timeout}s"
        time.sleep(every)


def stop_process(process: subprocess.Popen, grace: float, group: bool = False) -> None:
    """SIGTERM, and SIGKILL when the process still runs `grace` seconds later; with `group`, to
    its whole process group (started with start_new_session: the helpers it started end too).
    Returns once the process has ended."""
    if process.poll() is not None:
        return
    send = (lambda number: _signal_group(process.pid, number)) if group else process.send_signal
    send(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=10)


def _signal_group(pid: int, number: int) -> None:
    try:
        os.killpg(pid, number)
    except (ProcessLookupError, PermissionError):
        pass  # the group has ended meanwhile


def tail(*logs: Path, chars: int = 2000) -> str:
    """The last `chars` characters of each log there is, one after the other: for saying why a
    server did not start."""
    parts = []
    for log in logs:
        try:
            parts.append(log.read_text(errors="replace")[-chars:].strip())
        except OSError:
            pass  # not written yet, or taken away with the server's directory
    return "\n".join(part for part in parts if part)
