"""What one chat command's declaration holds, and who may use it.

A declaration points at code, once: the command class of core it becomes (`service`), the read
that answers it (`read`, which writes nothing), or a step of the conversation itself (`step`:
forgetting its question, reading an intent back, casting it). A declaration that points at
none of them or at more than one, or at a class no chat message may carry, fails when it is
made, so a mistake stops the bot at start rather than when someone first types the command.
The table of declarations is declarations.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from bots.conversation.arguments import Arg
from bots.conversation.flows import Flow
from bots.conversation.messages import Reply
from bots.conversation.settings import ChatSettings
from bots.conversation.turn import Submitting, Turn
from core.network.model import ROLES
from core.service.commands import FROM_CHAT
from core.service.notices import View

# Who may use a command. A coordinator may use every command.
ANYONE = "anyone"
NEWCOMER = "newcomer"  # a chat account that speaks for nobody yet
REGISTERED = "registered"  # any participant
BUYER = "buyer"  # participants with the buyer role
COORDINATOR = "coordinator"

WHO_MAY = {
    ANYONE: "anyone",
    NEWCOMER: "accounts that have not joined yet",
    REGISTERED: "participants",
    BUYER: "buyers",
    COORDINATOR: "coordinators",
}

# A read answers from the queries and writes nothing.
Read = Callable[[Turn], Reply]
# A step of the conversation may keep or forget the account's pending step and submit a change.
Step = Callable[[Turn, Flow, Submitting], Reply]
# A condition beyond who may use the command (access.Check in, a refusal or None out).
Guard = Callable[[Any], Reply | None]
# The names typed read as the ids core takes (suggest.py): the values, or a reply that says
# what the person may have meant.
Names = Callable[[Turn], "Mapping[str, Any] | Reply"]
# A parser of its own: (the command, the text, its words after the command) → Parsed | Problem.
Grammar = Callable[[Any, str, list[re.Match]], Any]


@dataclass(frozen=True)
class Question:
    """Asked when a person gave the first `after` arguments and stopped: their next plain
    message is the rest (a multi-step flow)."""

    after: int
    text: str  # formatted with the values given so far
    example: str
    # An example from the network loaded (an item it has), when the fixed one may not fit.
    example_from: Callable[[Any], str] | None = None  # Services → the example

    def example_in(self, services: Any) -> str:
        if self.example_from is not None:
            try:
                return self.example_from(services) or self.example
            except Exception:  # an example is a nicety: the question still helps without it
                return self.example
        return self.example


@dataclass(frozen=True)
class Command:
    name: str
    arguments: tuple[Arg, ...]
    who: str
    help: str
    party: bool = False  # the first argument is an order that only its parties may touch
    service: type | None = None  # the command class of core it becomes (one of FROM_CHAT)
    read: Read | None = None
    step: Step | None = None
    alone: Command | None = None  # what it is when none of its optional arguments is given
    bare: Command | None = None  # what it is when nothing at all follows it (/done: a list)
    guard: Guard | None = None  # checked after who may use it, before the order's parties
    enrols: bool = False  # makes the account a participant: carried out at once, told its outcome
    unnamed: str = ""  # enrolling with no name typed nor shown by the account: what to ask
    fixed: dict = field(default_factory=dict)  # more arguments of the command class
    from_settings: Mapping[str, str] = field(default_factory=dict)  # argument → ChatSettings field
    then: str = ""  # the immediate reply to a change, formatted with the values
    # Tried before it is acknowledged (Services.trial), so that a knowable refusal is said at
    # once. Not for a change that numbers what it makes and has no check of its own in core
    # (core.service.handlers.CHECKS): PostgreSQL's sequences do not roll back, and a trial
    # would skip the number a person then reads.
    tried: bool = True
    question: Question | None = None
    said_as: frozenset[str] = frozenset()  # plain answers to its pending step that mean it
    grammar: Grammar | None = None  # a parser of its own (grammars.py), for /order and /used
    syntax: str | None = None  # the usage, when the arguments are not read one word each
    shows: View | None = None  # the view of core's notices this read shows (core.service.notices)
    names: Names | None = None  # a change's names read as ids before it is tried (suggest.py)

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise ValueError(f"the declaration of /{self.name} {problem}")

    def _problem(self) -> str | None:
        kinds = [kind for kind in (self.service, self.read, self.step) if kind is not None]
        if len(kinds) != 1:
            return f"points at {len(kinds)} of a command class, a read and a step, not one"
        if self.who not in WHO_MAY:
            return f"says who may use it with {self.who!r}, one of {', '.join(WHO_MAY)}"
        if not all(callable(kind) for kind in kinds):
            return "points at something that cannot be called"
        if self.service is not None:
            if FROM_CHAT.get(self.service.__name__) is not self.service:
                return f"becomes {self.service.__name__}, which no chat message may carry"
            names = {f.name for f in fields(self.service)}
            if unknown := (set(self.fixed) | set(self.from_settings)) - names:
                return f"gives {self.service.__name__} what it does not take: {sorted(unknown)}"
            if not (self.then or self.enrols):
                return "changes something without saying what happens next (then=)"
        if self.names is not None and self.service is None:
            return "reads names for no command class"
        if self.shows is not None and self.read is None:
            return f"shows {self.shows} without being a read"
        if self.service is None and (self.fixed or self.from_settings or self.then or self.enrols):
            return "gives arguments or an immediate reply to no command class"
        if unknown := set(self.from_settings.values()) - {f.name for f in fields(ChatSettings)}:
            return f"takes settings there are not: {sorted(unknown)}"
        if self.unnamed and not self.enrols:
            return "asks for a name without enrolling"
        if self.said_as and self.step is None:
            return "may be said in plain words without being a step"
        if self.party and (not self.arguments or self.arguments[0].key != "order_id"):
            return "is for an order's parties without an order as its first argument"
        if self.alone is not None and any(
            may_use(self, roles) and not may_use(self.alone, roles) for roles in _EVERYONE
        ):
            return f"stands alone for /{self.alone.name}, which fewer people may use"
        return None

    @property
    def usage(self) -> str:
        if self.syntax is not None:
            return f"/{self.name} {self.syntax}"
        return " ".join([f"/{self.name}", *(a.usage for a in self.arguments)])

    def is_alone(self, values: Mapping[str, Any]) -> bool:
        """Whether `values` give none of its optional arguments."""
        return not any(a.key in values for a in self.arguments if a.optional)


def may_use(command: Command, roles: list[str] | None) -> bool:
    """`roles` is None for a person who has not joined yet."""
    if command.who == ANYONE:
        return True
    if command.who == NEWCOMER or roles is None:
        return command.who == NEWCOMER and roles is None
    if "coordinator" in roles or command.who == REGISTERED:
        return True
    return command.who in roles


def who_may(who: str) -> str:
    return WHO_MAY[who]


# Every kind of person, as `may_use` sees them: not joined, joined with no role, one role each.
_EVERYONE: tuple[list[str] | None, ...] = (None, [], *([role] for role in ROLES))
