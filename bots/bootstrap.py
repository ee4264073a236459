"""The composition root: the one place where SCIS is put together, for `scis serve`,
`scis worker`, `scis demo` and the tests alike — the database (migrated), the application with
its handler table and platforms, the broker with the actors, the senders of the outbox, and the
conversation the chat front ends talk to. Nothing is configured at import time anywhere; each
process calls `bootstrap` once (ARCHITECTURE.md draws the result).

With no REDIS_URL the actors run on worker threads in this process on the in-process broker
(the embedded default); with it, this process only enqueues and `scis worker` processes do the
work. With no DATABASE_URL, SQLite in ./scis.db.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueJoinTimeout
from sqlalchemy.engine import Engine
from sqlmodel import select

from bots.conversation import notices
from bots.conversation.conversation import ChatConversation
from bots.conversation.settings import invite_days_from_environment
from bots.network_cache import load_network_cached
from bots.platforms import PLATFORM_NAMES, platform_senders
from core.service.bus import Services
from core.service.commands import LoadNetwork
from core.service.handlers import CHECKS, HANDLERS
from core.service.results import Refused
from core.store import migrate
from core.store.database import database_url, make_engine
from core.store.tables import NetworkVersion, ParticipantRow, now
from workers.actors import Actors
from workers.broker import make_broker
from workers.senders import Sender

EXAMPLE_NETWORK = Path(__file__).resolve().parent.parent / "examples" / "hurricane-city.yaml"


class NetworkProblem(Exception):
    """A network file that cannot be loaded: its diagnostics, one per line."""


@dataclass(frozen=True)
class Settings:
    """What a deployment chooses, read from the environment once, at start."""

    database_url: str
    redis_url: str | None = None
    threads: int = 4  # in-process worker threads (the embedded default)
    invite_days: int | None = None  # how long invite codes work; None: SCIS_INVITE_DAYS or 7

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ, **chosen) -> Settings:
        """DATABASE_URL, REDIS_URL, SCIS_INVITE_DAYS; `chosen` (a command line's options)
        overrides them. A bad value stops the start here, with what is wrong."""
        values = {
            "database_url": database_url(environ),
            "redis_url": environ.get("REDIS_URL") or None,
            "invite_days": invite_days_from_environment(environ),
        }
        return cls(**{**values, **chosen})


def application(engine: Engine, clock: Callable[[], datetime] = now) -> Services:
    """The application over `engine` with this deployment's handlers and chat platforms: what
    tests and tools that need no broker use. Its handler table is its own copy, so that a test
    may replace one handler of one application."""
    return Services(
        engine,
        clock,
        handlers=dict(HANDLERS),
        platforms=PLATFORM_NAMES,
        checks=CHECKS,
        render=notices.render,
    )


@dataclass
class App:
    settings: Settings
    services: Services
    broker: dramatiq.Broker
    actors: Actors
    senders: dict[str, Sender]  # the outbox's, by platform; the actors hold this very dict
    worker: dramatiq.Worker | None = None
    loaded: list[Path] = field(default_factory=list)  # the network files loaded at start
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def in_process(self) -> bool:
        return self.worker is not None

    def conversation(self, **options) -> ChatConversation:
        """The conversation every chat front end talks to: its changes are kept and carried out
        by the actors, and what /join and /register leave is delivered at once."""
        return ChatConversation(
            self.services,
            self.actors.take_in,
            on_result=self.actors.deliver_results,
            invite_days=self.settings.invite_days,
            **options,
        )

    def load_networks(self, networks: Sequence[Path], example: Path | None = None) -> None:
        """Load `networks` (or `example` when the database has no network yet); a network that
        cannot be loaded raises NetworkProblem with its diagnostics and loads nothing."""
        empty = self.services.read(
            lambda session: session.exec(select(NetworkVersion.version)).first() is None
        )
        to_load = list(networks) or ([example] if empty and example is not None else [])
        if not to_load:
            return
        loaded = load_network_cached(to_load)
        if loaded.errors:
            raise NetworkProblem("\n".join(str(e) for e in loaded.errors))
        try:
            self.services.handle(LoadNetwork(None, loaded.network, note="loaded by scis serve"))
        except Refused as refusal:  # one line for the operator, not a crash loop's traceback
            raise NetworkProblem(f"the network was not loaded: {refusal}") from None
        self.loaded = to_load

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
            self.broker.join(self.actors.deliver.queue_name, timeout=int(timeout * 1000))
        except QueueJoinTimeout:
            return False
        self.worker.join()
        return True

    def sweep_every(self, seconds: float, older_than: float = 30.0) -> None:
        """Hand out again, now and then, what a crash left unfinished."""

        def tick():
            while not self._stopping.wait(seconds):
                try:
                    self.actors.sweep.send(older_than)
                except Exception:  # the broker away for a moment: the next tick will do
                    pass

        threading.Thread(target=tick, name="scis-sweeper", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        if self.worker is not None:
            self.worker.stop()


def bootstrap(
    settings: Settings | None = None,
    *,
    senders: dict[str, Sender] | None = None,
    clock: Callable[[], datetime] = now,
    upgrade: bool = True,
    work_here: bool = True,
) -> App:
    """SCIS, put together. `senders`: the outbox's (default: the configured platforms').
    `upgrade`: migrate the database first (`scis worker` leaves that to `scis serve` or
    `scis db upgrade`). `work_here`: on the in-process broker, start the worker threads."""
    settings = settings or Settings.from_environment()
    if upgrade:
        migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    services = application(engine, clock)
    if senders is None:
        senders = platform_senders(engine)
    broker = make_broker(settings.redis_url)
    actors = Actors(broker, services, senders)
    worker = None
    if work_here and isinstance(broker, StubBroker):
        worker = dramatiq.Worker(broker, worker_threads=settings.threads, worker_timeout=100)
        worker.start()
    return App(settings, services, broker, actors, senders, worker)


def worker_process() -> None:
    """What each `scis worker` process runs first (`python -m dramatiq
    bots.bootstrap:worker_process`): Dramatiq has pointed logging at its pipe by then; SCIS's
    format and redaction go on it, then SCIS is put together on the Redis broker, which Dramatiq
    then serves."""
    from bots.logs import setup_logging

    setup_logging(level=None)
    app = bootstrap(upgrade=False, work_here=False)
    dramatiq.set_broker(app.broker)
