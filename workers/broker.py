"""Which Dramatiq broker carries the work: Redis when REDIS_URL is set, else one in this process."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker


def make_broker(redis_url: str | None = None) -> dramatiq.Broker:
    url = redis_url if redis_url is not None else os.environ.get("REDIS_URL")
    if not url:
        # The embedded default: the same actors, run by worker threads inside `scis serve`.
        return StubBroker()
    # A worker killed mid-message stops beating; after this long its messages go to another.
    heartbeat = int(os.environ.get("SCIS_HEARTBEAT_TIMEOUT_MS", "60000"))
    return RedisBroker(url=url, heartbeat_timeout=heartbeat)
