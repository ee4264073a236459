"""The soak's world: every server the soak talks through, started from the integration tests'
harnesses (tests/integration), and the chair network with the soak's own chat accounts.

PostgreSQL (a fresh database), a private Redis, a private Synapse, the Telegram emulator behind a
long-polling Bot API (bot_api_proxy.BotApiProxy with hold_s), two `scis worker` commands and one
`scis serve` configured for Telegram and Matrix — each a separate process whose memory can be read.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import project_paths  # noqa: F401 — the project and the integration tests' harnesses
import psutil
from bot_api_proxy import BotApiProxy
from bot_processes import ServeProcess
from database_servers import resolve_postgres
from matrix_people import add_buyers, chair_network
from redis_servers import start_redis
from sqlalchemy import text
from synapse_server import Person, start_synapse
from telegram_emulator import start_emulator
from worker_processes import WorkerProcesses, wait_until

from bots.bootstrap import application
from core.importers import load_network
from core.service.commands import LoadNetwork
from core.store import migrate
from core.store.database import make_engine

# The people of examples/chair.yaml and tests/scenarios/seat-maker.yaml, split between the two
# platforms so that every order has parties on both (the parties of plan 1: ana, fern, gus, hal,
# bob; ivy and eli come in when a disruption re-plans).
ON_TELEGRAM = ("dana", "ana", "bob", "gus", "hal", "hana", "rita")
ON_MATRIX = ("fern", "eli", "ivy", "carol")
WORKER_COMMANDS = 2
WORKER_THREADS = 4
# How long the Bot API holds a bot's getUpdates when nothing waits, as Telegram does; the
# emulator answers at once, and PTB polling without a pause would spin.
HOLD_S = 10.0


@dataclass
class Accounts:
    """Who is who: participant id → Telegram chat id, or → Matrix account."""

    telegram: dict[str, int] = field(default_factory=dict)
    matrix: dict[str, Person] = field(default_factory=dict)


def network_files(directory: Path, accounts: Accounts) -> list[Path]:
    """chair.yaml + seat-maker.yaml with every participant reachable on the soak's accounts,
    and the soak's extra buyers added to chair.yaml beside Dana."""
    matrix = {who: person.user_id for who, person in accounts.matrix.items()}
    paths = chair_network(directory, matrix=matrix, telegram=accounts.telegram)
    extra = [(who, {"telegram": str(chat)}) for who, chat in accounts.telegram.items()]
    extra += [(who, {"matrix": person.user_id}) for who, person in accounts.matrix.items()]
    add_buyers(paths, extra)
    return paths


class World:
    """Everything started, in order, and stopped in reverse by close() (also half-started)."""

    def __init__(
        self,
        directory: Path,
        telegram_buyers: int,
        matrix_buyers: int,
        worker_commands: int = WORKER_COMMANDS,
    ):
        self.directory = directory
        self.worker_commands = worker_commands
        self.telegram_buyers = telegram_buyers
        self.matrix_buyers = matrix_buyers
        self._closers: list = []
        self.postgres = self.redis = self.synapse = self.emulator = self.bot_api = None
        self.workers: list[WorkerProcesses] = []
        self.serve: ServeProcess | None = None
        self.accounts = Accounts()
        self.database = ""
        self.database_url = ""
        self.engine = None
        self.token = ""
        self.bot: Person | None = None

    def start(self, say=print) -> World:
        run = uuid.uuid4().hex[:6]
        self.postgres = resolve_postgres()
        self._closers.append(self.postgres.close)
        self.database = self.postgres.create_database(prefix="scis_soak")
        self._closers.append(lambda: self.postgres.drop_database(self.database))
        self.database_url = self.postgres.database_url(self.database)
        migrate.upgrade(self.database_url)
        self.engine = make_engine(self.database_url)
        self._closers.append(self.engine.dispose)
        say(f"PostgreSQL: database {self.database} ({self.postgres.origin})")

        self.redis = start_redis()
        self._closers.append(self.redis.stop)
        self.synapse = start_synapse()
        self._closers.append(self.synapse.stop)
        say(f"Redis {self.redis.url}; Synapse {self.synapse.url} ({self.synapse.started_in:.1f}s)")
        self.emulator = start_emulator()
        self._closers.append(self.emulator.stop)
        self.bot_api = BotApiProxy(self.emulator.url, hold_s=HOLD_S).start()
        self._closers.append(self.bot_api.stop)
        self.token = self.emulator.new_token("soak")
        say(f"Telegram emulator {self.emulator.url}; Bot API {self.bot_api.url}")

        self.bot = self.synapse.register(f"scis-soak-{run}")
        telegram = list(ON_TELEGRAM) + [f"tg{n}" for n in range(self.telegram_buyers)]
        matrix = list(ON_MATRIX) + [f"mx{n}" for n in range(self.matrix_buyers)]
        self.accounts.telegram = {who: 7_300_000 + n for n, who in enumerate(telegram)}
        self.accounts.matrix = {who: self.synapse.register(f"{who}-{run}") for who in matrix}
        loaded = load_network(network_files(self.directory, self.accounts))
        if loaded.errors:
            raise RuntimeError(f"the soak's network does not load: {loaded.errors}")
        application(self.engine).handle(LoadNetwork(None, loaded.network, note="the soak"))

        platforms = {
            "TELEGRAM_TOKEN": self.token,
            "TELEGRAM_API_URL": self.bot_api.url,
            "MATRIX_HOMESERVER": self.synapse.url,
            "MATRIX_USER": self.bot.user_id,
            "MATRIX_PASSWORD": self.bot.password,
        }
        for number in range(self.worker_commands):
            group = WorkerProcesses(
                redis_url=self.redis.url,
                database_url=self.database_url,
                log_path=self.directory / f"worker-{number}.log",
                processes=1,
                threads=WORKER_THREADS,
                env=platforms,
                start_timeout=90,
            )
            self.workers.append(group)
            self._closers.append(group.stop)
        self.serve = ServeProcess(
            "serve",
            platforms | {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis.url},
            self.directory / "serve.log",
            cwd=self.directory,
        )
        self.serve.start()
        self._closers.append(self.serve.stop)
        for group in self.workers:
            group.start()
        wait_until(self._serving, timeout=90, interval=0.2, message=self.serve_log_tail)
        say(f"scis serve pid {self.serve.pid}; workers {[group_pids(g) for g in self.workers]}")
        return self

    def _serving(self) -> bool:
        if not self.serve.running():
            raise RuntimeError(f"scis serve exited:\n{self.serve_log_tail()}")
        with self.engine.connect() as connection:
            synced = connection.execute(
                text("SELECT count(*) FROM platform_state WHERE key LIKE 'next_batch%'")
            ).scalar_one()
        return synced > 0 and self.bot_api.called("getUpdates") > 0

    def serve_log_tail(self, chars: int = 4000) -> str:
        return self.serve.log_text()[-chars:] if self.serve else ""

    def processes(self) -> dict[str, list[int]]:
        """Each process of the soak by role → its pids, as they are now."""
        found = {
            "scis serve": [self.serve.pid],
            "synapse": [self.synapse.process.pid],
            "telegram emulator": [self.emulator.process.pid],
            "redis": [self.redis.pid],
            "soak driver + Bot API": [os.getpid()],
        }
        for number, group in enumerate(self.workers):
            supervisor = group.process.pid
            found[f"scis worker {number} (supervisor)"] = [supervisor]
            found[f"scis worker {number} (worker processes)"] = [
                pid for pid in group_pids(group) if pid != supervisor
            ]
        with self.engine.connect() as connection:
            backends = connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :name "
                    "AND pid <> pg_backend_pid()"
                ),
                {"name": self.database},
            ).scalars()
            found["postgres backends"] = list(backends)
        return found

    def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception as exc:  # one stuck server must not keep the others running
                print(f"soak: could not stop cleanly: {exc!r}", file=sys.stderr)
        self._closers.clear()


def memory(pids: list[int]) -> tuple[int, int]:
    """(resident bytes summed, processes found) over the pids that still run."""
    total = found = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
            found += 1
        except psutil.Error:
            continue
    return total, found


def group_pids(group: WorkerProcesses) -> list[int]:
    return sorted(process.pid for process in group.group())
