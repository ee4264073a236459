"""MatrixSender against a real Synapse: direct rooms, relays into order rooms, the outbox,
and what a refusal of the homeserver becomes."""

from __future__ import annotations

import asyncio

import pytest
from matrix_people import Someone, eventually, register_on_matrix
from nio import RoomGetStateEventResponse, RoomSendError
from sqlmodel import Session, select

from bots.bootstrap import application
from bots.matrix.memory import Memory
from bots.matrix.posting import MatrixUnavailable, refusal
from bots.matrix.sender import MatrixSender
from core.store.database import make_engine
from core.store.tables import Notification
from workers.delivery import deliver_pending
from workers.senders import Outgoing, PermanentFailure, RateLimited

FRAME = Outgoing(
    1,
    "Plan 1 for order 12 costs <b>40</b> & more",
    kind="frame",
    order_id=12,
    payload={"buttons": [["Agree", "/agree 12"], ["Decline", "/decline 12"], ["Help", "/help"]]},
)


def said(number: int, said_id: int, to_text: str = "the frames are ready") -> Outgoing:
    """As core/service/talk.py tells each party of an order what one of them said."""
    return Outgoing(
        number,
        f"Carol <3 on order 12: {to_text}",
        kind="said",
        order_id=12,
        payload={"said": said_id, "from": "carol", "from_name": "Carol <3"},
    )


def from_bot(messages: list[dict], bot: str) -> list[dict]:
    return [m["content"] for m in messages if m["sender"] == bot]


async def test_a_message_goes_to_one_direct_room_escaped_with_its_buttons(
    synapse, bot, bot_settings, register, sqlite_engine
):
    alice = Someone(synapse, register("alice"))
    sender = MatrixSender(bot_settings, sqlite_engine)
    try:
        await asyncio.to_thread(sender.send, alice.user_id, FRAME)
        # A frame is about an order only its parties see: its room is opened, alice invited.
        invited = await alice.accept_invites()
        sender.memory.flush()
        order_room = Memory(sqlite_engine).get("order_room:12")
        [room] = [r for r in invited if r != order_room]
        assert sorted(invited) == sorted([room, order_room])
        await asyncio.to_thread(sender.send, alice.user_id, Outgoing(2, "Second"))

        async def both():
            found = from_bot(await alice.messages(room), bot.user_id)
            return found if len(found) == 2 else None

        first, second = await both_or_fail(both)
        assert first["body"] == (
            "Plan 1 for order 12 costs <b>40</b> & more\n\n"
            "• Agree: /agree 12\n• Decline: /decline 12\n• Help: /help"
        )
        assert first["formatted_body"].startswith(
            "Plan 1 for order 12 costs &lt;b&gt;40&lt;/b&gt; &amp; more<ul>"
        )
        assert "<li>Decline: <code>/decline 12</code></li>" in first["formatted_body"]
        assert second["body"] == "Second"
        assert not (await alice.sync()).rooms.invite  # no second room for the second message
        direct = await alice.client.room_get_state_event(room, "m.room.member", alice.user_id)
        assert isinstance(direct, RoomGetStateEventResponse)
        sender.memory.flush()
        assert Memory(sqlite_engine).get(f"dm:{alice.user_id}") == room

        with pytest.raises(PermanentFailure, match="no Matrix account"):
            await asyncio.to_thread(sender.send, f"@nobody:{synapse.server_name}", FRAME)
    finally:
        await asyncio.to_thread(sender.close)
        await alice.close()


async def test_a_say_appears_once_in_the_order_room_for_all_its_parties(
    synapse, bot, bot_settings, register, sqlite_engine
):
    alice, bob, dave = (Someone(synapse, register(name)) for name in ("alice", "bob", "dave"))
    carol = Someone(synapse, register("carol"))
    sender = MatrixSender(bot_settings, sqlite_engine)
    try:
        room = await asyncio.to_thread(sender.open_order_room, 12, [alice.user_id, bob.user_id])
        assert await alice.accept_invites() == [room]
        assert await bob.accept_invites() == [room]
        # Opened again with a new party: the same room, and only the newcomer is invited.
        parties = [alice.user_id, bob.user_id, carol.user_id]
        assert await asyncio.to_thread(sender.open_order_room, 12, parties) == room
        assert await carol.accept_invites() == [room]
        name = await alice.client.room_get_state_event(room, "m.room.name")
        assert name.content["name"] == "Order 12"
        sender.memory.flush()
        assert Memory(sqlite_engine).get("order_room:12") == room
        members = await alice.client.room_get_state(room)
        invites = [e for e in members.events if e["type"] == "m.room.member"]  # one membership each
        assert sorted(e["state_key"] for e in invites) == sorted([bot.user_id, *parties])

        # Every party is told of the same /say; dave is not in the room, so his comes directly.
        for number, person in enumerate((alice, bob, carol, dave), start=10):
            await asyncio.to_thread(sender.send, person.user_id, said(number, said_id=7))
        [dave_room] = await dave.accept_invites()

        async def relayed():
            found = from_bot(await alice.messages(room), bot.user_id)
            return found or None

        await eventually(relayed)
        await asyncio.sleep(0.3)
        [post] = from_bot(await alice.messages(room), bot.user_id)
        assert post["msgtype"] == "m.text"
        assert post["body"] == "Carol <3: the frames are ready"
        assert post["formatted_body"] == "<b>Carol &lt;3</b>: the frames are ready"
        [direct] = await both_or_fail(lambda: _bot_posts(dave, dave_room, bot.user_id))
        assert direct["body"] == "Carol <3 on order 12: the frames are ready"  # the outbox's

        # A later /say is a new post; a redelivery of the old one is not.
        await asyncio.to_thread(sender.send, alice.user_id, said(20, said_id=8, to_text="ok"))
        await asyncio.to_thread(sender.send, bob.user_id, said(11, said_id=7))
        posts = await both_or_fail(
            lambda: _bot_posts(alice, room, bot.user_id, at_least=2), settle=0.3
        )
        assert [p["body"] for p in posts] == ["Carol <3: the frames are ready", "Carol <3: ok"]
        sender.memory.flush()
        assert Memory(sqlite_engine).get("said:7") is not None
    finally:
        await asyncio.to_thread(sender.close)
        for person in (alice, bob, carol, dave):
            await person.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_worker_processes_relaying_one_say_post_it_once(
    synapse, bot, bot_settings, register, database_url
):
    """Two senders (as two worker processes have) deliver the same /say to two parties of the
    room at the same moment: the relay is claimed in the database, and posted once."""
    engine = make_engine(database_url)
    alice, bob = (Someone(synapse, register(name)) for name in ("alice", "bob"))
    senders = [MatrixSender(bot_settings, engine) for _ in range(2)]
    try:
        parties = [alice.user_id, bob.user_id]
        room = await asyncio.to_thread(senders[0].open_order_room, 12, parties)
        await asyncio.gather(alice.accept_invites(), bob.accept_invites())
        await asyncio.to_thread(senders[0].memory.flush)
        for said_id in range(30, 36):  # several rounds: the race is a narrow one
            await asyncio.gather(
                asyncio.to_thread(senders[0].send, alice.user_id, said(said_id, said_id)),
                asyncio.to_thread(senders[1].send, bob.user_id, said(said_id + 100, said_id)),
            )
        posts = await both_or_fail(
            lambda: _bot_posts(alice, room, bot.user_id, at_least=6), settle=0.5
        )
        assert len(posts) == 6
    finally:
        for sender in senders:
            await asyncio.to_thread(sender.close)
        for person in (alice, bob):
            await person.close()
        engine.dispose()


async def test_the_outbox_delivers_through_the_matrix_sender(
    synapse, bot, bot_settings, register, engine
):
    """Inside the delivery's own transaction (on SQLite: holding the write lock) the sender
    must still remember the room it opened, without waiting for that lock."""
    alice = Someone(synapse, register("alice"))
    register_on_matrix(engine, "alice", alice.user_id)
    with Session(engine) as session, session.begin():
        for text in ("first", "second", "third"):
            session.add(Notification(participant_id="alice", kind="message", text=text))
    sender = MatrixSender(bot_settings, engine)
    try:
        drained = await asyncio.to_thread(
            deliver_pending, application(engine), {"matrix": sender}, "alice"
        )
        assert (drained.sent, drained.failed, drained.retry_after) == (3, 0, None)
        [room] = await alice.accept_invites()
        posts = await both_or_fail(lambda: _bot_posts(alice, room, bot.user_id, at_least=3))
        assert [p["body"] for p in posts] == ["first", "second", "third"]
        with Session(engine) as session:
            rows = session.exec(select(Notification).order_by(Notification.id)).all()
            assert [(r.status, r.platform) for r in rows] == [("sent", "matrix")] * 3
        sender.memory.flush()
        assert Memory(engine).get(f"dm:{alice.user_id}") == room
    finally:
        await asyncio.to_thread(sender.close)
        await alice.close()


async def test_the_homeservers_rate_limit_becomes_rate_limited(
    synapse, bot, bot_settings, register, sqlite_engine
):
    alice = Someone(synapse, register("alice"))
    admin = register("admin", admin=True)
    # One event, then one a second: Synapse's own limiter, lowered for the bot only.
    await asyncio.to_thread(
        synapse.request,
        "POST",
        f"/_synapse/admin/v1/users/{bot.user_id}/override_ratelimit",
        {"messages_per_second": 1, "burst_count": 1},
        admin.access_token,
    )
    sender = MatrixSender(bot_settings, sqlite_engine)
    try:
        with pytest.raises(RateLimited) as limited:
            for number in range(1, 6):
                await asyncio.to_thread(sender.send, alice.user_id, Outgoing(number, "hello"))
        assert 0 < limited.value.retry_after <= 1
        # After the wait the homeserver names, the same message goes.
        await asyncio.sleep(limited.value.retry_after)
        await asyncio.to_thread(sender.send, alice.user_id, Outgoing(number, "hello again"))
    finally:
        await asyncio.to_thread(sender.close)
        await alice.close()


def test_what_each_refusal_of_the_homeserver_means():
    """The error answers as matrix-nio builds them from the homeserver's JSON."""
    limited = RoomSendError.from_dict(
        {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 1500},
        "!room:x",
    )
    assert isinstance(refusal(limited, "post"), RateLimited)
    assert refusal(limited, "post").retry_after == 1.5
    unsaid = RoomSendError.from_dict({"errcode": "M_LIMIT_EXCEEDED", "error": "slow"}, "!r:x")
    assert refusal(unsaid, "post").retry_after == 5.0
    forbidden = RoomSendError.from_dict({"errcode": "M_FORBIDDEN", "error": "not in room"}, "!r")
    assert isinstance(refusal(forbidden, "post"), PermanentFailure)
    token = RoomSendError.from_dict({"errcode": "M_UNKNOWN_TOKEN", "error": "gone"}, "!r")
    assert isinstance(refusal(token, "post"), MatrixUnavailable)
    assert isinstance(refusal(RoomSendError.from_dict({}, "!r"), "post"), MatrixUnavailable)


async def _bot_posts(someone: Someone, room: str, bot: str, at_least: int = 1):
    found = from_bot(await someone.messages(room), bot)
    return found if len(found) >= at_least else None


async def both_or_fail(check, settle: float = 0.0):
    """`eventually`, then a moment more to catch anything posted twice."""
    found = await eventually(check)
    if settle:
        await asyncio.sleep(settle)
        found = await check()
    return found
