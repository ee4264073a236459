"""Soak test: SCIS as a community runs it, under mixed chat traffic for a quarter of an hour,
with a disruption every minute. Not part of `make bench` or the test suite.

    .venv/bin/python benchmarks/soak.py                 # 15 minutes
    .venv/bin/python benchmarks/soak.py --minutes 1     # a quick try

It starts PostgreSQL (a fresh database), Redis, Synapse and the Telegram emulator from the
integration tests' harnesses, two `scis worker` commands (4 threads each) and one `scis serve`
on both Telegram and Matrix, all as separate processes, with the chair network
(examples/chair.yaml + tests/scenarios/seat-maker.yaml) whose people are on the soak's
accounts: some on Telegram (typing through the emulator's client API), some on Matrix (real
matrix-nio clients), plus extra buyers on each. Buyers order chairs and choose plan 1, the
parties agree and assert their stages, people talk in their orders and read the catalog and
their tasks, and the coordinator disrupts or restores a resource every minute; all paced to
`--rate` commands a second at most (each person waits for the bot's answer before typing on).

It prints the answer latency (typed → the bot's answer in that chat, by the platform's clock)
as p50/p90/p99, the throughput (commands a second, outbox messages delivered a second), the
memory of each process at the start and the end, and its books of the outbox: every message the
database says was sent, set against what reached the person (soak_ledger.py). It exits 1 when a
message was lost or duplicated, or was still undelivered when the soak stopped waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import project_paths  # noqa: F401 — the project and the harnesses this soak starts servers with
from matrix_people import MatrixPerson
from soak_ledger import Books, balance, latency_rows, percentile, table
from soak_people import (
    MatrixParticipant,
    Outbox,
    People,
    Sent,
    TelegramParticipant,
    read_telegram,
)
from soak_traffic import COORDINATOR, Pace, Reader, Traffic
from soak_world import ON_MATRIX, ON_TELEGRAM, World, memory
from sqlalchemy import text

TELEGRAM_LOOK_EVERY_S = 0.3  # how often each Telegram chat is read (latency uses its clock)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="traffic time (15)")
    parser.add_argument("--rate", type=float, default=2.0, help="commands a second at most (2)")
    parser.add_argument("--telegram-buyers", type=int, default=6, help="extra buyers (6)")
    parser.add_argument("--matrix-buyers", type=int, default=4, help="extra buyers (4)")
    parser.add_argument(
        "--drain", type=float, default=180.0, help="seconds to wait for the outbox to empty (180)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="`scis worker` commands, 4 threads each (2)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    return parser.parse_args()


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # as the outbox keeps its times


def sample_memory(world: World) -> dict[str, tuple[int, int]]:
    return {role: memory(pids) for role, pids in world.processes().items()}


def unfinished(world: World) -> tuple[int, int]:
    """(outbox messages pending, kept commands not carried out)."""
    with world.engine.connect() as connection:
        pending = connection.execute(
            text("SELECT count(*) FROM notification WHERE status = 'pending'")
        ).scalar_one()
        kept = connection.execute(
            text("SELECT count(*) FROM inbound_message WHERE processed_at IS NULL")
        ).scalar_one()
    return pending, kept


async def drain(world: World, seconds: float) -> float:
    """Waits until the outbox and the kept commands are empty (at most `seconds`)."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if await asyncio.to_thread(unfinished, world) == (0, 0):
            break
        await asyncio.sleep(1)
    return time.monotonic() - began


async def progress(world: World, log: list[Sent], traffic: Traffic, running, began: float):
    while running():
        await asyncio.sleep(min(60.0, 15.0 if time.monotonic() - began < 60 else 60.0))
        answered = sum(1 for sent in log if sent.answered_at is not None)
        pending, kept = await asyncio.to_thread(unfinished, world)
        print(
            f"  {time.monotonic() - began:6.0f}s: {len(log)} commands typed, {answered} answered, "
            f"{traffic.orders_placed} orders placed, outbox pending {pending}, kept {kept}, "
            f"disruptions {len(traffic.disruptions)}",
            flush=True,
        )


async def soak(world: World, options: argparse.Namespace) -> int:
    outbox = Outbox(world.engine)
    log: list[Sent] = []
    people = People()
    for who, chat in world.accounts.telegram.items():
        user = world.emulator.user(world.token, chat, who)
        people.telegram.append(TelegramParticipant(who, user, outbox, log))
    for who, account in world.accounts.matrix.items():
        person = MatrixPerson(world.synapse, account, world.bot.user_id)
        people.matrix.append(MatrixParticipant(who, person, outbox, log))
    await asyncio.gather(*(person.open() for person in people.matrix))

    listening = asyncio.Event()  # set: stop listening
    listeners = [
        asyncio.create_task(read_telegram(people.telegram, listening, TELEGRAM_LOOK_EVERY_S))
    ]
    listeners += [asyncio.create_task(person.listen(listening)) for person in people.matrix]
    await asyncio.sleep(2)  # the Matrix clients' first syncs

    memory_start = await asyncio.to_thread(sample_memory, world)
    began = time.monotonic()
    began_at = now_utc()
    deadline = began + options.minutes * 60

    def running() -> bool:
        return time.monotonic() < deadline

    traffic = Traffic(people.by_name(), Reader(world.engine), Pace(options.rate), running)
    buyers = ["dana", *(who for who in people.by_name() if who[:2] in ("tg", "mx"))]
    parties = [who for who in (*ON_TELEGRAM, *ON_MATRIX) if who not in ("dana", COORDINATOR)]
    print(
        f"soak: {options.minutes:g} min, at most {options.rate:g} commands/s; buyers {buyers}; "
        f"parties {parties}; coordinator {COORDINATOR}",
        flush=True,
    )
    work = [traffic.buyer(who) for who in buyers] + [traffic.party(who) for who in parties]
    work.append(traffic.coordinator())
    reporter = asyncio.create_task(progress(world, log, traffic, running, began))
    outcomes = await asyncio.gather(*work, return_exceptions=True)
    reporter.cancel()
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            print(f"soak: a person stopped with {outcome!r}", file=sys.stderr)
    traffic_s = time.monotonic() - began
    ended_at = now_utc()
    memory_end = await asyncio.to_thread(sample_memory, world)

    print(f"soak: traffic stopped after {traffic_s:.0f}s; waiting for the outbox…", flush=True)
    drained_s = await drain(world, options.drain)
    await asyncio.sleep(3)  # the last messages reach the emulator and Synapse
    listening.set()
    await asyncio.gather(*listeners, return_exceptions=True)
    arrivals = {person.who: person.arrivals for person in people.telegram}
    for person in people.matrix:
        arrivals[person.who] = await person.everything()
        await person.person.close()

    books, delivered = await asyncio.to_thread(settle, world, arrivals, began_at, ended_at)
    report(world, options, log, traffic, books, delivered, traffic_s, drained_s)
    print_memory(memory_start, memory_end)
    failures = books.lost + books.duplicated + books.pending
    print(
        f"\nlost {books.lost}, duplicated {books.duplicated}, undelivered {books.pending}: "
        + ("PASS" if failures == 0 else "FAIL"),
        flush=True,
    )
    return 0 if failures == 0 else 1


def settle(world: World, arrivals, began_at: datetime, ended_at: datetime) -> tuple[Books, dict]:
    with world.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, participant_id, kind, order_id, text, payload, status, created_at, "
                "sent_at FROM notification ORDER BY id"
            )
        ).all()
        rooms = connection.execute(
            text(
                "SELECT key, value FROM platform_state WHERE platform = 'matrix' "
                "AND key LIKE 'order_room:%'"
            )
        ).all()
    order_rooms = {room: int(key.split(":", 1)[1]) for key, room in rooms}
    platforms = dict.fromkeys(world.accounts.telegram, "telegram")
    platforms |= dict.fromkeys(world.accounts.matrix, "matrix")
    books = balance(rows, platforms, arrivals, order_rooms)
    sent = [row for row in rows if row.sent_at is not None]
    ages = [(row.sent_at - row.created_at).total_seconds() for row in sent]
    during = sum(1 for row in sent if began_at <= row.sent_at <= ended_at)
    ages_of: dict[str, list[float]] = {}
    for row, age in zip(sent, ages, strict=True):
        ages_of.setdefault(row.participant_id, []).append(age)
    busiest = sorted(ages_of.items(), key=lambda item: -len(item[1]))[:5]
    return books, {"during": during, "ages": ages, "busiest": busiest}


def report(world, options, log, traffic, books, delivered, traffic_s, drained_s) -> None:
    answered = [sent for sent in log if sent.answered_at is not None]
    print("\n== Answers: typed → the bot's answer in that chat (seconds) ==")
    header = ("commands", "typed", "answered", "p50", "p90", "p99", "max")
    print(table(header, latency_rows(log)))
    ages = delivered["ages"]
    print("\n== Throughput ==")
    rows = [
        ("traffic time (s)", traffic_s),
        ("commands typed", len(log)),
        ("commands answered", len(answered)),
        ("commands a second (answered)", len(answered) / traffic_s),
        ("orders placed", traffic.orders_placed),
        ("disruptions and restores", len(traffic.disruptions)),
        ("outbox messages sent, in all", books.sent),
        ("outbox messages sent during the traffic", delivered["during"]),
        ("outbox messages a second, during the traffic", delivered["during"] / traffic_s),
        ("outbox: written → sent p50 (s)", percentile(ages, 0.5)),
        ("outbox: written → sent p99 (s)", percentile(ages, 0.99)),
        ("seconds to empty the outbox afterwards", drained_s),
    ]
    print(table(("what", "value"), rows))
    print("\n== Busiest recipients (a chat's messages are paced, so its queue is the wait) ==")
    rows = [
        (who, len(ages), percentile(ages, 0.5), percentile(ages, 0.99))
        for who, ages in delivered["busiest"]
    ]
    print(table(("recipient", "messages", "written → sent p50", "p99"), rows))
    print("\n== Books of the outbox ==")
    rows = [
        ("sent (database)", books.sent),
        ("pieces expected at the people", books.expected),
        ("lost", books.lost),
        ("duplicated", books.duplicated),
        ("still pending (undelivered)", books.pending),
        ("failed (given up, told to coordinators)", books.failed),
    ]
    print(table(("what", "count"), rows))
    for where, count in books.duplicated_where.most_common():
        print(f"  duplicated copies in the {where}: {count}")
    for title, examples in (
        ("lost", books.lost_examples),
        ("duplicated", books.duplicated_examples),
    ):
        for line in examples[:10]:
            print(f"  {title}: {line}")


def print_memory(start: dict, end: dict) -> None:
    print("\n== Memory (resident, MiB) ==")
    rows = []
    for role in start:
        (before, count_before), (after, count_after) = start[role], end.get(role, (0, 0))
        rows.append(
            (
                role,
                f"{count_before}→{count_after}",
                before / 2**20,
                after / 2**20,
                (after - before) / 2**20,
            )
        )
    print(table(("process", "processes", "start", "end", "growth"), rows))


def main() -> int:
    options = arguments()
    directory = Path(tempfile.mkdtemp(prefix="scis-soak-"))
    world = World(directory, options.telegram_buyers, options.matrix_buyers, options.workers)
    try:
        world.start(say=lambda line: print(f"soak: {line}", flush=True))
        return asyncio.run(soak(world, options))
    finally:
        world.close()
        if options.keep:
            print(f"soak: logs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
