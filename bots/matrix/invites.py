"""Who may bring the bot into a room: only people SCIS knows by their Matrix id.

An invite from anyone else is refused (left), so a stranger cannot make the bot a member of
rooms it has no business in. A direct room a registered person opens becomes where their
messages go (`dm:<user>`), in place of one the bot would create.
"""

from __future__ import annotations

import asyncio
import logging

from nio import AsyncClient, InviteInfo, InviteMemberEvent, JoinResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bots.matrix import direct_rooms
from bots.matrix.memory import PLATFORM, Memory
from bots.matrix.posting import patiently, refusal
from core.service.participants import who_is

log = logging.getLogger(__name__)


def is_registered(engine: Engine, user_id: str) -> bool:
    with Session(engine) as session:
        return who_is(session, PLATFORM, user_id) is not None


def invitation(info: InviteInfo, bot: str) -> InviteMemberEvent | None:
    """The member event that invites the bot, from the room's stripped state."""
    for event in info.invite_state:
        if (
            isinstance(event, InviteMemberEvent)
            and event.state_key == bot
            and event.membership == "invite"
        ):
            return event
    return None


async def answer_invite(
    client: AsyncClient, engine: Engine, memory: Memory, room_id: str, info: InviteInfo
) -> bool:
    """Join if a registered person invited the bot, else refuse; True when joined."""
    invite = invitation(info, client.user_id)
    inviter = invite.sender if invite is not None else None
    if inviter is None or not await asyncio.to_thread(is_registered, engine, inviter):
        log.info("refusing the invite to %s from %s: not a registered person", room_id, inviter)
        await client.room_leave(room_id)
        return False

    async def join():
        answer = await client.join(room_id)
        if not isinstance(answer, JoinResponse):
            raise refusal(answer, f"join {room_id}")

    try:
        await patiently(join)
    except Exception as exc:  # the room may be gone, or the inviter's server unreachable
        log.warning("could not join %s at %s's invitation: %s", room_id, inviter, exc)
        return False
    if invite.content.get("is_direct"):
        await asyncio.to_thread(memory.put, direct_rooms.key(inviter), room_id)
    return True
