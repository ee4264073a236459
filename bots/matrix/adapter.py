"""The Matrix adapter: follows the bot's sync stream and answers people in their rooms.

Where the stream stands (`next_batch`) is kept in the PlatformState table after each batch is
answered, so a restart carries on where it stopped and old messages are not answered again;
a crash before the store replays the batch, and the conversation deduplicates commands by
event id. The very first start answers nothing that was said before it: it only takes the
stream's position (and the invites waiting).

Several processes may share the bot's account (MATRIX_SHARD=i/N): each follows the whole
stream but answers only its shard's rooms and invites, and keeps its own position.

An image (m.image) is a photo that proves a stage (bots/conversation/photos.py): downloaded
from the homeserver, its caption the command — the body, when it is not just the file's name.

End-to-end encrypted rooms (with MatrixSettings.store): the adapter reads and writes them on the
olm device of its slot (bots/matrix/devices.py). nio keeps rooms (members, encryption) in memory
only, so every start begins with one full sync to learn them; the stored position is kept.
A message the bot cannot decrypt (its room key has not reached the bot's device) is answered
once per room with what to do, its key is asked of the sender's devices, and the message is
answered when the key comes (kept in this process until then: a restart forgets it, and the
person is asked to send it again). Without a store, an encrypted room is told SCIS cannot read it.

In an order's room, anyone who joins or is invited without being one of the order's readers
(let in by someone else, or by a room made before only the bot could invite) is removed at once.
"""

from __future__ import annotations

import asyncio
import logging
import re

from nio import (
    AsyncClient,
    DownloadError,
    EncryptionError,
    MegolmEvent,
    RoomEncryptedImage,
    RoomMemberEvent,
    RoomMessageImage,
    RoomMessagesResponse,
    RoomMessageText,
    SyncResponse,
)
from nio.crypto.attachments import decrypt_attachment
from sqlalchemy.engine import Engine

from bots.conversation.declarations import BY_NAME
from bots.conversation.messages import Conversation, Incoming, Photo, Reply
from bots.matrix.connection import MatrixLoginFailed, connect
from bots.matrix.devices import ask_for_key, keep_keys, take_serve_slot
from bots.matrix.invites import answer_invite
from bots.matrix.memory import NEXT_BATCH, Memory, sync_position_key
from bots.matrix.order_rooms import PRESENT, OrderRooms, order_of, readers
from bots.matrix.posting import LIMIT_EXCEEDED, patiently, post, post_reply, show_working
from bots.matrix.rendering import text_content
from bots.matrix.settings import ALL_ROOMS, MatrixSettings, Shard
from core.service.evidence import MAX_PICTURE_BYTES

log = logging.getLogger(__name__)

__all__ = ["NEXT_BATCH", "MatrixAdapter", "run_matrix"]

LONG_POLL_MS = 30_000
MAX_BACKOFF_S = 60
GAP_LIMIT = 1_000  # events fetched to fill one room's gap after a long absence
ENCRYPTED = (
    "Messages in this room are end-to-end encrypted, and SCIS cannot read them. "
    "Please talk to me in a room without encryption."
)
UNREADABLE = (
    "I could not read your last message: its key has not reached me yet. I asked your device "
    "for it; if nothing happens in a minute, please send it again."
)
WAITING_PER_ROOM = 50  # unreadable messages kept for their keys, the newest
BROKEN = "Sorry, that could not be handled. Please try again in a moment."
# A body that only names the file (what clients send for an image without a caption).
FILE_NAME = re.compile(r"^[^\s/]+\.(jpe?g|png|gif|webp|heic|heif|bmp|tiff?)$", re.IGNORECASE)


def sync_filter(timeline_limit: int) -> dict:
    return {
        "presence": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
        "room": {
            "timeline": {"limit": timeline_limit},
            "state": {"lazy_load_members": True},  # the senders' names, not whole member lists
            "ephemeral": {"not_types": ["*"]},
            "account_data": {"not_types": ["*"]},
        },
    }


class MatrixAdapter:
    def __init__(
        self,
        client: AsyncClient,
        conversation: Conversation,
        engine: Engine,
        timeline_limit: int = 100,
        shard: Shard = ALL_ROOMS,
    ):
        self.client = client
        self.conversation = conversation
        self.engine = engine
        self.memory = Memory(engine)
        self.timeline_limit = timeline_limit
        self.shard = shard
        self.position_key = sync_position_key(shard)
        self.since: str | None = None
        self._orders: dict[str, int] = {}  # order rooms seen: a room never changes its order
        self._order_rooms = OrderRooms(client, self.memory)
        # Messages waiting for their room key, by room and event id; and the rooms told so.
        self._unreadable: dict[str, dict[str, MegolmEvent]] = {}
        self._told_unreadable: set[str] = set()

    async def start(self) -> None:
        """Take up the stored position, or on the first start the present one. With E2E, a
        full sync first in any case: it tells nio the rooms, their members and encryption."""
        stored = await asyncio.to_thread(self.memory.get, self.position_key)
        if stored is None or self.client.olm is not None:
            present = await self._sync(timeout_ms=0, timeline_limit=1)
            await keep_keys(self.client)
            if stored is None:
                await self._answer_invites(present)
                await self._remember(present.next_batch)
                return
        self.since = stored

    async def answer(self, batch: SyncResponse) -> None:
        """Invites, the messages whose keys came, then every room's messages (this shard's);
        then the position is remembered."""
        await keep_keys(self.client)
        await self._answer_invites(batch)
        if batch.to_device_events:  # room keys come that way
            await self._read_late()
        rooms = [
            self._answer_room(room_id, await self._timeline(room_id, info.timeline))
            for room_id, info in batch.rooms.join.items()
            if self.shard.owns(room_id)
        ]
        await asyncio.gather(*rooms)  # rooms side by side, each in its own order
        await self._remember(batch.next_batch)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set. Only the long poll is cut short; a batch in hand is answered
        and remembered first."""
        if self.since is None:
            await self.start()
        backoff = 1
        while not stop.is_set():
            polling = asyncio.ensure_future(self._sync(LONG_POLL_MS, self.timeline_limit))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not polling.done():
                polling.cancel()
                await asyncio.gather(polling, return_exceptions=True)
                break
            try:
                batch = polling.result()
            except SyncRefused as refused:
                wait = refused.retry_after or backoff
                log.warning("Matrix sync refused (%s); again in %.1f s", refused, wait)
                await _sleep_unless(stop, wait)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = 1
            await self.answer(batch)

    async def _sync(self, timeout_ms: int, timeline_limit: int) -> SyncResponse:
        answer = await self.client.sync(
            timeout=timeout_ms, sync_filter=sync_filter(timeline_limit), since=self.since
        )
        if isinstance(answer, SyncResponse):
            return answer
        if answer.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
            raise MatrixLoginFailed(f"the homeserver no longer accepts the bot's login: {answer}")
        wait = None
        if answer.status_code == LIMIT_EXCEEDED and answer.retry_after_ms:
            wait = answer.retry_after_ms / 1000
        raise SyncRefused(str(answer), wait)

    async def _answer_invites(self, batch: SyncResponse) -> None:
        for room_id, info in batch.rooms.invite.items():
            if self.shard.owns(room_id):
                await answer_invite(self.client, self.engine, self.memory, room_id, info)

    async def _remember(self, next_batch: str) -> None:
        await asyncio.to_thread(self.memory.put, self.position_key, next_batch)
        self.since = next_batch

    async def _timeline(self, room_id: str, timeline) -> list:
        """The batch's events of a room since the bot joined it: the ones a limited timeline
        left out are fetched back to where the previous batch ended. What was said before the
        bot came in is not its to answer (a room it was just invited to may hold years)."""
        events = list(timeline.events)
        if timeline.limited and self.since and timeline.prev_batch:
            missing: list = []
            token = timeline.prev_batch
            while token and len(missing) < GAP_LIMIT and not self._joins_in(missing):
                answer = await self.client.room_messages(
                    room_id, start=token, end=self.since, limit=100
                )
                if not isinstance(answer, RoomMessagesResponse) or not answer.chunk:
                    break
                missing.extend(answer.chunk)
                token = answer.end if answer.end != token else None
            events = list(reversed(missing)) + events
        joins = [index for index, event in enumerate(events) if self._joins_in([event])]
        return events[joins[-1] + 1 :] if joins else events

    def _joins_in(self, events: list) -> bool:
        return any(
            isinstance(event, RoomMemberEvent)
            and event.state_key == self.client.user_id
            and event.membership == "join"
            and event.prev_membership != "join"  # a new name is not a new arrival
            for event in events
        )

    async def _answer_room(self, room_id: str, events: list) -> None:
        told_encrypted = False
        for event in events:
            if getattr(event, "sender", None) == self.client.user_id:
                continue
            if isinstance(event, MegolmEvent) and self.client.olm is not None:
                await self._try(room_id, event, self._cannot_read(room_id, event))
            elif isinstance(event, MegolmEvent) and not told_encrypted:
                told_encrypted = True
                notice = patiently(lambda: post(self.client, room_id, text_content(ENCRYPTED)))
                await self._try(room_id, event, notice)
            elif isinstance(event, RoomMessageText) and not _is_edit(event):
                await self._try(room_id, event, self._answer(room_id, event))
            elif isinstance(event, RoomMessageImage | RoomEncryptedImage) and not _is_edit(event):
                await self._try(room_id, event, self._answer_image(room_id, event))
            elif isinstance(event, RoomMemberEvent) and event.membership in PRESENT:
                await self._try(room_id, event, self._admit(room_id, event.state_key))

    async def _cannot_read(self, room_id: str, event: MegolmEvent) -> None:
        """Its room key has not come: kept until it does, asked for, and the room told once."""
        waiting = self._unreadable.setdefault(room_id, {})
        asked = any(other.session_id == event.session_id for other in waiting.values())
        event.room_id = room_id  # nio decrypts by it (a gap's events may come without it)
        waiting[event.event_id] = event
        while len(waiting) > WAITING_PER_ROOM:
            del waiting[next(iter(waiting))]
        if not asked:
            await ask_for_key(self.client, event)
        if room_id not in self._told_unreadable:
            self._told_unreadable.add(room_id)
            await patiently(lambda: post(self.client, room_id, text_content(UNREADABLE)))

    async def _read_late(self) -> None:
        """The waiting messages whose keys have come, answered in the order they were sent; a
        room with none left waiting may be told again next time."""
        for room_id, waiting in list(self._unreadable.items()):
            readable = []
            for event_id, event in list(waiting.items()):
                try:
                    readable.append(self.client.decrypt_event(event))
                except EncryptionError:
                    continue
                del waiting[event_id]
            if not waiting:
                del self._unreadable[room_id]
                self._told_unreadable.discard(room_id)
            if readable:
                await self._answer_room(room_id, readable)

    async def _admit(self, room_id: str, user: str) -> None:
        """Someone joined or was invited: in an order's room they stay only if they may read
        the order (the bot itself aside)."""
        order_id = await self._order_of(room_id)
        if order_id is None or user == self.client.user_id:
            return
        await self._order_rooms.secure(room_id)  # a room made before the lock-down gets it now
        allowed = await asyncio.to_thread(readers, self.engine, order_id)
        if allowed is not None and user not in allowed.now:
            await self._order_rooms.remove(room_id, user, allowed.reason(order_id, user))

    async def _answer_image(
        self, room_id: str, event: RoomMessageImage | RoomEncryptedImage
    ) -> None:
        """An image: a photo proving a stage, its caption the command (none: SCIS asks). In an
        encrypted room the media is encrypted too, its key in the event."""
        content = event.source.get("content", {})
        info = content.get("info") or {}
        size = info.get("size") if isinstance(info.get("size"), int) else None
        data = b""
        if size is None or size <= MAX_PICTURE_BYTES:
            answer = await self.client.download(mxc=event.url)
            if isinstance(answer, DownloadError):
                log.warning("could not download %s: %s", event.url, answer)
                await post_reply(self.client, room_id, Reply(BROKEN))
                return
            data = answer.body
            if isinstance(event, RoomEncryptedImage):
                data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
        content_type = info.get("mimetype") or "image/jpeg"
        photo = Photo(data, str(content_type), event.url, size)
        await self._answer(room_id, event, caption(content), photo)

    async def _answer(
        self, room_id: str, event, body: str | None = None, photo: Photo | None = None
    ) -> None:
        room = self.client.rooms.get(room_id)
        text = _without_reply_fallback(event.body if body is None else body)
        order_id = await self._order_of(room_id)
        if order_id is not None:  # the bot answers there: a room made before the lock-down
            await self._order_rooms.secure(room_id)  # gets it first
        talk = order_id is not None and photo is None and not text.lstrip().startswith("/")
        if talk:  # in an order's room, plain words are the negotiation thread
            text = f"/say {order_id} {text}"
        incoming = Incoming(
            platform="matrix",
            address=event.sender,
            message_id=event.event_id,
            text=text,
            room=room_id,
            display_name=room.user_name(event.sender) if room is not None else None,
            photo=photo,
        )
        try:
            replies = await asyncio.to_thread(self.conversation.answer, incoming)
        except Exception:  # the conversation promises not to raise; if it does, say so briefly
            log.exception("the conversation failed on %s", event.event_id)
            replies = [Reply(BROKEN)]
        if talk:
            # The words stand in the room already; "passing it on" after each of them would
            # only be noise there. A refusal is still said.
            passed = BY_NAME["say"].then.format(order_id=order_id)
            replies = [reply for reply in replies if reply.text != passed]
        for reply in replies:
            await post_reply(self.client, room_id, reply)
        if any(reply.working for reply in replies):
            await show_working(self.client, room_id)

    async def _order_of(self, room_id: str) -> int | None:
        if room_id not in self._orders:
            order_id = await asyncio.to_thread(order_of, self.memory, room_id)
            if order_id is None:
                return None
            self._orders[room_id] = order_id
        return self._orders[room_id]

    async def _try(self, room_id: str, event, work) -> None:
        """One event's answer failing must not hold up the others, nor the stream."""
        try:
            await work
        except Exception:
            log.exception("could not answer %s in %s", event.event_id, room_id)


class SyncRefused(Exception):  # noqa: N818
    def __init__(self, message: str, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after


def caption(content: dict) -> str:
    """An image's caption: since Matrix 1.10 the body is one when a filename is set apart from
    it; before, the body is a caption unless it only names the file."""
    body = str(content.get("body") or "").strip()
    filename = content.get("filename")
    if filename:
        return "" if body == filename else body
    return "" if FILE_NAME.match(body) else body


def _is_edit(event) -> bool:
    """An edited command is not a new one."""
    relation = event.source.get("content", {}).get("m.relates_to") or {}
    return relation.get("rel_type") == "m.replace"


def _without_reply_fallback(body: str) -> str:
    """A reply quotes what it answers ("> <@a:b> …" lines, then a blank line); the command is
    what follows."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n")


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def run_matrix(
    conversation: Conversation,
    engine: Engine,
    settings: MatrixSettings,
    stop_event: asyncio.Event,
) -> None:
    """What `scis serve` runs for Matrix: log in, answer until `stop_event` is set, log out of
    nothing (a password login's device stays, so its position in the stream stays valid)."""
    slot = take_serve_slot(settings.store, settings.shard) if settings.e2e else None
    try:
        client = await connect(settings, patient=True, slot=slot)
        if not settings.shard.whole:
            log.info("answering Matrix shard %s of the bot's rooms", settings.shard)
        try:
            adapter = MatrixAdapter(client, conversation, engine, shard=settings.shard)
            await adapter.run(stop_event)  # run() starts it
        finally:
            await client.close()
    finally:
        if slot is not None:
            slot.release()
