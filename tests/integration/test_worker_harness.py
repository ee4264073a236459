"""The worker harness itself (redis_servers.py, worker_processes.py), on plain Dramatiq running
the sample actors of _sample_actors.py against a real redis-server of the test's own.

Besides checking the harness, these pin down the Dramatiq + Redis behaviour the project builds
on: a killed worker's message comes back only after the broker's heartbeat timeout, one dead
worker takes its whole `dramatiq` group down, and a Redis that restarts without its data has
lost every queued message for good — which is why the project needs a sweeper.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psutil
import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from redis_servers import RedisServer
from worker_processes import SAMPLE_COMMAND, WorkerProcesses

QUEUE = "default"
HEARTBEAT_TIMEOUT_MS = 3000  # the sample broker's heartbeat_timeout, passed by environment
SAMPLE = {
    "command": SAMPLE_COMMAND,
    "env": {
        "SAMPLE_HEARTBEAT_TIMEOUT_MS": str(HEARTBEAT_TIMEOUT_MS),
        # Dramatiq's idle poll (default 1000 ms), also the step of its shutdown: a SIGTERM'd
        # group stops in ~2 s instead of ~3 s.
        "dramatiq_worker_timeout": "100",
    },
}


@pytest.fixture
def sender(redis_server: RedisServer) -> Iterator[RedisBroker]:
    """A broker to send with, by actor name: the test process never imports the actors."""
    broker = RedisBroker(url=redis_server.url)
    yield broker
    broker.close()


def send(broker: RedisBroker, actor: str, *args, **kwargs) -> Message:
    return broker.enqueue(
        Message(queue_name=QUEUE, actor_name=actor, args=args, kwargs=kwargs, options={})
    )


def at_least(count: int, records: list[dict]) -> list[dict] | None:
    return records if len(records) >= count else None


def first_record(group: WorkerProcesses, **fields):
    return next((r for r in group.records() if all(r.get(k) == v for k, v in fields.items())), None)


def test_two_worker_processes_deliver_every_message(redis_server, sender, worker_processes):
    group = worker_processes(redis_server.url, processes=2, threads=2, **SAMPLE)
    workers = group.worker_pids()
    assert len(workers) == 2, workers

    for number in range(20):
        send(sender, "record", f"m{number}", 0.2)
    records = group.wait_until(lambda: at_least(20, group.records()), 15, "20 records")

    assert sorted(r["tag"] for r in records) == sorted(f"m{n}" for n in range(20))
    # 0.2 s a message, 4 prefetched a process at most: both processes must have taken part.
    assert {r["pid"] for r in records} == set(workers)


def test_killed_worker_message_is_redelivered_after_heartbeat_timeout(
    redis_server, sender, worker_processes
):
    first = worker_processes(redis_server.url, processes=2, threads=1, **SAMPLE)
    send(sender, "slow_once", "victim", 60)
    started = first.wait_until(lambda: first_record(first, event="start"), 10, "a start")
    siblings = first.worker_pids()
    assert started["pid"] in siblings

    first.kill9(started["pid"])
    killed_at = time.monotonic()
    # The message is neither acknowledged nor back on the queue: it sits in the dead worker's
    # ack set until another worker's maintenance sees no heartbeat for heartbeat_timeout.
    client = redis_server.client()
    unacked = [k for k in client.scan_iter("dramatiq:__acks__.*") if client.scard(k)]
    assert len(unacked) == 1 and client.llen(f"dramatiq:{QUEUE}") == 0

    # Dramatiq's parent process shuts the whole group down when one worker dies.
    first.wait_until(lambda: not first.running(), 15, "the group to go down")
    assert first.returncode != 0
    group_down_after = time.monotonic() - killed_at

    second = worker_processes(redis_server.url, processes=1, threads=1, **SAMPLE)
    done = second.wait_until(
        lambda: first_record(second, event="done"), HEARTBEAT_TIMEOUT_MS / 1000 + 10, "redelivery"
    )
    redelivered_after = time.monotonic() - killed_at

    assert done["attempt"] == 1 and done["pid"] != started["pid"]
    assert [r["event"] for r in second.records()] == ["start", "start", "done"]
    assert client.llen(f"dramatiq:{QUEUE}") == 0
    by = "the killed worker's sibling" if done["pid"] in siblings else "the new group"
    print(
        f"group down {group_down_after:.1f}s after kill -9, message redelivered to {by} and done "
        f"{redelivered_after:.1f}s after (heartbeat_timeout {HEARTBEAT_TIMEOUT_MS} ms)"
    )


def test_redis_restart_loses_queued_messages(redis_server, sender, worker_processes):
    client = redis_server.client()
    send(sender, "record", "queued-before-restart")
    assert client.llen(f"dramatiq:{QUEUE}") == 1

    redis_server.restart()
    assert client.dbsize() == 0  # the queued message is gone, nothing will ever run it

    group = worker_processes(redis_server.url, processes=1, threads=1, **SAMPLE)
    send(sender, "record", "sent-after-restart")
    group.wait_until(lambda: first_record(group, tag="sent-after-restart"), 10, "after restart")

    # Running workers outlive a restart: they reconnect and take what is sent afterwards.
    redis_server.restart()
    restarted_at = time.monotonic()
    send(sender, "record", "sent-after-second-restart")
    group.wait_until(
        lambda: first_record(group, tag="sent-after-second-restart"), 12, "after 2nd restart"
    )
    reconnected_after = time.monotonic() - restarted_at

    tags = [r["tag"] for r in group.records()]
    assert tags == ["sent-after-restart", "sent-after-second-restart"]
    assert group.running()
    print(f"workers took a message {reconnected_after:.1f}s after a Redis restart")


def test_stop_ends_orphaned_and_hanging_workers(redis_server, sender, worker_processes):
    group = worker_processes(redis_server.url, processes=2, threads=1, stop_timeout=1, **SAMPLE)
    send(sender, "slow_once", "hang", 60)
    group.wait_until(lambda: first_record(group, event="start"), 10, "a start")
    workers = group.worker_pids()

    group.kill9(group.process.pid)  # the parent: its workers are orphaned, and run on
    assert sorted(p.pid for p in group.group()) == workers

    started = time.monotonic()
    group.stop()  # SIGTERM each; the one in a 60 s actor would wait for it, so SIGKILL after 1 s
    assert time.monotonic() - started < 5
    assert group.leftovers() == []
    for pid in workers:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
