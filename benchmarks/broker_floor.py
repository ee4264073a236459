"""What Dramatiq on Redis costs per message when the actor does nothing: the floor under the
pipeline benchmark (benchmarks/pipeline.py), whose every assertion takes one `apply_inbound`
message and one or two `deliver` messages.

    .venv/bin/python benchmarks/broker_floor.py [--messages 20000] [--processes 2 --threads 4]

A redis-server of this script's own; `dramatiq` worker processes running a no-op actor; this
process enqueues --messages messages as fast as it can, then waits until every one is acked.
Printed: messages per second, and the CPU per message of the producer (this process), the
workers and Redis (psutil), against the 6.7 ms of CPU per assertion that 300 assertions/s leave
on two cores. The baseline in the same run: Dramatiq's in-process StubBroker with worker threads
(what `scis serve` uses without REDIS_URL).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import dramatiq
import project_paths  # noqa: F401 — the integration tests' redis_servers on sys.path
import psutil

WORKER_FLAG = "SCIS_BROKER_FLOOR_REDIS"

if os.environ.get(WORKER_FLAG):
    # Imported by `dramatiq broker_floor` in the worker processes.
    from dramatiq.brokers.redis import RedisBroker

    dramatiq.set_broker(RedisBroker(url=os.environ[WORKER_FLAG]))


@dramatiq.actor(max_retries=0)
def nothing(n: int) -> None:
    """The actor with no work: what remains is the broker's own cost."""


def cpu(processes) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def over_redis(count: int, processes: int, threads: int) -> dict:
    import redis
    from dramatiq.brokers.redis import RedisBroker
    from redis_servers import start_redis

    server = start_redis()
    environment = {**os.environ, WORKER_FLAG: server.url, "PYTHONPATH": str(Path(__file__).parent)}
    workers = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "broker_floor", "--processes", str(processes),
         "--threads", str(threads)],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        broker = RedisBroker(url=server.url)
        nothing.broker = broker
        broker.declare_actor(nothing)
        client = redis.Redis.from_url(server.url)
        time.sleep(3)  # the worker processes import and connect
        group = [psutil.Process(workers.pid), *psutil.Process(workers.pid).children(recursive=True)]
        redis_process = psutil.Process(server.process.pid)
        me = psutil.Process()
        before = (cpu([me]), cpu(group), cpu([redis_process]))
        started = time.perf_counter()
        for n in range(count):
            nothing.send(n)
        while client.hlen("dramatiq:default.msgs") or client.llen("dramatiq:default"):
            time.sleep(0.01)
        wall = time.perf_counter() - started
        after = (cpu([me]), cpu(group), cpu([redis_process]))
        producer, consumers, redis_cpu = (b - a for a, b in zip(before, after, strict=True))
        return {
            "rate": count / wall,
            "producer": producer,
            "workers": consumers,
            "redis": redis_cpu,
        }
    finally:
        os.killpg(workers.pid, 15)
        workers.wait(timeout=30)
        server.stop()


def in_process(count: int, threads: int) -> dict:
    from dramatiq.brokers.stub import StubBroker

    broker = StubBroker()
    nothing.broker = broker
    broker.declare_actor(nothing)
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    me = psutil.Process()
    try:
        before, started = cpu([me]), time.perf_counter()
        for n in range(count):
            nothing.send(n)
        broker.join(nothing.queue_name)
        worker.join()
        wall = time.perf_counter() - started
        return {"rate": count / wall, "producer": cpu([me]) - before, "workers": 0.0, "redis": 0.0}
    finally:
        worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    arguments = parser.parse_args()
    count = arguments.messages
    baseline = in_process(count, arguments.processes * arguments.threads)
    redis_run = over_redis(count, arguments.processes, arguments.threads)
    print(f"{count:,} no-op messages; CPU per message in ms (producer / workers / Redis / all)")
    for name, figures in (("in-process StubBroker", baseline), ("Redis + 2 processes", redis_run)):
        parts = [figures[k] * 1000 / count for k in ("producer", "workers", "redis")]
        print(
            f"  {name:<22} {figures['rate']:>8,.0f} msg/s   "
            + " / ".join(f"{p:.3f}" for p in parts)
            + f" / {sum(parts):.3f}"
        )
    per_message = sum(redis_run[k] for k in ("producer", "workers", "redis")) * 1000 / count
    budget = 2 * 1000 / 300
    print(
        f"Redis costs {per_message / (sum(baseline[k] for k in ('producer',)) * 1000 / count):.1f}"
        f"× the in-process broker per message. An assertion takes 2–3 messages: "
        f"{2 * per_message:.2f}–{3 * per_message:.2f} ms of the {budget:.2f} ms of CPU that "
        f"300 assertions/s leave on 2 cores go to the broker alone."
    )


if __name__ == "__main__":
    main()
