"""Issue 5's acceptance across platforms: one order whose parties chat on both, each through the
real parts — Dana (the buyer) and Fern (a supplier) on the test Synapse with real matrix-nio
clients; Ana (the maker), Gus (a supplier) and later Hana on telegram-test-api, through the real
python-telegram-bot Application long polling it. One SCIS runs both adapters over one
conversation layer, and its in-process workers deliver the outbox through both real senders.

The chair network with Hal's and Ivy's shops and Gus's seats out of service, as in the Matrix
scenario: Ana makes the chairs from Fern's legs and seats and Gus's backs. The order's Matrix
room is the negotiation thread: what a Telegram party says there is posted in it, attributed,
and what is typed in it reaches the Telegram parties. Fern's seats sell out, Dana approves foam
seats, Hana joins on Telegram, and everyone's stages complete the order.
"""

from __future__ import annotations

import asyncio
import re
import shutil

from chair_world import owners, stage_status
from emulator_request import EmulatorRequest
from matrix_people import (
    MatrixPerson,
    chair_network,
    in_rooms_with_the_bot,
    order_two_chairs,
    until,
)
from telegram_emulator import EmulatedUser, shown_text
from telegram_harness import BotThread, NoWait

from bots.bootstrap import Settings, bootstrap
from bots.conversation.rate_limit import RateLimiter
from bots.matrix.adapter import run_matrix
from bots.matrix.sender import MatrixSender
from bots.telegram import TelegramSender, build_application
from core.service.commands import Disrupt
from core.service.queries import order_state
from core.store.database import make_engine

ON_MATRIX = ("dana", "fern")
ON_TELEGRAM = {"ana": 7_400_001, "gus": 7_400_002, "hana": 7_400_003}
CLOSED = ("hal-shop", "ivy-studio", "gus-seats")
WAIT_S = 20


class TelegramPerson:
    """An emulated Telegram user, awaited from the test's event loop (the emulator's client is
    synchronous and polls)."""

    def __init__(self, user: EmulatedUser):
        self.user = user

    async def gets(self, fragment: str) -> dict:
        return await asyncio.to_thread(self.user.gets, fragment, WAIT_S)

    async def ask(self, text: str, expect: str) -> dict:
        await asyncio.to_thread(self.user.says, text)
        return await self.gets(expect)

    async def presses(self, message: dict, label: str, expect: str) -> dict:
        rows = message["message"].get("reply_markup", {}).get("inline_keyboard", [])
        data = {b["text"]: b["callback_data"] for row in rows for b in row}[label]
        await asyncio.to_thread(self.user.presses, message, data)
        return await self.gets(expect)

    async def everything(self) -> list[str]:
        return await asyncio.to_thread(self.user.everything)


async def test_one_order_negotiated_between_matrix_and_telegram(
    synapse, bot, bot_settings, register, telegram_emulator, sqlite_template, tmp_path
):
    accounts = {name: register(name) for name in ON_MATRIX}
    matrix = {
        name: MatrixPerson(synapse, account, bot.user_id) for name, account in accounts.items()
    }
    dana, fern = matrix["dana"], matrix["fern"]
    networks = chair_network(tmp_path, {name: p.user_id for name, p in matrix.items()}, ON_TELEGRAM)
    database = tmp_path / "scis.db"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite:///{database}"

    token = telegram_emulator.new_token("two-platforms")
    sender_engine = make_engine(url)
    senders = {
        "telegram": TelegramSender(
            token, sender_engine, base_url=telegram_emulator.bot_api_url, pacing=NoWait()
        )
    }
    runtime = bootstrap(Settings(database_url=url), senders=senders)
    runtime.load_networks(networks)
    services = runtime.services
    senders["matrix"] = MatrixSender(bot_settings, services.engine)
    for resource in CLOSED:
        services.handle(Disrupt("rita", resource, "closed for the season"))
    conversation = runtime.conversation(limiter=RateLimiter(per_minute=60_000, burst=1_000))
    telegram = {
        name: TelegramPerson(telegram_emulator.user(token, chat_id=chat, first_name=name.title()))
        for name, chat in ON_TELEGRAM.items()
    }
    ana, gus, hana = telegram["ana"], telegram["gus"], telegram["hana"]
    application = build_application(
        conversation,
        services.engine,
        token,
        base_url=telegram_emulator.bot_api_url,
        request=EmulatorRequest,
    )
    telegram_bot = BotThread(application)
    stop = asyncio.Event()
    matrix_bot = asyncio.create_task(run_matrix(conversation, services.engine, bot_settings, stop))
    try:
        await asyncio.to_thread(telegram_bot.__enter__)
        await in_rooms_with_the_bot(services.engine, matrix.values(), bot.user_id)

        # -- Dana orders on Matrix; each party gets its frame where it chats ------------------
        order = await order_two_chairs(dana)
        heading = f"Order {order}: 2 × Chair"
        fern_frame = (await fern.told(heading))[-1]["body"]
        ana_frame, gus_frame = await asyncio.gather(ana.gets(heading), gus.gets(heading))
        assert "Your part: make 2 × Chair" in shown_text(ana_frame)
        assert "Your part: supply 2 × Chair back" in shown_text(gus_frame)
        # Whom to reach, on whichever platform they are.
        # Ana's first frame leads with her own parts (she makes the chairs and delivers them);
        # her whole frame names everyone and how to reach them, on whichever platform.
        terms = await telegram["ana"].ask(f"/terms {order}", f"matrix {fern.user_id}")
        assert f"matrix {fern.user_id}" in shown_text(terms)
        assert f"matrix {dana.user_id}" in shown_text(gus_frame)
        assert f"telegram {ON_TELEGRAM['ana']}" in fern_frame

        # -- the order's room holds its Matrix parties; the Telegram ones are relayed ---------
        invited = await asyncio.gather(dana.accept_invites(), fern.accept_invites())
        room = invited[0][0]
        assert invited == [[room], [room]]
        state = await dana.client.room_get_state(room)
        members = {e["state_key"] for e in state.events if e["type"] == "m.room.member"}
        assert members == {dana.user_id, fern.user_id, bot.user_id}

        # -- agreement: by button on Telegram, by command on Matrix --------------------------
        for person, frame in ((ana, ana_frame), (gus, gus_frame)):
            await person.presses(frame, "Agree", f"Noting your agreement to order {order}")
        await fern.ask(f"/agree {order}", "Noting your agreement")
        agreed = f"Order {order} is agreed by everyone"
        await asyncio.gather(
            dana.told(agreed), fern.told(agreed), ana.gets(agreed), gus.gets(agreed)
        )

        # -- one thread: Telegram words in the room, the room's words on Telegram -------------
        await ana.ask(f"/say {order} Legs get glued Monday", "Passing it on")
        posted = (await dana.told("Legs get glued Monday", room=room))[-1]
        assert posted["body"] == "Ana's Woodshop: Legs get glued Monday"
        assert posted["formatted_body"] == "<b>Ana&#x27;s Woodshop</b>: Legs get glued Monday"
        heard = await gus.gets("Legs get glued Monday")
        # Ana has no Telegram username: her participant id tells who speaks.
        assert shown_text(heard) == f"Ana's Woodshop (ana) on order {order}: Legs get glued Monday"

        await fern.say(room, "Legs leave my shop Friday")  # plain words, typed in the room
        for person in (ana, gus):
            heard = await person.gets("Legs leave my shop Friday")
            assert shown_text(heard) == (
                f"Fern & Co. Chair Parts ({fern.user_id}) on order {order}: "
                "Legs leave my shop Friday"
            )
        # Dana read it in the room; the bot did not post it there again.
        assert [c["body"] for c in await dana.from_bot(room)] == [posted["body"]]

        # -- stages, from both platforms --------------------------------------------------------
        async def done(owner: str, stage: str) -> None:
            says = f"/done {order} {stage}"
            if owner in telegram:
                await telegram[owner].ask(says, f"Recording {stage} of order {order}")
            else:
                await matrix[owner].ask(says, f"Recording {stage}")
            await until(lambda: stage_status(services, order, stage) == "done")

        who = owners(services, order)
        for stage in [s for s in who if who[s] == "fern"][:2]:  # Fern's legs: confirm, ship
            await done("fern", stage)
        await done("ana", next(s for s in who if who[s] == "ana"))  # Ana receives them

        # -- Fern's seats sell out: the alert reaches everyone, on each platform --------------
        await fern.ask("/disrupt fern-seats sold out", "fern-seats")
        alert = (await dana.told("no source of Seat is left"))[-1]["body"]
        number = int(re.search(rf"/approve {order} (\d+)", alert).group(1))
        warning = f"Order {order}: Seat from Fern & Co. Chair Parts is out of service (sold out)"
        await asyncio.gather(ana.gets(warning), gus.gets(warning), fern.told(warning))
        await dana.ask(f"/approve {order} {number}", "Approving substitution")
        joined = await hana.gets(heading)  # Hana joins where she chats
        assert "Your part: supply 2 × Foam seat" in shown_text(joined)
        assert f"matrix {dana.user_id}" in shown_text(joined)
        await hana.presses(joined, "Agree", f"Noting your agreement to order {order}")

        # -- everything else gets done, and everyone hears that the order is complete ---------
        who = owners(services, order)
        for stage, owner in who.items():
            if stage_status(services, order, stage) != "done":
                await done(owner, stage)
        complete = f"Order {order} is complete"
        await asyncio.gather(
            *(person.told(complete) for person in matrix.values()),
            *(person.gets(complete) for person in telegram.values()),
        )
        assert services.read(lambda s: order_state(s, order)).status == "completed"
        # Nobody on Telegram was told anything twice by the relay.
        for person in telegram.values():
            relayed = [t for t in await person.everything() if " on order " in t]
            assert len(relayed) == len(set(relayed))
    finally:
        stop.set()
        await asyncio.wait_for(matrix_bot, 15)
        await asyncio.to_thread(telegram_bot.__exit__, None, None, None)
        runtime.stop()
        await asyncio.to_thread(senders["matrix"].close)
        senders["telegram"].close()
        sender_engine.dispose()
        for person in matrix.values():
            await person.close()
