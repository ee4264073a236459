"""Every declared command: its usage, its typed arguments, and one-line errors for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bots.conversation import reads
from bots.conversation.arguments import Moment
from bots.conversation.declaration import REGISTERED, Command, may_use
from bots.conversation.declarations import BY_NAME, COMMANDS, ORDER
from bots.conversation.parsing import Parsed, Problem, command_word, parse
from bots.conversation.rate_limit import RateLimiter
from core.service.commands import FROM_CHAT, Agree, ReadOrder

SOON = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()  # due dates may not pass

USAGE = {
    "start": "/start",
    "help": "/help [COMMAND]",
    "join": "/join CODE [NAME…]",
    "register": "/register ROLE [NAME…]",
    "catalog": "/catalog [WORDS…]",
    "cancel": "/cancel [ORDER] [REASON…]",
    "invite": "/invite ROLE [PARTICIPANT]",
    "order": "/order ITEM QTY[/PERIOD] [+CRITERION…] [by DATE]",
    "plans": "/plans ORDER [PAGE]",
    "choose": "/choose ORDER [PLAN]",
    "agree": "/agree ORDER",
    "decline": "/decline ORDER [REASON…]",
    "quote": "/quote ORDER VAR PRICE",
    "say": "/say ORDER TEXT…",
    "stages": "/stages ORDER",
    "terms": "/terms ORDER",
    "done": "/done ORDER STAGE [EVIDENCE…]",
    "fail": "/fail ORDER STAGE REASON…",
    "disrupt": "/disrupt RESOURCE REASON…",
    "restore": "/restore RESOURCE",
    "approve": "/approve ORDER SUB",
    "reject": "/reject ORDER SUB",
    "reweave": "/reweave ORDER",
    "substitute": "/substitute ORDER ITEM BY [REASON…]",
    "hand": "/hand ORDER STAGE PARTICIPANT",
    "orders": "/orders [STATE]",
    "history": "/history ORDER [PAGE or AT]",
    "watch": "/watch TARGET…",
    "tasks": "/tasks",
    "risk": "/risk ORDER",
    "offer": "/offer WORDS…",
    "request": "/request WORDS…",
    "propose": "/propose WORDS…",
    "cast": "/cast",
    "intents": "/intents",
    "edit": "/edit INTENT WORDS…",
    "withdraw": "/withdraw INTENT",
    "matches": "/matches",
    "accept": "/accept MATCH",
    "used": "/used ITEM QTY",
}

VALID = {
    "start": ("/start", {}),
    "help": ("/help order", {"topic": "order"}),
    "join": ("/join ab12cd34 Quinn's Lab", {"code": "ab12cd34", "name": "Quinn's Lab"}),
    "register": ("/register Buyer Zoe Q", {"role": "buyer", "name": "Zoe Q"}),
    "catalog": ("/catalog chair  leg", {"words": "chair  leg"}),
    "cancel": ("/cancel 12 not needed now", {"order_id": 12, "reason": "not needed now"}),
    "invite": ("/invite maker ana", {"role": "maker", "participant_id": "ana"}),
    "order": (
        f"/order chair 2 +latex-free by {SOON}",
        {"lines": [["chair", 2]], "criteria": ["latex-free"], "due": SOON},
    ),
    "plans": ("/plans 12 2", {"order_id": 12, "page": 2}),
    "choose": ("/choose #12 3", {"order_id": 12, "rank": 3}),
    "agree": ("/agree 12", {"order_id": 12}),
    "decline": ("/decline 12 out of maple", {"order_id": 12, "reason": "out of maple"}),
    "quote": ("/quote 12 B 1,009.50", {"order_id": 12, "variable": "B", "value": 1009.5}),
    "say": ("/say 12 see you\nat nine", {"order_id": 12, "text": "see you\nat nine"}),
    "stages": ("/stages 12", {"order_id": 12}),
    "terms": ("/terms 12", {"order_id": 12}),
    "done": ("/done 12 s7 photo sent", {"order_id": 12, "stage": "s7", "evidence": "photo sent"}),
    "fail": ("/fail 12 s7 glue", {"order_id": 12, "stage": "s7", "evidence": "glue"}),
    "disrupt": ("/disrupt hal-shop flooded", {"resource": "hal-shop", "reason": "flooded"}),
    "restore": ("/restore hal-shop", {"resource": "hal-shop"}),
    "approve": ("/approve 12 3", {"order_id": 12, "substitution_id": 3}),
    "reject": ("/reject 12 3", {"order_id": 12, "substitution_id": 3}),
    "reweave": ("/reweave 12", {"order_id": 12}),
    "substitute": (
        "/substitute 12 seat foam-seat softer",
        {"order_id": 12, "item": "seat", "by": "foam-seat", "reason": "softer"},
    ),
    "hand": ("/hand 12 s7 carol", {"order_id": 12, "stage": "s7", "to": "carol"}),
    "orders": ("/orders stuck", {"state": "stuck"}),
    "history": (
        "/history 12 2026-12-05 14:30",
        {
            "order_id": 12,
            "at": Moment(datetime(2026, 12, 5, 14, 30, 59, 999_999), "2026-12-05 14:30"),
        },
    ),
    "watch": ("/watch foam seat", {"target": "foam seat"}),
    "tasks": ("/tasks", {}),
    "risk": ("/risk 12", {"order_id": 12}),
    "offer": ("/offer 3d printing 10 h/week", {"words": "3d printing 10 h/week"}),
    "request": ("/request face-shield 200 by Dec 20", {"words": "face-shield 200 by Dec 20"}),
    "propose": ("/propose sewing 40 h", {"words": "sewing 40 h"}),
    "cast": ("/cast", {}),
    "intents": ("/intents", {}),
    "edit": ("/edit 7 sewing 20 h", {"intent_id": 7, "words": "sewing 20 h"}),
    "withdraw": ("/withdraw 7", {"intent_id": 7}),
    "matches": ("/matches", {}),
    "accept": ("/accept 4", {"match_id": 4}),
    "used": ("/used cloth mask 50", {"item": "cloth mask", "quantity": 50}),
}

WRONG = [
    ("/choose 12", None),  # PLAN is optional: the plans are shown to press
    ("/choose x 1", "ORDER should be an order number like 12, not 'x'"),
    ("/choose 12 0", "PLAN should be a whole number like 1 or 2, not '0'"),
    ("/choose 12 1 2", "/choose takes 1 to 2 arguments, and 1 more word was given"),
    ("/agree", "ORDER is missing"),
    ("/agree -3", "ORDER should be an order number like 12, not '-3'"),
    ("/quote 12 B", "PRICE is missing"),
    ("/quote 12 B -1", "PRICE should be a number like 9.50, not '-1'"),
    ("/quote 12 B nan", "PRICE should be a number like 9.50, not 'nan'"),
    ("/quote 12 B 1e999", "PRICE should be a number like 9.50, not '1e999'"),
    ("/register wizard Merlin", "ROLE should be one of"),
    ("/order chair", "QTY is missing: how many chair?"),
    ("/order 2", "Say what and how many"),
    ("/order chair 0", "QTY should be a whole number like 1 or 2, not '0'"),
    ("/order chair 2 by someday", "DATE should be a day like Friday, Dec 20 or 2026-12-20"),
    ("/order chair 2 by tomorrow", None),  # the one date reader: an intent's dates too
    ("/order chair 2 +latex-free by Dec 20", None),  # as the README documents it
    ("/oder chair 2", "I don't know /oder — did you mean /order"),
    ("/order chair 2 +", "A criterion follows the +"),
    ("/order masks 200/fortnight", "A rate is per day, week or month, not per fortnight"),
    ("/accept soon", "MATCH should be a whole number like 1 or 2, not 'soon'"),
    ("/withdraw", "INTENT is missing"),
    ("/used masks", "QTY is missing: how many masks?"),
    ("/tasks now", "/tasks takes nothing after it, and 1 more word was given"),
    ("/say 12 " + "x" * 1001, "TEXT is too long (1,001 characters; at most 1,000)"),
    ("/done 12 " + "s" * 201, "STAGE is too long"),
    ("/cancel", None),  # alone: forget the question just asked
    ("/cancel x", "ORDER should be an order number like 12, not 'x'"),
    ("/history 12", None),  # AT is optional: every event
    ("/history 12 2", None),  # a small number is a page of events, going back
    ("/history 12 yesterday", "AT should be a day like 2026-12-05 or a time like 2026-12-05 14:30"),
    ("/history 12 2026-12-05 25:00", "AT should be a day like 2026-12-05"),
    ("/history 12 2026-02-30", "AT should be a day like 2026-12-05"),
    ("/hand 12 s7", "PARTICIPANT is missing"),
    ("/substitute 12 seat", "BY is missing"),
    ("/orders stuck now", "/orders takes 0 to 1 arguments, and 1 more word was given"),
    ("/nosuch 1", "I don't know /nosuch"),
    ("/", "A command follows the /"),
]

RATES = [
    ("/order masks 200/week", "week"),
    ("/order masks 200 per week", "week"),
    ("/order masks 200 a day", "day"),
    ("/order 200 masks monthly", "month"),
    ("/order masks 200", None),
]


def test_every_command_has_its_usage_and_an_example():
    assert set(USAGE) == set(BY_NAME) == set(VALID)
    for command in COMMANDS:
        assert command.usage == USAGE[command.name]
        assert command.help and len(command.help) < 100
        kinds = [k for k in (command.service, command.read, command.step) if k is not None]
        assert len(kinds) == 1 and callable(kinds[0])
        if command.service is not None:
            assert FROM_CHAT[command.service.__name__] is command.service
            # /join and /register answer with their outcome; every other change says what next
            assert command.then or command.enrols


@pytest.mark.parametrize(
    "points_at, wrong",
    [
        ({}, "points at 0 of a command class, a read and a step"),
        ({"service": Agree, "read": reads.tasks}, "points at 2 of"),
        (
            {"service": ReadOrder, "then": "ok"},
            "becomes ReadOrder, which no chat message may carry",
        ),
        ({"service": Agree}, "without saying what happens next"),
        ({"service": Agree, "then": "ok", "fixed": {"colour": "red"}}, "what it does not take"),
        ({"read": reads.tasks, "then": "ok"}, "to no command class"),
        ({"read": "tasks"}, "cannot be called"),
    ],
)
def test_a_declaration_that_points_at_the_wrong_code_fails_when_made(points_at, wrong):
    with pytest.raises(ValueError, match=wrong):
        Command("agree", (ORDER,), REGISTERED, "Agree.", **points_at)


def test_an_at_is_the_end_of_the_day_or_minute_named():
    day = parse("/history 3 2026-12-05").values["at"]
    assert day == Moment(datetime(2026, 12, 5, 23, 59, 59, 999_999), "the end of 2026-12-05")
    assert parse("/history 3 2026-12-05T08:05").values["at"].shown == "2026-12-05 08:05"


@pytest.mark.parametrize("name", sorted(VALID))
def test_a_valid_command_parses_to_typed_values(name):
    text, values = VALID[name]
    parsed = parse(text)
    assert isinstance(parsed, Parsed), parsed
    assert parsed.command.name == name
    shown = parsed.values
    if name == "order":  # the first line's item and quantity, for the immediate reply
        shown = {k: v for k, v in parsed.values.items() if k not in ("item", "quantity")}
        assert parsed.values["item"] == "chair" and parsed.values["quantity"] == 2
    assert shown == values


@pytest.mark.parametrize("text, per", RATES)
def test_a_standing_order_gives_a_rate(text, per):
    parsed = parse(text)
    assert isinstance(parsed, Parsed), parsed
    assert parsed.values["lines"] == [["masks", 200]]
    assert parsed.values.get("per") == per


@pytest.mark.parametrize("text, words", WRONG)
def test_wrong_arguments_get_one_line_and_the_usage(text, words):
    parsed = parse(text)
    if words is None:
        assert isinstance(parsed, Parsed)
        return
    assert isinstance(parsed, Problem)
    assert words in parsed.text
    assert "\n" not in parsed.text and len(parsed.text) < 200
    if parsed.command is not None:
        assert parsed.text.endswith(f"Usage: {parsed.command.usage}")


def test_order_reads_multi_word_items_and_quantity_first():
    assert parse("/order chair leg 4").values["lines"] == [["chair leg", 4]]
    assert parse("/order 4 chair legs").values["lines"] == [["chair legs", 4]]
    assert parse("/ORDER@scis_bot chair 1").command.name == "order"


def test_missing_arguments_say_how_many_were_given_for_the_flows():
    assert parse("/order").given == 0
    assert parse("/say 12").given == 1 and parse("/say 12").values == {"order_id": 12}
    assert parse("/fail 12 s3").given == 2
    assert parse("/say x").given is None  # wrong, not short: no question


def test_command_word_and_access():
    assert command_word("/Help@scis_bot topic") == "help"
    assert may_use(BY_NAME["register"], None) and not may_use(BY_NAME["register"], ["buyer"])
    assert not may_use(BY_NAME["order"], None) and not may_use(BY_NAME["order"], ["maker"])
    assert may_use(BY_NAME["order"], ["coordinator"]) and may_use(
        BY_NAME["invite"], ["coordinator"]
    )
    assert may_use(BY_NAME["catalog"], None) and may_use(BY_NAME["done"], ["transporter"])


def test_the_token_bucket_allows_a_burst_then_one_every_three_seconds():
    now = [100.0]
    limiter = RateLimiter(per_minute=20, burst=10, clock=lambda: now[0])
    assert all(limiter.allow("p") for _ in range(10))
    assert not limiter.allow("p") and limiter.wait("p") == 3
    assert limiter.allow("q")
    now[0] += 3
    assert limiter.allow("p") and not limiter.allow("p")
