"""The webhook: the real Application serving TELEGRAM_WEBHOOK_URL on a local port, replying
through telegram-test-api. Only requests with the secret token are taken, and an update
delivered again (Telegram retries a webhook it thinks failed) is answered once — also by a bot
that restarted in between, which remembers through the database."""

from __future__ import annotations

import httpx
import pytest
from database_servers import free_port
from emulator_request import EmulatorRequest
from telegram_harness import BotThread, StandInConversation, text_update

from bots.telegram import Webhook, build_application, webhook_from_environment
from bots.telegram.webhook import SECRET_HEADER

SECRET = "s3cret-token_for-the-tests"


def webhook_bot(emulator, engine, token, conversation, port):
    application = build_application(
        conversation, engine, token, base_url=emulator.bot_api_url, request=EmulatorRequest
    )
    url = f"http://127.0.0.1:{port}/telegram/hook"
    return BotThread(application, Webhook(url=url, secret=SECRET, listen="127.0.0.1", port=port))


@pytest.fixture
def hook(telegram_emulator, engine):
    token = telegram_emulator.new_token("webhook")
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"

    def post(update: dict, secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return httpx.post(url, json=update, headers=headers, timeout=5).status_code

    def start(conversation):
        return webhook_bot(telegram_emulator, engine, token, conversation, port)

    return start, post, telegram_emulator.user(token, chat_id=5151)


def test_only_requests_with_the_secret_token_are_taken(hook):
    start, post, user = hook
    conversation = StandInConversation()
    with start(conversation):
        assert post(text_update(7001, user.chat_id, 1, "forged"), secret=None) == 403
        assert post(text_update(7002, user.chat_id, 2, "forged"), secret="not-it") == 403
        assert post(text_update(7003, user.chat_id, 3, "genuine")) == 200
        [reply] = user.receives(1)
    assert reply["message"]["text"] == "You said: genuine"
    assert conversation.texts() == ["genuine"]


def test_an_update_delivered_twice_is_answered_once_even_across_a_restart(hook):
    start, post, user = hook
    first = StandInConversation()
    with start(first):
        assert post(text_update(8001, user.chat_id, 10, "/start")) == 200
        assert post(text_update(8001, user.chat_id, 10, "/start")) == 200
        user.receives(2)  # the two replies of one /start, and nothing more
    assert first.texts() == ["/start"]

    again = StandInConversation()
    with start(again):
        assert post(text_update(8001, user.chat_id, 10, "/start")) == 200
        assert post(text_update(8002, user.chat_id, 11, "next")) == 200
        [reply] = user.receives(1)
    assert reply["message"]["text"] == "You said: next"
    assert again.texts() == ["next"]


def test_the_webhook_is_configured_from_the_environment():
    assert webhook_from_environment({"TELEGRAM_TOKEN": "1:x"}) is None
    hook = webhook_from_environment(
        {"TELEGRAM_WEBHOOK_URL": "https://scis.example/tg/hook", "TELEGRAM_WEBHOOK_SECRET": "abc"}
    )
    assert (hook.path, hook.secret, hook.port) == ("/tg/hook", "abc", 8443)
    generated = webhook_from_environment({"TELEGRAM_WEBHOOK_URL": "https://scis.example/"})
    other = webhook_from_environment({"TELEGRAM_WEBHOOK_URL": "https://scis.example/"})
    assert len(generated.secret) >= 32 and generated.secret != other.secret
    assert "abc" not in repr(hook)
