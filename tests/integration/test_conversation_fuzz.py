"""Hypothesis throws arbitrary text, commands with wrong arguments, huge and empty messages at
the conversation: every one gets a reply, none raises, none changes the database."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_conversation import NETWORK, Chat, agreed_order, dump

from bots.conversation.declarations import BY_NAME
from bots.conversation.parsing import Parsed, Problem, is_command, parse
from core.importers import load_network
from core.service.bus import Services
from core.service.commands import LoadNetwork

SENDERS = ["dana", "carol", ("telegram", "424242"), ("matrix", "@nobody:example.org")]
AWKWARD = [
    "",
    " ",
    "\n\t",
    "/",
    "//",
    "/@",
    "/@bot",
    "-1",
    "0",
    "1.5",
    "1e9",
    "99999999999999999999",
    "+",
    "by",
    "by 2026-13-40",
    "s1",
    "1",
    "nan",
    "inf",
    "$",
    "#1",
    "\x00",
    "🙂",
    "ÿ" * 300,
]
arguments = st.lists(st.one_of(st.sampled_from(AWKWARD), st.text(max_size=15)), max_size=6)
wrong_commands = st.builds(
    lambda name, words, bot: f"/{name}{bot} " + " ".join(words),
    st.sampled_from(sorted(BY_NAME) + ["nosuch", "ORDER", "say@x"]),
    arguments,
    st.sampled_from(["", "@scis_bot"]),
)
messages = st.one_of(
    st.text(max_size=300),
    wrong_commands,
    st.sampled_from(AWKWARD),
    st.integers(4001, 6000).map(lambda n: "/say 1 " + "x" * n),
    st.integers(4001, 6000).map(lambda n: "é" * n),
)


def _changes_nothing_by_design(text: str) -> bool:
    """Input that must be refused without a trace: too long, not understood, or arguments that
    do not parse (a command that stops short to ask its question starts a flow: left out)."""
    if len(text) > 4000 or not is_command(text.replace("\x00", "").strip()):
        return True
    parsed = parse(text.replace("\x00", ""))
    if isinstance(parsed, Parsed):
        return False
    command, question = parsed.command, parsed.command and parsed.command.question
    return not (isinstance(parsed, Problem) and command and question)


@pytest.fixture
def world(engine):
    services = Services(engine)
    services.handle(LoadNetwork(None, load_network(NETWORK).network))
    chat = Chat(services)
    agreed_order(chat)
    return chat, dump(services)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=messages, sender=st.sampled_from(SENDERS))
def test_nonsense_gets_a_reply_and_changes_nothing(world, text, sender):
    chat, before = world
    assume(_changes_nothing_by_design(text))
    submitted = len(chat.submitted)
    replies = chat.send(sender, text)
    assert replies and all(0 < len(r.text) <= 4000 for r in replies)
    assert not any("went wrong" in r.text for r in replies), replies
    assert len(chat.submitted) == submitted
    assert dump(chat.services) == before
