"""Issue 14, finding 4: an order's Matrix room is for the order's readers only (the buyer, the
live plan's parties, coordinators). Only the bot may invite; history is visible from joining; a
party a re-plan releases is removed with a reason; an outsider who gets in anyway is removed.

The chair story on a real Synapse: Dana orders two chairs, plan 1 is chosen and agreed, and the
real delivery hands the outbox to the real `MatrixSender`; Hal's shop floods, the re-plan gives
his seats to Ivy and releases him.
"""

from __future__ import annotations

import asyncio

from chair_world import PARTIES, Clock, agree_all, order_two_chairs
from matrix_people import Someone, chair_network, eventually
from nio import RoomGetStateEventResponse, RoomInviteError, RoomInviteResponse, RoomPreset

from bots.bootstrap import application
from bots.matrix.adapter import MatrixAdapter
from bots.matrix.connection import connect
from bots.matrix.memory import Memory
from bots.matrix.order_rooms import key
from bots.matrix.sender import MatrixSender
from core.importers import load_network
from core.service.bus import Services
from core.service.commands import ChoosePlan, Disrupt, LoadNetwork
from workers.delivery import deliver_pending

ON_MATRIX = ("dana", "ana", "fern", "gus", "hal", "bob", "ivy")


def chair_on_matrix(engine, tmp_path, people: dict[str, Someone]) -> Services:
    services = application(engine, Clock())
    paths = chair_network(tmp_path, {name: p.user_id for name, p in people.items()}, {})
    loaded = load_network(paths)
    assert loaded.errors == []
    services.handle(LoadNetwork(None, loaded.network))
    return services


async def deliver(services: Services, sender: MatrixSender, *who: str) -> None:
    for participant in who:
        drained = await asyncio.to_thread(
            deliver_pending, services, {"matrix": sender}, participant
        )
        assert drained.failed == 0, participant


async def state(someone: Someone, room: str, event_type: str, state_key: str = "") -> dict:
    answer = await someone.client.room_get_state_event(room, event_type, state_key)
    assert isinstance(answer, RoomGetStateEventResponse), answer
    return answer.content


async def membership_of(someone: Someone, room: str, user_id: str) -> dict | None:
    answer = await someone.client.room_get_state_event(room, "m.room.member", user_id)
    return answer.content if isinstance(answer, RoomGetStateEventResponse) else None


async def test_finding_4_only_the_bot_invites_history_from_joining_and_released_parties_leave(
    synapse, bot, bot_settings, register, engine, tmp_path
):
    people = {name: Someone(synapse, register(name)) for name in ON_MATRIX}
    dana, ana, hal, ivy = (people[name] for name in ("dana", "ana", "hal", "ivy"))
    zed = Someone(synapse, register("zed"))  # has a Matrix account, no part in SCIS
    services = await asyncio.to_thread(chair_on_matrix, engine, tmp_path, people)
    sender = MatrixSender(bot_settings, engine)
    try:
        order = await asyncio.to_thread(order_two_chairs, services)
        await asyncio.to_thread(services.handle, ChoosePlan("dana", order, 1))
        await deliver(services, sender, "dana", *PARTIES)
        sender.memory.flush()
        room = Memory(engine).get(key(order))
        for person in (dana, ana, hal):
            assert room in await person.accept_invites()

        # The room's settings: history from joining, only the bot invites or changes them.
        assert (await state(dana, room, "m.room.history_visibility")) == {
            "history_visibility": "joined"
        }
        assert (await state(dana, room, "m.room.join_rules"))["join_rule"] == "invite"
        levels = await state(dana, room, "m.room.power_levels")
        members = levels.get("users", {})
        assert all(members.get(p.user_id, 0) == 0 for p in (dana, ana, hal))
        assert levels["invite"] == levels["kick"] == levels["state_default"] == 100
        assert levels["events"]["m.room.history_visibility"] == 100

        # A member cannot let an outsider in: the homeserver refuses.
        refused = await ana.client.room_invite(room, zed.user_id)
        assert isinstance(refused, RoomInviteError) and refused.status_code == "M_FORBIDDEN"
        assert await membership_of(dana, room, zed.user_id) is None
        widened = await ana.client.room_put_state(
            room, "m.room.history_visibility", {"history_visibility": "shared"}
        )
        assert getattr(widened, "status_code", None) == "M_FORBIDDEN"

        # Hal's shop floods: the re-plan gives his seats to Ivy and releases him.
        await asyncio.to_thread(agree_all, services, order, PARTIES)
        flood = await asyncio.to_thread(
            services.handle, Disrupt("hal", "hal-shop", "the shop flooded")
        )
        replanned = next(e for e in flood.events if e.kind == "replanned")
        assert replanned.data["released"] == ["hal"] and replanned.data["joined"] == ["ivy"]
        await deliver(services, sender, "hal", "ivy", "dana")

        kicked = await membership_of(dana, room, hal.user_id)
        assert kicked["membership"] == "leave"
        assert kicked["reason"] == (
            f"Your part of order {order} ended: the order goes on without you, "
            "so you leave its room."
        )
        assert room in await ivy.accept_invites()  # the newcomer is in; Hal reads no more
        await dana.say(room, "Ivy, welcome")
        assert "Ivy, welcome" not in str(await hal.client.room_messages(room, limit=20))
    finally:
        await asyncio.to_thread(sender.close)
        for person in (*people.values(), zed):
            await person.close()


async def test_finding_4_an_outsider_let_into_an_older_room_is_removed_and_the_room_locked(
    synapse, bot, bot_settings, register, sqlite_engine, tmp_path
):
    """A room made before the lock-down (the `private_chat` preset: every member may invite,
    history `shared`): a member invites an outsider; the adapter withdraws the invite with a
    reason and brings the room to the new settings."""
    dana = Someone(synapse, register("dana"))
    zed = Someone(synapse, register("zed"))
    services = await asyncio.to_thread(chair_on_matrix, sqlite_engine, tmp_path, {"dana": dana})
    order = await asyncio.to_thread(order_two_chairs, services)
    client = await connect(bot_settings)
    adapter = MatrixAdapter(client, conversation=None, engine=sqlite_engine)
    stop = asyncio.Event()
    task = None
    try:
        made = await client.room_create(name=f"Order {order}", preset=RoomPreset.private_chat)
        room = made.room_id
        Memory(sqlite_engine).put(key(order), room)
        assert isinstance(await client.room_invite(room, dana.user_id), RoomInviteResponse)
        await adapter.start()  # the bot listens from here on
        assert await dana.accept_invites() == [room]
        let_in = await dana.client.room_invite(room, zed.user_id)
        assert isinstance(let_in, RoomInviteResponse)  # the old room allowed it

        task = asyncio.create_task(adapter.run(stop))

        async def withdrawn():
            found = await membership_of(dana, room, zed.user_id)
            return found if found and found["membership"] == "leave" else None

        removed = await eventually(withdrawn)
        assert removed["reason"] == f"This room is only for the parties of order {order}."

        async def locked():
            levels = await state(dana, room, "m.room.power_levels")
            history = await state(dana, room, "m.room.history_visibility")
            return levels.get("invite") == 100 and history["history_visibility"] == "joined"

        await eventually(locked)
        again = await dana.client.room_invite(room, zed.user_id)
        assert isinstance(again, RoomInviteError) and again.status_code == "M_FORBIDDEN"
    finally:
        stop.set()
        if task is not None:
            await asyncio.wait_for(task, 10)
        await client.close()
        for person in (dana, zed):
            await person.close()
