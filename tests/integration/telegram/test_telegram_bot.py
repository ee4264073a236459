"""The real PTB Application, long polling telegram-test-api: what a person says reaches the
conversation, and its replies come back escaped, with buttons that work when pressed."""

from __future__ import annotations

import pytest
from emulator_request import EmulatorRequest
from telegram_harness import LONG_COMMAND, BotThread, StandInConversation

from bots.conversation.messages import Incoming
from bots.telegram import build_application
from bots.telegram.updates import EXPIRED_BUTTON


@pytest.fixture
def bot(telegram_emulator, sqlite_engine):
    """A running bot of a token of its own; yields (conversation, user, calls, engine)."""
    token = telegram_emulator.new_token("polling")
    conversation = StandInConversation()
    calls: list[str] = []
    application = build_application(
        conversation,
        sqlite_engine,
        token,
        base_url=telegram_emulator.bot_api_url,
        request=lambda: EmulatorRequest(calls),
    )
    with BotThread(application):
        yield conversation, telegram_emulator.user(token), calls


def test_a_command_gets_the_conversations_replies_escaped_with_buttons(bot):
    conversation, user, _calls = bot
    user.says("/start")
    welcome, then = user.receives(2)
    assert conversation.heard == [
        Incoming(
            platform="telegram",
            address=str(user.chat_id),
            message_id=f"{user.chat_id}:{conversation.heard[0].message_id.split(':')[1]}",
            text="/start",
            display_name="Ada",
        )
    ]
    assert conversation.heard[0].message_id.split(":")[1].isdigit()
    assert welcome["message"]["text"] == "Welcome &lt;b&gt;Ada&lt;/b&gt; &amp; co: pick a plan"
    assert welcome["message"]["parse_mode"] == "HTML"
    assert then["message"]["text"] == "Then /agree 12 when &lt;you&gt; are ready."
    assert "reply_markup" not in then["message"]
    [[plan, everyone]] = welcome["message"]["reply_markup"]["inline_keyboard"]
    assert plan == {"text": "Plan 1", "callback_data": "/choose 12 1"}
    assert everyone["text"] == "Tell everyone"
    # Too long for the 64 bytes of callback data: a key travels instead of the command.
    assert everyone["callback_data"].startswith("#")
    assert len(everyone["callback_data"].encode()) <= 64


def test_plain_text_reaches_the_conversation_as_said(bot):
    conversation, user, _calls = bot
    user.says("hello <there> & bye")
    [reply] = user.receives(1)
    assert conversation.texts() == ["hello <there> & bye"]
    assert reply["message"]["text"] == "You said: hello &lt;there&gt; &amp; bye"


def test_a_button_press_arrives_as_its_command_and_is_answered(bot):
    conversation, user, calls = bot
    user.says("/start")
    welcome, _ = user.receives(2)
    [[plan, everyone]] = welcome["message"]["reply_markup"]["inline_keyboard"]

    user.presses(welcome, plan["callback_data"])
    [chosen] = user.receives(1)
    assert chosen["message"]["text"] == "You said: /choose 12 1"
    pressed = conversation.heard[-1]
    assert pressed.text == "/choose 12 1"
    assert pressed.address == str(user.chat_id)
    assert pressed.message_id.startswith("callback:")
    assert calls.count("answerCallbackQuery") == 1

    user.presses(welcome, everyone["callback_data"])
    [relayed] = user.receives(1)
    assert conversation.heard[-1].text == LONG_COMMAND
    assert relayed["message"]["text"] == f"You said: {LONG_COMMAND}"
    assert calls.count("answerCallbackQuery") == 2
    assert len({i.message_id for i in conversation.heard}) == len(conversation.heard)


def test_a_button_this_scis_never_made_is_explained_not_obeyed(bot):
    conversation, user, calls = bot
    user.says("/start")
    welcome, _ = user.receives(2)
    user.presses(welcome, "#0123456789abcdef")
    [explained] = user.receives(1)
    assert explained["message"]["text"] == EXPIRED_BUTTON
    assert conversation.texts() == ["/start"]
    assert "answerCallbackQuery" in calls
