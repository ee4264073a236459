"""The outbox and its delivery, with worker threads in this process on the in-process broker
(the embedded default) and on a real Redis, on both databases: rate limits delay and never
drop, order per chat is kept, permanent failures are recorded, inbound duplicates have one
effect, and the sweeper restores lost work."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest
from chair_world import NETWORK
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import text
from sqlmodel import Session

from bots.bootstrap import application
from core.importers import load_network
from core.service.commands import ChoosePlan, LoadNetwork, PlaceOrder
from core.store.tables import Notification
from workers.actors import Actors
from workers.broker import make_broker
from workers.delivery import deliver_pending
from workers.senders import PermanentFailure, RateLimited, RecordingSender, recorded

PLATFORMS = ("telegram", "matrix", "console")


class LimitedSender:
    """Answers 'too many requests, retry after a moment' to the first `refusals` sends of each
    chat, then passes them on to the recording sender."""

    def __init__(self, inner: RecordingSender, refusals: int, retry_after: float = 0.2):
        self.inner, self.platform = inner, inner.platform
        self.refusals, self.retry_after = refusals, retry_after
        self.refused: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def send(self, address, message):
        with self.lock:
            if self.refused[address] < self.refusals:
                self.refused[address] += 1
                raise RateLimited(self.retry_after)
        self.inner.send(address, message)


class BlockedBy:
    def __init__(self, inner, blocked: str):
        self.inner, self.platform, self.blocked = inner, inner.platform, blocked

    def send(self, address, message):
        if address == self.blocked:
            raise PermanentFailure("Forbidden: bot was blocked by the user")
        self.inner.send(address, message)


class Pipeline:
    """The application, a broker in this process with the actors, and its worker threads."""

    def __init__(self, services, record, broker):
        self.services, self.record = services, record
        self.broker = broker
        self.senders = {p: RecordingSender(record, p) for p in PLATFORMS}
        self.actors = Actors(broker, services, self.senders)
        self.worker = self._start()

    def _start(self):
        worker = Worker(self.broker, worker_threads=4, worker_timeout=50)
        worker.start()
        return worker

    def lose_everything_queued(self):
        """Redis restarted with its data lost, and the workers with it."""
        self.worker.stop()
        self.broker.flush_all()
        self.worker = self._start()

    def __iter__(self):
        return iter((self.services, self.broker, self.senders, self.record))


@pytest.fixture(params=["in-process", "redis"])
def pipeline(request, engine, tmp_path):
    """Worker threads in this process, on the in-process broker or on a real Redis."""
    if request.param == "redis":
        broker = make_broker(request.getfixturevalue("redis_server").url)
    else:
        broker = StubBroker()
    services = application(engine)
    services.handle(LoadNetwork(None, load_network(NETWORK).network))
    running = Pipeline(services, tmp_path / "sent.jsonl", broker)
    yield running
    running.worker.stop()


def settle(broker, until, timeout=20.0):
    """Let the workers run (delayed messages included) until `until()` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if until():
            return
        time.sleep(0.05)
    raise AssertionError("the workers did not finish in time")


def order_and_choose(actors: Actors, message_prefix: str) -> None:
    actors.take_in(
        "telegram",
        f"{message_prefix}:1",
        PlaceOrder,
        {"actor": "dana", "lines": [["chair", 2]], "weave_now": False},
    )


def pending(services) -> int:
    with services.engine.connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM notification WHERE status = 'pending'")
        ).scalar_one()


def queued(services) -> int:
    with services.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM notification")).scalar_one()


def test_rate_limits_delay_every_message_and_keep_each_chats_order(pipeline):
    services, broker, senders, record = pipeline
    actors = pipeline.actors
    limited = {p: LimitedSender(s, refusals=3) for p, s in senders.items()}
    actors.senders = limited
    order_and_choose(actors, "dana")
    settle(broker, lambda: pending(services) == 0 and len(recorded(record)) >= 2)
    actors.take_in("telegram", "dana:2", ChoosePlan, {"actor": "dana", "order_id": 1, "rank": 1})
    settle(broker, lambda: pending(services) == 0 and len(recorded(record)) >= 8)
    sent = recorded(record)
    with services.engine.connect() as connection:
        queued = connection.execute(
            text("SELECT id, participant_id FROM notification ORDER BY id")
        ).all()
    assert sorted(r["notification"] for r in sent) == [q[0] for q in queued]  # none lost or doubled
    per_chat = defaultdict(list)
    for line in sent:
        per_chat[line["address"]].append(line["notification"])
    assert all(ids == sorted(ids) for ids in per_chat.values())  # in order in every chat
    assert all(n == 3 for n in limited["telegram"].refused.values())  # the limit was hit


def test_a_blocked_chat_is_recorded_and_the_others_still_get_theirs(pipeline):
    services, broker, senders, record = pipeline
    actors = pipeline.actors
    actors.senders = {p: BlockedBy(s, "655013428") for p, s in senders.items()}  # Gus
    order_and_choose(actors, "dana")
    settle(broker, lambda: pending(services) == 0 and len(recorded(record)) >= 2)
    actors.take_in("telegram", "dana:2", ChoosePlan, {"actor": "dana", "order_id": 1, "rank": 1})
    settle(broker, lambda: pending(services) == 0 and queued(services) == 9)
    with services.engine.connect() as connection:
        failed = connection.execute(
            text("SELECT participant_id, error FROM notification WHERE status = 'failed'")
        ).all()
        events = connection.execute(
            text("SELECT count(*) FROM event WHERE kind = 'delivery_failed'")
        ).scalar_one()
    assert [f[0] for f in failed] == ["gus"] and "blocked" in failed[0][1]
    assert events == 1
    told = [r for r in recorded(record) if "could not be delivered" in r["text"]]
    assert len(told) == 1 and "gus" in told[0]["text"]  # Rita, the coordinator, knows
    assert {r["address"] for r in recorded(record)} >= {"584210337", "731904552", "600100200"}


def test_the_same_inbound_message_twice_has_one_effect_and_one_set_of_messages(pipeline):
    services, broker, _, record = pipeline
    order_and_choose(pipeline.actors, "dana")
    order_and_choose(pipeline.actors, "dana")  # the platform delivered it again
    settle(broker, lambda: pending(services) == 0 and len(recorded(record)) >= 2)
    with services.engine.connect() as connection:
        orders = connection.execute(text("SELECT count(*) FROM supply_order")).scalar_one()
    assert orders == 1
    # 432: examples/chair.yaml's 48 to dana, with seat-maker.yaml's seats (18 ways to either
    # shop instead of 2): 2 ways · (7·18·1) + 2 ways · (5·18·1).
    assert [r["text"].split(".")[0] for r in recorded(record)] == [
        "Order 1 received",
        "Order 1: 432 ways to deliver it",
    ]


class Unreachable:
    """A platform that does not answer at all (a transient failure: retried, never dropped)."""

    calls = 0

    def __init__(self, platform):
        self.platform = platform

    def send(self, address, message):
        Unreachable.calls += 1
        raise ConnectionError("platform unreachable")


def test_the_sweeper_hands_out_again_what_the_broker_lost(pipeline):
    services, broker, _, record = pipeline
    actors = pipeline.actors
    Unreachable.calls = 0
    actors.senders = {p: Unreachable(p) for p in PLATFORMS}
    order_and_choose(actors, "dana")
    settle(broker, lambda: pending(services) == 2 and Unreachable.calls >= 2)
    pipeline.lose_everything_queued()  # the retries are gone too
    actors.senders = {p: RecordingSender(record, p) for p in PLATFORMS}
    time.sleep(1.5)
    assert recorded(record) == []  # nothing left in the broker would ever send them
    actors.sweep.send(0.0)
    settle(broker, lambda: pending(services) == 0)
    assert [r["text"].split(".")[0] for r in recorded(record)] == [
        "Order 1 received",
        "Order 1: 432 ways to deliver it",
    ]


def test_a_long_queue_goes_out_in_batches_in_order_and_a_limit_mid_batch_parks_the_rest(
    engine, tmp_path
):
    services = application(engine)
    services.handle(LoadNetwork(None, load_network(NETWORK).network))
    with Session(engine) as session, session.begin():
        for n in range(8):
            session.add(Notification(participant_id="dana", kind="note", text=f"message {n}"))
    record = tmp_path / "sent.jsonl"
    limited = LimitedSender(RecordingSender(record, "telegram"), refusals=0)

    class LimitOnFifth:
        platform = "telegram"

        def send(self, address, message):
            if message.text == "message 4" and not limited.refused[address]:
                limited.refused[address] += 1
                raise RateLimited(0.0)
            limited.inner.send(address, message)

    drained = deliver_pending(services, {"telegram": LimitOnFifth()}, "dana")
    assert (drained.sent, drained.retry_after) == (4, 0.0)  # four, then the limit parks the rest
    drained = deliver_pending(services, {"telegram": LimitOnFifth()}, "dana")
    assert drained.sent == 4 and drained.retry_after is None
    assert [line["text"] for line in recorded(record)] == [f"message {n}" for n in range(8)]
    assert pending(services) == 0
