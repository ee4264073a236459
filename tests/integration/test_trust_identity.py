"""Issue 14's findings about who is who: one invite code makes one participant even when two
accounts use it at the same moment, codes are long and expire, wrong codes are limited per
account in the database, names are cleaned of what cannot be seen and cannot pass for another's,
and relays say who really speaks."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta

import pytest
from chair_world import agreed_order, chair_services
from sqlmodel import Session, select

from bots.bootstrap import application
from bots.conversation.conversation import ChatConversation
from bots.conversation.messages import Incoming
from bots.conversation.rate_limit import RateLimiter
from core.service.bus import Services
from core.service.commands import CreateInvite, Join, Register, Say
from core.service.results import Origin, Refused
from core.store.database import make_engine
from core.store.tables import ChatIdentity, InboundMessage, Invite, JoinAttempt, ParticipantRow

RACES = 30
RITA = "840217735"  # the coordinator's Telegram account in the chair network


class SetClock:
    """Time that stands still until a test moves it."""

    def __init__(self):
        self.now = datetime(2026, 11, 23, 9, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> SetClock:
    return SetClock()


@pytest.fixture
def services(engine, clock) -> Services:
    return chair_services(engine, clock)


@pytest.fixture
def postgres_engine(postgres_server, postgres_template):
    """PostgreSQL only: the race needs two transactions truly at once (SQLite has one writer)."""
    name = postgres_server.create_database(template=postgres_template)
    engine = make_engine(postgres_server.database_url(name))
    yield engine
    engine.dispose()
    postgres_server.drop_database(name)


def conversation(services: Services) -> ChatConversation:
    """The chat layer as the bot runs it; /join and /register it carries out itself."""
    return ChatConversation(
        services,
        lambda *_: 0,  # no other command is sent in these tests
        limiter=RateLimiter(per_minute=60_000, burst=1000),
    )


_messages = itertools.count(1)


def says(chat: ChatConversation, platform: str, address: str, text: str, **extra) -> str:
    incoming = Incoming(platform, address, f"{address}:{next(_messages)}", text, **extra)
    return "\n".join(reply.text for reply in chat.answer(incoming))


def coordinators(services: Services) -> set[str]:
    def read(session: Session) -> set[str]:
        rows = session.exec(select(ParticipantRow)).all()
        return {row.id for row in rows if "coordinator" in row.roles}

    return services.read(read)


# -- finding 2: invite codes -------------------------------------------------------------------


def test_finding_2_one_invite_code_makes_one_coordinator_when_two_accounts_race(postgres_engine):
    services = chair_services(postgres_engine)
    before = coordinators(services)
    twice: list[str] = []  # the codes that made two participants
    for race in range(RACES):
        code = services.handle(CreateInvite("rita", "coordinator")).value
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def use(account: str, code=code, barrier=barrier, outcomes=outcomes) -> None:
            barrier.wait()
            try:
                services.handle(Join("telegram", account, code, f"Racer {account}"))
                outcomes.append("joined")
            except Refused as refusal:
                outcomes.append(str(refusal))

        threads = [threading.Thread(target=use, args=(f"{race}{side}",)) for side in ("01", "02")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(outcomes) == 2 and "joined" in outcomes, f"race {race}: {outcomes}"
        if outcomes.count("joined") == 2:
            twice.append(code)
        else:
            [refused] = [outcome for outcome in outcomes if outcome != "joined"]
            assert "already used" in refused
    assert twice == [], f"{len(twice)} of {RACES} races made two participants of one code"
    made = coordinators(services) - before
    assert len(made) == RACES, f"{len(made)} coordinators from {RACES} one-time codes"


def test_finding_2_codes_carry_80_bits_expire_and_say_when(services, clock):
    invited = services.handle(CreateInvite("rita", "maker"))
    code = invited.value
    assert len(code) == 16 and code.isalnum() and code.isupper()  # 16 base32 letters: 80 bits
    [message] = [m for m in invited.messages if m.kind == "invite"]
    shown = "-".join(code[i : i + 4] for i in range(0, 16, 4))
    assert f"/join {shown}" in message.text
    assert "until 30 November 2026 09:00 UTC" in message.text  # seven days by default
    invite = services.read(lambda session: session.get(Invite, code))
    assert invite.expires_at == clock.now + timedelta(days=7)

    short = services.handle(CreateInvite("rita", "supplier", days=1)).value
    clock.now += timedelta(days=1, seconds=1)
    with pytest.raises(Refused, match="expired on 24 November 2026 09:00 UTC"):
        services.handle(Join("telegram", "5550001", short, "Late Lou"))
    # Typed loosely (small letters, spaces for dashes): still the code; it works once.
    loose = " ".join(code[i : i + 4] for i in range(0, 16, 4)).lower()
    assert services.handle(Join("telegram", "5550002", loose, "Quick Quinn")).value == "quick-quinn"
    with pytest.raises(Refused, match="unknown or already used"):
        services.handle(Join("telegram", "5550003", code, "Second Sam"))
    with pytest.raises(Refused, match="1 to 365 days"):
        services.handle(CreateInvite("rita", "maker", days=0))


def test_finding_2_wrong_codes_are_limited_per_account_in_the_database(services, clock, engine):
    chat = conversation(services)
    guesser = ("telegram", "6660001")
    code = services.handle(CreateInvite("rita", "maker")).value
    # Wrong codes through chat (refused inside a kept message's transaction) and directly
    # (refused and rolled back): each is counted all the same.
    for guess in range(3):
        assert "unknown or already used" in says(chat, *guesser, f"/join WRONG{guess}")
    for guess in range(2):
        with pytest.raises(Refused, match="unknown or already used"):
            services.handle(Join(*guesser, f"ALSO-WRONG-{guess}"))
    with Session(engine) as session:
        assert len(session.exec(select(JoinAttempt)).all()) == 5

    # Another process (or this one restarted) refuses the sixth, even with the right code.
    elsewhere = application(make_engine(engine.url.render_as_string(hide_password=False)), clock)
    refused = says(conversation(elsewhere), *guesser, f"/join {code}")
    assert "Too many wrong invite codes" in refused
    assert "try again after 23 November 2026 10:00 UTC" in refused
    with pytest.raises(Refused, match="too many wrong invite codes"):
        elsewhere.handle(Join(*guesser, code, "Guesser"))
    # Others are not held back by one account's guesses.
    assert "Done — you are Mia (maker)" in says(chat, "telegram", "6660002", f"/join {code} Mia")

    # An hour after the first wrong code the account may try again.
    clock.now += timedelta(hours=1, seconds=1)
    other = services.handle(CreateInvite("rita", "maker")).value
    assert "Done — you are Gia" in says(chat, *guesser, f"/join {other} Gia")


def test_finding_2_scis_invite_days_says_how_long_codes_work(services, monkeypatch):
    monkeypatch.setenv("SCIS_INVITE_DAYS", "2")
    kept: list[tuple[type, dict]] = []
    chat = ChatConversation(
        services,
        lambda _platform, _id, command, arguments: kept.append((command, arguments)) or 0,
        limiter=RateLimiter(per_minute=60_000, burst=1000),
    )
    assert "Making a maker invite code" in says(chat, "telegram", RITA, "/invite maker")
    [(command, arguments)] = kept
    assert (command, arguments) == (CreateInvite, {"actor": "rita", "role": "maker", "days": 2})
    invited = services.handle(CreateInvite(**arguments))
    assert "until 25 November 2026 09:00 UTC" in invited.messages[0].text
    monkeypatch.setenv("SCIS_INVITE_DAYS", "a week")
    with pytest.raises(ValueError, match="SCIS_INVITE_DAYS should be a whole number of days"):
        conversation(services)


# -- finding 10: names ---------------------------------------------------------------------------


def test_finding_10_names_lose_invisible_characters_and_cannot_copy_anothers(services):
    chat = conversation(services)
    # Bidi overrides, isolates, marks, zero-width characters and controls are taken out.
    said = says(
        chat,
        "telegram",
        "7770001",
        "/register buyer \u202eZoe\u202c \u2066Quill\u2069\u200b\u200f\u061c\ufeff\u2060",
    )
    assert "Done — you are Zoe Quill (buyer)" in said
    joined = "Ma\u200bx\u200d Po\u200cwer\u200e"
    assert services.handle(Register("matrix", "@max:example.org", "buyer", joined)).value == (
        "max-power"
    )

    # Exact copies, other cases and look-alike letters of a name taken are refused, with a name
    # to use instead.
    copies = [
        "Zoe Quill",
        "zoe quill",
        "ZOE  QUILL",
        "Zоe Quill",  # Cyrillic о
        "Ζoe Quill",  # Greek Ζ
        "Zoé Quill",
        "Ｚｏｅ Ｑｕｉｌｌ",  # full width
        "Zoe\u202e Quill",
        "Dana Whitfield (Hampden Reading Room)",  # from the network file
    ]
    for number, copy in enumerate(copies):
        refused = says(chat, "telegram", f"777100{number}", f"/register buyer {copy}")
        assert "is taken; choose another" in refused, copy
    assert "e.g. Zoe Quill (Telegram)" in says(
        chat, "telegram", "7771999", "/register buyer Zoe Quill"
    )
    code = services.handle(CreateInvite("rita", "maker")).value
    with pytest.raises(Refused, match=r"taken; choose another, e\.g\. Zoe Quill \(Matrix\)"):
        services.handle(Join("matrix", "@zq:example.org", code, "Zoe Quill"))
    assert "Zoe Quill (Telegram)" in says(
        chat, "telegram", "7772000", "/register buyer Zoe Quill (Telegram)"
    )

    names = services.read(lambda s: sorted(s.exec(select(ParticipantRow.name)).all()))
    assert "Zoe Quill" in names and "Max Power" in names
    assert not any(ch in name for name in names for ch in "\u202e\u200b\u200d\u061c\ufeff")


def test_finding_10_relays_show_the_name_and_the_platform_handle(services):
    order = agreed_order(services)
    code = services.handle(CreateInvite("rita", "coordinator")).value
    joined = Join(
        "telegram", "8880001", code, "Dana Whitfield (Hampden Reading Room)", handle="@dana_real"
    )
    with pytest.raises(Refused, match="taken"):  # she cannot pass for Dana by name ...
        services.handle(joined)
    services.handle(Join("telegram", "8880001", code, "Dana W", handle="@not_dana"))
    said = services.handle(Say("dana-w", order, "Send it all to me", Origin("telegram", "t9")))
    [to_dana] = [m for m in said.messages if m.participant_id == "dana"]
    # ... and what she says is shown with the handle Telegram vouches for.
    assert to_dana.text == f"Dana W (@not_dana) on order {order}: Send it all to me"
    assert to_dana.payload["from_handle"] == "@not_dana"
    with Session(services.engine) as session:
        identity = session.exec(
            select(ChatIdentity).where(ChatIdentity.participant_id == "dana-w")
        ).one()
    assert identity.handle == "@not_dana"


# -- finding 5 (one cause): NUL in a display name ---------------------------------------------


@pytest.fixture
def postgres_services(postgres_engine) -> Services:
    return chair_services(postgres_engine)


def test_finding_5_nul_in_a_name_registers_and_is_never_retried(postgres_services):
    chat = conversation(postgres_services)
    said = says(
        chat, "matrix", "@nul:example.org", "/register buyer", display_name="Nu\x00ll\x07 Nora"
    )
    assert "Done — you are Null Nora (buyer)" in said
    code = postgres_services.handle(CreateInvite("rita", "maker")).value
    said = says(chat, "matrix", "@nul2:example.org", f"/join {code}", display_name="\x00Ned\x00")
    assert "Done — you are Ned (maker)" in said

    def unfinished(session: Session) -> list[InboundMessage]:
        return session.exec(
            select(InboundMessage).where(InboundMessage.processed_at.is_(None))
        ).all()

    assert postgres_services.read(unfinished) == []
