"""A photo is evidence (issue 16, finding 8), on Telegram: real `Update`s — a photo captioned
`/done ORDER STAGE`, a photo with no caption and then the button SCIS offers — fed to the real
Application over the real conversation on the chair world. Telegram's servers are an httpx
stand-in (telegram-test-api has no getFile, sendPhoto nor file downloads) that answers like them
and keeps every request. The buyer's outbox is then delivered by the real TelegramSender."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qsl

import httpx
import pytest
from chair_world import agreed_order, chair_services, owners
from sqlmodel import Session, select
from telegram import Update
from telegram.request import HTTPXRequest
from test_conversation import ACCOUNTS, Chat

from bots.telegram import TelegramSender, build_application
from bots.telegram.pacing import Pacing
from core.service.evidence import MAX_PICTURE_BYTES
from core.service.queries import order_state
from core.store.tables import AssertionRow, EvidencePicture, Notification, StageRow
from workers.delivery import deliver_pending

TOKEN = "424242:photos"
JPEG = b"\xff\xd8\xff\xe0" + b"a finished chair leg" * 50
JPEG_SIZE = len(JPEG)
ANA = int(ACCOUNTS["ana"][1])  # the maker: she owns the stages the photos prove
DANA = ACCOUNTS["dana"][1]  # the buyer


class TelegramStandIn:
    """Answers Bot API calls as Telegram would (getFile names a path, the file's URL gives its
    bytes) and keeps each request."""

    def __init__(self):
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if "/file/bot" in path:
            return httpx.Response(200, content=JPEG)
        method = path.rsplit("/", 1)[-1]
        if method == "getMe":
            result = {"id": 4242, "is_bot": True, "first_name": "SCIS", "username": "ScisBot"}
        elif method == "getFile":
            result = {"file_id": "ph-big", "file_unique_id": "u-big", "file_path": "photos/1.jpg"}
        elif method.startswith("send"):
            chat = {"id": ANA, "type": "private", "first_name": "Ana"}
            result = {"message_id": len(self.requests), "date": 1_700_000_000, "chat": chat}
        else:
            result = True
        return httpx.Response(200, json={"ok": True, "result": result})

    def calls(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/" + method)]

    def texts(self) -> list[str]:
        return [fields(r).get("text", "") for r in self.calls("sendMessage")]

    def keyboard(self) -> dict[str, str]:
        """The buttons of the last message sent, label → callback data."""
        markup = fields(self.calls("sendMessage")[-1]).get("reply_markup") or "{}"
        rows = json.loads(markup).get("inline_keyboard", [])
        return {b["text"]: b["callback_data"] for row in rows for b in row}


def fields(request: httpx.Request) -> dict:
    """A Bot API call's parameters: python-telegram-bot posts a form, the sender JSON."""
    request.read()
    if request.headers.get("content-type", "").startswith("application/json"):
        return {
            k: v if isinstance(v, str) else json.dumps(v)
            for k, v in json.loads(request.content).items()
        }
    return dict(parse_qsl(request.content.decode()))


class NoWait(Pacing):
    def wait(self, chat_id) -> None:
        return None


def photo_update(update_id: int, message_id: int, caption: str | None, size=JPEG_SIZE) -> dict:
    person = {"id": ANA, "is_bot": False, "first_name": "Ana"}
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": ANA, "type": "private", "first_name": "Ana"},
        "from": person,
        "photo": [  # Telegram sends every size it made, smallest first
            {"file_id": "ph-small", "file_unique_id": "u-s", "width": 90, "height": 90},
            {
                "file_id": "ph-big",
                "file_unique_id": "u-big",
                "width": 1280,
                "height": 960,
                "file_size": size,
            },
        ],
    }
    if caption is not None:
        message["caption"] = caption
    return {"update_id": update_id, "message": message}


def press_update(update_id: int, data: str) -> dict:
    person = {"id": ANA, "is_bot": False, "first_name": "Ana"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": person,
            "chat_instance": "c",
            "data": data,
        },
    }


@pytest.fixture
def world(engine):
    """The chair order agreed, Ana's bot on the stand-in; feed(updates) gives them to it."""
    services = chair_services(engine)
    order = agreed_order(services)
    telegram = TelegramStandIn()

    def request():
        return HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(telegram)})

    application = build_application(Chat(services).conversation, engine, TOKEN, request=request)

    def feed(*updates: dict) -> None:
        async def run():
            async with application:
                for update in updates:
                    await application.process_update(Update.de_json(update, application.bot))

        asyncio.run(run())

    return services, order, telegram, feed


def anas_stages(services, order: int) -> list[str]:
    return sorted(
        (stage for stage, owner in owners(services, order).items() if owner == "ana"),
        key=lambda s: int(s[1:]),
    )


def kept_evidence(services, order: int, stage: str) -> list[EvidencePicture]:
    def read(session: Session):
        return session.exec(
            select(EvidencePicture)
            .join(AssertionRow, AssertionRow.id == EvidencePicture.assertion_id)
            .join(StageRow, StageRow.id == AssertionRow.stage_id)
            .where(StageRow.code == stage, AssertionRow.participant_id == "ana")
        ).all()

    return services.read(read)


def deliver_to_dana(services) -> TelegramStandIn:
    telegram = TelegramStandIn()
    client = httpx.Client(transport=httpx.MockTransport(telegram))
    sender = TelegramSender(TOKEN, services.engine, client=client, pacing=NoWait())
    deliver_pending(services, {"telegram": sender}, "dana")
    return telegram


def photo_sent(request: httpx.Request) -> tuple[str, str, bytes]:
    """(chat id, caption, the photo's bytes) of a sendPhoto as sent, multipart."""
    request.read()
    content_type = request.headers["content-type"]
    boundary = content_type.split("boundary=")[1].encode()
    fields = {}
    for part in request.content.split(b"--" + boundary)[1:-1]:
        head, _, body = part.partition(b"\r\n\r\n")
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        fields[name] = body.removesuffix(b"\r\n")
    return fields["chat_id"].decode(), fields.get("caption", b"").decode(), fields["photo"]


def test_a_photo_captioned_done_proves_the_stage_and_the_buyer_sees_it(world):
    services, order, telegram, feed = world
    stage = anas_stages(services, order)[0]

    feed(photo_update(1, 10, f"/done {order} {stage}"))

    assert any(f"Recording {stage} of order {order} as done" in t for t in telegram.texts())
    assert any("photo goes with it" in t for t in telegram.texts())
    # Handed to the workers: "typing…" until their confirmation comes.
    [typing] = telegram.calls("sendChatAction")
    assert fields(typing) == {"chat_id": str(ANA), "action": "typing"}
    assert services.read(lambda s: order_state(s, order).stages[stage]) == "done"
    [kept] = kept_evidence(services, order, stage)
    assert kept.data == JPEG and kept.content_type == "image/jpeg"
    assert (kept.platform, kept.reference) == ("telegram", "ph-big")  # the largest size
    # Downloaded through getFile, as Telegram hands files out.
    assert [fields(r)["file_id"] for r in telegram.calls("getFile")] == ["ph-big"]

    dana = deliver_to_dana(services)
    [sent] = dana.calls("sendPhoto")
    chat, caption, data = photo_sent(sent)
    assert chat == DANA and data == JPEG
    assert f"Order {order}: {stage}" in caption and "sent this photo" in caption

    # /stages and /history mark the stage proved by a photo.
    chat_with = Chat(services)
    assert any(
        line.split()[1] == stage and "📷 photo" in line
        for line in chat_with.says("ana", f"/stages {order}").splitlines()
        if line[:1] in "✓·✗"
    )
    assert "📷 photo" in chat_with.says("dana", f"/history {order}")


def test_a_photo_without_caption_asks_which_stage_and_the_button_proves_it(world):
    services, order, telegram, feed = world
    first = anas_stages(services, order)[0]

    feed(photo_update(2, 20, None))

    assert "Which stage does this photo prove?" in telegram.texts()[-1]
    buttons = telegram.keyboard()
    assert f"/done {order} {first}" in buttons.values()
    assert services.read(lambda s: s.exec(select(EvidencePicture)).all())  # kept, pending

    feed(press_update(3, f"/done {order} {first}"))

    assert any(f"Recording {first} of order {order} as done" in t for t in telegram.texts())
    assert services.read(lambda s: order_state(s, order).stages[first]) == "done"
    [kept] = kept_evidence(services, order, first)
    assert kept.data == JPEG
    proved = [n for n in Chat(services).outbox("dana") if n.kind == "proved"]
    assert [n.payload["picture"] for n in proved] == [kept.id]


def test_done_alone_lists_the_open_stages_as_buttons(world):
    services, order, telegram, feed = world
    chat = Chat(services)
    [reply] = chat.send("ana", "/done")
    commands = [button.command for row in reply.buttons for button in row]
    assert commands and all(c.startswith(f"/done {order} s") for c in commands)
    assert "Which stage is done?" in reply.text
    # Someone who owes nothing hears so, with no buttons.
    [nothing] = chat.send("carol", "/done")
    assert "no open stages" in nothing.text and not nothing.buttons


def test_a_photo_too_large_is_refused_with_one_line_and_not_downloaded(world):
    services, order, telegram, feed = world
    stage = anas_stages(services, order)[0]

    feed(photo_update(4, 40, f"/done {order} {stage}", size=MAX_PICTURE_BYTES + 1))

    assert "too large" in telegram.texts()[-1]
    assert not telegram.calls("getFile")
    assert services.read(lambda s: order_state(s, order).stages[stage]) == "pending"
    assert not services.read(lambda s: s.exec(select(EvidencePicture)).all())


def test_a_refused_assertion_keeps_no_photo(world):
    services, order, telegram, feed = world
    theirs = next(s for s, owner in owners(services, order).items() if owner not in ("ana", None))

    feed(photo_update(5, 50, f"/done {order} {theirs}"))

    assert "belongs to" in telegram.texts()[-1]
    assert not telegram.calls("sendChatAction")  # refused at once: nothing is at work
    assert services.read(lambda s: order_state(s, order).stages[theirs]) == "pending"
    assert not services.read(lambda s: s.exec(select(EvidencePicture)).all())
    assert not services.read(
        lambda s: s.exec(select(Notification).where(Notification.kind == "proved")).all()
    )
