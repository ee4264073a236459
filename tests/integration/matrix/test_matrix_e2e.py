"""Issue 20's acceptance: Matrix as people use it, in end-to-end encrypted rooms. People are
matrix-nio clients with olm devices of their own (stores in the test's directory), as Element
is; the bot runs with a store of its own (`MatrixSettings.store`), one device per process."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from chair_world import owners, stage_status
from matrix_people import (
    PNG,
    EncryptedPerson,
    MatrixPerson,
    StandInConversation,
    chair_runtime,
    encryption_of,
    eventually,
    has,
    in_rooms_with_the_bot,
    order_two_chairs,
    register_on_matrix,
    until,
)
from nio import RoomKeyRequest
from synapse_server import Person

from bots.health import check_all
from bots.matrix.adapter import NEXT_BATCH, UNREADABLE, run_matrix
from bots.matrix.connection import connect
from bots.matrix.devices import devices_in, keep_keys, take
from bots.matrix.direct_rooms import DirectRooms
from bots.matrix.memory import Memory
from bots.matrix.order_rooms import MEGOLM, OrderRooms
from bots.matrix.posting import post
from bots.matrix.rendering import text_content
from bots.matrix.settings import MatrixSettings

RUN_DEADLINE_S = 240


def e2e(bot_settings, tmp_path):
    return replace(bot_settings, store=tmp_path / "matrix-store")


async def raw_events(synapse, person: MatrixPerson, room_id: str, sender: str) -> list[dict]:
    """The events (not state) `sender` put in the room, newest first, as the homeserver keeps
    them: encrypted, if they were."""
    path = f"/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit=100"
    answer = await asyncio.to_thread(synapse.request, "GET", path, token=person.person.access_token)
    return [e for e in answer["chunk"] if e["sender"] == sender and "state_key" not in e]


async def raw_types(synapse, person: MatrixPerson, room_id: str, sender: str) -> set[str]:
    """The event types `sender` put in the room, as the homeserver keeps them."""
    return {e["type"] for e in await raw_events(synapse, person, room_id, sender)}


async def test_an_encrypted_direct_room_both_ways_a_late_key_and_a_restart(
    synapse, bot, bot_settings, register, sqlite_engine, tmp_path
):
    settings = e2e(bot_settings, tmp_path)
    alice = EncryptedPerson(synapse, register("alice"), bot.user_id, tmp_path / "alice")
    register_on_matrix(sqlite_engine, "alice", alice.user_id)
    conversation = StandInConversation()

    def serve() -> tuple[asyncio.Event, asyncio.Task]:
        stop = asyncio.Event()
        return stop, asyncio.create_task(run_matrix(conversation, sqlite_engine, settings, stop))

    stop, serving = serve()
    try:
        await until(lambda: Memory(sqlite_engine).get(NEXT_BATCH))
        await alice.open_dm()
        await eventually(lambda: has(alice.membership(alice.dm, bot.user_id), "join"))
        assert await encryption_of(alice, alice.dm) == MEGOLM

        # -- read and answered, both ways encrypted ------------------------------------------
        await alice.ask("/help", "echo: /help")
        assert await raw_types(synapse, alice, alice.dm, bot.user_id) == {"m.room.encrypted"}
        [device] = devices_in(settings.store).values()

        # -- a key that is late: one explanation, a key request, the messages answered later --
        _first, key = await alice.say_keeping_the_key(alice.dm, "first")
        await alice.say_again_keeping_the_key(alice.dm, "second")
        await alice.told(UNREADABLE)

        async def asked_for_the_key():
            await alice.sync()
            return [e for e in alice.to_device if isinstance(e, RoomKeyRequest)]

        requests = await eventually(asked_for_the_key)
        assert {(r.sender, r.session_id) for r in requests} == {(bot.user_id, key.session_id)}
        assert "first" not in conversation.texts()

        await alice.hand_over_key(key)
        await alice.told("echo: second")
        assert conversation.texts()[-2:] == ["first", "second"]
        assert len(await alice.told(UNREADABLE)) == 1  # once, for both messages

        # -- a photo, encrypted as its room is, reaches the conversation whole ---------------
        await alice.send_image(alice.dm, PNG, "/done 12 legs")
        await until(lambda: any(i.photo is not None for i in conversation.seen))
        [photo] = [i.photo for i in conversation.seen if i.photo is not None]
        assert photo.data == PNG and photo.content_type == "image/png"

        # -- restarted, the bot is the same device and reads the same room --------------------
        stop.set()
        await asyncio.wait_for(serving, 15)
        stop, serving = serve()
        await alice.ask("after the restart", "echo: after the restart")
        assert devices_in(settings.store) == {"serve": device}
    finally:
        stop.set()
        await asyncio.wait_for(serving, 15)
        await alice.close()


@pytest.mark.parametrize("rooms", ["encrypted", "plain"])
def test_the_chair_ordered_agreed_and_talked_over_in_encrypted_rooms(
    rooms, synapse, bot, bot_settings, register, sqlite_template, tmp_path
):
    """The people of one chair order, each on an encrypting client, through the real adapter,
    conversation, workers and MatrixSender: the figures of the run are printed (-s). The same
    run in plain rooms, people and bot without E2E, is the yardstick."""
    settings = e2e(bot_settings, tmp_path) if rooms == "encrypted" else bot_settings
    run = chair_run(synapse, bot, settings, register, sqlite_template, tmp_path)
    asyncio.run(asyncio.wait_for(run, RUN_DEADLINE_S))


async def chair_run(synapse, bot, settings, register, sqlite_template, tmp_path):
    names = ("dana", "ana", "fern", "gus")

    def person(name: str) -> MatrixPerson:
        if settings.e2e:
            return EncryptedPerson(synapse, register(name), bot.user_id, tmp_path / name)
        return MatrixPerson(synapse, register(name), bot.user_id)

    people = {name: person(name) for name in names}
    dana, ana, fern, gus = people.values()
    runtime, services, sender, conversation = chair_runtime(
        tmp_path, people, settings, sqlite_template
    )

    def serve() -> tuple[asyncio.Event, asyncio.Task]:
        stop = asyncio.Event()
        job = run_matrix(conversation, services.engine, settings, stop)
        return stop, asyncio.create_task(job)

    stop, serving = serve()
    try:
        began, cpu = time.monotonic(), time.process_time()
        await in_rooms_with_the_bot(services.engine, people.values(), bot.user_id)
        encryption = MEGOLM if settings.e2e else None
        for someone in people.values():
            assert await encryption_of(someone, someone.dm) == encryption

        # -- Dana orders in her encrypted direct room; every party gets its frame ------------
        order = await order_two_chairs(dana)
        await asyncio.gather(*(p.told(f"Order {order}: 2 × Chair") for p in people.values()))

        # -- the order's room is encrypted from its creation ---------------------------------
        invited = await asyncio.gather(*(p.accept_invites() for p in people.values()))
        await asyncio.to_thread(sender.memory.flush)
        room = Memory(services.engine).get(f"order_room:{order}")
        assert all(rooms == [room] for rooms in invited)
        assert await encryption_of(dana, room) == encryption

        # -- the parties agree, and one asserts a stage --------------------------------------
        for party in (ana, fern, gus):
            await party.ask(f"/agree {order}", "Noting your agreement")
        await asyncio.gather(
            *(p.told(f"Order {order} is agreed by everyone") for p in people.values())
        )
        stage = next(s for s, owner in owners(services, order).items() if owner == "fern")
        await fern.ask(f"/done {order} {stage}", f"Recording {stage}")
        await until(lambda: stage_status(services, order, stage) == "done")

        # -- both ways through the encrypted order room --------------------------------------
        await ana.ask(f"/say {order} Legs ship Monday", "Passing it on")
        relayed = (await dana.told("Legs ship Monday", room=room))[-1]
        assert relayed["body"].endswith(": Legs ship Monday")
        await dana.say(room, "Thanks Ana, Monday it is")

        async def ana_reads():
            said = [m for m in await ana.messages(room) if m["sender"] == dana.user_id]
            return [m["content"]["body"] for m in said]

        assert await eventually(ana_reads, timeout=20) == ["Thanks Ana, Monday it is"]
        kind = "m.room.encrypted" if settings.e2e else "m.room.message"
        for someone in (dana, ana):
            assert await raw_types(synapse, someone, room, bot.user_id) == {kind}

        # -- the stage picture, an encrypted attachment --------------------------------------
        image = await stage_picture(dana, order)
        media = image["file"] if settings.e2e else image
        assert media["url"].startswith("mxc://") and ("url" in image) != settings.e2e
        assert (await dana.picture(image)).startswith(b"\x89PNG")
        took, cpu = time.monotonic() - began, time.process_time() - cpu
        said = [m for p in people.values() for m in await p.messages(p.dm)]
        said += await dana.messages(room)
        messages = len(said)
        assert not [m for m in said if m["content"].get("body") == UNREADABLE]  # none was late
        print(
            f"\nthe chair run in {rooms_of(settings)} rooms: {took:.1f} s wall, {cpu:.1f} s CPU"
            f" of this process (bot, workers, people; not Synapse), {messages} messages"
        )

        # -- restarted, the bot reads the same rooms with the same device --------------------
        devices = devices_in(settings.store) if settings.e2e else {}
        assert set(devices) == ({"serve", "sender-1"} if settings.e2e else set())
        stop.set()
        await asyncio.wait_for(serving, 15)
        stop, serving = serve()
        await dana.ask(f"/stages {order}", "stages done")
        await ana.ask(f"/stages {order}", "stages done", room=room)
        await dana.ask(f"/terms {order}", "Parties:")
        assert (devices_in(settings.store) if settings.e2e else {}) == devices
    finally:
        stop.set()
        await asyncio.wait_for(serving, 15)
        runtime.stop()
        await asyncio.to_thread(sender.close)
        for someone in people.values():
            await someone.close()


def rooms_of(settings) -> str:
    return "encrypted" if settings.e2e else "plain"


async def stage_picture(person: MatrixPerson, order: int) -> dict:
    before = len([c for c in await person.from_bot() if c.get("msgtype") == "m.image"])
    await person.say(person.dm, f"/stages {order}")

    async def picture():
        images = [c for c in await person.from_bot() if c.get("msgtype") == "m.image"]
        return images[-1] if len(images) > before else None

    return await eventually(picture, timeout=20)


async def test_a_removed_party_gets_no_key_to_what_is_said_after(
    synapse, bot, bot_settings, register, sqlite_engine, tmp_path
):
    """An order room's key rotates when a party is removed (a re-plan released them)."""
    settings = e2e(bot_settings, tmp_path)
    slot = take(settings.store, "sender-1")
    client = await connect(settings, patient=False, slot=slot)
    dana, ana = (
        EncryptedPerson(synapse, register(name), bot.user_id, tmp_path / name)
        for name in ("dana", "ana")
    )

    try:
        for person in (dana, ana):
            await person.sync()  # their devices' keys uploaded
        rooms = OrderRooms(client, Memory(sqlite_engine))
        room = await rooms.open(12, [dana.user_id, ana.user_id])
        for person in (dana, ana):
            assert await person.accept_invites() == [room]
        before = await bot_says(synapse, client, room, dana, "Legs ship Monday")
        for person in (dana, ana):
            await person.told("Legs ship Monday", room=room)

        assert await rooms.remove(room, ana.user_id, "Your part of order 12 ended")
        after = await bot_says(synapse, client, room, dana, "Seats ship Tuesday")
        await dana.told("Seats ship Tuesday", room=room)
        assert after != before
        assert await room_keys(ana, client, room, before, after) == [True, False]
    finally:
        await client.close()
        slot.release()
        for person in (dana, ana):
            await person.close()


async def test_a_signed_out_device_gets_no_key_to_what_is_said_after(
    synapse, bot, bot_settings, register, sqlite_engine, tmp_path
):
    """A lost phone, signed out by the homeserver's admin (README: Devices, for a coordinator):
    the bot's next message has a new room key, which the lost device does not get."""
    settings = e2e(bot_settings, tmp_path)
    slot = take(settings.store, "sender-1")
    client = await connect(settings, patient=False, slot=slot)
    dana = EncryptedPerson(synapse, register("dana"), bot.user_id, tmp_path / "dana")
    login = await asyncio.to_thread(
        synapse.request,
        "POST",
        "/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": dana.user_id},
            "password": dana.person.password,
        },
    )
    phone = Person(dana.user_id, dana.person.password, login["access_token"], login["device_id"])
    lost = EncryptedPerson(synapse, phone, bot.user_id, tmp_path / "phone")
    try:
        for device in (dana, lost):
            await device.sync()  # its keys uploaded
        room = await DirectRooms(client, Memory(sqlite_engine)).room_for(dana.user_id)
        assert await dana.accept_invites() == [room]
        assert await encryption_of(dana, room) == MEGOLM  # the bot opens encrypted rooms
        before = await bot_says(synapse, client, room, dana, "Legs ship Monday")
        await lost.told("Legs ship Monday", room=room)

        admin = register("admin", admin=True)
        path = f"/_synapse/admin/v2/users/{dana.user_id}/devices/{phone.device_id}"
        await asyncio.to_thread(synapse.request, "DELETE", path, token=admin.access_token)
        after = await bot_says(synapse, client, room, dana, "Seats ship Tuesday")
        await dana.told("Seats ship Tuesday", room=room)
        assert after != before  # the phone cannot sync any more: the bot says whom it told
        told = client.olm.outbound_group_sessions[room].users_shared_with
        assert (dana.user_id, dana.person.device_id) in told
        assert (dana.user_id, phone.device_id) not in told
    finally:
        await client.close()
        slot.release()
        for device in (dana, lost):
            await device.close()


async def bot_says(synapse, client, room: str, reader: MatrixPerson, text: str) -> str:
    """Posts `text` in the room as the bot's device knows it after a sync (as the sender does);
    the session id of the room key it was encrypted with, as `reader` finds the event."""
    await client.sync(timeout=0)
    await keep_keys(client)
    await post(client, room, text_content(text))
    events = await raw_events(synapse, reader, room, client.user_id)
    return events[0]["content"]["session_id"]  # the newest first


async def room_keys(device: EncryptedPerson, bot, room: str, *sessions: str) -> list[bool]:
    """Whether the device holds each of the bot's room keys (by session id)."""
    await device.sync()
    sender_key = bot.olm.account.identity_keys["curve25519"]
    store = device.client.olm.inbound_group_store
    return [store.get(room, sender_key, session) is not None for session in sessions]


def test_health_says_whether_e2e_is_on_and_the_devices(synapse, bot, sqlite_template, tmp_path):
    store = tmp_path / "matrix-store"
    environ = {
        "MATRIX_HOMESERVER": synapse.url,
        "MATRIX_USER": bot.user_id,
        "MATRIX_PASSWORD": bot.password,
        "MATRIX_STORE": str(store),
    }

    def matrix(environ) -> str:
        checks = {c.name: c for c in check_all(f"sqlite:///{sqlite_template}", environ, 10)}
        assert checks["matrix"].healthy, checks["matrix"]
        return checks["matrix"].detail

    assert matrix(environ).endswith(
        f"; E2E on, no device yet in {store} (the first start logs one in)"
    )

    async def log_in_the_serve_device() -> str:
        slot = take(store, "serve")
        client = await connect(MatrixSettings.from_environment(environ), slot=slot)
        await client.close()
        slot.release()
        return client.device_id

    device = asyncio.run(log_in_the_serve_device())
    assert matrix(environ).endswith(f"; E2E on, devices serve {device}")
    assert "; E2E off" in matrix(environ | {"MATRIX_E2E": "off"})
