"""The soak's world: every server the soak talks through, started from the integration tests'
harnesses (tests/integration), and the chair network with the soak's own chat accounts.

PostgreSQL (a fresh database), a private Redis, a private Synapse, the Telegram emulator behind a
long-polling Bot API (see LongPollingBotApi), two `scis worker` commands and one `scis serve`
configured for Telegram and Matrix — each a separate process whose memory can be read.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import psutil
import yaml
from aiohttp import ClientSession, web
from sqlalchemy import text

PROJECT = Path(__file__).resolve().parent.parent
INTEGRATION = PROJECT / "tests" / "integration"
for folder in (PROJECT, INTEGRATION, INTEGRATION / "matrix"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from bot_processes import ServeProcess  # noqa: E402
from database_servers import free_port, resolve_postgres  # noqa: E402
from emulator_request import adapt  # noqa: E402
from matrix_people import chair_network  # noqa: E402
from redis_servers import start_redis  # noqa: E402
from synapse_server import Person, start_synapse  # noqa: E402
from telegram_emulator import start_emulator  # noqa: E402
from worker_processes import WorkerProcesses, wait_until  # noqa: E402

from core.importers import load_network  # noqa: E402
from core.service.bus import Services  # noqa: E402
from core.service.commands import LoadNetwork  # noqa: E402
from core.store import migrate  # noqa: E402
from core.store.database import make_engine  # noqa: E402

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
HOLD_STEP_S = 0.02


class LongPollingBotApi:
    """The Telegram emulator as `scis serve` and the workers see it through TELEGRAM_API_URL:
    each Bot API call passed on with its answer mended (emulator_request.adapt), and a bot's
    `getUpdates` held until an update arrives or HOLD_S pass — Telegram's long polling, which
    the emulator lacks. Runs in a thread of its own with its own event loop."""

    def __init__(self, emulator_url: str):
        self.emulator_url = emulator_url.rstrip("/")
        self.port = free_port()
        self.calls: Counter[str] = Counter()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="bot-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LongPollingBotApi:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Bot API did not start")
        return self

    def stop(self) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        async with ClientSession() as upstream:

            async def call(request: web.Request, body: bytes) -> tuple[int, bytes]:
                async with upstream.request(
                    request.method,
                    f"{self.emulator_url}{request.path}",
                    data=body,
                    headers={"Content-Type": request.headers.get("Content-Type", "")},
                ) as answer:
                    return adapt(request.match_info["method"], answer.status, await answer.read())

            async def forward(request: web.Request) -> web.Response:
                method = request.match_info["method"]
                self.calls[method] += 1
                body = await request.read()
                code, payload = await call(request, body)
                deadline = time.monotonic() + min(HOLD_S, poll_timeout(body))
                while (
                    method == "getUpdates"
                    and code == 200
                    and payload.replace(b" ", b"").endswith(b'"result":[]}')
                    and time.monotonic() < deadline
                    and not self._stopping.is_set()
                ):
                    await asyncio.sleep(HOLD_STEP_S)
                    code, payload = await call(request, body)
                return web.Response(status=code, body=payload, content_type="application/json")

            server = web.Application()
            server.router.add_route("*", "/{token}/{method}", forward)
            runner = web.AppRunner(server, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            await self._stopping.wait()
            await runner.cleanup()


def poll_timeout(body: bytes) -> float:
    """A getUpdates' `timeout` (form or JSON, as a bot sends it): how long it may be held."""
    try:
        values = json.loads(body) if body.lstrip().startswith(b"{") else parse_qs(body.decode())
        given = values.get("timeout", 0)
        return float(given[0] if isinstance(given, list) else given)
    except (ValueError, TypeError, AttributeError):
        return 0.0


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
    chair = next(path for path in paths if path.name == "chair.yaml")
    document = yaml.safe_load(chair.read_text())
    known = {p["id"] for path in paths for p in yaml.safe_load(path.read_text())["participants"]}
    dana = next(p for p in document["participants"] if p["id"] == "dana")
    extra = [(who, {"telegram": str(chat)}) for who, chat in accounts.telegram.items()]
    extra += [(who, {"matrix": person.user_id}) for who, person in accounts.matrix.items()]
    for who, contacts in extra:
        if who not in known:
            document["participants"].append(
                {
                    "id": who,
                    "name": f"Buyer {who}",
                    "roles": ["buyer"],
                    "location": dana["location"],
                    "contacts": contacts,
                }
            )
    chair.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
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
        self.bot_api = LongPollingBotApi(self.emulator.url).start()
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
        Services(self.engine).handle(LoadNetwork(None, loaded.network, note="the soak"))

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
        return synced > 0 and self.bot_api.calls["getUpdates"] > 0

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
