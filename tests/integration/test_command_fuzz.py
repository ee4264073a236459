"""Every declared command, with arguments nobody should type, through the conversation and a
worker (issue 14's fuzz test; it replaces the conversation's earlier fuzz test).

Each example is one message from one of the network's people, an outsider or an account that
has not joined: a declared command (any case, `@bot` or not) with arguments drawn from NUL, lone
surrogates, bidi controls, zero-width characters, `²`, Arabic-Indic and full-width digits, huge
and non-finite numbers, and the words a real command would use; or plain text, which may answer
a question a flow asked. The world is one agreed order and grows with whatever is accepted.

For every example:
  - `answer` returns one or more replies of at most 4,000 characters, and none says something
    went wrong on our side;
  - a command the conversation kept (`submit`) is carried out at once by `ApplyInbound` and the
    jobs it leaves, as a worker would: nothing but a refusal may come out of them, and the
    sender gets exactly one outcome message (payload "outcome");
  - input that was refused — by the conversation, or by the service after it was kept — changes
    no row but the record of the refusal: the kept message, the refusal event, the one outcome
    message, a flow's question, a counted join attempt. Writes are seen as the database commits
    them (SQLAlchemy's connection events; a rolled-back savepoint's writes are dropped).

SCIS_FUZZ_EXAMPLES sets the number of examples on SQLite (2,000 under CI=true, else 300);
PostgreSQL runs a quarter of them.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlmodel import Session, func, select
from test_conversation import ACCOUNTS, NETWORK, Chat, agreed_order, run

from bots.bootstrap import application
from bots.conversation.declarations import BY_NAME
from bots.conversation.messages import Incoming
from core.importers import load_network
from core.service.bus import Services
from core.service.commands import ApplyInbound, LoadNetwork, Receive
from core.store.tables import InboundMessage, Notification

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLES = int(os.environ.get("SCIS_FUZZ_EXAMPLES") or (2000 if CI else 300))

# The tables a refusal may write: its record, never the state of the world.
REFUSAL_RECORD = {"event", "inbound_message", "notification", "platform_state", "join_attempt"}

SOON = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
SENDERS = [
    "dana",  # buyer of order 1
    "ana",
    "fern",
    "gus",
    "hal",  # parties of its plan
    "rita",  # coordinator
    "carol",  # a participant who is no party of it
    ("telegram", "424242"),  # has not joined
    ("matrix", "@nobody:example.org"),
]
HOSTILE_CHARACTERS = [
    "\x00",
    "\ud800",  # lone surrogates, as a JSON \\ud800 escape decodes
    "\udfff",
    "\u202e",  # bidi: right-to-left override
    "\u2066",  # bidi: left-to-right isolate
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",
    "²",
    "٣",  # Arabic-Indic three
    "۴",  # extended Arabic-Indic four
    "１",  # full-width one
    "½",
    "\n",
    "\t",
    "#",
    "+",
    ",",
    ".",
    "-",
    "$",
    "@",
    "/",
]
NUMBERS = [
    "1e309",
    "-1e309",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "-0",
    "0",
    "-1",
    "1.5",
    str(10**400),
    str(2**31),
    str(2**63),
    "99999999999999999999",
    "1,000",
    "1,000.50",
    "1,5",
    "9,50",
    "1,00,000",
    "0x10",
    "1_000",
    "²",
    "12²",
    "٣",
    "١٢",
    "１２",
    "Ⅻ",
    "$5",
    ".5",
]
WORDS = [
    "1",
    "#1",
    "2",
    "s1",
    "S2",
    "B",
    "chair",
    "leg",
    "seat",
    "+latex-free",
    "+Latex-Free",
    "+latex-fre",
    "+${jndi:x}",
    "+",
    "by",
    SOON,
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "buyer",
    "maker",
    "coordinator",
    "hal-shop",
    "gus",
    "200/week",
    "weekly",
    "per",
    "week",
    "glue",
    "yes",
]
token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(NUMBERS),
    st.text(st.sampled_from(HOSTILE_CHARACTERS), min_size=1, max_size=4),
    st.builds(
        lambda word, odd, at: word[:at] + odd + word[at:],
        st.sampled_from(WORDS + NUMBERS),
        st.sampled_from(HOSTILE_CHARACTERS),
        st.integers(0, 6),
    ),
    st.text(max_size=12),
)
command = st.builds(
    lambda name, bot, words: f"/{name}{bot} " + " ".join(words),
    st.one_of(
        st.sampled_from(sorted(BY_NAME)),
        st.sampled_from(sorted(BY_NAME)).map(str.upper),
        st.sampled_from(["nosuch", "", "@", "ORDER", "say@x", "\u202eorder"]),
    ),
    st.sampled_from(["", "@scis_bot"]),
    st.lists(token, max_size=6),
)
# A well-formed use of every command (order 1 is the agreed one), to be bent by one token.
WELL_FORMED = {
    "start": "",
    "help": "order",
    "join": "ab12cd34ef Quinn",
    "register": "buyer Zoe",
    "catalog": "chair",
    "cancel": "2 not needed",  # not order 1: the rest of the run would be about a cancelled one
    "invite": "maker",
    "order": f"chair 1 +latex-free by {SOON}",
    "plans": "1 1",
    "choose": "1 1",
    "agree": "1",
    "decline": "1 out of maple",
    "quote": "1 B 9.50",
    "say": "1 see you at nine",
    "stages": "1",
    "terms": "1",
    "done": "1 s1 photo sent",
    "fail": "1 s2 the glue did not set",
    "disrupt": "hal-shop flooded",
    "restore": "hal-shop",
    "approve": "1 1",
    "reject": "1 1",
    "reweave": "1",
    "substitute": "1 seat foam-seat softer",
    "hand": "1 s3 carol",
    "history": "1",
    "watch": "seat",
    "tasks": "",
    "orders": "stuck",
    "risk": "1",
    "offer": "chair leg 10 near Baltimore",
    "request": f"chair 2 by {SOON}",
    "propose": "sewing 40 h",
    "cast": "",
    "intents": "",
    "edit": "1 chair leg 20",
    "withdraw": "1",
    "matches": "",
    "accept": "1",
    "used": "chair 1",
}
assert set(WELL_FORMED) == set(BY_NAME), "a declared command has no well-formed use here"


def _bent(name: str, position: int, odd: str, how: str) -> str:
    words = WELL_FORMED[name].split()
    at = position % (len(words) + 1)
    if how == "replace" and words:
        words[min(at, len(words) - 1)] = odd
    elif how == "glue" and words:
        words[min(at, len(words) - 1)] += odd
    elif how == "keep":
        pass
    else:
        words.insert(at, odd)
    return f"/{name} " + " ".join(words)


# Who would send it: the buyer orders, gus sets price B of plan 1, a coordinator hands stages
# over, a new account registers; anyone else is mostly refused.
NEWCOMER = st.integers(10_000, 99_999).map(lambda n: ("telegram", str(n)))
SENDER_OF = {
    **dict.fromkeys(("order", "choose", "approve", "reject", "reweave", "cancel"), "dana"),
    **dict.fromkeys(("used", "catalog", "plans", "orders", "tasks"), "dana"),
    **dict.fromkeys(("offer", "request", "propose", "cast", "intents", "edit"), "carol"),
    **dict.fromkeys(("withdraw", "matches", "accept", "watch"), "carol"),
    **dict.fromkeys(("invite", "hand"), "rita"),
    "quote": "gus",
    "disrupt": "hal",
    "restore": "hal",
}


def _sender(name: str):
    if name in ("register", "join", "start", "help"):
        natural = NEWCOMER
    elif name in SENDER_OF:
        natural = st.just(SENDER_OF[name])
    else:  # the parties of order 1
        natural = st.sampled_from(["ana", "fern", "gus", "hal", "dana"])
    return st.one_of(natural, natural, natural, st.sampled_from(SENDERS))


bent = st.sampled_from(sorted(WELL_FORMED)).flatmap(
    lambda name: st.tuples(
        st.builds(
            _bent,
            st.just(name),
            st.integers(0, 8),
            st.one_of(st.sampled_from(NUMBERS + WORDS), st.sampled_from(HOSTILE_CHARACTERS), token),
            st.sampled_from(["replace", "glue", "insert", "keep"]),
        ),
        _sender(name),
    )
)
anyone = st.sampled_from(SENDERS)
message = st.one_of(
    bent,
    bent,
    bent,
    bent,
    bent,
    st.tuples(command, anyone),
    st.tuples(command, anyone),
    st.tuples(st.lists(token, min_size=1, max_size=4).map(" ".join), anyone),  # may answer a flow
    st.tuples(
        st.one_of(
            st.text(max_size=200),
            st.integers(4001, 6000).map(lambda n: "/say 1 " + "x" * n),
            st.sampled_from(["", " ", "\x00", "/", "//", "\ud800", "\u200b"]),
        ),
        anyone,
    ),
)


class CommittedWrites:
    """The tables each committed transaction wrote to, from SQLAlchemy's connection events:
    the writes of a savepoint or transaction that rolled back are dropped."""

    WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)

    def __init__(self, engine):
        self.tables: set[str] = set()
        self._frames: dict[int, list[set[str]]] = {}
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "savepoint", self._savepoint)
        event.listen(engine, "rollback_savepoint", self._rollback_savepoint)
        event.listen(engine, "release_savepoint", self._release_savepoint)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        event.listen(engine, "before_cursor_execute", self._execute)

    def _stack(self, connection) -> list[set[str]]:
        return self._frames.setdefault(id(connection), [set()])

    def _begin(self, connection):
        self._frames[id(connection)] = [set()]

    def _savepoint(self, connection, name):
        self._stack(connection).append(set())

    def _rollback_savepoint(self, connection, name, context):
        stack = self._stack(connection)
        if len(stack) > 1:
            stack.pop()

    def _release_savepoint(self, connection, name, context):
        stack = self._stack(connection)
        if len(stack) > 1:
            released = stack.pop()
            stack[-1] |= released

    def _commit(self, connection):
        for frame in self._frames.pop(id(connection), []):
            self.tables |= frame

    def _rollback(self, connection):
        self._frames.pop(id(connection), None)

    def _execute(self, connection, cursor, statement, parameters, context, executemany):
        if match := self.WRITE.match(statement):
            self._stack(connection)[-1].add(match[1].lower())

    def take(self) -> set[str]:
        taken, self.tables = self.tables, set()
        return taken


class Worker(Chat):
    """The chat, with `submit` doing what a worker does with a kept command; what escapes
    `ApplyInbound` or its jobs is kept for the test to report (answer() would swallow it)."""

    def __init__(self, services: Services):
        super().__init__(services)
        self.escaped: list[str] = []
        self.kept: list[tuple[int, str, int]] = []  # (inbound id, sender, last notification)

    def submit(self, platform: str, message_id: str, command: type, arguments: dict) -> int:
        self.submitted.append((command, arguments))
        with Session(self.services.engine) as session:
            last = session.exec(select(func.max(Notification.id))).one() or 0
        try:
            inbound_id, _ = self.services.handle(
                Receive(platform, message_id, command.__name__, arguments)
            ).value
            run(self.services, self.services.handle(ApplyInbound(inbound_id)))
        except Exception as error:
            self.escaped.append(
                f"{command.__name__} {arguments!r}: {type(error).__name__}: {error}"
            )
            raise
        self.kept.append((inbound_id, arguments.get("actor"), last))
        return inbound_id


@pytest.fixture
def world(engine, request):
    services = application(engine)
    services.handle(LoadNetwork(None, load_network(NETWORK).network))
    chat = Worker(services)
    assert agreed_order(chat) == 1
    chat.kept.clear()
    return chat, CommittedWrites(engine), request.node.callspec.params.get("database_url")


def _outcomes(session: Session, sender: str, after: int) -> list[Notification]:
    rows = session.exec(
        select(Notification).where(Notification.id > after, Notification.participant_id == sender)
    ).all()
    return [row for row in rows if row.payload.get("outcome")]


def test_every_command_with_hostile_arguments(world):
    chat, writes, database = world
    examples = EXAMPLES if database == "sqlite" else max(EXAMPLES // 4, 100)
    seen = {"examples": 0, "kept": 0, "refused_by_service": 0, "enrolled": 0}
    started = time.monotonic()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(typed=message)
    # What issue 14 found, always tried: a stage `int` refuses, lone surrogates in kept text,
    # the unclear price, the due date and criterion nobody means, NUL and bidi in a name.
    @example(typed=("/done 1 ²", "ana"))
    @example(typed=("/say 1 \ud800 see you", "ana"))
    @example(typed=("/fail 1 s2 \udfff\u202e", "fern"))
    @example(typed=("/quote 1 B 1,5", "gus"))
    @example(typed=("/order chair 1 by 9999-12-31", "dana"))
    @example(typed=("/order chair 1 +${jndi:x}", "dana"))
    @example(typed=("/register buyer \u202eZoe\x00\ud800", ("telegram", "31337")))
    def one(typed):
        text, sender = typed
        seen["examples"] += 1
        writes.take()
        chat.kept.clear()
        chat.escaped.clear()
        replies = chat.conversation.answer(_incoming(chat, sender, text))
        assert not chat.escaped, chat.escaped
        assert replies and all(0 < len(r.text) <= 4000 for r in replies), (text, replies)
        assert not any("went wrong" in r.text for r in replies), (text, replies)
        written = writes.take()
        enrolled = any(r.text.startswith("Done — you are") for r in replies)
        seen["enrolled"] += enrolled
        refused = not enrolled
        with Session(chat.services.engine) as session:
            for inbound_id, actor, last in chat.kept:
                seen["kept"] += 1
                row = session.get(InboundMessage, inbound_id)
                assert row.processed_at is not None, (text, row)
                told = _outcomes(session, actor, last)
                assert len(told) == 1, (text, row.command, [t.text for t in told])
                if row.outcome.startswith("refused"):
                    seen["refused_by_service"] += 1
                else:
                    refused = False
        if refused:
            assert written <= REFUSAL_RECORD, (text, sorted(written - REFUSAL_RECORD))

    one()
    took = time.monotonic() - started
    print(
        f"\n{seen['examples']} examples on {database} in {took:.1f} s: {seen['kept']} commands "
        f"kept and carried out ({seen['refused_by_service']} refused by the service), "
        f"{seen['enrolled']} enrolments"
    )
    assert seen["examples"] >= examples


def _incoming(chat: Chat, sender, text: str):
    platform, address = ACCOUNTS[sender] if isinstance(sender, str) else sender
    return Incoming(platform, address, f"{address}:{next(chat._ids)}", text)
