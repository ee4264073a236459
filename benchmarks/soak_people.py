"""The soak's simulated people: a Telegram person types through the emulator's client API
(telegram_emulator.EmulatedUser) and reads what the bot sent to their chat; a Matrix person
(matrix_people.MatrixPerson, a real matrix-nio client) types in a direct room with the bot,
joins the rooms the bot invites them to and reads everything the bot posts there.

A person types one command at a time and waits for the bot's answer before the next, as people
do; the answer's latency is measured with the platform's own clock of the bot's message (the
emulator's `time`, Synapse's `origin_server_ts`), so how often the soak looks does not count.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import threading
import time
from dataclasses import dataclass, field

from matrix_people import MatrixPerson
from nio import JoinedRoomsResponse, RoomMessagesResponse, SyncResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine
from telegram_emulator import EmulatedUser, shown_text

from bots.conversation.messages import outbox_buttons
from bots.matrix.rendering import text_content
from bots.matrix.sender import relay_content
from bots.telegram.formatting import escaped_chunks
from workers.senders import Outgoing

DIRECT = "direct"  # a Telegram chat, or a Matrix room that is not an order's room
REPLY_TIMEOUT_S = 60.0
GAP_S = 3.3  # between one person's commands: under the bot's 20 a minute per person
CLOCK_SLACK_S = 0.05
_numbers = itertools.count(1)


@dataclass
class Sent:
    """One command typed, and the bot's answer to it."""

    number: int
    who: str
    platform: str
    text: str
    at: float = 0.0  # Unix time it was typed
    answered_at: float | None = None  # the platform's time of the bot's answer
    answer: str | None = None

    @property
    def latency(self) -> float | None:
        return None if self.answered_at is None else max(0.0, self.answered_at - self.at)


@dataclass(frozen=True)
class Arrival:
    """A message from the bot as the person got it."""

    at: float  # the platform's time of the message
    text: str
    room: str  # DIRECT on Telegram; the room id on Matrix


Key = tuple[object, str]  # (DIRECT or the order whose room it is in, the text)


def ways(row, platform: str) -> list[tuple[Key, ...]]:
    """The pieces an outbox message reaches a person as, each with the shapes it may take: on
    Telegram a long text is split; on Matrix the buttons become commands to type, and a relayed
    /say is either in the person's direct room or, once for all the parties there, in the
    order's room as "Name: words"."""
    message = outgoing(row)
    if platform == "telegram":
        return [((DIRECT, html.unescape(piece)),) for piece in escaped_chunks(message.text)]
    buttons = tuple((button,) for button in outbox_buttons(message.payload))
    shapes: tuple[Key, ...] = ((DIRECT, text_content(message.text, buttons)["body"]),)
    if message.kind == "said" and message.order_id is not None:
        shapes += ((message.order_id, relay_content(message)["body"]),)
    return [shapes]


def outgoing(row) -> Outgoing:
    return Outgoing(row.id, row.text, row.kind, row.order_id, row.payload or {})


class Outbox:
    """What the outbox said to each person so far, to tell a notification from the bot's answer
    to a command. A notification is written (committed) before it is sent, so a text not known
    here is looked up again before it is taken for an answer."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._known: dict[str, set[str]] = {}
        self._after = 0
        self._lock = threading.Lock()

    def is_notification(self, who: str, said: str) -> bool:
        with self._lock:
            if said in self._known.get(who, ()):
                return True
            self._refresh()
            return said in self._known.get(who, ())

    def _refresh(self) -> None:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, participant_id, kind, order_id, text, payload FROM notification "
                    "WHERE id > :after ORDER BY id"
                ),
                {"after": self._after},
            ).all()
        for row in rows:
            texts = {
                shape[1]
                for platform in ("telegram", "matrix")
                for shapes in ways(row, platform)
                for shape in shapes
            }
            self._known.setdefault(row.participant_id, set()).update(texts)
            self._after = max(self._after, row.id)


class Participant:
    """A person of the network at a chat account; subclasses bring the platform."""

    platform = ""

    def __init__(self, who: str, outbox: Outbox, log: list[Sent]):
        self.who = who
        self.outbox = outbox
        self.log = log
        self.arrivals: list[Arrival] = []
        self._arrived = asyncio.Event()
        self._next_at = 0.0

    @property
    def answer_room(self) -> str:
        return DIRECT

    def arrived(self, arrivals: list[Arrival]) -> None:
        if arrivals:
            self.arrivals.extend(arrivals)
            self._arrived.set()

    async def command(self, words: str) -> Sent:
        """Types `words` and waits for the bot's answer (REPLY_TIMEOUT_S at most)."""
        pause = self._next_at - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        self._next_at = time.monotonic() + GAP_S
        sent = Sent(next(_numbers), self.who, self.platform, words)
        self.log.append(sent)
        seen = len(self.arrivals)
        sent.at = time.time()
        await self._type(words)
        answer = await self._answer_after(sent.at, seen)
        if answer is not None:
            sent.answered_at, sent.answer = answer.at, answer.text
        return sent

    async def _answer_after(self, at: float, seen: int) -> Arrival | None:
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while True:
            self._arrived.clear()
            for arrival in self.arrivals[seen:]:
                seen += 1
                if arrival.room != self.answer_room or arrival.at < at - CLOCK_SLACK_S:
                    continue
                if not await asyncio.to_thread(self.outbox.is_notification, self.who, arrival.text):
                    return arrival
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass

    async def _type(self, words: str) -> None:
        raise NotImplementedError


class TelegramParticipant(Participant):
    platform = "telegram"

    def __init__(self, who: str, user: EmulatedUser, outbox: Outbox, log: list[Sent]):
        super().__init__(who, outbox, log)
        self.user = user

    async def _type(self, words: str) -> None:
        await asyncio.to_thread(self.user.says, words)

    def unread(self) -> list[Arrival]:
        """Blocking: the bot's messages to this chat since the last look."""
        return [
            Arrival(message["time"] / 1000, shown_text(message), DIRECT)
            for message in self.user.unread()
        ]


async def read_telegram(people: list[TelegramParticipant], stop: asyncio.Event, every: float):
    """One loop looks at every Telegram chat in turn (the emulator keeps unread messages)."""

    def look() -> list[list[Arrival]]:
        return [person.unread() for person in people]

    while True:
        for person, arrivals in zip(people, await asyncio.to_thread(look), strict=True):
            person.arrived(arrivals)
        if stop.is_set():
            return
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass


class MatrixParticipant(Participant):
    platform = "matrix"

    def __init__(self, who: str, person: MatrixPerson, outbox: Outbox, log: list[Sent]):
        super().__init__(who, outbox, log)
        self.person = person
        self.client = person.client
        self.bot = person.bot
        self.since: str | None = None

    @property
    def answer_room(self) -> str:
        return self.person.dm

    async def open(self, timeout: float = 60) -> None:
        """A direct room with the bot, once the bot has joined it."""
        await self.person.open_dm()
        deadline = time.monotonic() + timeout
        while await self.person.membership(self.person.dm, self.bot) != "join":
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not join {self.who}'s room in {timeout}s")
            await asyncio.sleep(0.2)

    async def _type(self, words: str) -> None:
        await self.person.say(self.person.dm, words)

    async def listen(self, stop: asyncio.Event) -> None:
        """Long-polls Synapse until `stop`: joins whatever the bot invites them to, and keeps
        every message the bot posts in their rooms."""
        while not stop.is_set():
            answer = await self.client.sync(timeout=5000, since=self.since)
            if not isinstance(answer, SyncResponse):
                await asyncio.sleep(1)
                continue
            self.since = answer.next_batch
            for room_id in answer.rooms.invite:
                await self.client.join(room_id)
            arrivals = [
                arrival
                for room_id, room in answer.rooms.join.items()
                for arrival in self._from_bot(room_id, (e.source for e in room.timeline.events))
            ]
            self.arrived(arrivals)

    def _from_bot(self, room_id: str, events) -> list[Arrival]:
        return [
            Arrival(event["origin_server_ts"] / 1000, event["content"].get("body", ""), room_id)
            for event in events
            if event.get("type") == "m.room.message" and event.get("sender") == self.bot
        ]

    async def everything(self) -> list[Arrival]:
        """Every message the bot ever posted in the rooms they are in, from the rooms' history
        (a sync may leave out part of a busy room's timeline), after joining what waits."""
        answer = await self.client.sync(timeout=0, since=self.since)
        if isinstance(answer, SyncResponse):
            self.since = answer.next_batch
            for room_id in answer.rooms.invite:
                await self.client.join(room_id)
        rooms = await self.client.joined_rooms()
        if not isinstance(rooms, JoinedRoomsResponse):
            raise RuntimeError(f"{self.who}: joined rooms unreadable: {rooms}")
        found: list[Arrival] = []
        for room_id in rooms.rooms:
            start = None
            while True:
                page = await self.client.room_messages(room_id, start=start, limit=500)
                if not isinstance(page, RoomMessagesResponse):
                    raise RuntimeError(f"{self.who}: history of {room_id} unreadable: {page}")
                found += self._from_bot(room_id, (event.source for event in page.chunk))
                if not page.chunk or not page.end or page.end == start:
                    break
                start = page.end
        return found


@dataclass
class People:
    telegram: list[TelegramParticipant] = field(default_factory=list)
    matrix: list[MatrixParticipant] = field(default_factory=list)

    def by_name(self) -> dict[str, Participant]:
        return {person.who: person for person in [*self.telegram, *self.matrix]}
