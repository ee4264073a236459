"""What a use case tells people, as data: a notice is a typed record of what happened (the
order, the stage, the parties, the figures) and of what the reader can do next. Core says
nothing in words; the chat layer renders each kind of notice (bots/conversation/notices), and
the composition root gives the application that renderer (`Services.render`).

Each area of the service keeps its notices in its own module of this package; `Notice` is their
base, `Next` names a thing to do next by code — a command class of core, or a `View` — never by
the text of a chat command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar


class View(Enum):
    """What a person can look at next; each chat front end declares the command that shows it."""

    PLANS = "plans"  # an order's plans
    STAGES = "stages"  # an order's stages
    TERMS = "terms"  # a party's whole frame of an order: every price, who sets it, contacts
    HISTORY = "history"  # what happened to an order
    TASKS = "tasks"  # what a person owes
    ORDERS = "orders"  # a person's orders
    RISK = "risk"  # how an order may fail
    CATALOG = "catalog"  # what can be ordered
    INTENTS = "intents"  # a person's offers, requests and proposals
    MATCHES = "matches"  # matches of those


@dataclass(frozen=True)
class Next:
    """One thing the reader can do next: `action` is a command class of core (`ChoosePlan`) or
    a `View`; `args` are its arguments in the order a person types them (a placeholder such as
    "REASON" where the reader fills it in). `given`: the command class's own arguments that tell
    apart two ways of saying it (`(("status", "done"),)` for a stage done, not failed)."""

    action: type | View
    args: tuple = ()
    given: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Notice:
    """The base of every notice. `kind` is how the outbox files it (a frame, an outcome, a
    relayed message), which platforms use to lay it out; `next` what the reader may do now,
    offered as buttons where the platform has them."""

    kind: ClassVar[str] = "message"
    next: tuple[Next, ...] = field(default=(), kw_only=True)


@dataclass(frozen=True)
class Rendered:
    """A notice in words, as the chat layer rendered it: the outbox row's text, its kind and
    its payload (buttons as `[[label, command], ...]`, and whatever a platform reads)."""

    text: str
    kind: str = "message"
    payload: dict = field(default_factory=dict)
