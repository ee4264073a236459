"""Issue 14's faults, repeated: real PostgreSQL, a Redis of the test's own and real worker
processes (the SCIS actors under Dramatiq's CLI, tests/integration/_fault_workers.py), while
orders are placed and the outbox drains. Injected: a worker SIGKILLed mid-work, Redis restarted
empty (with commands taken in while it was down), and the delivering process's database
connections terminated right after a send. Counted per phase: messages sent, sent twice, lost.

    .venv/bin/python -m pytest -s tests/integration/test_trust_faults.py

prints the figures. The promise: nothing lost, at most one duplicate per injected fault, none
without a fault."""

from __future__ import annotations

import itertools
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from chair_world import NETWORK
from sqlalchemy import text
from sqlmodel import Session
from worker_processes import wait_until

from bots.bootstrap import application
from core.importers import load_network
from core.service.commands import LoadNetwork, PlaceOrder
from core.store.tables import Notification
from workers.actors import Actors
from workers.broker import make_broker

HERE = Path(__file__).resolve().parent
FAULT_WORKERS = (
    sys.executable,
    "-m",
    "dramatiq",
    "_fault_workers:worker_process",
    "--path",
    str(HERE),
)
QUICK = {
    "SCIS_HEARTBEAT_TIMEOUT_MS": "3000",  # a dead worker's messages come back after 3 s
    "SCIS_BROKER_MAINTENANCE_CHANCE": "1000000",
    "SCIS_DELIVERY_CLAIM_SECONDS": "3",  # a dead worker's claim is taken over after 3 s
    "dramatiq_worker_timeout": "100",
}
RECIPIENTS = ("ana", "bob", "gus", "hal", "rita")  # chair-world people with a chat account
DIRECT = 40  # outbox messages per phase besides those of the orders
ORDERS = 4  # orders placed per phase: two messages each, and a weave


@dataclass
class Figures:
    phase: str
    faults: int
    sent: int = 0  # distinct messages that reached the recipient
    sends: int = 0  # what the sender was handed, repeats included
    lost: int = 0
    taken_over: int = 0  # messages a dead or cut worker had claimed, sent by another

    @property
    def duplicates(self) -> int:
        return self.sends - self.sent


class World:
    def __init__(self, actors: Actors, redis_server, workers, record: Path):
        self.actors, self.services, self.redis, self.workers, self.record = (
            actors,
            actors.services,
            redis_server,
            workers,
            record,
        )
        self.ids = itertools.count(1)
        self.orders = 0

    def sql(self, query: str) -> int:
        with self.services.engine.connect() as connection:
            return connection.execute(text(query)).scalar_one()

    def newest_notification(self) -> int:
        return self.sql("SELECT coalesce(max(id), 0) FROM notification")

    def place_orders(self, n: int = ORDERS) -> None:
        for _ in range(n):
            number = next(self.ids)
            self.actors.take_in(
                "telegram",
                f"584210337:{number}",
                PlaceOrder,
                {"actor": "dana", "lines": [["chair", 2]], "weave_now": False},
            )
            self.orders += 1

    def queue_messages(self, n: int = DIRECT) -> None:
        with Session(self.services.engine) as session, session.begin():
            for i in range(n):
                recipient = RECIPIENTS[i % len(RECIPIENTS)]
                session.add(Notification(participant_id=recipient, kind="note", text=f"note {i}"))
        for recipient in RECIPIENTS:
            try:
                self.actors.deliver.send(recipient)
            except Exception:  # noqa: BLE001 — Redis down: the sweeper hands it out
                pass

    def records(self) -> list[dict]:
        return self.workers[-1].records()

    def sent_since(self, first_id: int) -> list[int]:
        return [r["notification"] for r in self.records() if r["notification"] > first_id]

    def settled(self) -> bool:
        return (
            self.sql(
                "SELECT (SELECT count(*) FROM inbound_message WHERE processed_at IS NULL)"
                " + (SELECT count(*) FROM supply_order WHERE status = 'weaving')"
                " + (SELECT count(*) FROM notification WHERE status = 'pending')"
            )
            == 0
            and self.sql("SELECT count(*) FROM supply_order") == self.orders
        )

    def figures(self, phase: str, faults: int, before: int) -> Figures:
        wait_until(self.settled, timeout=40, message=f"{phase}: work left undone")
        time.sleep(1.0)  # a repeat would show now
        sends = self.sent_since(before)
        with self.services.engine.connect() as connection:
            made = set(
                connection.execute(
                    text("SELECT id FROM notification WHERE id > :first"), {"first": before}
                ).scalars()
            )
        taken_over = self.sql(
            f"SELECT count(*) FROM notification WHERE id > {before} AND attempts > 1"
        )
        row = Figures(
            phase, faults, len(set(sends)), len(sends), len(made - set(sends)), taken_over
        )
        print(f"\n{row}")
        return row


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_faults_lose_nothing_and_repeat_at_most_one_message_each(
    engine, database_url, redis_server, worker_processes, tmp_path
):
    services = application(engine)
    services.handle(LoadNetwork(None, load_network(NETWORK).network))
    actors = Actors(make_broker(redis_server.url), services, {})  # this process only sends
    cut, hang = tmp_path / "cut-request", tmp_path / "hang-request"

    def start_workers():
        return worker_processes(
            redis_server.url,
            database_url=database_url,
            processes=2,
            threads=1,
            command=FAULT_WORKERS,
            env={
                **QUICK,
                "SCIS_TEST_CUT_REQUEST": str(cut),
                "SCIS_TEST_HANG_REQUEST": str(hang),
            },
        )

    stopping = threading.Event()

    def sweeper():  # what `scis worker --sweep-every 1 --sweep-age 2` does
        while not stopping.wait(1.0):
            try:
                actors.sweep.send(2.0)
            except Exception:  # noqa: BLE001, S110 — Redis away: the next tick will do
                pass

    world = World(actors, redis_server, [start_workers()], tmp_path / "recorded.jsonl")
    threading.Thread(target=sweeper, daemon=True).start()
    table: list[Figures] = []
    try:
        # No fault.
        before = world.newest_notification()
        world.place_orders()
        world.queue_messages()
        table.append(world.figures("no fault", 0, before))

        # (a) A worker SIGKILLed at the worst moment: a message sent, not yet recorded as sent.
        # Dramatiq stops its sibling, and the group is started again, as `scis worker` does.
        before = world.newest_notification()
        hang.touch()
        world.place_orders()
        world.queue_messages()
        (hung,) = wait_until(lambda: list(tmp_path.glob("hang-request-taken-*")), timeout=20)
        group = world.workers[-1]
        group.kill9(int(hung.name.split("-")[3]))
        group.wait_until(lambda: not group.running(), timeout=20, message="group did not stop")
        group.stop()
        world.workers.append(start_workers())
        table.append(world.figures("worker SIGKILL", 1, before))

        # (b) Redis killed with work queued; commands taken in while it is down (kept, not
        # queued); it comes back empty.
        before = world.newest_notification()
        world.place_orders()
        world.queue_messages()
        redis_server.kill()
        world.place_orders(2)
        world.queue_messages(10)
        redis_server.start()
        table.append(world.figures("Redis restarted empty", 1, before))

        # (c) Three times, the delivering process's database connections terminated right
        # after a send, before it is recorded as sent.
        before = world.newest_notification()
        world.place_orders()
        world.queue_messages(3 * DIRECT)
        for _ in range(3):
            cut.touch()
            wait_until(lambda: not cut.exists(), timeout=20, message="no send took the cut")
            time.sleep(0.2)
        table.append(world.figures("pg_terminate_backend", 3, before))
        cuts = re.findall(r"fault: (\d+) database connection", world.workers[-1].log_text())
        assert len(cuts) == 3 and all(int(n) >= 1 for n in cuts), cuts
    finally:
        stopping.set()

    print("\nphase                    faults  sent  duplicates  lost  sent again after a claim")
    for row in table:
        print(
            f"{row.phase:<24} {row.faults:>6} {row.sent:>5} {row.duplicates:>11} {row.lost:>5}"
            f" {row.taken_over:>25}"
        )
    assert all(row.lost == 0 for row in table), table
    assert all(row.duplicates <= row.faults for row in table), table
    # Every command carried out once: one order each, none failed.
    assert world.sql("SELECT count(*) FROM supply_order") == world.orders
    assert world.sql("SELECT count(*) FROM inbound_message WHERE failed_at IS NOT NULL") == 0
