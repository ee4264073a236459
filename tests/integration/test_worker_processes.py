"""Real Redis, real `scis worker` processes: orders woven by workers, a worker killed mid-weave,
Redis restarted with its data lost — and every message still delivered exactly once."""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from chair_world import NETWORK
from sqlalchemy import text
from worker_processes import SCIS_WORKER_COMMAND, wait_until

from bots.bootstrap import application
from core.importers import load_network
from core.network.model import Location, Participant
from core.service.bus import Services
from core.service.commands import ChoosePlan, LoadNetwork, PlaceOrder
from workers.actors import Actors
from workers.broker import make_broker

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from layered_network import layered_network, top_item  # noqa: E402

# Redelivery within seconds: a dead worker's messages come back after 3 s of silence.
QUICK = {
    "SCIS_HEARTBEAT_TIMEOUT_MS": "3000",
    "SCIS_BROKER_MAINTENANCE_CHANCE": "1000000",
    "dramatiq_worker_timeout": "100",
}
WORKER = (*SCIS_WORKER_COMMAND, "--sweep-every", "1", "--sweep-age", "2")


@pytest.fixture
def actors(engine, redis_server) -> Actors:
    """The actors on the test's Redis, for sending only: the worker processes carry them out."""
    return Actors(make_broker(redis_server.url), application(engine), {})


@pytest.fixture
def app(actors) -> Services:
    return actors.services


def start_workers(worker_processes, redis_server, database_url, processes: int, threads: int):
    """`scis worker` processes that hand a dead worker's messages on within seconds."""
    return worker_processes(
        redis_server.url,
        database_url=database_url,
        processes=processes,
        threads=threads,
        env=QUICK,
        command=WORKER,
    )


def place(
    actors: Actors, buyer_chat: str, number: int, item: str = "chair", buyer: str = "dana"
) -> int:
    return actors.take_in(
        "telegram",
        f"{buyer_chat}:{number}",
        PlaceOrder,
        {"actor": buyer, "lines": [[item, 2]], "weave_now": False},
    )


def count(services: Services, sql: str) -> int:
    with services.engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def test_an_order_is_woven_by_a_worker_and_every_frame_arrives_once(
    app, actors, database_url, redis_server, worker_processes
):
    app.handle(LoadNetwork(None, load_network(NETWORK).network))
    workers = start_workers(worker_processes, redis_server, database_url, 2, 2)
    place(actors, "584210337", 1)
    workers.wait_until(lambda: len(workers.records()) == 2, timeout=30)
    actors.take_in(
        "telegram", "584210337:2", ChoosePlan, {"actor": "dana", "order_id": 1, "rank": 1}
    )
    workers.wait_until(lambda: len(workers.records()) == 8, timeout=30)
    time.sleep(1.5)  # a duplicate would show up now
    lines = workers.records()
    assert len(lines) == 8 and len({line["notification"] for line in lines}) == 8
    frames = Counter(line["address"] for line in lines[2:])
    assert frames == Counter(
        ["584210337", "731904552", "@fern:example.org", "600100200", "412876190", "655013428"]
    )  # Dana, Ana, Fern (Matrix), Hal, Bob, Gus: one frame each
    # 432: every way of moving each part counted (tests/integration/test_service_flows.py)
    assert lines[1]["text"].startswith("Order 1: 432 ways to deliver it")
    assert count(app, "SELECT count(*) FROM notification WHERE status != 'sent'") == 0


def load_big_network(app: Services):
    """A 10,000-item network whose weave takes a second or two, and a buyer for it."""
    big = layered_network(10_000, depth=10, fan_in=3, alternatives=2)
    buyer = Participant(
        "buyer", "A clinic", ("buyer",), Location(39.3, -76.6), {"telegram": "1000"}
    )
    app.handle(LoadNetwork(None, big.with_records(participants=[buyer])))
    return big


# The worker and the broker are what is tested here, not the database: PostgreSQL, as in
# production, is enough (the SQLite variant doubled the suite's longest test).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_in_the_middle_of_a_weave(
    app, actors, database_url, redis_server, worker_processes
):
    """The weave of a 10,000-item network takes a second or two: long enough to kill the worker
    while it runs. Its transaction never commits; the message comes back; another worker weaves
    the order, once."""
    big = load_big_network(app)
    workers = start_workers(worker_processes, redis_server, database_url, 2, 1)
    client = redis_server.client()
    place(actors, "1000", 1, item=top_item(big), buyer="buyer")

    wait_until(
        lambda: (
            count(app, "SELECT count(*) FROM supply_order WHERE status = 'weaving'")
            and any(client.scard(k) for k in client.scan_iter("dramatiq:__acks__.*"))
        ),
        timeout=30,
    )
    for pid in workers.worker_pids():
        workers.kill9(pid)
    killed_at = time.monotonic()
    assert count(app, "SELECT count(*) FROM event WHERE kind = 'order_woven'") == 0
    workers.wait_until(
        lambda: count(app, "SELECT count(*) FROM event WHERE kind = 'order_woven'"), timeout=60
    )
    assert time.monotonic() - killed_at > 1  # it was redone, not finished by the killed worker
    workers.wait_until(lambda: len(workers.records()) == 2, timeout=30)
    time.sleep(1.5)
    assert count(app, "SELECT count(*) FROM event WHERE kind = 'order_woven'") == 1
    assert count(app, "SELECT count(*) FROM plan") == 5  # one batch of five plans
    texts = [line["text"] for line in workers.records()]
    assert len(texts) == 2 and texts[0].startswith("Order 1 received")
    assert "ways to deliver it" in texts[1]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_redis_restarted_with_its_data_lost_the_sweeper_restores_everything(
    app, actors, database_url, redis_server, worker_processes
):
    app.handle(LoadNetwork(None, load_network(NETWORK).network))
    for number in range(1, 6):
        place(actors, "584210337", number)  # queued in Redis; no worker runs yet
    assert count(app, "SELECT count(*) FROM inbound_message") == 5
    redis_server.restart()  # the queue is gone
    assert redis_server.client().dbsize() == 0
    time.sleep(2.2)  # older than the sweep's age
    workers = start_workers(worker_processes, redis_server, database_url, 2, 2)
    workers.wait_until(lambda: len(workers.records()) == 10, timeout=60)
    time.sleep(2.5)  # more sweeps run: none may duplicate anything
    lines = workers.records()
    assert len(lines) == 10 and len({line["notification"] for line in lines}) == 10
    assert count(app, "SELECT count(*) FROM supply_order") == 5
    assert count(app, "SELECT count(*) FROM event WHERE kind = 'order_woven'") == 5
    assert Counter(line["text"].split(".")[0].split(":")[0] for line in lines) == Counter(
        {f"Order {n} received": 1 for n in range(1, 6)} | {f"Order {n}": 1 for n in range(1, 6)}
    )


# The worker and the broker are what is tested here, not the database: PostgreSQL, as in
# production, is enough (the SQLite variant doubled the suite's longest test).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_long_weave_does_not_starve_the_workers_heartbeat(
    app, actors, database_url, redis_server, worker_processes
):
    """While a worker weaves a 10,000-item network (pure Python, holding the GIL in turns), its
    consumer keeps beating: no gap between two heartbeats comes near the timeout after which
    the broker would hand the message to another worker."""
    big = load_big_network(app)
    start_workers(worker_processes, redis_server, database_url, 1, 1)
    client = redis_server.client()
    place(actors, "1000", 1, item=top_item(big), buyer="buyer")
    beats: dict[bytes, list[float]] = {}
    deadline = time.monotonic() + 60
    while not count(app, "SELECT count(*) FROM event WHERE kind = 'order_woven'"):
        assert time.monotonic() < deadline, "the order was not woven"
        for worker, score in client.zrange("dramatiq:__heartbeats__", 0, -1, withscores=True):
            seen = beats.setdefault(worker, [])
            if not seen or seen[-1] != score:
                seen.append(score)
        time.sleep(0.02)
    gaps = [b - a for seen in beats.values() for a, b in zip(seen, seen[1:], strict=False)]
    assert gaps and max(gaps) < 2000, gaps  # ms; the timeout is 3000
    assert count(app, "SELECT count(*) FROM plan") == 5
