"""The single place where `scis serve` and `scis demo` wire SCIS together: the database
(migrated), the network, the broker and its workers, the senders, and the conversation.

With no REDIS_URL the workers are Dramatiq worker threads in this process on the in-process
broker (the embedded default); with it, this process only enqueues and `scis worker` processes
do the work. With no DATABASE_URL, SQLite in ./scis.db.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueJoinTimeout
from sqlmodel import select

from bots.logs import TEXT_FORMAT, prepare
from core.importers import load_network
from core.service import bootstrap
from core.service.bus import Services
from core.service.commands import LoadNetwork
from core.service.results import Refused
from core.store import migrate
from core.store.database import database_url
from core.store.tables import NetworkVersion, ParticipantRow
from workers import actors
from workers.broker import make_broker
from workers.senders import Sender

EXAMPLE_NETWORK = Path(__file__).resolve().parent.parent / "examples" / "hurricane-city.yaml"


class NetworkProblem(Exception):
    """A network file that cannot be loaded: its diagnostics, one per line."""


@dataclass
class Runtime:
    services: Services
    broker: dramatiq.Broker
    senders: dict[str, Sender]  # the outbox's, by platform; the actors hold this very dict
    worker: dramatiq.Worker | None = None
    loaded: list[Path] = field(default_factory=list)  # the network files loaded at start
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def in_process(self) -> bool:
        return self.worker is not None

    def participants(self) -> dict[str, str]:
        def read(session):
            return {
                p.id: p.name
                for p in session.exec(select(ParticipantRow).order_by(ParticipantRow.id))
            }

        return self.services.read(read)

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until the in-process workers have nothing left to do (scripts and the demo);
        False when they still had work after `timeout` seconds."""
        if not self.in_process:
            return True
        try:
            self.broker.join(actors.deliver.queue_name, timeout=int(timeout * 1000))
        except QueueJoinTimeout:
            return False
        self.worker.join()
        return True

    def sweep_every(self, seconds: float, older_than: float = 30.0) -> None:
        """Hand out again, now and then, what a crash left unfinished."""

        def tick():
            while not self._stopping.wait(seconds):
                try:
                    actors.sweep.send(older_than)
                except Exception:  # the broker away for a moment: the next tick will do
                    pass

        threading.Thread(target=tick, name="scis-sweeper", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        if self.worker is not None:
            self.worker.stop()
        actors.configure(None, None)


def start(
    senders: dict[str, Sender],
    networks: list[Path] = (),
    url: str | None = None,
    threads: int = 4,
    example: Path | None = EXAMPLE_NETWORK,
) -> Runtime:
    """Migrate, load `networks` (or `example` when the database has no network yet), and start
    the workers with `senders` for the outbox."""
    url = url or database_url()
    migrate.upgrade(url)
    services = bootstrap(url)
    empty = services.read(
        lambda session: session.exec(select(NetworkVersion.version)).first() is None
    )
    to_load = list(networks) or ([example] if empty and example is not None else [])
    if to_load:
        loaded = load_network(to_load)
        if loaded.errors:
            raise NetworkProblem("\n".join(str(e) for e in loaded.errors))
        try:
            services.handle(LoadNetwork(None, loaded.network, note="loaded by scis serve"))
        except Refused as refusal:  # one line for the operator, not a crash loop's traceback
            raise NetworkProblem(f"the network was not loaded: {refusal}") from None
    broker = make_broker()
    actors.bind(broker)
    actors.configure(services, senders)
    worker = None
    if isinstance(broker, StubBroker):
        worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
        worker.start()
    return Runtime(services, broker, senders, worker, loaded=to_load)


def log_to_file(path: Path, level: int = logging.INFO) -> None:
    """Send every log record (SCIS's, Dramatiq's) to `path`, not to the terminal where a person
    is chatting: a worker's retry or traceback belongs in the log, not in the conversation."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    prepare(handler)  # secrets out; the order and participant in; JSON if SCIS_LOG_FORMAT says
    root = logging.getLogger()
    for old in list(root.handlers):
        if type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
