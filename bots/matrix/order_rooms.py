"""An order's room: where its parties on Matrix negotiate together, and where a `/say` appears
once for all of them. Opened once per order (`order_room:<id>`); parties added later (a
re-plan brings a new maker) are invited when it is opened again.

Only the order's readers belong there (core/service/lifecycle.parties: the buyer, the live
plan's parties, coordinators). The bot alone may invite, kick or change the room's settings;
members talk. History is visible from joining, so a newcomer does not read what was said before
them. Whoever is there without being a reader (released by a re-plan, or let in by someone
else) is removed with a reason.

With end-to-end encryption on (the client has an olm device), a new order room is encrypted from
its creation. The room key is rotated whenever its members change: nio drops the room's outbound
session when it syncs a membership change, and the next message shares a new one with the
members' devices then present — a removed party cannot read what is said after they left.
A room made unencrypted stays so (encryption cannot be turned off again, nor on mid-thread
without warning).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from nio import AsyncClient, RoomCreateResponse, RoomGetStateResponse, RoomPreset
from nio.api import RoomVisibility
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bots.matrix.memory import PLATFORM, Memory
from bots.matrix.posting import checked, patiently, refusal
from core.service import lifecycle
from core.store.tables import ChatIdentity, Notification, OrderRow

log = logging.getLogger(__name__)


PREFIX = "order_room:"
BOT_ONLY = 100
# State only the bot may change: who may read (join rules, history, power levels) and what
# the room is called; members keep the default level 0, enough to talk and redact their own.
GUARDED_EVENTS = (
    "m.room.power_levels",
    "m.room.history_visibility",
    "m.room.join_rules",
    "m.room.guest_access",
    "m.room.name",
    "m.room.topic",
    "m.room.avatar",
    "m.room.canonical_alias",
    "m.room.server_acl",
    "m.room.tombstone",
    "m.room.encryption",
    "m.room.pinned_events",
)
MEGOLM = "m.megolm.v1.aes-sha2"
HISTORY = "joined"  # a member reads from the moment they joined, not what came before
JOIN_RULE = "invite"
ENDED_PART = (
    "Your part of order {order} ended: the order goes on without you, so you leave its room."
)
NOT_A_PARTY = "This room is only for the parties of order {order}."
# Member states that keep someone in the room's audience (an invitee can join and read).
PRESENT = ("join", "invite")


def key(order_id: int) -> str:
    return f"{PREFIX}{order_id}"


def order_of(memory: Memory, room_id: str) -> int | None:
    """The order whose room this is (the reverse of `key`), or None for any other room."""
    found = memory.key_holding(PREFIX, room_id)
    return int(found.removeprefix(PREFIX)) if found is not None else None


def power_levels() -> dict:
    """The room's power levels: everyone but the bot at 0 and allowed only to talk. The bot
    created the room, so it is at 100 already: as the creator in `users` on older room versions,
    by creating it on version 12 and later (which refuse the creator in `users`)."""
    return {
        "users_default": 0,
        "events_default": 0,
        "state_default": BOT_ONLY,
        "invite": BOT_ONLY,
        "kick": BOT_ONLY,
        "ban": BOT_ONLY,
        "redact": BOT_ONLY,
        "events": dict.fromkeys(GUARDED_EVENTS, BOT_ONLY),
    }


@dataclass(frozen=True)
class Readers:
    """The Matrix accounts that may read an order (`now`), and those of people who were told
    about it before (`once`: they had a part, so a removal says their part ended)."""

    now: frozenset[str]
    once: frozenset[str]

    def reason(self, order_id: int, user_id: str) -> str:
        template = ENDED_PART if user_id in self.once else NOT_A_PARTY
        return template.format(order=order_id)


def readers(engine: Engine, order_id: int) -> Readers | None:
    """Who may be in the order's room, by the one rule; None when SCIS has no such order."""
    with Session(engine) as session:
        order = session.get(OrderRow, order_id)
        if order is None:
            return None
        now = lifecycle.parties(session, order)
        told = set(
            session.exec(
                select(Notification.participant_id).where(Notification.order_id == order_id)
            )
        )
        accounts = session.exec(
            select(ChatIdentity.address, ChatIdentity.participant_id).where(
                ChatIdentity.platform == PLATFORM,
                ChatIdentity.participant_id.in_(now | told),
            )
        ).all()
    return Readers(
        now=frozenset(address for address, who in accounts if who in now),
        once=frozenset(address for address, who in accounts if who in told),
    )


class OrderRooms:
    def __init__(self, client: AsyncClient, memory: Memory):
        self.client = client
        self.memory = memory
        self._opening: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._secured: set[str] = set()  # rooms whose settings were checked in this process

    async def room_of(self, order_id: int) -> str | None:
        return await asyncio.to_thread(self.memory.get, key(order_id))

    async def open(self, order_id: int, parties: Iterable[str]) -> str:
        """The order's room id, with every party invited (each once: whoever has a membership
        there, even one who left, is not invited again — unless the bot removed them, since
        they are a party again)."""
        wanted = [party for party in dict.fromkeys(parties) if party != self.client.user_id]
        async with self._opening[order_id]:
            room_id = await self.room_of(order_id)
            if room_id is None:
                room_id = await self._create(order_id)
                known: set[str] = set()
            else:
                memberships = await self._memberships(room_id)
                known = {
                    user
                    for user, (membership, by) in memberships.items()
                    if not (membership == "leave" and by == self.client.user_id != user)
                }
            for party in wanted:
                if party not in known:
                    await self._invite(room_id, party)
        return room_id

    async def settle(self, order_id: int, allowed: Readers) -> tuple[list[str], bool]:
        """The order's room (if it has one) with the settings it was created with, and
        nobody joined or invited who may not read the order: each is removed with a reason.
        The accounts removed, and whether every one who had to go is gone."""
        async with self._opening[order_id]:
            room_id = await self.room_of(order_id)
            if room_id is None:
                return [], True
            state = await self._state(room_id)
            if room_id not in self._secured:
                await self._secure(room_id, state)
            removed, complete = [], True
            for user, (membership, _by) in _memberships_in(state).items():
                if membership not in PRESENT or user == self.client.user_id:
                    continue
                if user not in allowed.now:
                    if await self.remove(room_id, user, allowed.reason(order_id, user)):
                        removed.append(user)
                    else:
                        complete = False
        return removed, complete

    async def secure(self, room_id: str) -> None:
        """Once per room and process: a room made before order rooms were locked down gets the
        same power levels, history visibility and join rule as a new one, if the bot may."""
        if room_id in self._secured:
            return
        try:
            state = await self._state(room_id)
        except Exception as exc:  # answering in the room matters more: next time, then
            log.warning("could not read the settings of %s: %s", room_id, exc)
            return
        await self._secure(room_id, state)

    async def remove(self, room_id: str, user: str, reason: str) -> bool:
        """Kicks `user` (or withdraws their invite); False if the homeserver would not."""

        async def kick():
            checked(await self.client.room_kick(room_id, user, reason), f"remove {user}")

        try:
            await patiently(kick)
        except Exception as exc:  # the others must still be removed
            log.warning("could not remove %s from %s: %s", user, room_id, exc)
            return False
        log.info("removed %s from %s: %s", user, room_id, reason)
        return True

    async def _secure(self, room_id: str, state: list[dict]) -> None:
        current = {(e.get("type"), e.get("state_key")): e.get("content", {}) for e in state}
        wanted = power_levels()
        levels = dict(current.get(("m.room.power_levels", ""), {}))
        changed = {
            name: value
            for name, value in wanted.items()
            if name != "events" and levels.get(name) != value
        }
        events = {**levels.get("events", {}), **wanted["events"]}
        if changed or events != levels.get("events"):
            await self._put(room_id, "m.room.power_levels", levels | changed | {"events": events})
        history = current.get(("m.room.history_visibility", ""), {})
        if history.get("history_visibility") != HISTORY:
            await self._put(room_id, "m.room.history_visibility", {"history_visibility": HISTORY})
        rule = current.get(("m.room.join_rules", ""), {})
        if rule.get("join_rule") != JOIN_RULE:
            await self._put(room_id, "m.room.join_rules", {"join_rule": JOIN_RULE})
        self._secured.add(room_id)

    async def _put(self, room_id: str, event_type: str, content: dict) -> None:
        async def put():
            checked(
                await self.client.room_put_state(room_id, event_type, content),
                f"set {event_type} in {room_id}",
            )

        try:
            await patiently(put)
        except Exception as exc:  # an older room may not let the bot; it still works as before
            log.warning("could not lock down %s (%s): %s", room_id, event_type, exc)

    async def _create(self, order_id: int) -> str:
        async def create():
            return checked(
                await self.client.room_create(
                    visibility=RoomVisibility.private,
                    name=f"Order {order_id}",
                    topic=f"SCIS order {order_id}: its parties talk here; /say reaches them all.",
                    preset=RoomPreset.private_chat,
                    federate=True,
                    initial_state=[
                        _state_event("m.room.history_visibility", history_visibility=HISTORY),
                        _state_event("m.room.join_rules", join_rule=JOIN_RULE),
                        *encryption_state(self.client),
                    ],
                    power_level_override=power_levels(),
                ),
                f"create the room of order {order_id}",
            )

        answer: RoomCreateResponse = await patiently(create)
        # Remembered before anyone is invited: an invite that fails must not make a second room.
        await asyncio.to_thread(self.memory.put, key(order_id), answer.room_id)
        self._secured.add(answer.room_id)
        return answer.room_id

    async def _state(self, room_id: str) -> list[dict]:
        answer = await self.client.room_get_state(room_id)
        if not isinstance(answer, RoomGetStateResponse):
            raise refusal(answer, f"read the state of {room_id}")
        return answer.events

    async def _memberships(self, room_id: str) -> dict[str, tuple[str, str]]:
        return _memberships_in(await self._state(room_id))

    async def _invite(self, room_id: str, party: str) -> None:
        async def invite():
            answer = await self.client.room_invite(room_id, party)
            checked(answer, f"invite {party} to {room_id}")

        try:
            await patiently(invite)
        except Exception as exc:  # one party out of reach must not keep the others out
            log.warning("could not invite %s to %s: %s", party, room_id, exc)


def encryption_state(client: AsyncClient) -> list[dict]:
    """The initial state that makes a new room encrypted, when the client can encrypt."""
    if client.olm is None:
        return []
    return [_state_event("m.room.encryption", algorithm=MEGOLM)]


def _state_event(event_type: str, **content) -> dict:
    return {"type": event_type, "state_key": "", "content": content}


def _memberships_in(state: list[dict]) -> dict[str, tuple[str, str]]:
    """Everyone with a membership event in the room (joined, invited, left or banned): their
    membership and who set it."""
    return {
        event["state_key"]: (event.get("content", {}).get("membership"), event.get("sender"))
        for event in state
        if event.get("type") == "m.room.member"
    }
