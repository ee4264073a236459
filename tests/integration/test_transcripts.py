"""Issue 16's acceptance: what each role reads on hurricane-city, typed through the terminal
adapter exactly as `scis serve` wires it (bootstrap, the in-process workers, the terminal's
`Terminal` and `ConsoleSender`), the workers settled after every line.

Per role — buyer, maker, supplier, coordinator — the transcript must hold: a first frame of at
most 700 characters, `/help` in at most 12 lines, names rather than ids in frames, stages and
alerts, five plan lines that differ, and none of twenty bad commands acknowledged and then
refused.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session, select

from bots.bootstrap import EXAMPLE_NETWORK, App, Settings, bootstrap
from bots.console.sender import ConsoleSender
from bots.console.terminal import Terminal
from core.service.commands import SpeakForEveryone
from core.store.tables import Contract, ParticipantRow, StageRow
from workers.senders import Outgoing

BUYER, MAKER, SUPPLIER, COORDINATOR = (
    "clinica-loiza",
    "fablab-santurce",
    "plasticos-caribe",
    "marisol",
)
FIRST_FRAME = 700
HELP_LINES = 12


@dataclass
class Received:
    who: str
    message: Outgoing


@dataclass
class Transcript:
    """One person at the terminal playing everyone with /as; what each line got at once and what
    the outbox brought everyone after it."""

    app: App
    terminal: Terminal
    screen: io.StringIO
    inbox: list[Received]
    log: list[str] = field(default_factory=list)

    def type(self, who: str, line: str) -> tuple[str, list[Received]]:
        if self.terminal.speaker != who:
            self.terminal.say(f"/as {who}")
        start, seen = self.screen.tell(), len(self.inbox)
        self.terminal.say(line)
        at_once = self.screen.getvalue()[start:]
        assert self.app.settle(timeout=60), "the workers did not settle"
        later = self.inbox[seen:]
        self.log.append(
            f"{who}> {line}\n{at_once}" + "".join(f"→ {r.who}: {r.message.text}\n" for r in later)
        )
        return at_once, later

    def frames(self, who: str) -> list[str]:
        return [r.message.text for r in self.inbox if r.who == who and r.message.kind == "frame"]


class RecordingConsoleSender(ConsoleSender):
    """The terminal's own sender, keeping what it printed per recipient for the assertions."""

    def __init__(self, console: Console, inbox: list[Received]):
        super().__init__(console, lambda p: p)
        self.inbox = inbox

    def send(self, address: str, message: Outgoing) -> None:
        self.inbox.append(Received(address, message))
        super().send(address, message)


@pytest.fixture
def transcript(tmp_path: Path):
    screen = io.StringIO()
    console = Console(file=screen, width=200, highlight=False, soft_wrap=True)
    inbox: list[Received] = []
    sender = RecordingConsoleSender(console, inbox)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'scis.db'}", threads=2)
    app = bootstrap(settings, senders={sender.platform: sender})
    app.load_networks([], example=EXAMPLE_NETWORK)
    app.services.handle(SpeakForEveryone(sender.platform))  # as `scis serve` does
    terminal = Terminal(app.conversation(), console, app.participants, tmp_path / "pictures")
    yield Transcript(app, terminal, screen, inbox)
    app.stop()


def help_lines(text: str) -> list[str]:
    return [line for line in text.strip().splitlines() if line.strip()]


def participant_ids(t: Transcript) -> set[str]:
    with Session(t.app.services.engine) as session:
        return set(session.exec(select(ParticipantRow.id)).all())


def ids_outside_brackets(text: str, ids: set[str]) -> set[str]:
    """The ids a person reads where a name belongs: any outside (…) or […], where an id that
    must be typed may stand."""
    bare = re.sub(r"\([^()]*\)|\[[^\[\]]*\]", " ", text)
    words = set(re.findall(r"[\w.@:-]+", bare))
    return {i for i in ids if i in words}


def stages(t: Transcript, order_id: int) -> list[StageRow]:
    with Session(t.app.services.engine) as session:
        contract = session.exec(
            select(Contract).where(Contract.order_id == order_id).order_by(Contract.id.desc())
        ).first()
        return list(session.exec(select(StageRow).where(StageRow.contract_id == contract.id)).all())


def ordered_and_agreed(t: Transcript) -> tuple[int, set[str]]:
    """The buyer orders five face shields and chooses plan 1; every party agrees."""
    t.type(BUYER, "/order face shield 5")
    t.type(BUYER, "/choose 1 1")
    parties = {r.who for r in t.inbox if r.message.kind == "frame"} - {BUYER}
    for party in sorted(parties):
        t.type(party, "/agree 1")
    assert stages(t, 1), t.log[-1]
    return 1, parties


def test_buyer_reads_plans_apart_and_a_short_frame(transcript):
    t = transcript
    said, _ = t.type(BUYER, "/help")
    assert len(help_lines(said)) <= HELP_LINES, said
    assert "/order" in said and "/disrupt" not in said and "/done" not in said
    _, later = t.type(BUYER, "/order face shield 5")
    plans = "\n".join(r.message.text for r in later if r.who == BUYER)
    lines = [text for _, text in PLAN.findall(plans)]
    assert len(lines) == 5 and len(set(lines)) == 5, plans
    assert any("Fab Lab" in line or "makes" in line for line in lines), plans
    _, later = t.type(BUYER, "/choose 1 1")
    frame = t.frames(BUYER)[0]
    assert len(frame) <= FIRST_FRAME, (len(frame), frame)
    assert not ids_outside_brackets(frame, participant_ids(t)), frame
    assert "K[" not in frame and "p[" not in frame


def test_maker_reads_a_short_frame_and_stages_by_name(transcript):
    t = transcript
    said, _ = t.type(MAKER, "/help")
    assert len(help_lines(said)) <= HELP_LINES, said
    assert "/done" in said and "/order " not in said
    order, parties = ordered_and_agreed(t)
    maker = next(p for p in parties if "Your part: make" in t.frames(p)[0])
    frame = t.frames(maker)[0]
    assert len(frame) <= FIRST_FRAME, (len(frame), frame)
    assert not ids_outside_brackets(frame, participant_ids(t)), frame
    said, _ = t.type(maker, f"/stages {order}")
    assert not ids_outside_brackets(said, participant_ids(t)), said
    assert "Plásticos del Caribe" in said


def test_supplier_quotes_and_everyone_hears_what_changed(transcript):
    t = transcript
    said, _ = t.type(SUPPLIER, "/help")
    assert len(help_lines(said)) <= HELP_LINES, said
    t.type(BUYER, "/order face shield 5")
    t.type(BUYER, "/choose 1 1")
    frame = t.frames(SUPPLIER)[0]
    assert len(frame) <= FIRST_FRAME, (len(frame), frame)
    letter = supplier_letter(frame)
    maker = next(r.who for r in t.inbox if "Your part: make" in r.message.text)
    t.type(maker, "/agree 1")
    _, later = t.type(SUPPLIER, f"/quote 1 {letter.lower()} 2.5")
    updates = [r.message for r in later if r.who != SUPPLIER]
    assert updates, t.log[-1]
    for update in updates:
        assert len(update.text) <= 300 and "2.50" in update.text, update.text
    # Buttons to agree only for those who still must: the buyer agreed by choosing, the maker
    # by /agree.
    for r in later:
        pressable = [command for _, command in r.message.payload.get("buttons", [])]
        to_agree = any(command.startswith("/agree") for command in pressable)
        assert to_agree == (r.who not in (BUYER, maker)), (r.who, pressable)


def supplier_letter(frame: str) -> str:
    """The first price letter the frame asks its reader to set."""
    match = re.search(r"You set ([A-Z][A-Za-z0-9₀-₉']*) =", frame)
    assert match, frame
    return match.group(1)


def test_coordinator_help_and_alerts_by_name(transcript):
    t = transcript
    said, _ = t.type(COORDINATOR, "/help")
    assert len(help_lines(said)) <= HELP_LINES, said
    assert "/help all" in said
    order, parties = ordered_and_agreed(t)
    _, later = t.type(COORDINATOR, "/disrupt pc-visors the press is flooded")
    alerts = [r.message.text for r in later if r.who in parties | {BUYER}]
    assert alerts, t.log[-1]
    for alert in alerts:
        assert not ids_outside_brackets(alert, participant_ids(t) | {"pc-visors"}), alert


# A plan in a list: its number, then its line and any indented lines under it.
PLAN = re.compile(r"^\s*(\d+)\. (.+(?:\n {3,}\S.*)*)", re.MULTILINE)


def bad_commands(t: Transcript, order: int, parties: set[str]) -> list[tuple[str, str]]:
    """Twenty commands that cannot be carried out, for reasons the state already knows — the
    ones issue 16 found acknowledged and then refused among them."""
    rows = stages(t, order)
    maker = next(s.owner_id for s in rows if s.kind == "make")
    others = next(s for s in rows if s.owner_id not in (maker, None))
    stranger = next(
        p for p in sorted(participant_ids(t)) if p not in parties | {BUYER, COORDINATOR}
    )
    return [
        (maker, f"/done {order} {others.code}"),  # someone else's stage
        (maker, f"/fail {order} {others.code} it broke"),
        (maker, f"/done {order} s99"),  # no such stage
        (SUPPLIER, f"/quote {order} Z9 11"),  # no such price
        (SUPPLIER, "/quote 2 m 11"),  # no such order
        (BUYER, f"/choose {order} 1"),  # it has its plan
        (BUYER, "/order stool 2"),  # no such item
        (BUYER, "/order face shield 5 +latex-fre"),  # no such criterion
        (BUYER, f"/approve {order} s1"),  # nothing proposed
        (COORDINATOR, "/restore pc-visors"),  # not out of service
        (COORDINATOR, "/disrupt no-such-thing flooded"),
        (COORDINATOR, f"/hand {order} s99 josue"),
        (SUPPLIER, "/withdraw 99"),  # no such intent
        (SUPPLIER, "/watch unicorn horns"),
        (SUPPLIER, "/accept 99"),  # no such match
        (BUYER, "/used face shield 3"),  # no standing order brings it
        (stranger, f"/agree {order}"),  # not a party
        (stranger, f"/decline {order} busy"),
        (SUPPLIER, f"/cancel {order} changed my mind"),  # only its buyer or a coordinator
        (maker, f"/reweave {order}"),  # the buyer's
    ]


def test_nothing_is_acknowledged_and_then_refused(transcript):
    t = transcript
    order, parties = ordered_and_agreed(t)
    commands = bad_commands(t, order, parties)
    assert len(commands) == 20
    for who, line in commands:
        at_once, later = t.type(who, line)
        refused_later = [
            r.message.text
            for r in later
            if r.who == who and r.message.kind in ("refusal", "outcome")
        ]
        assert not refused_later, f"{who}> {line}\n{at_once}\nlater: {refused_later}"
        assert at_once.strip(), line
