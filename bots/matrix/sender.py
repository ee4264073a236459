"""`MatrixSender`: how the delivery workers put an outbox message in front of a Matrix user.

The workers are synchronous and matrix-nio is not, so the sender keeps an event loop of its
own in a thread and hands it each message; a worker's many threads may send at once. A
message goes to the person's direct room, with its buttons as commands to type. A relayed
`/say` (kind "said") goes to the order's room instead when the person is in it — once for
all of the order's parties there, attributed to who said it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable

from aiohttp import ClientError
from nio import AsyncClient
from sqlalchemy.engine import Engine

from bots.matrix.connection import connect
from bots.matrix.direct_rooms import REACHABLE, DirectRooms, membership
from bots.matrix.memory import DeferredMemory, Memory
from bots.matrix.order_rooms import OrderRooms
from bots.matrix.posting import MatrixUnavailable, post
from bots.matrix.rendering import buttons_from_payload, text_content
from bots.matrix.settings import MatrixSettings
from workers.senders import Outgoing

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 90


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

    def __init__(self, settings: MatrixSettings, engine: Engine, memory: Memory | None = None):
        self.settings = settings
        # Deferred: send() runs inside the delivery's transaction (see DeferredMemory).
        self.memory = memory or DeferredMemory(engine)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="matrix-sender", daemon=True
        )
        self._thread.start()
        self._client: AsyncClient | None = None
        self._logging_in: asyncio.Lock | None = None
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

    def _run(self, work):
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(timeout=SEND_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise MatrixUnavailable(f"Matrix did not answer within {SEND_TIMEOUT_S} s") from None

    # -- in the sender's loop --------------------------------------------------------------------

    async def _connected(self) -> AsyncClient:
        if self._logging_in is None:
            self._logging_in = asyncio.Lock()
        async with self._logging_in:
            if self._client is None:
                self._client = await connect(self.settings, patient=False)
        return self._client

    async def _send(self, address: str, message: Outgoing) -> None:
        try:
            client = await self._connected()
            if await self._relayed(client, address, message):
                return
            room_id = await DirectRooms(client, self.memory).room_for(address)
            buttons = buttons_from_payload(message.payload.get("buttons"))
            await post(client, room_id, text_content(message.text, buttons))
        except (ClientError, TimeoutError) as exc:
            raise MatrixUnavailable(f"Matrix could not be reached: {exc!r}") from exc

    async def _relayed(self, client: AsyncClient, address: str, message: Outgoing) -> bool:
        """True when the message is a `/say` now in (or already in) the order's room, which the
        recipient reads; else it goes to their direct room like any other message."""
        said = message.payload.get("said")
        if message.kind != "said" or message.order_id is None or said is None:
            return False
        room_id = await OrderRooms(client, self.memory).room_of(message.order_id)
        if room_id is None or await membership(client, room_id, address) not in REACHABLE:
            return False
        async with self._relaying[message.order_id]:  # parties served side by side post once
            if await asyncio.to_thread(self.memory.get, said_key(said)) is not None:
                return True
            content = relay_content(message)
            event_id = await post(client, room_id, content)
            await asyncio.to_thread(self.memory.put, said_key(said), event_id)
        return True

    async def _open_order_room(self, order_id: int, parties: list[str]) -> str:
        client = await self._connected()
        return await OrderRooms(client, self.memory).open(order_id, parties)
