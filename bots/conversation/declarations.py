"""Every chat command, declared once: its arguments with their types, who may use it, its help
text, the service command it becomes and what the person is told right away.

The parser, /help, the access checks and the flows all read this table; nothing else lists
commands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from core.network.model import ROLES
from core.service.bus import MAX_TEXT
from core.service.orders import due_problem

# Who may use a command. A coordinator may use every command.
ANYONE = "anyone"
NEWCOMER = "newcomer"  # a chat account that speaks for nobody yet
REGISTERED = "registered"  # any participant
BUYER = "buyer"  # participants with the buyer role
COORDINATOR = "coordinator"

MAX_WORD = 200
MAX_REST = MAX_TEXT  # free text: what the service keeps of it


# -- argument types: each turns what a person typed into a value, or says in one line why not --


def digits(text: str) -> bool:
    """Whether `text` is a whole number written with 0–9. `str.isdigit` also says yes to "²",
    which `int` then refuses; other scripts' digits (٣, ３) are refused with the fix, because
    the dates, rates and quantities of offers are read in 0–9 only and one rule is clearer."""
    return text.isascii() and text.isdecimal()


def _not_ascii_digits(text: str) -> str:
    odd = any(c.isnumeric() and not c.isascii() for c in text)
    return " (write it with the digits 0–9)" if odd else ""


def order_number(text: str) -> int:
    number = text.removeprefix("#")
    if not digits(number) or not 0 < int(number) < 2**31:
        raise ValueError(
            f"ORDER should be an order number like 12, not {_shown(text)}{_not_ascii_digits(text)}"
        )
    return int(number)


def whole(what: str) -> Callable[[str], int]:
    def convert(text: str) -> int:
        if not digits(text) or not 0 < int(text) < 2**31:
            raise ValueError(
                f"{what} should be a whole number like 1 or 2, not {_shown(text)}"
                f"{_not_ascii_digits(text)}"
            )
        return int(text)

    return convert


_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")


def quantity(what: str) -> Callable[[str], int]:
    """A whole number; 1,000 is one thousand."""
    convert = whole(what)
    return lambda text: convert(text.replace(",", "") if _GROUPED.fullmatch(text) else text)


MAX_PRICE = 10**12
# Commas only group thousands (1,000 or 12,345,678.50); a comma anywhere else is a decimal comma
# or a typo, and guessing which is how 1,000 once became 1.00.
_PRICE = re.compile(r"\$?(?P<number>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)")
_COMMA = re.compile(r"\$?(?P<whole>[0-9]*),(?P<part>[0-9]+)")


def price(text: str) -> float:
    if match := _PRICE.fullmatch(text):
        value = float(match["number"].replace(",", ""))
        if value > MAX_PRICE:
            raise ValueError(f"PRICE should be at most {MAX_PRICE:,}, not {_shown(text)}")
        return value
    if match := _COMMA.fullmatch(text):
        whole, part = match["whole"] or "0", match["part"]
        thousands = f"{whole}{part.ljust(3, '0')}"
        raise ValueError(f"PRICE {_shown(text)} is unclear: write {whole}.{part} or {thousands}")
    raise ValueError(
        f"PRICE should be a number like 9.50, not {_shown(text)}{_not_ascii_digits(text)}"
    )


def word(what: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if len(text) > MAX_WORD:
            raise ValueError(f"{what} is too long ({len(text):,} characters; at most {MAX_WORD})")
        return text

    return convert


def role(text: str) -> str:
    wanted = text.lower()
    if wanted not in ROLES:
        raise ValueError(f"ROLE should be one of {', '.join(ROLES)}, not {_shown(text)}")
    return wanted


def iso_date(text: str) -> str:
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"DATE should look like 2026-12-20, not {_shown(text)}") from None
    # PlaceOrder checks again against its own clock; this lets the person hear it right away.
    problem = due_problem(day, datetime.now(UTC).date())
    if problem is not None:
        raise ValueError(problem)
    return day.isoformat()  # JSON carries it as text


_CRITERION = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")


def criterion(text: str) -> str:
    """The shape of a criterion (a word like latex-free); which ones the network knows is
    PlaceOrder's to say."""
    if len(text) > 60 or not _CRITERION.fullmatch(text):
        raise ValueError(f"a criterion is a word like +latex-free, not {_shown('+' + text)}")
    return text


def _shown(text: str) -> str:
    return repr(text if len(text) <= 30 else text[:27] + "…")


# -- declarations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arg:
    name: str  # as a person sees it in the usage: ORDER
    key: str  # its name in the service command (order_id), or for the reply
    convert: Callable[[str], Any] = str
    optional: bool = False
    rest: bool = False  # the rest of the line, several words

    @property
    def usage(self) -> str:
        shown = f"{self.name}…" if self.rest else self.name
        return f"[{shown}]" if self.optional else shown


@dataclass(frozen=True)
class Question:
    """Asked when a person gave the first `after` arguments and stopped: their next plain
    message is the rest (a multi-step flow)."""

    after: int
    text: str  # formatted with the values given so far
    example: str


@dataclass(frozen=True)
class Command:
    name: str
    arguments: tuple[Arg, ...]
    who: str
    help: str
    party: bool = False  # the first argument is an order that only its parties may touch
    service: str | None = None  # the FROM_CHAT command it becomes; None: answered directly
    fixed: dict = field(default_factory=dict)  # more arguments of the service command
    then: str = ""  # the immediate reply to a change, formatted with the values
    question: Question | None = None
    grammar: str | None = None  # a parser of its own (parsing.GRAMMARS), for /order
    syntax: str | None = None  # the usage, when a grammar reads the arguments

    @property
    def usage(self) -> str:
        if self.syntax is not None:
            return f"/{self.name} {self.syntax}"
        return " ".join([f"/{self.name}", *(a.usage for a in self.arguments)])


ORDER = Arg("ORDER", "order_id", order_number)

COMMANDS: tuple[Command, ...] = (
    Command("start", (), ANYONE, "Say hello and see how to begin."),
    Command(
        "help",
        (Arg("COMMAND", "topic", word("COMMAND"), optional=True),),
        ANYONE,
        "The commands you may use, or how to use one.",
    ),
    Command(
        "join",
        (Arg("CODE", "code", word("CODE")), Arg("NAME", "name", optional=True, rest=True)),
        NEWCOMER,
        "Take part with the invite code a coordinator gave you.",
        service="Join",
    ),
    Command(
        "register",
        (Arg("ROLE", "role", role), Arg("NAME", "name", optional=True, rest=True)),
        NEWCOMER,
        "Register as a buyer: /register buyer YOUR NAME. Others join with an invite.",
        service="Register",
    ),
    Command(
        "catalog",
        (Arg("WORDS", "words", optional=True, rest=True),),
        ANYONE,
        "What can be ordered, and in how many ways; words narrow the list.",
    ),
    Command(
        "cancel",
        (
            Arg("ORDER", "order_id", order_number, optional=True),
            Arg("REASON", "reason", optional=True, rest=True),
        ),
        ANYONE,
        "Forget my last question; with ORDER, call that order off (its buyer or a coordinator).",
        service="CancelOrder",  # with an ORDER; alone it is answered here (conversation.py)
        then="Cancelling order {order_id} — every party is told and released; I'll confirm in a "
        "moment.",
    ),
    Command(
        "invite",
        (
            Arg("ROLE", "role", role),
            Arg("PARTICIPANT", "participant_id", word("PARTICIPANT"), optional=True),
        ),
        COORDINATOR,
        "A one-time invite code for a maker, supplier, transporter or coordinator.",
        service="CreateInvite",
        then="Making a {role} invite code — I'll send it to you in a moment.",
    ),
    Command(
        "order",
        (
            Arg("ITEM", "item"),
            Arg("QTY", "quantity"),
            Arg("+CRITERION", "criteria", optional=True, rest=True),
            Arg("by DATE", "due", iso_date, optional=True),
        ),
        BUYER,
        "Order something: I find every way the network can deliver it and show the best.",
        service="PlaceOrder",
        fixed={"weave_now": False},
        then="Working on it — I'll message you when your plans are ready.",
        question=Question(0, "What would you like, and how many?", "chair 2"),
        grammar="order",
        syntax="ITEM QTY[/PERIOD] [+CRITERION…] [by DATE]",
    ),
    Command(
        "plans",
        (ORDER, Arg("PAGE", "page", whole("PAGE"), optional=True)),
        REGISTERED,
        "Browse an order's plans, best first, with their price equations.",
        party=True,
    ),
    Command(
        "choose",
        (ORDER, Arg("PLAN", "rank", whole("PLAN"), optional=True)),
        BUYER,
        "Choose a plan; every party then gets its part to agree to.",
        party=True,
        service="ChoosePlan",
        then="Choosing plan {rank} for order {order_id} — every party gets its part now, "
        "and you'll hear when all have agreed.",
    ),
    Command(
        "agree",
        (ORDER,),
        REGISTERED,
        "Agree to your part of an order's plan.",
        party=True,
        service="Agree",
        then="Noting your agreement to order {order_id} — you'll hear when everyone has agreed.",
    ),
    Command(
        "decline",
        (ORDER, Arg("REASON", "reason", optional=True, rest=True)),
        REGISTERED,
        "Decline your part; the order is re-planned without you.",
        party=True,
        service="Decline",
        then="Passing on that you decline order {order_id} — it will be re-planned without you.",
    ),
    Command(
        "quote",
        (ORDER, Arg("VAR", "variable", word("VAR")), Arg("PRICE", "value", price)),
        REGISTERED,
        "Set a price you are asked for; every party gets the updated equation.",
        party=True,
        service="QuotePrice",
        then="Recording {value:,.2f} for {variable} on order {order_id} — every party gets "
        "the updated price.",
    ),
    Command(
        "say",
        (ORDER, Arg("TEXT", "text", rest=True)),
        REGISTERED,
        "Talk to every other party of an order, wherever they chat.",
        party=True,
        service="Say",
        then="Passing it on to the other parties of order {order_id}.",
        question=Question(
            1, "What would you like to tell the other parties of order {order_id}?", "see you at 9"
        ),
    ),
    Command(
        "stages",
        (ORDER,),
        REGISTERED,
        "An order's stages: who does each, what is done, and a picture.",
        party=True,
    ),
    Command(
        "done",
        (
            ORDER,
            Arg("STAGE", "stage", word("STAGE")),
            Arg("EVIDENCE", "evidence", optional=True, rest=True),
        ),
        REGISTERED,
        "Say that a stage you own is done (optionally how you know).",
        party=True,
        service="AssertStage",
        fixed={"status": "done"},
        then="Recording {stage} of order {order_id} as done — I'll confirm in a moment.",
    ),
    Command(
        "fail",
        (ORDER, Arg("STAGE", "stage", word("STAGE")), Arg("REASON", "evidence", rest=True)),
        REGISTERED,
        "Say that a stage you own failed, and why; the order is re-planned around it.",
        party=True,
        service="AssertStage",
        fixed={"status": "failed"},
        then="Recording that {stage} of order {order_id} failed — I'll re-plan and tell "
        "everyone affected.",
        question=Question(2, "What went wrong with {stage}?", "the glue did not set"),
    ),
    Command(
        "disrupt",
        (Arg("RESOURCE", "resource", word("RESOURCE")), Arg("REASON", "reason", rest=True)),
        REGISTERED,
        "Say that a facility, offer or supplier you run is out of service.",
        service="Disrupt",
        fixed={"analyse_now": False},
        then="Recording that {resource} is out of service — orders that use it are re-planned "
        "and their parties told.",
        question=Question(1, "What happened to {resource}?", "flooded until Monday"),
    ),
    Command(
        "restore",
        (Arg("RESOURCE", "resource", word("RESOURCE")),),
        REGISTERED,
        "Say that a resource you run is back in service.",
        service="Restore",
        then="Recording that {resource} is back — orders that waited for it are planned again.",
    ),
    Command(
        "approve",
        (ORDER, Arg("SUB", "substitution_id", whole("SUB"))),
        BUYER,
        "Accept a proposed substitute for your order.",
        party=True,
        service="DecideSubstitution",
        fixed={"approve": True},
        then="Approving substitution {substitution_id} — I'll re-plan order {order_id} with it "
        "and tell you.",
    ),
    Command(
        "reject",
        (ORDER, Arg("SUB", "substitution_id", whole("SUB"))),
        BUYER,
        "Turn down a proposed substitute for your order.",
        party=True,
        service="DecideSubstitution",
        fixed={"approve": False},
        then="Rejecting substitution {substitution_id} — order {order_id} waits for a source "
        "to come back.",
    ),
    Command(
        "reweave",
        (ORDER,),
        BUYER,
        "Look again for a way to deliver what is missing from your order.",
        party=True,
        service="Reweave",
        then="Re-planning order {order_id} — I'll tell you what changes.",
    ),
    Command(
        "substitute",
        (
            ORDER,
            Arg("ITEM", "item", word("ITEM")),
            Arg("BY", "by", word("BY")),
            Arg("REASON", "reason", optional=True, rest=True),
        ),
        REGISTERED,
        "Propose another item instead of one an order uses, and why; its buyer decides.",
        party=True,
        service="ProposeSubstitution",
        then="Passing on your proposal of {by} instead of {item} for order {order_id} — its "
        "buyer decides.",
    ),
    Command(
        "hand",
        (
            ORDER,
            Arg("STAGE", "stage", word("STAGE")),
            Arg("PARTICIPANT", "to", word("PARTICIPANT")),
        ),
        COORDINATOR,
        "Give a stage that is not done to another owner; both are told.",
        party=True,
        service="HandStage",
        then="Handing {stage} of order {order_id} to {to} — both are told; I'll confirm in a "
        "moment.",
    ),
    Command(
        "history",
        (ORDER,),
        REGISTERED,
        "What happened to an order: who did what, when.",
        party=True,
    ),
    Command(
        "watch",
        (Arg("TARGET", "target", rest=True),),
        REGISTERED,
        "Hear when an item or a resource is disrupted or back in service.",
        service="Watch",
        then="Setting up alerts for {target} — I'll confirm in a moment.",
    ),
    Command("tasks", (), REGISTERED, "The stages you owe and the plans waiting for your word."),
    Command(
        "orders",
        (Arg("STATE", "state", word("STATE"), optional=True),),
        REGISTERED,
        "Your orders by state, stuck ones first (a coordinator: every order); STATE narrows it.",
    ),
    Command(
        "risk",
        (ORDER,),
        REGISTERED,
        "How likely an order is to go wrong, where, and what it hangs on.",
        party=True,
    ),
    *(
        Command(
            name,
            (Arg("WORDS", "words", rest=True),),
            REGISTERED,
            text,
            question=Question(0, ask, example),
        )
        for name, text, ask, example in (
            (
                "offer",
                "Offer the network something you can provide; I read it back before it goes out.",
                "What do you offer, how much, and where?",
                "3d printing 10 h/week near Baltimore",
            ),
            (
                "request",
                "Ask the network for something; offers that fit are matched to it.",
                "What do you need, how many, and by when?",
                "face-shield 200 by 2026-12-20",
            ),
            (
                "propose",
                "Propose doing something together; I gather who can join.",
                "What do you propose, and what does it need?",
                "sewing 40 h near San Juan",
            ),
        )
    ),
    Command("cast", (), REGISTERED, "Send out the offer, request or proposal I read back to you."),
    Command("intents", (), REGISTERED, "Your offers, requests and proposals, and how they stand."),
    Command(
        "edit",
        (Arg("INTENT", "intent_id", whole("INTENT")), Arg("WORDS", "words", rest=True)),
        REGISTERED,
        "Change one of your offers, requests or proposals.",
        service="EditIntent",
        then="Changing intent {intent_id} — I'll read it back and look for matches again.",
    ),
    Command(
        "withdraw",
        (Arg("INTENT", "intent_id", whole("INTENT")),),
        REGISTERED,
        "Take back one of your offers, requests or proposals.",
        service="WithdrawIntent",
        then="Withdrawing intent {intent_id} — its matches no longer hold.",
    ),
    Command(
        "matches",
        (),
        REGISTERED,
        "Offers and requests that match yours, with what each covers.",
    ),
    Command(
        "accept",
        (Arg("MATCH", "match_id", whole("MATCH")),),
        REGISTERED,
        "Accept a match: your side of it becomes a commitment.",
        service="AcceptMatch",
        then="Accepting match {match_id} — I'll tell you and the others what it becomes.",
    ),
    Command(
        "used",
        (Arg("ITEM", "item"), Arg("QTY", "quantity")),
        REGISTERED,
        "Say you used some of what a standing order brings; I order it again.",
        service="ReportUse",
        then="Noting that you used {quantity} × {item} — I'll order it again for you.",
        grammar="used",
        syntax="ITEM QTY",
    ),
)

BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}


def may_use(command: Command, roles: list[str] | None) -> bool:
    """`roles` is None for a person who has not joined yet."""
    if command.who == ANYONE:
        return True
    if command.who == NEWCOMER or roles is None:
        return command.who == NEWCOMER and roles is None
    if "coordinator" in roles or command.who == REGISTERED:
        return True
    return command.who in roles
