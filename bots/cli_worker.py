"""`scis worker`: Dramatiq worker processes on Redis, plus the sweeper's clock."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from bots.cli_output import fail

POLL_VARIABLE = "SCIS_WORKER_POLL_MS"


def worker(
    processes: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    threads: Annotated[int, typer.Option(min=1, help="Threads per process.")] = 4,
    sweep_every: Annotated[
        float, typer.Option(min=0.1, help="Seconds between sweeps of unfinished work.")
    ] = 15.0,
    sweep_age: Annotated[
        float, typer.Option(min=0.0, help="Work older than this many seconds is handed out again.")
    ] = 30.0,
    poll_ms: Annotated[
        int,
        typer.Option(
            min=1,
            envvar=POLL_VARIABLE,
            help="Milliseconds an idle worker waits on Redis before it looks again: the longest "
            "a command waits on a quiet queue.",
        ),
    ] = 100,
):
    """Run workers that share the work through Redis (REDIS_URL); start as many as you like,
    on as many machines."""
    if not os.environ.get("REDIS_URL"):
        fail(
            "`scis worker` needs REDIS_URL; without Redis, `scis serve` runs the workers "
            "in its own process."
        )
    # This process becomes the supervisor (same pid, same signals), which holds none of what
    # the command line loaded: the worker processes put SCIS together themselves.
    arguments = [str(processes), str(threads), str(sweep_every), str(sweep_age), str(poll_ms)]
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "workers.supervisor", *arguments])
