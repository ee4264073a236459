"""TelegramSender, the outbox's way to Telegram: delivered through telegram-test-api, and its
reading of Telegram's errors against a local HTTP server that answers with the Bot API's own
error bodies (it stands in for Telegram because the emulator cannot produce them)."""

from __future__ import annotations

import json

import pytest
from telegram_errors import TelegramRefuses, serving

from bots.telegram.pacing import Pacing
from bots.telegram.sender import TelegramSender, TelegramUnavailable
from workers.senders import Outgoing, PermanentFailure, RateLimited


def test_a_message_with_buttons_is_delivered_escaped(telegram_emulator, sqlite_engine):
    token = telegram_emulator.new_token("sender")
    user = telegram_emulator.user(token, chat_id=6161)
    sender = TelegramSender(token, sqlite_engine, base_url=telegram_emulator.bot_api_url)
    frame = Outgoing(
        41,
        "Order 12: P = K + 4·L <draft> & more",
        kind="frame",
        order_id=12,
        payload={
            "buttons": [["Agree", "/agree 12"], ["Decline", "/decline 12"], ["Risk", "/risk 12"]]
        },
    )
    sender.send(str(user.chat_id), frame)
    sender.send(str(user.chat_id), Outgoing(42, "second"))
    first, second = user.receives(2)
    assert first["message"]["text"] == "Order 12: P = K + 4·L &lt;draft&gt; &amp; more"
    assert first["message"]["parse_mode"] == "HTML"
    assert first["message"]["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Agree", "callback_data": "/agree 12"},
                {"text": "Decline", "callback_data": "/decline 12"},
            ],
            [{"text": "Risk", "callback_data": "/risk 12"}],
        ]
    }
    assert second["message"]["text"] == "second"
    assert "reply_markup" not in second["message"]


class TelegramErrors(TelegramRefuses):
    """Stands in for Telegram: answers each chat id with the error Telegram gives for it."""

    ANSWERS = {
        "1": (
            429,
            {"description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}},
        ),
        "2": (403, {"description": "Forbidden: bot was blocked by the user"}),
        "3": (400, {"description": "Bad Request: chat not found"}),
        "4": (400, {"description": "Bad Request: message is too long"}),
        "5": (502, {"description": "Bad Gateway"}),
    }
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 — http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"path": self.path, **body})
        status, answer = self.ANSWERS[body["chat_id"]]
        self.refuse(status, **answer)


@pytest.fixture(scope="module")
def telegram_errors():
    with serving(TelegramErrors) as url:
        yield f"{url}/bot"


@pytest.mark.parametrize(
    ("chat", "outcome", "detail"),
    [
        ("1", RateLimited, "retry after 7 s"),
        ("2", PermanentFailure, "bot was blocked by the user"),
        ("3", PermanentFailure, "chat not found"),
        ("4", TelegramUnavailable, "message is too long"),
        ("5", TelegramUnavailable, "Bad Gateway"),
    ],
    ids=["429-waits", "403-blocked", "400-no-chat", "400-other-retried", "502-retried"],
)
def test_telegrams_errors_tell_the_delivery_what_to_do(
    chat, outcome, detail, telegram_errors, sqlite_engine
):
    sender = TelegramSender("77:errors", sqlite_engine, base_url=telegram_errors)
    with pytest.raises(outcome) as raised:
        sender.send(chat, Outgoing(1, "hello"))
    assert detail in str(raised.value)
    if outcome is RateLimited:
        assert raised.value.retry_after == 7
    assert TelegramErrors.seen[-1]["path"] == "/bot77:errors/sendMessage"


def test_pacing_lets_a_short_burst_through_then_one_a_second():
    now = [0.0]
    slept: list[float] = []
    pacing = Pacing(clock=lambda: now[0], sleep=slept.append)
    assert [pacing.wait("10") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacing.wait("10") == pytest.approx(1.0)
    assert pacing.wait("11") == 0.0  # another chat is not held up by the first
    assert [pacing.wait("-100") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacing.wait("-100") == pytest.approx(3.0)  # groups: 20 a minute
    assert slept == [pytest.approx(1.0), pytest.approx(3.0)]
    many = Pacing(clock=lambda: now[0], sleep=slept.append)
    waits = [many.wait(str(chat)) for chat in range(60)]
    assert waits[:30] == [0.0] * 30  # 30 a second over all chats
    assert waits[-1] == pytest.approx(30 / 30)
