"""The room where the bot writes to one person: one they opened with the bot (see invites), or
one the bot opens and invites them to, once (`dm:<user>`)."""

from __future__ import annotations

import asyncio

from nio import (
    AsyncClient,
    ProfileGetResponse,
    RoomCreateResponse,
    RoomGetStateEventResponse,
    RoomPreset,
)
from nio.api import RoomVisibility

from bots.matrix.memory import Memory
from bots.matrix.order_rooms import encryption_state
from bots.matrix.posting import checked, refusal
from workers.senders import PermanentFailure

REACHABLE = ("join", "invite")  # an invited person reads what waits when they accept


def key(user_id: str) -> str:
    return f"dm:{user_id}"


async def membership(client: AsyncClient, room_id: str, user_id: str) -> str | None:
    """join, invite, leave, ban; None when they never were in the room, or the bot is not."""
    answer = await client.room_get_state_event(room_id, "m.room.member", user_id)
    if isinstance(answer, RoomGetStateEventResponse):
        return answer.content.get("membership")
    if answer.status_code in ("M_NOT_FOUND", "M_FORBIDDEN"):
        return None
    raise refusal(answer, f"read {user_id}'s membership of {room_id}")  # a limit, an outage


class DirectRooms:
    def __init__(self, client: AsyncClient, memory: Memory):
        self.client = client
        self.memory = memory

    async def room_for(self, user_id: str) -> str:
        """Raises PermanentFailure when the person has no account, or left the room."""
        room_id = await asyncio.to_thread(self.memory.get, key(user_id))
        if room_id is not None:
            state = await membership(self.client, room_id, user_id)
            if state in REACHABLE:
                return room_id
            if state in ("leave", "ban"):
                raise PermanentFailure(
                    f"{user_id} left the bot's room ({state}); they can invite the bot again"
                )
            # The bot itself is no longer in that room: a new one is opened below.
        await self._exists(user_id)
        answer: RoomCreateResponse = checked(
            await self.client.room_create(
                visibility=RoomVisibility.private,
                is_direct=True,
                preset=RoomPreset.trusted_private_chat,
                invite=[user_id],
                initial_state=encryption_state(self.client),  # as people's clients make them
            ),
            f"open a direct room with {user_id}",
        )
        await asyncio.to_thread(self.memory.put, key(user_id), answer.room_id)
        return answer.room_id

    async def _exists(self, user_id: str) -> None:
        """A homeserver invites accounts that do not exist without complaint; a profile lookup
        tells. Only a clear "not found" counts (Synapse says 404 with M_UNKNOWN for a local
        account): a server that hides profiles says forbidden."""
        answer = await self.client.get_profile(user_id)
        if isinstance(answer, ProfileGetResponse):
            return
        status = getattr(answer.transport_response, "status", None)
        if answer.status_code == "M_NOT_FOUND" or status == 404:
            raise PermanentFailure(f"there is no Matrix account {user_id}")
