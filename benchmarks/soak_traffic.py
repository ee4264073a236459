"""What the soak's people do, as the people of the chair network would: buyers order a chair,
choose plan 1, talk in their order and look at the catalog; the parties agree to the plans that
wait for them and assert the stages they owe, in order, as /tasks would show them; the
coordinator takes a resource out of service or brings it back every minute.

What a person knows of their orders they read from the database (as /tasks and the plans
message would tell them), so that the traffic never depends on parsing the bot's wording.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from soak_people import Participant
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bots.bootstrap import application
from core.service.listings import Duties, duties

# Cycled through: each is out of service for a minute, then back for a minute. Every one is
# used by some plan of the chair; gus-backs (the only back) is left alone so orders stay possible.
RESOURCES = ("hal-shop", "fern-legs", "gus-seats", "bob-legs", "ana-shop", "bob-foam")
COORDINATOR = "rita"
ORDER_PATIENCE_S = 240  # a buyer orders again when theirs has not moved on for this long
CHOOSE_AGAIN_S = 30
ASK_AGAIN_S = 45  # a party repeats a command the database does not show carried out yet
IDLE_S = 2.0


class Pace:
    """At most `rate` commands a second across everyone (a token bucket with a burst of 1)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            now = time.monotonic()
            self._next = max(self._next, now)
            wait = self._next - now
            self._next += self.interval
        if wait > 0:
            await asyncio.sleep(wait)


class Reader:
    """The database reads the people's decisions rest on, each in a worker thread."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.services = application(engine)

    async def _scalar(self, sql: str, **values):
        def query():
            with self.engine.connect() as connection:
                return connection.execute(text(sql), values).one_or_none()

        return await asyncio.to_thread(query)

    async def latest_order(self, buyer: str) -> int:
        row = await self._scalar(
            "SELECT coalesce(max(id), 0) FROM supply_order WHERE buyer_id = :buyer", buyer=buyer
        )
        return row[0]

    async def order(self, order_id: int) -> tuple[str, int, int]:
        """(status, progress, plans): progress grows with every change of the order's life and
        every stage done."""
        row = await self._scalar(
            "SELECT o.status, o.revision + (SELECT count(*) FROM stage s JOIN contract c "
            "ON s.contract_id = c.id WHERE c.order_id = o.id AND s.status = 'done'), "
            "(SELECT count(*) FROM plan p WHERE p.order_id = o.id) "
            "FROM supply_order o WHERE o.id = :id",
            id=order_id,
        )
        return tuple(row) if row else ("unknown", 0, 0)

    async def duties(self, who: str) -> Duties:
        return await asyncio.to_thread(
            self.services.read, lambda session: duties(self.services, session, who)
        )


class Traffic:
    def __init__(
        self,
        people: dict[str, Participant],
        reader: Reader,
        pace: Pace,
        running: Callable[[], bool],
        seed: int = 8,
    ):
        self.people = people
        self.reader = reader
        self.pace = pace
        self.running = running
        self.random = random.Random(seed)
        self.orders_placed = 0
        self.disruptions: list[str] = []
        self._notes = 0

    async def say(self, who: str, words: str) -> None:
        await self.pace.take()
        await self.people[who].command(words)

    async def _pause(self, seconds: float = IDLE_S) -> None:
        await asyncio.sleep(seconds * (0.5 + self.random.random()))

    def note(self, who: str) -> str:
        self._notes += 1
        return f"soak note {self._notes} from {who}"

    async def buyer(self, who: str) -> None:
        order_id, moved_at, progress, chosen_at = None, 0.0, -1, 0.0
        while self.running():
            if order_id is None:
                before = await self.reader.latest_order(who)
                await self.say(who, "/order chair 1")
                self.orders_placed += 1
                order_id = await self._new_order(who, before)
                moved_at, progress, chosen_at = time.monotonic(), -1, 0.0
                continue
            status, now_progress, plans = await self.reader.order(order_id)
            if now_progress != progress:
                moved_at, progress = time.monotonic(), now_progress
            if status in ("completed", "unplannable", "unknown") or (
                time.monotonic() - moved_at > ORDER_PATIENCE_S
            ):
                order_id = None
                continue
            if status == "open" and plans and time.monotonic() - chosen_at > CHOOSE_AGAIN_S:
                await self.say(who, f"/choose {order_id} 1")
                chosen_at = time.monotonic()
                continue
            draw = self.random.random()
            if draw < 0.25 and status in ("negotiating", "in_progress"):
                await self.say(who, f"/say {order_id} {self.note(who)}")
            elif draw < 0.35:
                await self.say(who, "/catalog chair")
            elif draw < 0.45:
                await self.say(who, "/tasks")
            else:
                await self._pause()

    async def _new_order(self, who: str, before: int, timeout: float = 60) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            latest = await self.reader.latest_order(who)
            if latest > before:
                return latest
            await asyncio.sleep(0.5)
        return None

    async def party(self, who: str) -> None:
        asked: dict[str, float] = {}
        while self.running():
            owed = await self.reader.duties(who)
            now = time.monotonic()
            todo = [f"/agree {order}" for order in owed.to_agree]
            todo += [f"/done {s.order_id} {s.stage}" for s in owed.stages if s.ready]
            todo = [words for words in todo if now - asked.get(words, -1e9) > ASK_AGAIN_S]
            draw = self.random.random()
            if todo:
                asked[todo[0]] = now
                await self.say(who, todo[0])
            elif draw < 0.1 and owed.stages:
                await self.say(who, f"/say {owed.stages[0].order_id} {self.note(who)}")
            elif draw < 0.15:
                await self.say(who, "/tasks")
            else:
                await self._pause()

    async def coordinator(self, who: str = COORDINATOR, every: float = 60.0) -> None:
        """A disruption every `every` seconds, the first after half of that: resource k out,
        then back, then the next."""
        started = time.monotonic()
        for minute in range(10**6):
            wake = started + (minute + 0.5) * every
            while self.running() and time.monotonic() < wake:
                await asyncio.sleep(min(1.0, wake - time.monotonic()))
            if not self.running():
                return
            resource = RESOURCES[(minute // 2) % len(RESOURCES)]
            if minute % 2 == 0:
                words = f"/disrupt {resource} soak disruption {minute + 1}"
            else:
                words = f"/restore {resource}"
            self.disruptions.append(words)
            await self.say(who, words)
