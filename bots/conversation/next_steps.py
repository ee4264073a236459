"""What a `Next` is in chat: the declared command that does it, as typed or pressed, and as a
hint after a refusal. The notices' renderers, the views and the reads use these; the table of
declarations is read through bots/conversation/command_table.py, which the declarations fill."""

from __future__ import annotations

from collections.abc import Iterable

from bots.conversation.command_table import COMMAND_OF
from bots.conversation.declaration import Command
from core.service.notices import Next, View
from core.service.results import Refused


def declaration_of(step: Next) -> Command:
    """The one declared command that does `step`: its class, with `given` among its fixed
    arguments; several left (AssertStage without a status) is a mistake of the notice."""
    fitting = [
        declaration
        for declaration in COMMAND_OF.get(step.action, ())
        if all(declaration.fixed.get(key, _ABSENT) == value for key, value in step.given)
    ]
    if len(fitting) != 1:
        found = "no" if not fitting else "more than one"
        raise LookupError(f"{found} chat command is declared for {step.action!r} {step.given!r}")
    return fitting[0]


_ABSENT = object()


def command_text(step: Next) -> str:
    """What a person types (or a button sends) to do `step`: `/choose 12 3`."""
    return " ".join([f"/{declaration_of(step).name}", *(str(a) for a in step.args)])


def buttons(*pairs: tuple[str, Next]) -> list[list[str]]:
    """An outbox payload's buttons, `[[label, command], ...]`, from labels and what they do."""
    return [[label, command_text(step)] for label, step in pairs]


# What each view shows, after its command in a hint ("/matches lists yours").
SHOWS = {
    View.PLANS: "lists them",
    View.STAGES: "shows them",
    View.TERMS: "shows every price and contact",
    View.HISTORY: "shows what happened",
    View.TASKS: "shows what you owe",
    View.ORDERS: "lists your orders",
    View.RISK: "shows how it may fail",
    View.CATALOG: "lists what can be ordered",
    View.INTENTS: "lists yours",
    View.MATCHES: "lists yours",
}


def hint(steps: Iterable[Next]) -> str:
    """What to do instead, in words: "/plans 12 lists them", "/approve 3 1 or /reject 3 1"."""
    said = [
        f"{command_text(step)} {SHOWS.get(step.action, 'shows them')}"
        if isinstance(step.action, View)
        else command_text(step)
        for step in steps
    ]
    return " or ".join(said)


def refusal_text(refusal: Refused) -> str:
    """A refusal's reason with what to do instead appended."""
    reason = str(refusal)
    return f"{reason} — {hint(refusal.next)}" if refusal.next else reason
