"""`scis worker`: Dramatiq worker processes on Redis, plus the sweeper's clock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Annotated

import typer

from bots.cli_output import fail


def worker(
    processes: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    threads: Annotated[int, typer.Option(min=1, help="Threads per process.")] = 4,
    sweep_every: Annotated[
        float, typer.Option(min=0.1, help="Seconds between sweeps of unfinished work.")
    ] = 15.0,
    sweep_age: Annotated[
        float, typer.Option(min=0.0, help="Work older than this many seconds is handed out again.")
    ] = 30.0,
):
    """Run workers that share the work through Redis (REDIS_URL); start as many as you like,
    on as many machines."""
    if not os.environ.get("REDIS_URL"):
        fail(
            "`scis worker` needs REDIS_URL; without Redis, `scis serve` runs the workers "
            "in its own process."
        )
    from bots.bootstrap import bootstrap
    from workers.metrics import serve_from_environment, share_with_worker_processes

    samples = share_with_worker_processes()  # before the worker processes start
    # This process only sends the sweeper's ticks; the worker processes put SCIS together
    # themselves (bots.bootstrap:worker_process).
    app = bootstrap(upgrade=False, work_here=False, senders={})
    if samples is not None:  # SCIS_METRICS_PORT: the worker processes' metrics, served here
        serve_from_environment(app.broker, app.services.engine, samples)
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
        child = subprocess.Popen(command)
        typer.echo(f"SCIS workers: {processes} processes × {threads} threads (pid {child.pid}).")
        while child.poll() is None:
            if time.monotonic() >= next_sweep:
                try:
                    app.actors.sweep.send(sweep_age)
                except Exception as problem:  # Redis away for a moment: the next sweep will do
                    typer.echo(f"sweep not sent: {problem}", err=True)
                next_sweep = time.monotonic() + sweep_every
            time.sleep(0.2)
        if stopping or child.returncode == 0:
            raise typer.Exit(child.returncode or 0)
        # A worker died and Dramatiq stopped its siblings: start them again, as a supervisor
        # would. Its unfinished messages come back after the broker's heartbeat timeout.
        typer.echo(f"workers exited with {child.returncode}; starting them again", err=True)
        time.sleep(1.0)
