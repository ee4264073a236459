"""Which Dramatiq broker carries the work: Redis at the URL the settings give (REDIS_URL), else
one in this process."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from workers.metrics import ActorMetrics


def make_broker(redis_url: str | None) -> dramatiq.Broker:
    if not redis_url:
        # The embedded default: the same actors, run by worker threads inside `scis serve`.
        return _measured(StubBroker())
    # A worker killed mid-message stops beating; after `heartbeat` ms its messages go back to
    # the queue, at the next maintenance pass, which runs on `chance` broker calls in a million.
    heartbeat = int(os.environ.get("SCIS_HEARTBEAT_TIMEOUT_MS", "60000"))
    chance = int(os.environ.get("SCIS_BROKER_MAINTENANCE_CHANCE", "10000"))
    return _measured(
        RedisBroker(url=redis_url, heartbeat_timeout=heartbeat, maintenance_chance=chance)
    )


def _measured(broker: dramatiq.Broker) -> dramatiq.Broker:
    broker.add_middleware(ActorMetrics())  # each actor's time and failures, for Prometheus
    return broker
