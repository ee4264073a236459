"""The parent process of `scis worker`: it starts Dramatiq's worker processes, starts them again
when one dies, and sends the sweeper's tick. `scis worker` replaces itself with this module
(exec) so that the parent holds none of SCIS (a worker's memory, to send a message every few
seconds): it imports Dramatiq's Redis broker and, only when it serves the worker processes'
metrics (SCIS_METRICS_PORT), what that takes. The worker processes put SCIS together themselves
(bots.bootstrap:worker_process).

    python -m workers.supervisor PROCESSES THREADS SWEEP_EVERY SWEEP_AGE POLL_MS
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker

QUEUE = "default"  # the actors' queue (workers/actors.py declares them all on it)


def sweep(broker: RedisBroker, older_than: float) -> None:
    """The sweep actor's message, sent by name: its code is the worker processes'."""
    broker.enqueue(Message(QUEUE, "sweep", (older_than,), {}, {}))


def serve_metrics(broker: RedisBroker) -> None:
    """With SCIS_METRICS_PORT, the worker processes' metrics, served from here (set up before
    they start: they write their samples where this process reads them)."""
    if not os.environ.get("SCIS_METRICS_PORT", "").strip():
        return
    from core.store.database import make_engine
    from workers.metrics import serve_from_environment, share_with_worker_processes

    samples = share_with_worker_processes()
    broker.declare_queue(QUEUE)  # its depth is on the page
    serve_from_environment(broker, make_engine(), samples)


def supervise(processes: int, threads: int, sweep_every: float, sweep_age: float, poll_ms: int):
    broker = RedisBroker(url=os.environ["REDIS_URL"])
    serve_metrics(broker)
    command = [
        sys.executable,
        "-m",
        "dramatiq",
        "bots.bootstrap:worker_process",  # SCIS's log format and redaction, then SCIS
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    # How long an idle worker waits on Redis before it looks again (Dramatiq's default, 1 s,
    # is what a chat message would wait on a quiet queue); read by Dramatiq at import.
    environment = {**os.environ, "dramatiq_worker_timeout": str(poll_ms)}
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        if child is not None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    next_sweep = time.monotonic()
    while True:
        child = subprocess.Popen(command, env=environment)
        print(f"SCIS workers: {processes} processes × {threads} threads (pid {child.pid}).")
        sys.stdout.flush()
        while child.poll() is None:
            if time.monotonic() >= next_sweep:
                try:
                    sweep(broker, sweep_age)
                except Exception as problem:  # Redis away for a moment: the next sweep will do
                    print(f"sweep not sent: {problem}", file=sys.stderr)
                next_sweep = time.monotonic() + sweep_every
            time.sleep(0.2)
        if stopping or child.returncode == 0:
            return child.returncode or 0
        # A worker died and Dramatiq stopped its siblings: start them again, as a supervisor
        # would. Its unfinished messages come back after the broker's heartbeat timeout.
        print(f"workers exited with {child.returncode}; starting them again", file=sys.stderr)
        time.sleep(1.0)


if __name__ == "__main__":
    processes, threads, sweep_every, sweep_age, poll_ms = sys.argv[1:6]
    sys.exit(
        supervise(int(processes), int(threads), float(sweep_every), float(sweep_age), int(poll_ms))
    )
