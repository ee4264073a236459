"""Pipeline benchmark: chat commands through the workers, on real Redis and 2 worker processes.

    .venv/bin/python benchmarks/pipeline.py            # or: make bench
    .venv/bin/python benchmarks/pipeline.py --profile  # and where the workers' CPU goes

One run, two parts, both end to end (a command kept by `take_in` → a worker applies it → the
outbox → a worker hands the message to the sender):

1. Assertions. AssertStage commands go through `Actors.take_in` (workers/actors.py), each with
   its own message id, paced (--rate per second for --seconds, from --drivers threads, as a bot's
   concurrent handlers would call it), to `scis worker --processes 2 --threads THREADS` on a
   redis-server of this script's own. Each stage is asserted by its owner, the stages of one
   order in dependency order, the orders interleaved at random (seeded), so that asserters and
   the people told "you can start now" mix as they would; every order ends completed. Latency:
   from the call of take_in to the moment the recording sender (SCIS_RECORDING_SENDER; its
   lines carry the time `at`) is handed the "noted" message to the asserter. Throughput: those
   "noted" messages per second, first to last. Measured at the goal's rate and at a light rate
   (--light-rate) that both brokers keep up with: the latency of the pipeline itself, without a
   queue. The baseline, in the same run and on the same database: the in-process broker
   (StubBroker and Dramatiq worker threads in this process, as `scis serve` runs them), with as
   many worker threads as the two processes have together.
2. Disruption. Ana's shop (ana-shop), where the best plan makes the chairs, goes out of service
   while --disrupted live orders use it:
   `Disrupt(..., analyse_now=False)` is handled here and its job handed to the workers, which fan
   out AnalyseDisruption in batches of orders (workers/actors.py). Timed: until every order is
   re-planned (its alerts are queued in the same commit), and until every alert is handed to
   the sender.

Where the time goes: the CPU each part used (this process, the worker processes, PostgreSQL's
processes, Redis; psutil) per assertion or per order, the share of the machine it kept busy and
the share other processes took meanwhile, and how many database sessions waited for a row lock
(pg_stat_activity, sampled). --profile runs the workers under cProfile (on Dramatiq directly, as
`scis worker` would, without its sweeper) and prints per actor and per library where their CPU
went; its figures are slowed by the profiler.

The floor, on PostgreSQL on this machine: after the Redis part (the workers idle), plain
psycopg does the database work of asserting every stage of 15 orders of its own
(benchmarks/psycopg_floor.py: the same transactions, rows and locks, one statement per row,
with as many messages per assertion as SCIS sent in the Redis part), in this process, one
assertion after another; its CPU (this thread and its PostgreSQL backend) per assertion is
printed beside SCIS's (all processes), with their ratio.

Set-up, not timed: a fresh database (PostgreSQL at DATABASE_URL, else postgres@127.0.0.1:5432,
created and dropped here; a temporary SQLite file, with a note, when neither answers), migrated
with core.store.migrate.upgrade; examples/chair.yaml + tests/scenarios/seat-maker.yaml and
--buyers buyers; every order placed, plan 1 chosen and agreed by every party through
Services.handle, by two set-up processes. The set-up's messages are marked sent (nobody waits
for them), and VACUUM ANALYZE runs before each measured part, so that each starts from a tidy
database.

Goals on a 2-core machine: at least 300 assertions/s with p99 under 250 ms; the CPU per
assertion of all of SCIS's processes on Redis at most twice the floor's; the 1,000-order
disruption re-planned and alerted in under 15 s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import project_paths
from psycopg_floor import Floor, floor
from redis_servers import RedisUnavailable, start_redis
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bots.bootstrap import application
from bots.platforms import platform_senders
from core.importers import load_network
from core.network.model import Network, Participant
from core.service import lifecycle, records
from core.service.bus import Services
from core.service.commands import (
    Agree,
    AssertStage,
    ChoosePlan,
    Disrupt,
    LoadNetwork,
    PlaceOrder,
)
from core.store import migrate
from core.store.database import database_url, make_engine
from core.store.tables import OrderRow

PROJECT = project_paths.PROJECT
FLOODED = ("ana", "ana-shop")  # the best plan's maker, and her shop: every order uses it
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
GOAL_RATE, GOAL_P99_MS, GOAL_DISRUPTION_S = 300.0, 250.0, 15.0
GOAL_OVER_FLOOR = 2.0  # SCIS's CPU per assertion, all processes, at most this × the floor's
FLOOR_ORDERS = 15  # their stages are the floor's assertions
READY_TEXT = "Worker process is ready for action."
NOTED = re.compile(r"Order (\d+): (\S+) \S+ is done")
WARM_UP_ORDERS = 2
OTHERS = "others"  # CPU the rest of the machine used meanwhile (not this benchmark's)
PROFILE_VARIABLE = "SCIS_BENCH_PROFILE"  # a directory: the profiled workers write there


# -- the servers ------------------------------------------------------------------------------


def redis_version(binary: Path) -> str:
    """What `redis-server --version` says its version is, for the report."""
    said = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout
    return said.split()[2].removeprefix("v=")


class Database:
    """A fresh, migrated database: on PostgreSQL created here and dropped by close(); else a
    temporary SQLite file."""

    def __init__(self):
        given = os.environ.get("DATABASE_URL")
        server = database_url({"DATABASE_URL": given}) if given else LOCAL_POSTGRES
        self.name: str | None = None
        self.admin = None
        self.directory: Path | None = None
        self.note = ""
        if not server.startswith("sqlite"):
            url = make_url(server)
            if url.database is None:
                url = url.set(database="postgres")
            try:
                self.admin = create_engine(
                    url,
                    isolation_level="AUTOCOMMIT",
                    poolclass=pool.NullPool,
                    connect_args={"connect_timeout": 3},
                )
                version = self._execute("SHOW server_version")[0][0].split()[0]
                self.force = int(self._execute("SHOW server_version_num")[0][0]) >= 130000
                self.name = f"scis_bench_pipeline_{uuid.uuid4().hex[:12]}"
                self._execute(f'CREATE DATABASE "{self.name}" TEMPLATE template0')
                self.url = url.set(database=self.name).render_as_string(hide_password=False)
                commit = self._execute("SHOW synchronous_commit")[0][0]
                self.description = (
                    f"PostgreSQL {version} at {migrate.shown(self.url)}, "
                    f"synchronous_commit={commit}"
                )
            except Exception as exc:  # unreachable, refused: fall back to SQLite, saying so
                detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
                self.note = (
                    f"note: PostgreSQL at {migrate.shown(str(url))} is not usable "
                    f"({detail[0] if detail else type(exc).__name__}); using a SQLite file"
                )
                if self.admin is not None:
                    self.admin.dispose()
                self.admin, self.name = None, None
        if self.name is None:
            self.directory = Path(tempfile.mkdtemp(prefix="scis-bench-pipeline-"))
            self.url = f"sqlite:///{self.directory / 'scis.db'}"
            self.description = "SQLite, a file in a temporary directory"
        migrate.upgrade(self.url)

    @property
    def local(self) -> bool:
        """A PostgreSQL server on this machine (its processes can be measured)."""
        if self.admin is None:
            return False
        host = make_url(self.url).host or make_url(self.url).query.get("host")
        return host in (None, "127.0.0.1", "localhost", "::1") or str(host).startswith("/")

    def _execute(self, sql: str) -> list:
        with self.admin.connect() as connection:
            result = connection.execute(text(sql))
            return list(result) if result.returns_rows else []

    def tidy(self) -> None:
        """VACUUM ANALYZE (PostgreSQL) or ANALYZE (SQLite), untimed, before each measured part:
        every part starts from a tidy database, whatever the one before left behind (the set-up
        marks some 20,000 messages sent at once, and an index of dead entries would slow the
        first part down until autovacuum came by)."""
        engine = create_engine(self.url, poolclass=pool.NullPool)
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE" if self.admin is not None else "ANALYZE"))
        finally:
            engine.dispose()

    def close(self) -> None:
        if self.admin is not None and self.name is not None:
            force = " WITH (FORCE)" if self.force else ""
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}"{force}')
            self.admin.dispose()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


class WorkerGroup:
    """`scis worker --processes N --threads M` in a session of its own, stopped with SIGTERM (and
    its process group with SIGKILL when that does not end it)."""

    def __init__(self, redis_url, database_url, recording, log_path, processes, threads, profile):
        self.log_path = log_path
        self.processes = processes
        environment = {
            k: v
            for k, v in os.environ.items()
            if k not in ("REDIS_URL", "DATABASE_URL", "SCIS_RECORDING_SENDER")
        }
        environment.update(
            REDIS_URL=redis_url,
            DATABASE_URL=database_url,
            SCIS_RECORDING_SENDER=str(recording),
            PYTHONUNBUFFERED="1",
        )
        if profile is None:
            command = [sys.executable, "-m", "bots.cli", "worker"]
        else:  # the same actors and broker, each message profiled (see profiled_workers)
            environment[PROFILE_VARIABLE] = str(profile)
            command = [
                sys.executable, "-m", "dramatiq", "pipeline:profiled_workers",
                "--path", str(Path(__file__).resolve().parent),
            ]  # fmt: skip
        command += ["--processes", str(processes), "--threads", str(threads)]
        self.command = " ".join(command[1:])
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(self._ready, 60, "the worker processes to get ready")
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"scis worker exited with {self.process.returncode}:\n{self.tail()}")
        return self.log_path.read_text(errors="replace").count(READY_TEXT) >= self.processes

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def members(self) -> list:
        """The command and every process under it (the Dramatiq parent and its workers)."""
        import psutil

        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        group = self.process.pid  # its own session and process group (start_new_session)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(group, signal.SIGKILL)  # whatever of the group is left
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def wait_for(predicate: Callable[[], object], timeout: float, what, interval=0.05):
    """Poll until `predicate()` is true; TimeoutError naming `what` (a text, or a callable that
    gives one then) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            what = what() if callable(what) else what
            raise TimeoutError(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(interval)


class CpuMeter:
    """CPU seconds the processes of each part spent between start() and stop() (psutil; a part
    whose processes cannot be seen is left out); on PostgreSQL also how many of the database's
    sessions were running a statement, and how many of those waited for a lock, on average."""

    def __init__(self, parts: dict[str, Callable[[], list]], postgres_url: str | None = None):
        self.parts = parts
        self.postgres_url = postgres_url
        self.sessions: tuple[float, float] | None = None  # (running, waiting for a lock)

    @staticmethod
    def _times(processes) -> dict[int, float]:
        import psutil

        found = {}
        for process in processes:
            try:
                used = process.cpu_times()
            except psutil.Error:
                continue
            found[process.pid] = used.user + used.system
        return found

    @staticmethod
    def _machine() -> float:
        """CPU seconds the whole machine has been busy (not idle, not waiting for the disk)."""
        import psutil

        used = psutil.cpu_times()
        return sum(used) - used.idle - getattr(used, "iowait", 0.0)

    def start(self) -> CpuMeter:
        self.began = time.perf_counter()
        self.before = {name: self._times(find()) for name, find in self.parts.items()}
        self.machine = self._machine()
        self._samples: list[tuple[int, int]] = []
        self._sampling = threading.Event()
        self._sampler = None
        if self.postgres_url is not None:
            self._sampler = threading.Thread(target=self._sample, name="sessions", daemon=True)
            self._sampler.start()
        return self

    def _sample(self) -> None:
        """Every 20 ms: the database's other sessions running a statement, and those of them
        waiting for a lock (a row lock: an order's or a recipient's)."""
        engine = create_engine(self.postgres_url, poolclass=pool.NullPool)
        query = text(
            "SELECT count(*) FILTER (WHERE state = 'active'), "
            "count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock') "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        try:
            with engine.connect() as connection:
                while not self._sampling.wait(0.02):
                    running, waiting = connection.execute(query).one()
                    connection.rollback()
                    self._samples.append((running, waiting))
        except Exception:  # the database went away (an interrupted run): stop sampling
            pass
        finally:
            engine.dispose()

    def stop(self) -> dict[str, float]:
        """CPU seconds by part, and under "others" what the rest of the machine used."""
        self.wall = time.perf_counter() - self.began
        machine = self._machine() - self.machine
        spent = {}
        for name, find in self.parts.items():
            after = self._times(find())
            spent[name] = sum(t - self.before[name].get(pid, 0.0) for pid, t in after.items())
        spent[OTHERS] = max(0.0, machine - sum(spent.values()))
        if self._sampler is not None:
            self._sampling.set()
            self._sampler.join(timeout=5)
            if self._samples:
                count = len(self._samples)
                self.sessions = (
                    sum(r for r, _ in self._samples) / count,
                    sum(w for _, w in self._samples) / count,
                )
        return spent


def postgres_processes(database: str) -> Callable[[], list]:
    """The server's processes that work for `database`: its sessions, and the server's own
    background processes (WAL writer, checkpointer, autovacuum); other databases' sessions (a
    title with a client address in parentheses) are left out."""
    import psutil

    def find() -> list:
        found = []
        for process in psutil.process_iter(["name", "cmdline"]):
            title = " ".join(process.info["cmdline"] or ())
            if process.info["name"] == "postgres" and (database in title or "(" not in title):
                found.append(process)
        return found

    return find


# -- profiling the workers (--profile) ----------------------------------------------------------


def profiled_workers() -> None:
    """`python -m dramatiq pipeline:profiled_workers`: SCIS as each `scis worker` process puts
    it together (bots.bootstrap:worker_process), each message run under cProfile with a CPU
    clock, and each actor's count, wall time and CPU time; all written to $SCIS_BENCH_PROFILE
    when the worker process stops."""
    import cProfile

    import dramatiq
    from dramatiq.middleware import Middleware

    from bots.bootstrap import worker_process

    worker_process()  # the actors on the broker REDIS_URL names, as Dramatiq's global broker

    directory = Path(os.environ[PROFILE_VARIABLE])
    local = threading.local()
    profiles: list[cProfile.Profile] = []
    totals: dict[str, list[float]] = {}
    lock = threading.Lock()

    class Profiling(Middleware):
        def before_process_message(self, broker, message):
            if not hasattr(local, "profile"):
                local.profile = cProfile.Profile(time.thread_time)
                with lock:
                    profiles.append(local.profile)
            local.started = (time.perf_counter(), time.thread_time())
            local.profile.enable()

        def after_process_message(self, broker, message, *, result=None, exception=None):
            local.profile.disable()
            wall = time.perf_counter() - local.started[0]
            cpu = time.thread_time() - local.started[1]
            with lock:
                entry = totals.setdefault(message.actor_name, [0, 0.0, 0.0])
                entry[0] += 1
                entry[1] += wall
                entry[2] += cpu

        after_skip_message = after_process_message

        def after_worker_shutdown(self, broker, worker):
            import pstats

            with lock:
                if profiles:
                    pstats.Stats(*profiles).dump_stats(directory / f"worker-{os.getpid()}.prof")
                (directory / f"worker-{os.getpid()}.json").write_text(json.dumps(totals))

    dramatiq.get_broker().add_middleware(Profiling())


def profile_report(directory: Path) -> None:
    """What the profiled workers did: per actor, then CPU by library, then the project's own
    functions by cumulative CPU."""
    import pstats

    totals: dict[str, list[float]] = {}
    for part in directory.glob("worker-*.json"):
        for actor, (count, wall, cpu) in json.loads(part.read_text()).items():
            entry = totals.setdefault(actor, [0, 0.0, 0.0])
            entry[0] += count
            entry[1] += wall
            entry[2] += cpu
    files = sorted(str(f) for f in directory.glob("worker-*.prof"))
    if not files:
        print("no profile was written (did the workers stop cleanly?)")
        return
    print("\nProfiled workers: per actor (wall = in the actor; CPU = its thread's)")
    print(f"{'actor':<26} {'messages':>9} {'wall ms':>9} {'CPU ms':>8} {'CPU s':>8}")
    for actor, (count, wall, cpu) in sorted(totals.items(), key=lambda kv: -kv[1][2]):
        print(
            f"{actor:<26} {count:>9} {wall / count * 1000:>9.2f} {cpu / count * 1000:>8.2f} "
            f"{cpu:>8.2f}"
        )
    stats = pstats.Stats(*files)
    by_layer: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        by_layer[layer(filename)] = by_layer.get(layer(filename), 0.0) + tottime
    whole = sum(by_layer.values())
    print(f"\nCPU in the actors by where the code lives ({whole:.2f} s in all)")
    for name, spent in sorted(by_layer.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {name:<28} {spent:>7.2f} s  {spent / whole:>6.1%}")
    print("\nThe project's functions by cumulative CPU")
    rows = [
        (
            cumulative,
            calls,
            f"{Path(filename).relative_to(PROJECT)}:{line}({function})",
        )
        for (filename, line, function), (_, calls, _, cumulative, _) in stats.stats.items()
        if filename.startswith(str(PROJECT)) and "/.venv/" not in filename
    ]
    for cumulative, calls, where in sorted(rows, reverse=True)[:25]:
        print(f"  {cumulative:>7.2f} s {calls:>8}  {where}")


def layer(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins and generated code"
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0]
    if filename.startswith(str(PROJECT)):
        return str(Path(filename).relative_to(PROJECT).parent)
    return "python standard library"


# -- the set-up ---------------------------------------------------------------------------------


def buyers(count: int) -> list[Participant]:
    """Dana's neighbours: buyers at her address, each with a chat of their own."""
    network = load_network(project_paths.CHAIR_NETWORK).network
    dana = network.participants["dana"]
    return [
        Participant(
            f"buyer-{n}",
            f"Buyer {n}",
            ("buyer",),
            dana.location,
            {"telegram": str(7_000_000_000 + n)},
        )
        for n in range(2, count + 1)
    ]


def the_network(buyer_count: int) -> Network:
    """The chair network with the buyers, and no shop's or supplier's week ever full: the
    benchmark places thousands of orders to measure the pipeline, not a week's capacity."""
    loaded = load_network(project_paths.CHAIR_NETWORK)
    assert loaded.errors == [], loaded.errors
    network = loaded.network
    return network.with_records(
        participants=buyers(buyer_count),
        facilities=[replace(f, capacity={}) for f in network.facilities.values()],
        offers=[replace(o, capacity=None) for o in network.offers.values()],
    )


def agreed_orders(url: str, buyer_ids: list[str]) -> list[int]:
    """One order of two chairs per buyer id, plan 1 chosen and agreed by every party it names
    (in a set-up process)."""
    engine = make_engine(url)
    try:
        services = application(engine)
        orders = []
        for buyer in buyer_ids:
            order = services.handle(PlaceOrder(buyer, (("chair", 2),))).value
            services.handle(ChoosePlan(buyer, order, 1))
            for party in services.read(partial(awaited_parties, order)):
                services.handle(Agree(party, order))
            orders.append(order)
        return orders
    finally:
        engine.dispose()


def awaited_parties(order_id: int, session: Session) -> list[str]:
    contract = lifecycle.live_contract(session, order_id)
    return lifecycle.awaited(session, contract, session.get(OrderRow, order_id))


def set_up(url: str, buyer_count: int, counts: list[int]) -> list[list[int]]:
    """Groups of agreed orders, `counts` of them, spread over the buyers round the clock."""
    ids = ["dana"] + [b.id for b in buyers(buyer_count)]
    total = sum(counts)
    wanted = [ids[n % len(ids)] for n in range(total)]
    chunk = 25
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool_:
        parts = pool_.map(
            agreed_orders,
            itertools.repeat(url),
            [wanted[i : i + chunk] for i in range(0, total, chunk)],
        )
        orders = [order for part in parts for order in part]
    groups, start = [], 0
    for count in counts:
        groups.append(orders[start : start + count])
        start += count
    return groups


def mark_set_up_messages_sent(services: Services) -> int:
    with services.engine.begin() as connection:
        return connection.execute(
            text("UPDATE notification SET status = 'sent', sent_at = created_at "
                 "WHERE status = 'pending'")
        ).rowcount  # fmt: skip


def stage_owners(services: Services, orders: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Order → its stages (id, owner), dependencies first."""

    def read(session):
        found = {}
        for order in orders:
            contract = lifecycle.live_contract(session, order)
            found[order] = [(s.id, s.owner) for s in records.stage_graph(session, contract.id)]
        return found

    return services.read(read)


def interleaved(stages: dict[int, list[tuple[str, str]]], seed: int) -> list[tuple]:
    """Every stage of every order once, each order's in its own order, the orders mixed."""
    rng = random.Random(seed)
    queues = {order: list(reversed(s)) for order, s in stages.items()}
    pending = [order for order, s in queues.items() for _ in s]
    rng.shuffle(pending)
    return [(order, *queues[order].pop()) for order in pending]


def scalar(services: Services, sql: str, **parameters) -> int:
    with services.engine.connect() as connection:
        return connection.execute(text(sql), parameters).scalar_one() or 0


# -- measuring ----------------------------------------------------------------------------------


class Recording:
    """The recording sender's file, read as it grows."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.lines: list[dict] = []
        self.noted: dict[tuple[int, str], float] = {}

    def read(self) -> Recording:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return self
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for raw in complete.splitlines():
            line = json.loads(raw)
            self.lines.append(line)
            match = NOTED.match(line["text"])
            if match:
                self.noted.setdefault((int(match[1]), match[2]), line["at"])
        return self


@dataclass
class Figures:
    name: str
    assertions: int
    offered: float = 0.0  # per second: the calls, first to last
    achieved: float = 0.0  # per second: the "noted" messages handed over, first to last
    latencies_ms: list[float] = field(default_factory=list)
    call_ms: list[float] = field(default_factory=list)  # take_in itself
    messages: int = 0  # every message handed to the sender, "noted" and the others
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by part, until drained

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def drive(workload, rate: float, drivers: int, run: str, take_in) -> dict:
    """Call take_in for every (order, stage, owner) at `rate` per second from `drivers` threads;
    returns (order, stage) → (the time of the call, the seconds it took)."""
    sent: dict[tuple[int, str], tuple[float, float]] = {}
    counter = itertools.count()
    lock = threading.Lock()
    failures: list[BaseException] = []
    start = time.time() + 0.05

    def loop():
        while True:
            with lock:
                i = next(counter)
            if i >= len(workload) or failures:
                return
            order, stage, owner = workload[i]
            due = start + i / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            called = time.time()
            try:
                take_in(
                    "telegram",
                    f"bench-{run}-{i}",
                    AssertStage,
                    {"actor": owner, "order_id": order, "stage": stage, "status": "done"},
                )
            except BaseException as problem:  # raised again below, once the others stop
                failures.append(problem)
                return
            sent[(order, stage)] = (called, time.time() - called)

    threads = [
        threading.Thread(target=loop, name=f"driver-{n}", daemon=True) for n in range(drivers)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # interrupted: the callers stop at their next call
        failures.append(RuntimeError("stopped"))
        raise
    if failures:
        raise failures[0]
    return sent


def measure(name, workload, rate, drivers, run, recording, actors, meter, timeout) -> Figures:
    """Send the workload through `actors`, wait for every "noted", then until the outbox is
    empty."""
    before = len(recording.read().lines)
    meter.start()
    sent = drive(workload, rate, drivers, run, actors.take_in)
    keys = list(sent)

    def all_noted() -> bool:
        noted = recording.read().noted
        return all(k in noted for k in keys)

    wait_for(
        all_noted,
        timeout,
        lambda: f"{name}: every 'noted' ({sum(k in recording.noted for k in keys)}/{len(keys)})",
    )
    settle(actors.services, recording, timeout)
    cpu = meter.stop()
    calls = sorted(sent[k][0] for k in keys)
    done = sorted(recording.noted[k] for k in keys)
    figures = Figures(name, len(keys), cpu=cpu)
    figures.offered = (len(keys) - 1) / (calls[-1] - calls[0])
    figures.achieved = (len(keys) - 1) / (done[-1] - done[0])
    figures.latencies_ms = [(recording.noted[k] - sent[k][0]) * 1000 for k in keys]
    figures.call_ms = [sent[k][1] * 1000 for k in keys]
    figures.messages = len(recording.lines) - before
    return figures


def settle(services: Services, recording: Recording, timeout: float) -> None:
    """Until nothing is pending in the outbox (the workers delivered every message)."""
    wait_for(
        lambda: scalar(services, "SELECT count(*) FROM notification WHERE status = 'pending'") == 0,
        timeout,
        "the outbox to drain",
        interval=0.05,
    )
    recording.read()


class InProcess:
    """The baseline: StubBroker and Dramatiq worker threads in this process."""

    def __init__(self, services: Services, record: Path, threads: int):
        from dramatiq import Worker
        from dramatiq.brokers.stub import StubBroker

        from workers.actors import Actors

        self.broker = StubBroker()
        recording = {"SCIS_RECORDING_SENDER": str(record)}
        self.actors = Actors(self.broker, services, platform_senders(services.engine, recording))
        self.worker = Worker(self.broker, worker_threads=threads)
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()


@dataclass
class DisruptionFigures:
    orders: int
    replanned_s: float
    alerts: int
    delivered_s: float | None
    replanned_events: int
    cpu: dict[str, float]


def disruption(actors, recording, expected: int, meter: CpuMeter, timeout: float):
    """Ana's shop floods; the workers of `actors` analyse and re-plan every order that used it."""
    services = actors.services
    recording.read()
    last_event = scalar(services, "SELECT max(id) FROM event")
    last_message = scalar(services, "SELECT max(id) FROM notification")
    meter.start()
    started = time.time()
    result = services.handle(Disrupt(*FLOODED, "the shop flooded", analyse_now=False))
    actors.deliver_results(result)
    wait_for(
        lambda: (
            scalar(
                services,
                "SELECT count(*) FROM disruption_effect WHERE disruption_id = :d",
                d=result.value,
            )
            >= expected
        ),
        timeout,
        f"{expected} orders to be analysed",
        interval=0.02,
    )
    replanned = time.time() - started
    alerts = scalar(services, "SELECT count(*) FROM notification WHERE id > :m", m=last_message)
    try:
        wait_for(
            lambda: (
                scalar(
                    services,
                    "SELECT count(*) FROM notification WHERE id > :m AND status = 'pending'",
                    m=last_message,
                )
                == 0
            ),
            timeout,
            "every alert to be delivered",
            interval=0.02,
        )
        delivered = time.time() - started
    except TimeoutError:
        delivered = None
    cpu = meter.stop()
    events = scalar(
        services, "SELECT count(*) FROM event WHERE id > :e AND kind = 'replanned'", e=last_event
    )
    return DisruptionFigures(expected, replanned, alerts, delivered, events, cpu)


# -- the report ---------------------------------------------------------------------------------


def row(figures: Figures) -> str:
    return (
        f"{figures.name:<12} {figures.assertions:>6} {figures.offered:>10.1f} "
        f"{figures.achieved:>11.1f} {figures.percentile(50):>8.1f} {figures.percentile(99):>8.1f} "
        f"{max(figures.latencies_ms):>8.1f} {statistics.median(figures.call_ms):>8.1f} "
        f"{figures.messages:>9}"
    )


def cpu_row(name, cpu: dict[str, float], per: int, wall: float, parts: list[str], sessions) -> str:
    ours = {p: t for p, t in cpu.items() if p != OTHERS}
    cells = "".join(f"{ours[p] / per * 1000:>12.2f}" if p in ours else f"{'-':>12}" for p in parts)
    capacity = wall * (os.cpu_count() or 1)
    waiting = f"{sessions[1]:>5.1f} of {sessions[0]:.1f}" if sessions else "-"
    return (
        f"{name:<12}{cells}{sum(ours.values()) / per * 1000:>10.2f}"
        f"{sum(ours.values()) / capacity:>8.0%}{cpu.get(OTHERS, 0.0) / capacity:>8.0%}"
        f"{waiting:>17}"
    )


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=GOAL_RATE, help="assertions per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long they are sent")
    parser.add_argument(
        "--light-rate",
        type=float,
        default=30.0,
        help="also a rate both brokers keep up with, for the latency of the pipeline itself",
    )
    parser.add_argument("--light-seconds", type=float, default=6.0)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    parser.add_argument("--drivers", type=int, default=4, help="threads calling take_in")
    parser.add_argument("--disrupted", type=int, default=1000, help="orders using ana-shop")
    parser.add_argument("--buyers", type=int, default=10, help="buyers the orders are spread over")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait, at most")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the Redis workers under cProfile (slower) and say where their CPU goes",
    )
    options = parser.parse_args()
    processes = 2
    # SIGTERM ends the run as Ctrl-C does: through the `finally` that stops what it started.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))

    from workers.actors import Actors
    from workers.broker import make_broker

    database = redis_server = workers = in_process = engine = None
    directory = Path(tempfile.mkdtemp(prefix="scis-bench-pipeline-run-"))
    profile = directory / "profile" if options.profile else None
    try:
        database = Database()
        if database.note:
            print(database.note)
        engine = make_engine(database.url)
        services = application(engine)
        services.handle(LoadNetwork(None, the_network(options.buyers)))

        probe = agreed_orders(database.url, ["dana"])  # finished by the baseline's warm-up
        stages_per_order = len(stage_owners(services, probe)[probe[0]])
        per_run = math.ceil(options.rate * options.seconds / stages_per_order)
        light = math.ceil(options.light_rate * options.light_seconds / stages_per_order)
        counts = [WARM_UP_ORDERS, light, per_run] * 2 + [FLOOR_ORDERS, options.disrupted]
        began = time.perf_counter()
        (
            warm_base,
            base_light_orders,
            base_orders,
            warm_redis,
            redis_light_orders,
            redis_orders,
            floor_orders,
            disrupted,
        ) = set_up(database.url, options.buyers, counts)
        set_up_s = time.perf_counter() - began
        warm_base = probe + warm_base
        marked = mark_set_up_messages_sent(services)
        database.tidy()
        print(
            f"Pipeline: AssertStage via take_in at {options.rate:g}/s for {options.seconds:g} s, "
            f"and a disruption of {options.disrupted:,} live orders."
        )
        print(
            f"set-up (not timed): {sum(counts) + 1:,} agreed orders of {options.buyers} buyers "
            f"in {set_up_s:.1f} s, {stages_per_order} stages each; {marked:,} set-up messages "
            f"marked sent"
        )

        def workload(orders, seed):
            return interleaved(stage_owners(services, orders), seed)  # every stage: completed

        def run(
            name, orders, seed, actors, recording, meter, rate=options.rate, drivers=options.drivers
        ):
            return measure(
                name,
                workload(orders, seed),
                rate,
                drivers,
                f"{name}-{seed}",
                recording,
                actors,
                meter,
                options.timeout,
            )

        # PostgreSQL's processes, when it runs here (on SQLite the work is the workers' own)
        postgres = {"PostgreSQL": postgres_processes(database.name)} if database.local else {}
        this_process = psutil_self()
        # The baseline: the in-process broker and 2 × THREADS worker threads here.
        threads = processes * options.threads
        in_process = InProcess(services, directory / "in-process.jsonl", threads)
        base_recording = Recording(directory / "in-process.jsonl")
        postgres_url = database.url if database.admin is not None else None
        base_meter = CpuMeter({"this process": this_process, **postgres}, postgres_url)
        base_actors = in_process.actors
        run("warm-up", warm_base, 1, base_actors, base_recording, base_meter, rate=50, drivers=2)
        database.tidy()
        base_light = run(
            "in-process",
            base_light_orders,
            5,
            base_actors,
            base_recording,
            base_meter,
            rate=options.light_rate,
        )
        database.tidy()
        base = run("in-process", base_orders, 2, base_actors, base_recording, base_meter)
        base_wall, base_sessions = base_meter.wall, base_meter.sessions
        in_process.stop()
        in_process = None

        # Redis and two `scis worker` processes.
        try:
            redis_server = start_redis()  # the integration tests' private redis-server
        except RedisUnavailable as unavailable:
            raise SystemExit(str(unavailable)) from None
        if profile is not None:
            profile.mkdir()
        workers = WorkerGroup(
            redis_server.url,
            database.url,
            directory / "redis.jsonl",
            directory / "workers.log",
            processes,
            options.threads,
            profile,
        )
        actors = Actors(make_broker(redis_server.url), services, {})  # here, only to send
        recording = Recording(directory / "redis.jsonl")
        meter = CpuMeter(
            {
                "this process": this_process,
                "workers": workers.members,
                **postgres,
                "Redis": lambda: psutil_pid(redis_server.process.pid),
            },
            postgres_url,
        )
        run("warm-up", warm_redis, 3, actors, recording, meter, rate=50, drivers=2)
        database.tidy()
        redis_light = run(
            "redis", redis_light_orders, 6, actors, recording, meter, rate=options.light_rate
        )
        database.tidy()
        redis = run("redis", redis_orders, 4, actors, recording, meter)
        redis_wall, redis_sessions = meter.wall, meter.sessions
        lowest: Floor | None = None
        if postgres:  # psycopg, and its backend's CPU read here
            database.tidy()
            lowest = floor(
                database.url, workload(floor_orders, 7), redis.messages / redis.assertions
            )

        live = scalar(
            services, "SELECT count(*) FROM contract WHERE status IN ('agreed', 'executing')"
        )
        assert live == len(disrupted), f"{live} live orders, {len(disrupted)} expected"
        database.tidy()
        hit = disruption(actors, recording, live, meter, options.timeout)
        hit_wall, hit_sessions = meter.wall, meter.sessions
        workers.stop()  # the profiled workers write their profiles as they stop

        print()
        print(
            f"Assertions, end to end (take_in → worker → outbox → sender), "
            f"{processes * options.threads} worker threads either way, {options.drivers} callers"
        )
        print(
            f"{'broker':<12} {'count':>6} {'offered/s':>10} {'achieved/s':>11} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8} {'call ms':>8} {'messages':>9}"
        )
        for pair in ((base_light, redis_light), (base, redis)):
            for figures in pair:
                print(row(figures))
        for rate, base_, redis_ in (
            (options.light_rate, base_light, redis_light),
            (options.rate, base, redis),
        ):
            print(
                f"Redis / in-process at {rate:g}/s: "
                f"throughput {redis_.achieved / base_.achieved:.2f}×, "
                f"p50 {redis_.percentile(50) / base_.percentile(50):.2f}×, "
                f"p99 {redis_.percentile(99) / base_.percentile(99):.2f}×"
            )
        print(
            '(offered: take_in calls per second, first to last; achieved: "noted" messages '
            'handed to the sender per second, first to last; latency: take_in called → "noted" '
            "handed over; call: take_in itself, median)"
        )
        print()
        print(f"Disruption of {FLOODED[1]}, {hit.orders:,} live orders using it, Redis workers")
        print(
            f"  all re-planned, alerts queued    {hit.replanned_s:>6.1f} s   "
            f"({hit.orders / hit.replanned_s:.0f} orders/s; {hit.replanned_events:,} replanned "
            f"events, {hit.alerts:,} alerts)"
        )
        delivered = f"{hit.delivered_s:.1f} s" if hit.delivered_s is not None else "not in time"
        print(f"  all alerts handed to the sender {delivered:>8}")
        print()
        parts = ["this process", "workers", "PostgreSQL", "Redis"]
        print("CPU ms per assertion (per order for the disruption), until the outbox was empty")
        print(
            f"{'':<12}" + "".join(f"{p:>12}" for p in parts) + f"{'total':>10}{'busy':>8}"
            f"{OTHERS:>8}{'lock waits':>17}"
        )
        print(cpu_row("in-process", base.cpu, base.assertions, base_wall, parts, base_sessions))
        print(cpu_row("redis", redis.cpu, redis.assertions, redis_wall, parts, redis_sessions))
        print(cpu_row("disruption", hit.cpu, hit.orders, hit_wall, parts, hit_sessions))
        if lowest is not None:
            client, server = (
                t / lowest.assertions * 1000 for t in (lowest.client_s, lowest.server_s)
            )
            print(
                f"{'floor':<12}{client:>12.2f}{'-':>12}{server:>12.2f}{'-':>12}"
                f"{lowest.per_assertion_ms:>10.2f}"
            )
        print(
            f"(busy: the share of the machine's {os.cpu_count()} CPUs these processes used in that "
            f"time; {OTHERS}: the share the machine's other processes used meanwhile; lock "
            f"waits: of the database sessions running a statement, how many waited for a lock, "
            f"on average)"
        )
        if lowest is not None:
            print(
                f"(floor: plain psycopg doing the same database work, {lowest.assertions} "
                f"assertions with {redis.messages / redis.assertions:.2f} messages each as SCIS "
                f"sent, one transaction after another, no broker; benchmarks/psycopg_floor.py)"
            )
        print()
        p99 = redis.percentile(99)
        print(f"{'goal':<36} {'measured':>12}   verdict")
        print(
            f"{'assertions/s on Redis ≥ ' + f'{GOAL_RATE:g}':<36} {redis.achieved:>12.0f}   "
            f"{verdict(redis.achieved >= GOAL_RATE * 0.98)} (2% allowed for pacing)"
        )
        print(
            f"{'p99 latency on Redis < ' + f'{GOAL_P99_MS:g} ms':<36} {p99:>9.1f} ms   "
            f"{verdict(p99 < GOAL_P99_MS)}"
        )
        if lowest is not None:
            spent = sum(t for p, t in redis.cpu.items() if p != OTHERS) / redis.assertions * 1000
            over = spent / lowest.per_assertion_ms
            print(
                f"{'CPU per assertion ≤ ' + f'{GOAL_OVER_FLOOR:g}× the floor':<36} "
                f"{over:>11.2f}×   {verdict(over <= GOAL_OVER_FLOOR)} ({spent:.2f} ms on Redis, "
                f"all processes; the floor {lowest.per_assertion_ms:.2f} ms)"
            )
        print(
            f"{'disruption handled < ' + f'{GOAL_DISRUPTION_S:g} s':<36} "
            f"{hit.replanned_s:>10.1f} s   {verdict(hit.replanned_s < GOAL_DISRUPTION_S)}"
        )
        print(
            f"\nbaseline: the in-process broker (StubBroker, {processes * options.threads} "
            f"Dramatiq worker threads in this process), measured in the same run on the same "
            f"database. Workers: {workers.command}. Redis {redis_version(redis_server.binary)} "
            f"of this script's own; {database.description}; {os.cpu_count()} CPUs."
        )
        if profile is not None:
            print("PROFILED: the workers ran under cProfile; their figures above are slowed.")
            profile_report(profile)
    except BaseException:
        if workers is not None:
            print(f"--- worker log:\n{workers.tail()}", file=sys.stderr)
        raise
    finally:
        if in_process is not None:
            in_process.stop()
        if workers is not None:
            workers.stop()
        if redis_server is not None:
            redis_server.stop()
        if engine is not None:
            engine.dispose()
        if database is not None:
            database.close()
        shutil.rmtree(directory, ignore_errors=True)


def psutil_self() -> Callable[[], list]:
    import psutil

    me = psutil.Process()
    return lambda: [me]


def psutil_pid(pid: int) -> list:
    import psutil

    try:
        return [psutil.Process(pid)]
    except psutil.NoSuchProcess:
        return []


if __name__ == "__main__":
    main()
