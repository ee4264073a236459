"""A photo is evidence (issue 16, finding 8), on Matrix: against the test Synapse, Ana uploads a
picture and sends an m.image captioned `/done ORDER STAGE` (Matrix 1.10: the body is the
caption when a filename is set apart from it) to the real adapter over the real conversation;
the stage is done, the picture kept, and the real MatrixSender shows it to Dana, the buyer."""

from __future__ import annotations

import asyncio
import io

from chair_world import agreed_order, chair_services, owners
from matrix_people import MatrixPerson, eventually
from nio import TypingNoticeEvent, UploadResponse
from sqlmodel import Session, select
from test_conversation import Chat
from test_matrix_adapter import running

from bots.matrix.memory import Memory
from bots.matrix.sender import MatrixSender
from core.service.queries import order_state
from core.store.tables import AssertionRow, ChatIdentity, EvidencePicture
from workers.delivery import deliver_pending

JPEG = b"\xff\xd8\xff\xe0" + b"a finished chair leg, glued" * 40


def on_matrix(engine, participant: str, user_id: str) -> None:
    with Session(engine) as session, session.begin():
        session.add(ChatIdentity(platform="matrix", address=user_id, participant_id=participant))


async def send_image(person: MatrixPerson, body: str, filename: str | None) -> str:
    """Uploads JPEG and posts it as an m.image; the mxc URI."""
    uploaded, _ = await person.client.upload(
        lambda *_: io.BytesIO(JPEG), content_type="image/jpeg", filesize=len(JPEG)
    )
    assert isinstance(uploaded, UploadResponse), uploaded
    content = {
        "msgtype": "m.image",
        "body": body,
        "url": uploaded.content_uri,
        "info": {"mimetype": "image/jpeg", "size": len(JPEG)},
    }
    if filename:
        content["filename"] = filename
    sent = await person.client.room_send(person.dm, "m.room.message", content)
    assert hasattr(sent, "event_id"), sent
    return uploaded.content_uri


async def test_an_image_captioned_done_proves_the_stage_and_the_buyer_sees_it(
    synapse, bot, bot_settings, register, engine
):
    services = chair_services(engine)
    order = agreed_order(services)
    stage = next(s for s, owner in sorted(owners(services, order).items()) if owner == "ana")
    ana = MatrixPerson(synapse, register("ana"), bot.user_id)
    dana = MatrixPerson(synapse, register("dana"), bot.user_id)
    on_matrix(engine, "ana", ana.user_id)
    sender = MatrixSender(bot_settings, engine)
    try:
        await ana.open_dm()
        async with running(bot_settings, Chat(services).conversation, engine):
            await eventually(lambda: _joined(ana, bot.user_id))
            mxc = await send_image(ana, f"/done {order} {stage}", "leg.jpg")
            [reply] = await ana.told(f"Recording {stage} of order {order} as done")
            assert "photo goes with it" in reply["body"]
            # Handed to the workers: the bot shows it is at work in her room.
            await eventually(lambda: _typing(ana, bot.user_id))

        assert services.read(lambda s: order_state(s, order).stages[stage]) == "done"

        def kept(session):
            return session.exec(
                select(EvidencePicture).join(
                    AssertionRow, AssertionRow.id == EvidencePicture.assertion_id
                )
            ).all()

        [picture] = services.read(kept)
        assert (picture.data, picture.content_type) == (JPEG, "image/jpeg")
        assert (picture.platform, picture.reference, picture.participant_id) == (
            "matrix",
            mxc,
            "ana",
        )

        # Dana, the buyer, is shown the photo with the stage's notice, in her direct room.
        on_matrix(engine, "dana", dana.user_id)
        await asyncio.to_thread(deliver_pending, services, {"matrix": sender}, "dana")
        await dana.accept_invites()  # her direct room with the bot, and the order's room
        dana.dm = Memory(engine).get(f"dm:{dana.user_id}")
        told = await dana.told(f"Order {order}: {stage}")
        assert "sent this photo" in told[-1]["body"]
        images = [c for c in await dana.from_bot() if c.get("msgtype") == "m.image"]
        [image] = images
        downloaded = await dana.client.download(mxc=image["url"])
        assert downloaded.body == JPEG
    finally:
        await asyncio.to_thread(sender.close)
        await ana.close()
        await dana.close()


async def test_an_image_named_only_by_its_file_asks_which_stage(
    synapse, bot, bot_settings, register, engine
):
    services = chair_services(engine)
    order = agreed_order(services)
    ana = MatrixPerson(synapse, register("ana"), bot.user_id)
    on_matrix(engine, "ana", ana.user_id)
    try:
        await ana.open_dm()
        async with running(bot_settings, Chat(services).conversation, engine):
            await eventually(lambda: _joined(ana, bot.user_id))
            await send_image(ana, "IMG_2041.jpg", None)
            [question] = await ana.told("Which stage does this photo prove?")
            assert f"/done {order} s" in question["body"]  # the open stages, to type
            stage = question["body"].split(f"/done {order} ")[1].split()[0]
            await ana.say(ana.dm, f"/done {order} {stage}")
            await ana.told("photo goes with it")
        assert services.read(lambda s: order_state(s, order).stages[stage]) == "done"
        assert len(services.read(lambda s: s.exec(select(EvidencePicture)).all())) == 1
    finally:
        await ana.close()


async def _typing(person: MatrixPerson, bot: str) -> bool:
    """Whether the bot is typing in the person's direct room, as her client's sync says."""
    answer = await person.client.sync(timeout=0, full_state=True)
    room = answer.rooms.join.get(person.dm)
    events = room.ephemeral if room is not None else []
    return any(isinstance(e, TypingNoticeEvent) and bot in e.users for e in events)


async def _joined(person: MatrixPerson, bot: str) -> bool:
    return await person.membership(person.dm, bot) == "join"
