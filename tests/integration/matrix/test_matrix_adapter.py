"""The Matrix adapter against a real Synapse, with real people on matrix-nio clients."""

from __future__ import annotations

import asyncio
import contextlib
import shutil

import pytest
from matrix_people import PNG, Someone, StandInConversation, eventually, has, register_on_matrix
from nio import DownloadError

from bots.matrix.adapter import NEXT_BATCH, MatrixAdapter, run_matrix
from bots.matrix.connection import MatrixLoginFailed, connect
from bots.matrix.memory import Memory
from bots.matrix.settings import MatrixSettings
from core.store.database import make_engine


@contextlib.asynccontextmanager
async def running(settings, conversation, engine, **options):
    """An adapter answering in the background (its own login, as a restarted bot has)."""
    client = await connect(settings)
    adapter = MatrixAdapter(client, conversation, engine, **options)
    await adapter.start()
    stop = asyncio.Event()
    task = asyncio.create_task(adapter.run(stop))
    try:
        yield adapter
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await client.close()


async def bot_replies(someone: Someone, room_id: str, bot: str, count: int) -> list[dict]:
    async def replies():
        found = [m for m in await someone.messages(room_id) if m["sender"] == bot]
        return found if len(found) >= count else None

    return await eventually(replies)


async def test_the_bot_logs_in_by_password_and_by_access_token(synapse, bot, register):
    by_password = await connect(
        MatrixSettings(homeserver=synapse.url, user=bot.user_id, password=bot.password)
    )
    by_token = await connect(
        MatrixSettings(homeserver=synapse.url, user=bot.user_id, access_token=bot.access_token)
    )
    try:
        assert by_password.user_id == by_token.user_id == bot.user_id
        assert (await by_password.whoami()).user_id == bot.user_id
        assert (await by_token.whoami()).device_id == bot.device_id
    finally:
        await by_password.close()
        await by_token.close()

    with pytest.raises(MatrixLoginFailed):
        await connect(MatrixSettings(homeserver=synapse.url, user=bot.user_id, password="wrong"))
    someone_else = register("other")
    with pytest.raises(MatrixLoginFailed, match="not MATRIX_USER"):
        await connect(
            MatrixSettings(
                homeserver=synapse.url, user=bot.user_id, access_token=someone_else.access_token
            )
        )


async def test_invites_are_joined_only_from_registered_people(
    synapse, bot, bot_settings, register, sqlite_engine
):
    alice, mallory = Someone(synapse, register("alice")), Someone(synapse, register("mallory"))
    register_on_matrix(sqlite_engine, "alice", alice.user_id)
    try:
        alices_room = await alice.direct_room_with(bot.user_id)
        mallorys_room = await mallory.direct_room_with(bot.user_id)
        async with running(bot_settings, StandInConversation(), sqlite_engine):

            async def answered():
                return (
                    await alice.membership(alices_room, bot.user_id) == "join"
                    and await mallory.membership(mallorys_room, bot.user_id) == "leave"
                )

            await eventually(answered)
            # A registered person's direct room is where the bot writes to them from now on.
            assert Memory(sqlite_engine).get(f"dm:{alice.user_id}") == alices_room
            assert Memory(sqlite_engine).get(f"dm:{mallory.user_id}") is None
    finally:
        await alice.close()
        await mallory.close()


async def test_a_message_gets_the_conversations_replies_escaped_with_buttons_and_picture(
    synapse, bot, bot_settings, register, sqlite_engine
):
    alice = Someone(synapse, register("alice"))
    register_on_matrix(sqlite_engine, "alice", alice.user_id)
    await alice.client.set_displayname("Alice <Baker>")
    conversation = StandInConversation()
    try:
        room = await alice.direct_room_with(bot.user_id)
        await alice.say(room, "said before the bot came in: not the bot's to answer")
        async with running(bot_settings, conversation, sqlite_engine):
            await eventually(lambda: has(alice.membership(room, bot.user_id), "join"))
            said = await alice.say(room, "hello <b>there</b> & co")
            [reply] = await bot_replies(alice, room, bot.user_id, 1)

            [incoming] = conversation.seen
            assert (incoming.platform, incoming.address, incoming.message_id) == (
                "matrix",
                alice.user_id,
                said,
            )
            assert (incoming.text, incoming.room) == ("hello <b>there</b> & co", room)
            assert incoming.display_name == "Alice <Baker>"

            content = reply["content"]
            assert content["format"] == "org.matrix.custom.html"
            assert content["body"] == (
                "echo: hello <b>there</b> & co\n\n• Choose plan 1: /choose 12 1\n• /help"
            )
            html = content["formatted_body"]
            assert html.startswith("echo: hello &lt;b&gt;there&lt;/b&gt; &amp; co")
            assert "<b>there</b>" not in html
            assert "<li>Choose plan 1: <code>/choose 12 1</code></li>" in html
            assert "<li><code>/help</code></li>" in html

            await alice.say(room, "/picture")
            replies = await bot_replies(alice, room, bot.user_id, 3)
            text, image = replies[1]["content"], replies[2]["content"]
            assert text["body"] == "Here are the stages of order 12."
            assert image["msgtype"] == "m.image"
            assert image["body"] == "Stages of order 12"
            assert image["filename"] == "order-12.png"
            assert image["info"] == {"mimetype": "image/png", "size": len(PNG), "w": 3, "h": 2}
            assert image["url"].startswith("mxc://")
            downloaded = await alice.client.download(mxc=image["url"])
            assert not isinstance(downloaded, DownloadError), downloaded
            assert downloaded.body == PNG
    finally:
        await alice.close()


async def test_a_restart_answers_only_what_is_new(
    synapse, bot, bot_settings, register, sqlite_engine, sqlite_template, tmp_path
):
    alice = Someone(synapse, register("alice"))
    register_on_matrix(sqlite_engine, "alice", alice.user_id)
    first, second = StandInConversation(), StandInConversation()
    try:
        room = await alice.direct_room_with(bot.user_id)
        async with running(bot_settings, first, sqlite_engine):
            await eventually(lambda: has(alice.membership(room, bot.user_id), "join"))
            await alice.say(room, "one")
            await bot_replies(alice, room, bot.user_id, 1)
        stored = Memory(sqlite_engine).get(NEXT_BATCH)
        assert stored

        # Said while the bot was away: more than one sync's timeline holds, so the adapter
        # must fetch the gap back to where it stopped.
        for text in ("two", "three", "four", "five"):
            await alice.say(room, text)
        async with running(bot_settings, second, sqlite_engine, timeline_limit=2):
            await bot_replies(alice, room, bot.user_id, 5)
            await asyncio.sleep(0.5)  # time to (wrongly) answer anything twice
        assert first.texts() == ["one"]
        assert second.texts() == ["two", "three", "four", "five"]
        assert Memory(sqlite_engine).get(NEXT_BATCH) != stored

        # The very first start of a bot with a new database answers none of the past.
        shutil.copyfile(sqlite_template, tmp_path / "fresh.db")
        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        register_on_matrix(fresh, "alice", alice.user_id)
        third = StandInConversation()
        try:
            async with running(bot_settings, third, fresh):
                await alice.say(room, "six")
                await bot_replies(alice, room, bot.user_id, 6)
        finally:
            fresh.dispose()
        assert third.texts() == ["six"]
    finally:
        await alice.close()


async def test_run_matrix_answers_until_told_to_stop(synapse, bot, register, sqlite_engine):
    """The entry point `scis serve` calls, configured as in production, from the environment."""
    settings = MatrixSettings.from_environment(
        {
            "MATRIX_HOMESERVER": synapse.url + "/",
            "MATRIX_USER": bot.user_id,
            "MATRIX_ACCESS_TOKEN": bot.access_token,
        }
    )
    alice = Someone(synapse, register("alice"))
    register_on_matrix(sqlite_engine, "alice", alice.user_id)
    conversation, stop = StandInConversation(), asyncio.Event()
    try:
        room = await alice.direct_room_with(bot.user_id)
        serving = asyncio.create_task(run_matrix(conversation, sqlite_engine, settings, stop))
        await eventually(lambda: has(alice.membership(room, bot.user_id), "join"))
        await alice.say(room, "/help")
        await bot_replies(alice, room, bot.user_id, 1)
        stop.set()  # in the middle of a 30 s long poll: it must not wait that out
        await asyncio.wait_for(serving, 3)
        assert conversation.texts() == ["/help"]
    finally:
        await alice.close()
