"""`MatrixSender`: how the delivery workers put an outbox message in front of a Matrix user.

The workers are synchronous and matrix-nio is not, so the sender keeps an event loop of its
own in a thread and hands it each message; a worker's many threads may send at once. A
message goes to the person's direct room, with its buttons as commands to type. A message
about an order that only its parties get (a frame, the plans, an alert to the buyer) also makes
sure the order's room exists and the person is invited to it. Any message about an order also
keeps its room to the order's readers: whoever is no longer one (a party a re-plan released) is
removed, with a reason. A relayed `/say` (kind "said") goes to the order's room instead when
the person is in it — once for all of the order's parties there, attributed to who said it, and
not at all when it was typed in that room.

With end-to-end encryption (MatrixSettings.store) each MatrixSender is a device of its own: it
takes the first free `sender-K` slot of the store (bots/matrix/devices.py) for the life of the
process, so the workers' processes never share olm state. nio must know a room, its members and
their devices before it can encrypt for them, and the sender has no sync loop: it catches up
with the homeserver (one short sync, shared by the sends waiting for it) before each message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable

from aiohttp import ClientError
from nio import AsyncClient, LocalProtocolError, RoomGetEventResponse, SyncResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bots.conversation.messages import outbox_buttons
from bots.matrix import order_rooms
from bots.matrix.connection import connect
from bots.matrix.devices import Slot, keep_keys, take_sender_slot
from bots.matrix.direct_rooms import REACHABLE, DirectRooms, membership
from bots.matrix.memory import DeferredMemory
from bots.matrix.order_rooms import OrderRooms
from bots.matrix.posting import MatrixUnavailable, post, refusal, upload
from bots.matrix.rendering import photo_content, text_content
from bots.matrix.settings import MatrixSettings
from core.service import evidence
from workers.senders import Outgoing, PermanentFailure

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 90
# What the sender needs of a sync: rooms, their state and members (nio fetches whole member
# lists before encrypting), and the to-device messages; no timeline to speak of.
CATCH_UP_FILTER = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {
        "timeline": {"limit": 1},
        "state": {"lazy_load_members": True},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
}
# The kinds of order messages that only go to the order's parties (and coordinators), so their
# recipient belongs in the order's room. Not among them: "released" (no longer a party),
# "refusal" and "delivery_failed" (they may go to someone who is not a party), and "said" (its
# relay goes to the room only for whoever is there already; see _relayed).
PARTY_KINDS = frozenset(
    {
        "plans",
        "frame",
        "agreed",
        "noted",
        "received",
        "blocked",
        "unblocked",
        "replanned",
        "substitution",
        "alert",  # with an order: to the parties of a plan a disruption broke
        "handed",  # a coordinator handed them a stage: they are a party now
        "completed",
        "proved",  # to the buyer: a stage done, with the photo that proves it
    }
)


CLAIMED = "posting"  # the value of a relay's key while the process that claimed it posts it


def said_key(said_id) -> str:
    return f"said:{said_id}"


def relay_content(message: Outgoing) -> dict:
    """A `/say` as the order's room shows it: "**Name**: words" (the room already says which
    order). The outbox text reads "Name on order N: words"; the words are taken from it."""
    author = message.payload.get("from_name") or message.payload.get("from")
    words = message.payload.get("text")
    prefix = f"{author} on order {message.order_id}: "
    if words is None and author and message.text.startswith(prefix):
        words = message.text.removeprefix(prefix)
    if words is None:  # a shape we do not know: as written, which names its author itself
        return text_content(message.text, msgtype="m.text")
    return text_content(words, msgtype="m.text", author=author)


class MatrixSender:
    platform = "matrix"

    def __init__(self, settings: MatrixSettings, engine: Engine):
        self.settings = settings
        self.engine = engine
        # Deferred: send() runs inside the delivery's transaction (see DeferredMemory).
        self.memory = DeferredMemory(engine)
        # A relay is claimed in the database before it is posted, so that worker processes
        # delivering the same /say to different parties post it once. Not on SQLite: there the
        # delivery's own transaction holds the write lock while it sends, so the claim would
        # wait for our caller; one SQLite database has one writer at a time anyway.
        self._claims = engine.dialect.name != "sqlite"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="matrix-sender", daemon=True
        )
        self._thread.start()
        self._client: AsyncClient | None = None
        self._slot: Slot | None = None  # the device's store, held while the sender lives
        self._syncing = asyncio.Lock()
        self._synced_at = 0.0  # loop time when the last catch-up began
        # Made with the client. One OrderRooms for the sender, so that its per-order lock keeps
        # two deliveries running side by side from creating two rooms for one order.
        self._order_rooms: OrderRooms | None = None
        self._direct_rooms: DirectRooms | None = None
        self._in_order_room: set[tuple[int, str]] = set()  # invited (or found) already
        # The readers each order's room was last brought to in this process: the room is
        # looked at again only when they change (outsiders who get in are the adapter's).
        self._settled: dict[int, frozenset[str]] = {}
        self._logging_in = asyncio.Lock()  # binds to the sender's loop when first awaited
        self._relaying: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- the synchronous face the workers see --------------------------------------------------

    def send(self, address: str, message: Outgoing) -> None:
        """Raises RateLimited, PermanentFailure, or MatrixUnavailable (try again later)."""
        self._run(self._send(address, message))

    def open_order_room(self, order_id: int, parties: Iterable[str]) -> str:
        """The order's room with these Matrix users invited (created on first use)."""
        return self._run(self._open_order_room(order_id, list(parties)))

    def close(self) -> None:
        if self._thread.is_alive():
            if self._client is not None:
                self._run(self._client.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()
        self.memory.close()
        if self._slot is not None:
            self._slot.release()

    def _run(self, work):
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(timeout=SEND_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise MatrixUnavailable(f"Matrix did not answer within {SEND_TIMEOUT_S} s") from None

    # -- in the sender's loop --------------------------------------------------------------------

    async def _connected(self) -> AsyncClient:
        async with self._logging_in:
            if self._client is None:
                if self.settings.e2e and self._slot is None:
                    self._slot = take_sender_slot(self.settings.store)
                self._client = await connect(self.settings, patient=False, slot=self._slot)
                self._order_rooms = OrderRooms(self._client, self.memory)
                self._direct_rooms = DirectRooms(self._client, self.memory)
        return self._client

    async def _catch_up(self, client: AsyncClient) -> None:
        """With E2E: the rooms, members and devices as the homeserver has them now (a send
        that waited for a catch-up begun after it asked takes that one)."""
        if client.olm is None:
            return
        asked = self._loop.time()
        async with self._syncing:
            if self._synced_at >= asked:
                return
            self._synced_at = self._loop.time()
            answer = await client.sync(timeout=0, sync_filter=CATCH_UP_FILTER)
            if not isinstance(answer, SyncResponse):
                raise refusal(answer, "sync")
            await keep_keys(client)

    async def _send(self, address: str, message: Outgoing) -> None:
        try:
            client = await self._connected()
            await self._keep_order_room(address, message)
            await self._catch_up(client)
            if await self._relayed(client, address, message):
                return
            if await self._said_in_room(client, message):
                return
            room_id = await self._direct_rooms.room_for(address)
            if client.olm is not None and room_id not in client.rooms:
                self._synced_at = 0.0  # a room just opened: it must be known to post in it
                await self._catch_up(client)
            buttons = tuple((button,) for button in outbox_buttons(message.payload))
            await post(client, room_id, text_content(message.text, buttons))
            await self._post_picture(client, room_id, message.payload.get("picture"))
        except (ClientError, TimeoutError) as exc:
            raise MatrixUnavailable(f"Matrix could not be reached: {exc!r}") from exc
        except LocalProtocolError as exc:  # E2E: a room the sync has not shown the sender yet
            raise MatrixUnavailable(f"not ready to encrypt: {exc}") from exc

    async def _post_picture(self, client: AsyncClient, room_id: str, picture_id) -> None:
        """A kept photo (the evidence of a stage) after the text that says what it shows."""
        if not isinstance(picture_id, int):
            return
        kept = await asyncio.to_thread(self._kept, picture_id)
        if kept is None:
            return
        extension = kept.content_type.rpartition("/")[2] or "jpeg"
        filename = f"evidence-{kept.id}.{extension}"
        media = await upload(client, room_id, kept.data, kept.content_type, filename)
        content = photo_content(filename, kept.content_type, len(kept.data), media)
        await post(client, room_id, content)

    def _kept(self, picture_id: int) -> evidence.Kept | None:
        with Session(self.engine) as session:
            return evidence.picture(session, picture_id)

    async def _relayed(self, client: AsyncClient, address: str, message: Outgoing) -> bool:
        """True when the message is a `/say` now in (or already in) the order's room, which the
        recipient reads; else it goes to their direct room like any other message."""
        said = message.payload.get("said")
        if message.kind != "said" or message.order_id is None or said is None:
            return False
        room_id = await self._order_rooms.room_of(message.order_id)
        if room_id is None or await membership(client, room_id, address) not in REACHABLE:
            return False
        key = said_key(said)
        async with self._relaying[message.order_id]:  # parties served side by side post once
            if await asyncio.to_thread(self.memory.get, key) is not None:
                return True
            # Parties served by other worker processes: the first to claim the relay posts it.
            if self._claims and not await asyncio.to_thread(self.memory.add, key, CLAIMED):
                return True
            try:
                typed = _typed_in(message)
                if typed is not None and await _holds(client, room_id, typed):
                    # Said in this very room: everyone here has read it already.
                    await asyncio.to_thread(self.memory.put, key, typed)
                    return True
                event_id = await post(client, room_id, relay_content(message))
            except BaseException:
                if self._claims:  # not posted: whoever delivers it again may
                    await asyncio.to_thread(self.memory.forget, key)
                raise
            await asyncio.to_thread(self.memory.put, key, event_id)
        return True

    async def _said_in_room(self, client: AsyncClient, message: Outgoing) -> bool:
        """True for the "passed on" answer to words typed in the order's own room: the words
        stand there for everyone to read, so the answer would only be noise."""
        typed = _typed_in(message)
        if message.kind != "passed" or message.order_id is None or typed is None:
            return False
        room_id = await self._order_rooms.room_of(message.order_id)
        return room_id is not None and await _holds(client, room_id, typed)

    async def _open_order_room(self, order_id: int, parties: list[str]) -> str:
        await self._connected()
        room_id = await self._order_rooms.open(order_id, parties)
        self._in_order_room.update((order_id, party) for party in parties)
        return room_id

    async def _keep_order_room(self, address: str, message: Outgoing) -> None:
        """A party hearing about an order is invited to its room (created on first use), once:
        whoever left it is not pulled back in. Only the first message per party and order in
        this process asks the homeserver. Whoever may no longer read the order is removed."""
        if message.order_id is None:
            return
        order_id = message.order_id
        allowed = await asyncio.to_thread(order_rooms.readers, self.engine, order_id)
        try:
            if (
                message.kind in PARTY_KINDS
                and (order_id, address) not in self._in_order_room
                and (allowed is None or address in allowed.now)
            ):
                await self._open_order_room(order_id, [address])
            # An order SCIS does not know (None) has no readers to go by: nobody is removed.
            if allowed is not None and self._settled.get(order_id) != allowed.now:
                await self._connected()
                removed, complete = await self._order_rooms.settle(order_id, allowed)
                self._in_order_room.difference_update((order_id, user) for user in removed)
                if complete:  # else the next message about the order tries again
                    self._settled[order_id] = allowed.now
        except PermanentFailure as failure:  # the message itself may still reach them directly
            log.warning("no room for order %s: %s", order_id, failure)


def _typed_in(message: Outgoing) -> str | None:
    """The Matrix event id of the message the `/say` came from, when it came from Matrix."""
    origin = message.payload.get("origin") or {}
    if origin.get("platform") != "matrix":
        return None
    return origin.get("message_id")


async def _holds(client: AsyncClient, room_id: str, event_id: str) -> bool:
    """Whether the event is in the room (an event id names one event in one room)."""
    answer = await client.room_get_event(room_id, event_id)
    if isinstance(answer, RoomGetEventResponse):
        return True
    if answer.status_code in ("M_NOT_FOUND", "M_FORBIDDEN"):
        return False  # said elsewhere: in a direct room with the bot
    raise refusal(answer, f"look for {event_id} in {room_id}")
