"""An order's room: where its parties on Matrix negotiate together, and where a `/say` appears
once for all of them. Opened once per order (`order_room:<id>`); parties added later (a
re-plan brings a new maker) are invited when it is opened again."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable

from nio import AsyncClient, RoomCreateResponse, RoomGetStateResponse, RoomPreset
from nio.api import RoomVisibility

from bots.matrix.memory import Memory
from bots.matrix.posting import checked, patiently, refusal

log = logging.getLogger(__name__)


PREFIX = "order_room:"


def key(order_id: int) -> str:
    return f"{PREFIX}{order_id}"


def order_of(memory: Memory, room_id: str) -> int | None:
    """The order whose room this is (the reverse of `key`), or None for any other room."""
    found = memory.key_holding(PREFIX, room_id)
    return int(found.removeprefix(PREFIX)) if found is not None else None


class OrderRooms:
    def __init__(self, client: AsyncClient, memory: Memory):
        self.client = client
        self.memory = memory
        self._opening: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def room_of(self, order_id: int) -> str | None:
        return await asyncio.to_thread(self.memory.get, key(order_id))

    async def open(self, order_id: int, parties: Iterable[str]) -> str:
        """The order's room id, with every party invited (each once: whoever has a membership
        there, even one who left, is not invited again)."""
        wanted = [party for party in dict.fromkeys(parties) if party != self.client.user_id]
        async with self._opening[order_id]:
            room_id = await self.room_of(order_id)
            if room_id is None:
                room_id = await self._create(order_id)
                known: set[str] = set()
            else:
                known = await self._members(room_id)
            for party in wanted:
                if party not in known:
                    await self._invite(room_id, party)
        return room_id

    async def _create(self, order_id: int) -> str:
        async def create():
            return checked(
                await self.client.room_create(
                    visibility=RoomVisibility.private,
                    name=f"Order {order_id}",
                    topic=f"SCIS order {order_id}: its parties talk here; /say reaches them all.",
                    preset=RoomPreset.private_chat,
                    federate=True,
                ),
                f"create the room of order {order_id}",
            )

        answer: RoomCreateResponse = await patiently(create)
        # Remembered before anyone is invited: an invite that fails must not make a second room.
        await asyncio.to_thread(self.memory.put, key(order_id), answer.room_id)
        return answer.room_id

    async def _members(self, room_id: str) -> set[str]:
        """Everyone with a membership event in the room: joined, invited, left or banned."""
        answer = await self.client.room_get_state(room_id)
        if not isinstance(answer, RoomGetStateResponse):
            raise refusal(answer, f"read the members of {room_id}")
        return {
            event["state_key"] for event in answer.events if event.get("type") == "m.room.member"
        }

    async def _invite(self, room_id: str, party: str) -> None:
        async def invite():
            answer = await self.client.room_invite(room_id, party)
            checked(answer, f"invite {party} to {room_id}")

        try:
            await patiently(invite)
        except Exception as exc:  # one party out of reach must not keep the others out
            log.warning("could not invite %s to %s: %s", party, room_id, exc)
