"""Issue 5's Telegram acceptance, end to end with the real parts: the same order as on Matrix,
played by people in their own Telegram chats (telegram-test-api users), through the real
python-telegram-bot Application long polling the emulator, the real conversation layer, the
Dramatiq actors on worker threads of this process, and the outbox delivered by TelegramSender.

The chair network (examples/chair.yaml + tests/scenarios/seat-maker.yaml) is copied with an
emulator chat id as every participant's Telegram contact. Before the story Hal's and Ivy's shops
and Fern's seats are out of service, so Dana's chair is made by Ana (the maker) from Fern's legs
and Gus's seat and back (the two suppliers) — and when Gus's seats sell out, no seat is left and
Dana is asked to approve foam seats instead.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from emulator_request import EmulatorRequest
from telegram_emulator import EmulatedUser, shown_text
from telegram_harness import BotThread, NoWait

from bots.bootstrap import Settings, bootstrap
from bots.telegram import TelegramSender, build_application
from core.importers import load_network
from core.service.commands import Disrupt
from core.store.database import make_engine

PROJECT = Path(__file__).resolve().parents[3]
NETWORK = [PROJECT / "examples" / "chair.yaml", PROJECT / "tests" / "scenarios" / "seat-maker.yaml"]
CHAT_BASE = 7_300_000  # emulator chat ids, far from the network files' invented ones
OUT_BEFORE = ("hal-shop", "ivy-studio", "fern-seats")  # so the plan needs Gus's seat
PARTIES = ("ana", "fern", "gus")
GUS_SEATS = "Seat from Gus Pappas Upholstery"  # the offer gus-seats, as alerts name it
# /stages names each owner (names may hold commas; a state holds none).
STAGE_LINE = re.compile(r"^([·✓✗]) (s\d+) (\w+) (\d+) × (.+?) — (.+), ([^,]+)$")
WAIT_S = 15  # for one message: the workers and both ways to Telegram, with room for a slow CI


def emulated_network(directory: Path) -> tuple[list[Path], dict[str, int]]:
    """The chair network's files with each participant's contacts replaced by an emulator chat
    id (so every frame names reachable accounts); returns the files and the chat ids."""
    chat_ids: dict[str, int] = {}
    files = []
    for source in NETWORK:
        document = yaml.safe_load(source.read_text())
        for participant in document["participants"]:
            chat_ids[participant["id"]] = CHAT_BASE + len(chat_ids) + 1
            participant["contacts"] = {"telegram": str(chat_ids[participant["id"]])}
        target = directory / source.name
        target.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        files.append(target)
    return files, chat_ids


@pytest.fixture
def telegram_world(telegram_emulator, sqlite_template, tmp_path):
    """SCIS as `scis serve` runs it (the in-process broker and worker threads), on Telegram
    only: yields (people, chat ids, pictures)."""
    database = tmp_path / "scis.db"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite:///{database}"
    files, chat_ids = emulated_network(tmp_path)
    token = telegram_emulator.new_token("order-scenario")
    # The sender keeps long button commands in the same database the bot reads them from.
    sender_engine = make_engine(url)
    sender = TelegramSender(
        token, sender_engine, base_url=telegram_emulator.bot_api_url, pacing=NoWait()
    )
    runtime = bootstrap(Settings(database_url=url, threads=4), senders={"telegram": sender})
    try:
        runtime.load_networks(files)
        for resource in OUT_BEFORE:
            runtime.services.handle(Disrupt("rita", resource, "away this week"))
        conversation = runtime.conversation()
        pictures: list[tuple[int, str, str]] = []
        application = build_application(
            conversation,
            runtime.services.engine,
            token,
            base_url=telegram_emulator.bot_api_url,
            request=lambda: EmulatorRequest(pictures=pictures),
        )
        people = {
            name: telegram_emulator.user(token, chat_id=chat_id, first_name=name.title())
            for name, chat_id in chat_ids.items()
        }
        with BotThread(application):
            yield people, chat_ids, pictures
    finally:
        runtime.stop()
        sender.close()
        sender_engine.dispose()


def keyboard(message: dict) -> dict[str, str]:
    """A bot message's buttons, label → callback data."""
    rows = message["message"].get("reply_markup", {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


def says(person: EmulatedUser, text: str, expect: str) -> dict:
    """The person sends `text`; the bot's immediate reply must contain `expect`."""
    person.says(text)
    return person.gets(expect, WAIT_S)


def presses(person: EmulatedUser, message: dict, label: str, expect: str) -> dict:
    """The person presses the button `label` under `message`; the reply must hold `expect`."""
    data = keyboard(message)[label]
    person.presses(message, data)
    return person.gets(expect, WAIT_S)


def picture_sent(pictures: list, chat_id: int, caption: str) -> bool:
    """Whether the bot sent the chat a picture with the caption; it follows the text, so it may
    take a moment."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if any(chat == chat_id and said == caption for chat, _method, said in pictures):
            return True
        time.sleep(0.05)
    return False


def stage_lines(text: str) -> list[tuple[str, str, str, str, str]]:
    """(mark, stage id, kind, item, owner id) of each stage in a /stages reply."""
    known = load_network(NETWORK).network.participants.values()
    id_of = {participant.name: participant.id for participant in known}
    found = [STAGE_LINE.match(line) for line in text.splitlines()]
    return [(m[1], m[2], m[3], m[5], id_of.get(m[6], m[6])) for m in found if m]


def test_the_chair_order_on_telegram_from_order_to_completion(telegram_world):
    people, chat_ids, pictures = telegram_world
    dana, ana, fern, gus, hana = (people[n] for n in ("dana", "ana", "fern", "gus", "hana"))

    # Dana orders; the plans come later, from the workers through the outbox, with buttons.
    says(dana, "/order chair 1", "I'll message you when your plans are ready")
    plans = dana.gets("ways to deliver it", WAIT_S)
    order = int(re.match(r"Order (\d+):", shown_text(plans))[1])
    assert keyboard(plans)["Choose 1"] == f"/choose {order} 1"
    assert "1. 35.50 + B, price open" in shown_text(plans)  # what is known of the price

    # She chooses by pressing; every party, on its own chat, gets its frame.
    presses(dana, plans, "Choose 1", f"Choosing plan 1 for order {order}")
    frames = {name: people[name].gets(f"Order {order}: 1 × Chair", WAIT_S) for name in PARTIES}
    frames["dana"] = dana.gets(f"Order {order}: 1 × Chair", WAIT_S)
    assert "You are the buyer" in shown_text(frames["dana"])
    assert "Your part: make 1 × Chair." in shown_text(frames["ana"])
    assert "Your part: supply 4 × Chair leg." in shown_text(frames["fern"])
    assert "Your part: supply 1 × Seat." in shown_text(frames["gus"])
    for name, frame in frames.items():
        text = shown_text(frame)
        assert "P = K + 4·L + S + B = 35.50 + B" in text
        for other in {"dana", *PARTIES} - {name}:  # whom to reach, and how
            assert f"telegram {chat_ids[other]}" in text, (name, other)
        assert f"telegram {chat_ids[name]}" not in text
        details = {"Details": f"/terms {order}"}  # every price and contact, one press away
        if name == "dana":  # she agreed by choosing
            assert keyboard(frame) == details
        else:
            assert keyboard(frame) == {
                "Agree": f"/agree {order}",
                "Decline": f"/decline {order}",
                **details,
            }

    for name in PARTIES:
        presses(people[name], frames[name], "Agree", f"Noting your agreement to order {order}")
    for name in ("dana", *PARTIES):
        people[name].gets(f"Order {order} is agreed by everyone", WAIT_S)

    # The maker's view of the stages: the list, and the picture as a photo in her chat.
    listing = says(ana, f"/stages {order}", f"Order {order}: 0 of 14 stages done")
    # A wide stage graph goes as a document, a narrower one as a photo: either way, a picture.
    assert picture_sent(pictures, chat_ids["ana"], f"Order {order}")
    stages = stage_lines(shown_text(listing))
    assert len(stages) == 14
    legs = {kind: stage for _, stage, kind, item, who in stages if item == "Chair leg"}
    assert {who for *_, item, who in stages if item == "Chair leg"} == {"fern", "ana"}
    for kind in ("confirm", "ship"):  # the supplier's part of the legs, then the maker's
        says(fern, f"/done {order} {legs[kind]}", f"Recording {legs[kind]} of order {order}")
        fern.gets(f"Order {order}: {legs[kind]} {kind} is done", WAIT_S)
    says(ana, f"/done {order} {legs['receive']}", f"Recording {legs['receive']} of order {order}")
    ana.gets(f"Order {order}: {legs['receive']} receive is done", WAIT_S)

    # Gus's seats sell out: no seat is left, so Dana is asked about a substitute.
    says(gus, "/disrupt gus-seats sold out", "(gus-seats) is out of service")
    alert = dana.gets(f"Order {order}: {GUS_SEATS} is out of service (sold out)", WAIT_S)
    assert "no source of Seat is left" in shown_text(alert)
    # Everyone else in the plan hears it too, and that the buyer decides.
    for party in (ana, fern):
        party.gets(
            f"Order {order}: {GUS_SEATS} is out of service (sold out). It waits for a decision",
            WAIT_S,
        )
    approve = next(label for label in keyboard(alert) if label.startswith("Approve"))
    number = approve.split()[1]
    assert keyboard(alert)[f"Reject {number}"] == f"/reject {order} {number}"
    presses(dana, alert, approve, f"Approving substitution {number}")
    replanned = dana.gets(f"Order {order}: Seat replaced by Foam seat", WAIT_S)
    assert "Hana Foam Works" in shown_text(replanned)
    joined = hana.gets(f"Order {order}: 1 × Chair", WAIT_S)
    assert "Your part: supply 1 × Foam seat" in shown_text(joined)
    assert "P = K + 4·L + F + B" in shown_text(joined)  # F: the foam seat's price
    assert f"telegram {chat_ids['ana']}" in shown_text(joined)
    # The frame asks her to agree, and agreeing to a part of an order under way works.
    presses(hana, joined, "Agree", f"Noting your agreement to order {order}")
    hana.gets(f"Thanks — noted. Order {order} goes on with you", WAIT_S)
    # Gus's part shrank: no new frame to agree to, a word on what is still his.
    changed = gus.gets(f"Order {order}: Seat replaced by Foam seat", WAIT_S)
    assert "Your part is smaller now" in shown_text(changed)
    assert f"/stages {order}" in shown_text(changed)

    # Everyone does what is left, as the maker's /stages lists it; the order completes.
    now = says(ana, f"/stages {order}", f"Order {order}: 3 of")
    left = [(stage, who) for mark, stage, *_, who in stage_lines(shown_text(now)) if mark != "✓"]
    assert {who for _, who in left} == {"ana", "gus", "hana", "dana"}
    for stage, who in left:
        says(people[who], f"/done {order} {stage}", f"Recording {stage} of order {order}")
    for name in ("dana", "ana", "fern", "gus", "hana"):
        people[name].gets(f"Order {order} is complete. Thank you all!", WAIT_S)
    done = says(dana, f"/stages {order}", f"Order {order}:")
    assert all(mark == "✓" for mark, *_ in stage_lines(shown_text(done)))


def test_a_stranger_on_telegram_can_neither_see_assert_approve_nor_talk(telegram_world):
    people, _chat_ids, _pictures = telegram_world
    dana = people["dana"]
    says(dana, "/order chair 1", "I'll message you when your plans are ready")
    plans = dana.gets("ways to deliver it", WAIT_S)
    order = int(re.match(r"Order (\d+):", shown_text(plans))[1])
    presses(dana, plans, "Choose 1", f"Choosing plan 1 for order {order}")
    for name in PARTIES:
        frame = people[name].gets(f"Order {order}: 1 × Chair", WAIT_S)
        presses(people[name], frame, "Agree", "Noting your agreement")
    dana.gets(f"Order {order} is agreed by everyone", WAIT_S)

    stranger = EmulatedUser(dana.emulator, dana.token, CHAT_BASE + 999, "Mo")
    says(stranger, "/register buyer Mo", "Done — you are Mo (buyer) here now")
    says(stranger, f"/stages {order}", "only shown to its parties")
    refusal = f"Only the parties of order {order} can use"
    says(stranger, f"/done {order} s1", f"{refusal} /done, and you are not one of them")
    says(stranger, f"/approve {order} 1", f"{refusal} /approve, and you are not one of them")
    says(stranger, f"/say {order} psst, cheaper chairs here", f"{refusal} /say")

    # What the parties see is unchanged: nothing relayed, s1 not done.
    says(dana, f"/say {order} Thank you all!", "Passing it on")
    for name in PARTIES:
        people[name].gets("Thank you all!", WAIT_S)  # a real /say does arrive ...
        assert not any("cheaper chairs" in text for text in people[name].everything())
    assert not any("cheaper chairs" in text for text in dana.everything())
    listing = says(dana, f"/stages {order}", f"Order {order}: 0 of 14 stages done")
    assert stage_lines(shown_text(listing))[0][:2] == ("·", "s1")
    # ... and the stranger got nothing of the order: a welcome, and the bot's refusals.
    seen = stranger.everything()
    assert len(seen) == 6
    assert sum(t.startswith(("Welcome, Mo!", "Done — you are Mo")) for t in seen) == 2
    assert sum("only shown to its parties" in t or "not one of them" in t for t in seen) == 4
