"""People on Matrix for the tests: real matrix-nio clients logged in to the test Synapse, the
stand-in for the conversation layer that the adapter talks to, and the chair network with the
test's own chat accounts for the order scenarios."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from chair_world import NETWORK
from nio import (
    AsyncClient,
    AsyncClientConfig,
    DownloadError,
    RoomMessagesResponse,
    SyncResponse,
    ToDeviceMessage,
    ToDeviceResponse,
)
from nio.crypto.attachments import decrypt_attachment
from sqlalchemy.engine import Engine
from sqlmodel import Session
from synapse_server import Person, SynapseServer

from bots.bootstrap import Settings, bootstrap
from bots.conversation.messages import Button, Incoming, Picture, Reply
from bots.conversation.rate_limit import RateLimiter
from bots.matrix.adapter import NEXT_BATCH
from bots.matrix.devices import SerialStore, keep_keys
from bots.matrix.memory import Memory
from bots.matrix.sender import MatrixSender
from core.service.commands import Disrupt
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

    async def picture(self, content: dict) -> bytes:
        """An m.image the bot posted, downloaded and (when encrypted) decrypted."""
        media = content.get("file")
        answer = await self.client.download(mxc=media["url"] if media else content["url"])
        assert not isinstance(answer, DownloadError), answer
        if media is None:
            return answer.body
        return decrypt_attachment(
            answer.body, media["key"]["k"], media["hashes"]["sha256"], media["iv"]
        )

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


# Closed for the season in the chair scenarios, so that plan 1 is Ana's chair with Fern's legs
# and Gus's backs: every party has a Matrix account the test plays.
CLOSED = ("hal-shop", "ivy-studio", "gus-seats")


def chair_runtime(tmp_path: Path, people: dict, settings, sqlite_template: Path):
    """SCIS as `scis serve` puts it together, on a copy of the migrated template, with the
    chair network whose people are `people` (their Matrix accounts), the MatrixSender among
    its senders and CLOSED closed: (runtime, its services, the sender, the conversation)."""
    networks = chair_network(tmp_path, {name: p.user_id for name, p in people.items()}, {})
    database = tmp_path / "scis.db"
    shutil.copyfile(sqlite_template, database)
    senders: dict = {}
    runtime = bootstrap(Settings(database_url=f"sqlite:///{database}"), senders=senders)
    runtime.load_networks(networks)
    services = runtime.services
    # The dict the workers hold: the Matrix sender joins it, as `scis serve` adds its platforms.
    senders["matrix"] = sender = MatrixSender(settings, services.engine)
    for resource in CLOSED:
        services.handle(Disrupt("rita", resource, "closed for the season"))
    conversation = runtime.conversation(limiter=RateLimiter(per_minute=60_000, burst=1_000))
    return runtime, services, sender, conversation


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


@dataclass(frozen=True)
class KeptKey:
    session_id: str
    messages: list  # nio's to-device messages that share it, by device


class EncryptedPerson(MatrixPerson):
    """A person whose client encrypts, as Element does: an olm device with its own store in
    `store` (a directory of the test's), direct rooms encrypted, and keys kept up after every
    sync. What they read of a room is decrypted."""

    def __init__(self, synapse, account, bot: str, store: Path):
        Someone.__init__(self, synapse, account)
        self.bot, self.dm = bot, None
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            synapse.url,
            account.user_id,
            device_id=account.device_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store=SerialStore),
        )
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.to_device: list = []  # every to-device event their device received
        self.invites: set[str] = set()  # rooms they are invited to, not joined yet

    async def sync(self) -> SyncResponse:
        answer = await super().sync()
        self.to_device.extend(answer.to_device_events)
        self.invites.update(answer.rooms.invite)
        await keep_keys(self.client)
        return answer

    async def accept_invites(self, timeout: float = 10) -> list[str]:
        """As Someone's, with the invites any sync of theirs has seen (they sync often)."""
        deadline = time.monotonic() + timeout
        while not self.invites:
            assert time.monotonic() < deadline, f"{self.user_id} got no invite in {timeout}s"
            await asyncio.sleep(0.1)
            await self.sync()
        invited = list(self.invites)
        for room_id in invited:
            assert hasattr(await self.client.join(room_id), "room_id")
        self.invites.clear()
        return invited

    async def direct_room_with(self, user_id: str) -> str:
        await self.sync()  # as a client does on logging in: its device's keys uploaded
        answer = await self.client.room_create(
            is_direct=True,
            invite=[user_id],
            initial_state=[ENCRYPTED_ROOM],
        )
        assert hasattr(answer, "room_id"), answer
        return answer.room_id

    async def say(self, room_id: str, text: str) -> str:
        await self.sync()  # the room, its members and their devices as they are now
        answer = await self.client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": text},
            ignore_unverified_devices=True,
        )
        assert hasattr(answer, "event_id"), answer
        return answer.event_id

    async def messages(self, room_id: str) -> list[dict]:
        await self.sync()  # the room keys that came since
        return await super().messages(room_id)

    async def send_image(self, room_id: str, png: bytes, caption: str) -> str:
        """A picture as Element sends one to an encrypted room: the media encrypted, its key in
        the event's `file`."""
        await self.sync()
        answer, keys = await self.client.upload(
            lambda _limited, _timeouts: io.BytesIO(png),
            content_type="image/png",
            filename="photo.png",
            filesize=len(png),
            encrypt=True,
        )
        assert hasattr(answer, "content_uri"), answer
        content = {
            "msgtype": "m.image",
            "body": caption,
            "filename": "photo.png",
            "info": {"mimetype": "image/png", "size": len(png)},
            "file": {"url": answer.content_uri, "mimetype": "image/png", **keys},
        }
        sent = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert hasattr(sent, "event_id"), sent
        return sent.event_id

    async def say_keeping_the_key(self, room_id: str, text: str) -> tuple[str, KeptKey]:
        """Says `text` with a new room key that goes to nobody yet (as when the key's to-device
        message is late); the event id, and the key for `hand_over_key`."""
        await self.sync()
        client = self.client
        room = client.rooms[room_id]
        if not room.members_synced:
            await client.joined_members(room_id)
        if client.should_query_keys:
            await client.keys_query()
        missing = client.get_missing_sessions(room_id)
        if missing:
            await client.keys_claim(missing)
        client.olm.create_outbound_group_session(room_id)
        key = list(
            client.olm.share_group_session_parallel(
                room_id, list(room.users), ignore_unverified_devices=True
            )
        )
        session = client.olm.outbound_group_sessions[room_id]
        session.shared = True  # so that nio sends it no more
        return await self.say_again_keeping_the_key(room_id, text), KeptKey(session.id, key)

    async def say_again_keeping_the_key(self, room_id: str, text: str) -> str:
        """A message with the key `say_keeping_the_key` kept back (no sync first: a change it
        showed would make nio share a new key)."""
        answer = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text}
        )
        assert hasattr(answer, "event_id"), answer
        return answer.event_id

    async def hand_over_key(self, key: KeptKey) -> None:
        for _devices, to_device in key.messages:
            for user_id, by_device in to_device["messages"].items():
                for device_id, content in by_device.items():
                    message = ToDeviceMessage("m.room.encrypted", user_id, device_id, content)
                    answer = await self.client.to_device(message)
                    assert isinstance(answer, ToDeviceResponse), answer


ENCRYPTED_ROOM = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


async def encryption_of(person: Someone, room_id: str) -> str | None:
    """The room's encryption algorithm, read from its state; None when it is not encrypted."""
    answer = await person.client.room_get_state_event(room_id, "m.room.encryption")
    return getattr(answer, "content", {}).get("algorithm")
