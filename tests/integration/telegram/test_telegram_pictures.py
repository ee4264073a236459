"""Pictures: telegram-test-api has no sendPhoto or sendDocument, so real `Update`s are fed to
the real Application and its Bot API calls are captured at the HTTP layer, by an httpx transport
that stands in for Telegram's servers (it answers like them and keeps every request)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from telegram import Update
from telegram.request import HTTPXRequest
from telegram_harness import StandInConversation, png_of_size, text_update

from bots.telegram import build_application

TOKEN = "424242:pictures"


class TelegramStandIn:
    """Answers Bot API calls as Telegram would and keeps each request as httpx built it."""

    def __init__(self):
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        method = request.url.path.rsplit("/", 1)[-1]
        if method == "getMe":
            result = {"id": 4242, "is_bot": True, "first_name": "SCIS", "username": "ScisBot"}
        elif method.startswith("send"):
            chat = {"id": 5252, "type": "private", "first_name": "Ada"}
            result = {"message_id": len(self.requests), "date": 1_700_000_000, "chat": chat}
        else:
            result = True
        return httpx.Response(200, json={"ok": True, "result": result})

    def calls(self) -> list[tuple[str, httpx.Request]]:
        return [
            (r.url.path.rsplit("/", 1)[-1], r)
            for r in self.requests
            if not r.url.path.endswith("/getMe")
        ]


def answered(picture_size, engine) -> list[tuple[str, httpx.Request]]:
    telegram = TelegramStandIn()

    def request():
        return HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(telegram)})

    application = build_application(
        StandInConversation(picture_size), engine, TOKEN, request=request
    )

    async def feed():
        async with application:
            update = Update.de_json(text_update(9001, 5252, 1, "/stages 12"), application.bot)
            await application.process_update(update)

    asyncio.run(feed())
    return telegram.calls()


def form_field(request: httpx.Request, name: str) -> bytes:
    """A field of the multipart body, as sent."""
    request.read()
    found = re.search(
        rb'name="'
        + name.encode()
        + rb'"(?:; filename="[^"]*")?\r\n(?:[^\r\n]+\r\n)*\r\n(.*?)\r\n--',
        request.content,
        re.S,
    )
    assert found, f"no field {name} in {request.content[:300]!r}"
    return found.group(1)


@pytest.mark.parametrize(
    ("size", "method", "field"),
    [((900, 600), "sendPhoto", "photo"), ((1800, 700), "sendDocument", "document")],
    ids=["narrow-as-photo", "wide-as-document"],
)
def test_a_picture_goes_as_a_photo_unless_too_wide(size, method, field, sqlite_engine):
    calls = answered(size, sqlite_engine)
    assert [name for name, _ in calls] == ["sendMessage", method]
    text = calls[0][1]
    text.read()
    assert "text=Order+12" in text.content.decode()
    picture = calls[1][1]
    assert form_field(picture, field) == png_of_size(*size)
    assert b'filename="order-12.png"' in picture.content
    assert form_field(picture, "caption") == b"Stages &lt;of&gt; 12"
    assert form_field(picture, "parse_mode") == b"HTML"
    assert form_field(picture, "chat_id") == b"5252"
