"""Trivial Dramatiq actors for testing the worker harness (worker_processes.py) on its own.

Run as `python -m dramatiq _sample_actors --path tests/integration`. The broker reads REDIS_URL;
each actor appends one JSON line to the file named by SCIS_RECORDING_SENDER, as the project's
recording sender does for a delivered message. Messages are sent by actor name from the tests
(broker.enqueue(Message(...))), so the test process never imports this module.

Redelivery of a killed worker's messages is governed by two RedisBroker parameters:
`heartbeat_timeout` (ms without a heartbeat before a worker counts as dead) and
`maintenance_chance` (how many dispatch calls in a million run the maintenance that moves a dead
worker's unacknowledged messages back onto the queue; dramatiq's default is 1000, so 0.1%).
Here every call runs it, so a killed worker's message comes back right after the timeout.
"""

from __future__ import annotations

import json
import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

HEARTBEAT_TIMEOUT_MS = int(os.environ.get("SAMPLE_HEARTBEAT_TIMEOUT_MS", "3000"))
MAINTENANCE_CHANCE = 1_000_000  # dramatiq.brokers.redis.MAINTENANCE_SCALE: on every call

broker = RedisBroker(
    url=os.environ["REDIS_URL"],
    heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
    maintenance_chance=MAINTENANCE_CHANCE,
)
dramatiq.set_broker(broker)


def _record(**fields) -> None:
    line = json.dumps({"pid": os.getpid(), "at": time.time(), **fields}) + "\n"
    # One write of a short line to an O_APPEND file: lines from processes never interleave.
    with open(os.environ["SCIS_RECORDING_SENDER"], "a") as out:
        out.write(line)


def _starts(tag: str) -> int:
    try:
        with open(os.environ["SCIS_RECORDING_SENDER"]) as recorded:
            return sum(
                1
                for line in recorded
                if (record := json.loads(line)).get("tag") == tag and record["event"] == "start"
            )
    except FileNotFoundError:
        return 0


@dramatiq.actor(max_retries=0)
def record(tag: str, seconds: float = 0.0) -> None:
    time.sleep(seconds)
    _record(event="record", tag=tag)


@dramatiq.actor(max_retries=0)
def slow_once(tag: str, seconds: float) -> None:
    """Sleeps `seconds` on the first delivery only, so a redelivered message finishes at once."""
    attempt = _starts(tag)
    _record(event="start", tag=tag, attempt=attempt)
    if attempt == 0:
        time.sleep(seconds)
    _record(event="done", tag=tag, attempt=attempt)
