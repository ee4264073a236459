"""What SCIS tells Prometheus (prometheus-client), on http://HOST:SCIS_METRICS_PORT/metrics.

Counted where it happens: messages in per platform (as the adapters hand them to the
conversation), messages out per platform and outcome (as the delivery hands them to a sender),
each actor's time and failures (a Dramatiq middleware), the time of a weave (the weave_order
actor's WeaveOrder: the weave and its transaction). Read at each scrape: the depth of every
Dramatiq queue and the outbox's pending count and oldest age.

Processes: `scis serve` serves its own metrics. `scis worker` serves the metrics of all its
worker processes on one port, in prometheus-client's multiprocess mode: it points
PROMETHEUS_MULTIPROC_DIR at a fresh directory before starting them, each process writes its
samples there, and the scrape adds them up (a restarted process's counts are kept). The queue
depth and the outbox are shared state, read afresh by whichever SCIS process is scraped: every
one reports the same values (take `max` across them, not `sum`).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path

import dramatiq
from prometheus_client import REGISTRY, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.store.tables import Notification, now

log = logging.getLogger(__name__)
disable_created_metrics()  # the *_created series say when a process started: noise here

MESSAGES_IN = Counter(
    "scis_messages_in", "Chat messages and commands people sent SCIS.", ["platform"]
)
MESSAGES_OUT = Counter(
    "scis_messages_out",
    "Outbox messages handed to a platform, by outcome: sent, rate_limited (parked until the "
    "platform's time), failed (permanently, or an error that is tried again).",
    ["platform", "outcome"],
)
ACTOR_SECONDS = Histogram(
    "scis_actor_seconds",
    "Time an actor took for one message, failures included.",
    ["actor"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
ACTOR_FAILURES = Counter(
    "scis_actor_failures",
    "Actor runs that raised (each is retried unless out of retries).",
    ["actor"],
)
WEAVE_SECONDS = Histogram(
    "scis_weave_seconds",
    "Time to weave an order's plans and commit them (WeaveOrder in the weave_order actor).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)


def message_out(platform: str, outcome: str) -> None:
    MESSAGES_OUT.labels(platform, outcome).inc()


class ActorMetrics(dramatiq.Middleware):
    """Each actor's time per message and its failures, by actor name."""

    def __init__(self):
        self._started: dict[str, float] = {}

    def before_process_message(self, broker, message):
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        started = self._started.pop(message.message_id, None)
        if started is not None:
            ACTOR_SECONDS.labels(message.actor_name).observe(time.perf_counter() - started)
        if exception is not None:
            ACTOR_FAILURES.labels(message.actor_name).inc()

    def after_skip_message(self, broker, message):
        self._started.pop(message.message_id, None)


class QueueDepth:
    """scis_queue_depth{queue}: messages waiting in each of the broker's queues, read at each
    scrape (`default.DQ`: delayed ones — retries, rate-limited deliveries — not yet taken by a
    worker). A broker that does not answer leaves the gauge out of that scrape."""

    def __init__(self, broker: dramatiq.Broker):
        self.broker = broker

    def describe(self) -> Iterable[Metric]:
        return ()  # nothing is read when the collector is registered

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            "scis_queue_depth", "Messages waiting in a queue.", labels=["queue"]
        )
        try:
            for queue in sorted(self.broker.get_declared_queues()):
                gauge.add_metric([queue], self._depth(queue))
        except Exception as problem:  # Redis away: this scrape says nothing about the queues
            log.warning("queue depth not read: %s", problem)
            return
        yield gauge

    def _depth(self, queue: str) -> int:
        client = getattr(self.broker, "client", None)
        if client is not None:  # Redis: a list of message ids per queue
            return client.llen(f"{self.broker.namespace}:{queue}")
        return self.broker.queues[queue].qsize()  # the in-process broker


class Outbox:
    """scis_outbox_pending and scis_outbox_oldest_seconds (0 with nothing pending): one short
    read at each scrape."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterable[Metric]:
        try:
            with Session(self.engine) as session:
                pending, oldest = session.exec(
                    select(func.count(), func.min(Notification.created_at)).where(
                        Notification.status == "pending"
                    )
                ).one()
        except Exception as problem:  # the database away: this scrape says nothing of it
            log.warning("outbox not read: %s", problem)
            return
        age = max(0.0, (now() - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "scis_outbox_pending", "Outbox messages not yet sent.", value=pending
        )
        yield GaugeMetricFamily(
            "scis_outbox_oldest_seconds",
            "Age of the oldest outbox message not yet sent.",
            value=age,
        )


class _Page:
    """Everything one /metrics page shows: the registries and the scrape-time readings."""

    def __init__(self, sources: Iterable):
        self.sources = list(sources)

    def collect(self) -> Iterable[Metric]:
        for source in self.sources:
            yield from source.collect()


def serve_metrics(
    port: int,
    broker: dramatiq.Broker,
    engine: Engine,
    address: str = "0.0.0.0",
    multiprocess_directory: str | None = None,
):
    """Serve /metrics on `address`:`port` from a daemon thread; returns the server (its
    `shutdown()` stops it). With `multiprocess_directory`, the samples are those the worker
    processes wrote there; else this process's own."""
    if multiprocess_directory is not None:
        samples = CollectorRegistry()
        MultiProcessCollector(samples, path=multiprocess_directory)
    else:
        samples = REGISTRY
    page = _Page([samples, QueueDepth(broker), Outbox(engine)])
    server, _thread = start_http_server(port, addr=address, registry=page)
    return server


def metrics_port(environ: Mapping[str, str] = os.environ) -> int | None:
    text = environ.get("SCIS_METRICS_PORT", "").strip()
    return int(text) if text else None


def serve_from_environment(
    broker: dramatiq.Broker,
    engine: Engine,
    multiprocess_directory: str | None = None,
    environ: Mapping[str, str] = os.environ,
):
    """With SCIS_METRICS_PORT set, `serve_metrics` there (on SCIS_METRICS_ADDRESS, default all
    addresses); else None."""
    port = metrics_port(environ)
    if port is None:
        return None
    address = environ.get("SCIS_METRICS_ADDRESS", "0.0.0.0")
    return serve_metrics(port, broker, engine, address, multiprocess_directory)


def share_with_worker_processes(environ: MutableMapping[str, str] = os.environ) -> str | None:
    """`scis worker`, before it starts Dramatiq: with SCIS_METRICS_PORT set, a directory for the
    worker processes' samples, in the environment they inherit (PROMETHEUS_MULTIPROC_DIR, or a
    fresh temporary one removed at exit). None when there are no metrics to serve."""
    if metrics_port(environ) is None:
        return None
    directory = environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        # Samples of an earlier run would be added to this one's (only they go: the operator's
        # directory may hold other things).
        Path(directory).mkdir(parents=True, exist_ok=True)
        for samples in Path(directory).glob("*.db"):
            samples.unlink()
    else:
        directory = tempfile.mkdtemp(prefix="scis-metrics-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory
