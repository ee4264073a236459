"""People on Matrix for the tests: real matrix-nio clients logged in to the test Synapse, the
stand-in for the conversation layer that the adapter talks to, and the chair network with the
test's own chat accounts for the order scenarios."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import yaml
from chair_world import NETWORK
from nio import AsyncClient, RoomMessagesResponse, SyncResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session
from synapse_server import Person, SynapseServer

from bots.conversation.messages import Button, Incoming, Picture, Reply
from bots.matrix.adapter import NEXT_BATCH
from bots.matrix.memory import Memory
from core.store.tables import ChatIdentity, ParticipantRow

# A 3×2 PNG, small and real: the adapter reads its size from the IHDR chunk.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000030000000208020000001216f14d000000104944415478"
    "9c63f8cfc000410c70160041d205fb87f0b9480000000049454e44ae426082"
)


class StandInConversation:
    """A test stand-in for the conversation layer (bots/conversation): echoes what it is told
    with two buttons, and answers "/picture" with a picture. Keeps every Incoming it saw."""

    def __init__(self):
        self.seen: list[Incoming] = []
        self._lock = threading.Lock()

    def answer(self, incoming: Incoming) -> list[Reply]:
        with self._lock:
            self.seen.append(incoming)
        if incoming.text == "/picture":
            return [
                Reply("Here are the stages of order 12."),
                Reply("", picture=Picture(PNG, "order-12.png", "Stages of order 12")),
            ]
        return [
            Reply(
                f"echo: {incoming.text}",
                buttons=((Button("Choose plan 1", "/choose 12 1"), Button("/help", "/help")),),
            )
        ]

    def texts(self) -> list[str]:
        with self._lock:
            return [incoming.text for incoming in self.seen]


def register_on_matrix(engine: Engine, participant_id: str, user_id: str) -> None:
    """What /register or a network file's contacts leave behind: a participant and its account."""
    with Session(engine) as session, session.begin():
        session.add(ParticipantRow(id=participant_id, name=participant_id, roles=["buyer"]))
        session.flush()
        session.add(ChatIdentity(platform="matrix", address=user_id, participant_id=participant_id))


class Someone:
    """A person with their own Matrix client (in the running event loop)."""

    def __init__(self, synapse: SynapseServer, person: Person):
        self.person = person
        self.user_id = person.user_id
        self.client = AsyncClient(synapse.url, person.user_id)
        self.client.restore_login(person.user_id, person.device_id, person.access_token)
        self.since: str | None = None

    async def close(self) -> None:
        await self.client.close()

    async def sync(self) -> SyncResponse:
        answer = await self.client.sync(timeout=0, since=self.since)
        assert isinstance(answer, SyncResponse), answer
        self.since = answer.next_batch
        return answer

    async def direct_room_with(self, user_id: str) -> str:
        answer = await self.client.room_create(is_direct=True, invite=[user_id])
        assert hasattr(answer, "room_id"), answer
        return answer.room_id

    async def say(self, room_id: str, text: str) -> str:
        answer = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text}
        )
        assert hasattr(answer, "event_id"), answer
        return answer.event_id

    async def messages(self, room_id: str) -> list[dict]:
        """The room's m.room.message events, oldest first, as their raw JSON."""
        answer = await self.client.room_messages(room_id, limit=100)
        assert isinstance(answer, RoomMessagesResponse), answer
        found = [e.source for e in answer.chunk if e.source.get("type") == "m.room.message"]
        return list(reversed(found))

    async def membership(self, room_id: str, user_id: str) -> str | None:
        answer = await self.client.room_get_state_event(room_id, "m.room.member", user_id)
        return getattr(answer, "content", {}).get("membership")

    async def accept_invites(self, timeout: float = 10) -> list[str]:
        """Joins every room they are invited to, waiting for at least one invite."""
        deadline = time.monotonic() + timeout
        while True:
            invited = list((await self.sync()).rooms.invite)
            if invited:
                for room_id in invited:
                    assert hasattr(await self.client.join(room_id), "room_id")
                return invited
            assert time.monotonic() < deadline, f"{self.user_id} got no invite in {timeout}s"
            await asyncio.sleep(0.1)


async def has(awaitable, expected) -> bool:
    """For `eventually`: whether what `awaitable` comes to is `expected`."""
    return await awaitable == expected


async def eventually(check, timeout: float = 10, every: float = 0.1):
    """Awaits `check()` until it returns something truthy; that is the result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {timeout}s: {check.__qualname__}")
        await asyncio.sleep(every)


class MatrixPerson(Someone):
    """Someone with a direct room with the bot, who reads what the bot writes there."""

    def __init__(self, synapse, account, bot: str):
        super().__init__(synapse, account)
        self.bot = bot
        self.dm: str | None = None

    async def open_dm(self) -> None:
        self.dm = await self.direct_room_with(self.bot)

    async def from_bot(self, room: str | None = None) -> list[dict]:
        messages = await self.messages(room or self.dm)
        return [m["content"] for m in messages if m["sender"] == self.bot]

    async def told(self, needle: str, room: str | None = None, count: int = 1) -> list[dict]:
        """Waits until the bot has written `needle` (a substring) `count` times in the room."""

        async def found():
            hits = [c for c in await self.from_bot(room) if needle in c.get("body", "")]
            return hits if len(hits) >= count else None

        found.__qualname__ = f"{self.user_id} told {needle!r}"
        return await eventually(found, timeout=20)

    async def ask(self, text: str, needle: str, room: str | None = None) -> dict:
        """Types `text`; the bot's answer containing `needle` (a new one, not an older one)."""
        before = sum(needle in c.get("body", "") for c in await self.from_bot(room))
        await self.say(room or self.dm, text)
        return (await self.told(needle, room, count=before + 1))[-1]


async def until(check, timeout: float = 20):
    """`eventually` for a check of the database (run in a thread: it blocks)."""

    async def checked():
        return await asyncio.to_thread(check)

    checked.__qualname__ = getattr(check, "__qualname__", "check")
    return await eventually(checked, timeout=timeout, every=0.05)


def chair_network(
    directory: Path, matrix: dict[str, str], telegram: dict[str, str | int]
) -> list[Path]:
    """The chair network's files, copied with chat accounts the test can reach: the people in
    `matrix` by their Matrix test account only, those in `telegram` by their Telegram chat only
    (a Telegram contact would win over Matrix), nobody else by an example.org Matrix id. Zed, a
    buyer outside every order, is added when `matrix` has an account for him."""
    paths = []
    for source in NETWORK:
        document = yaml.safe_load(source.read_text())
        for participant in document.get("participants", []):
            who = participant["id"]
            if who in matrix:
                participant["contacts"] = {"matrix": matrix[who]}
            elif who in telegram:
                participant["contacts"] = {"telegram": str(telegram[who])}
            else:
                participant.get("contacts", {}).pop("matrix", None)
        if source.name == "chair.yaml" and "zed" in matrix:
            document["participants"].append(
                {
                    "id": "zed",
                    "name": "Zed Outsider",
                    "roles": ["buyer"],
                    "contacts": {"matrix": matrix["zed"]},
                }
            )
        path = directory / source.name
        path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        paths.append(path)
    return paths


def add_buyers(paths: list[Path], buyers: list[tuple[str, dict[str, str]]]) -> None:
    """Buyers of the caller's own, `(id, contacts)`, added to the chair.yaml of `paths` (as
    chair_network writes them) where Dana lives; an id the network has already is left as it
    is."""
    chair = next(path for path in paths if path.name == "chair.yaml")
    document = yaml.safe_load(chair.read_text())
    known = {p["id"] for path in paths for p in yaml.safe_load(path.read_text())["participants"]}
    dana = next(p for p in document["participants"] if p["id"] == "dana")
    for who, contacts in buyers:
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


async def in_rooms_with_the_bot(engine: Engine, people, bot_user: str) -> None:
    """Once the adapter listens (it has kept its place in the stream): each of `people` opens a
    direct room with the bot, and the bot joins every one."""
    await until(lambda: Memory(engine).get(NEXT_BATCH))
    await asyncio.gather(*(person.open_dm() for person in people))
    for person in people:
        await eventually(lambda p=person: has(p.membership(p.dm, bot_user), "join"))


async def order_two_chairs(dana: MatrixPerson) -> int:
    """Dana orders two chairs and chooses plan 1, by command; the order's number."""
    await dana.ask("/order chair 2", "Working on it")
    plans = (await dana.told("/choose "))[-1]["body"]
    order = int(re.search(r"/choose (\d+) 1", plans).group(1))
    await dana.ask(f"/choose {order} 1", "every party gets its part")
    return order
