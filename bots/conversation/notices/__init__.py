"""Core's notices in words: one renderer per kind of notice, kept by area in the modules of
this package, and the chat command a `Next` becomes.

`render` is what the composition root gives the application (`Services.render`), so every
message of the outbox is worded here, with the same views as the immediate replies. Importing
this package fails when a notice of core has no renderer, or when a `Next` could name a command
nobody declared — a mistake stops the bot at start, not when someone first reads it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable

import bots.conversation.declarations  # noqa: F401  (fills the command table checked below)
import core.service.notices
from bots.conversation.next_steps import (
    COMMAND_OF,
    buttons,
    command_text,
    hint,
    refusal_text,
)
from bots.conversation.notices import (
    acceptance,
    agreement,
    coordination,
    disruptions,
    inbound,
    intents,
    lifecycle,
    negotiation,
    orders,
    participants,
    plans,
    replanning,
    stages,
    standing,
    talk,
)
from core.service.notices import Notice, Rendered, View

# Each area module: RENDERERS = {NoticeClass: function(notice) -> Rendered}.
AREAS = (
    talk,
    inbound,
    stages,
    lifecycle,
    coordination,
    replanning,
    negotiation,
    agreement,
    disruptions,
    intents,
    participants,
    orders,
    plans,
    acceptance,
    standing,
)

Renderer = Callable[[Notice], Rendered]


def _every_notice(base: type = Notice) -> Iterable[type]:
    for kind in base.__subclasses__():
        yield kind
        yield from _every_notice(kind)


def _table() -> dict[type, Renderer]:
    table: dict[type, Renderer] = {}
    for area in AREAS:
        table.update(area.RENDERERS)
    return table


RENDERERS = _table()


def render(notice: Notice) -> Rendered:
    renderer = RENDERERS.get(type(notice))
    if renderer is None:
        raise LookupError(f"no renderer for the notice {type(notice).__name__}")
    return renderer(notice)


def _missing() -> list[str]:
    for module in pkgutil.iter_modules(core.service.notices.__path__):
        importlib.import_module(f"core.service.notices.{module.name}")
    missing = [kind.__name__ for kind in _every_notice() if kind not in RENDERERS]
    missing += [f"the view {view.name}" for view in View if view not in COMMAND_OF]
    return missing


if problems := _missing():
    raise ImportError("chat wording is missing for: " + ", ".join(sorted(problems)))

__all__ = ["COMMAND_OF", "buttons", "command_text", "hint", "refusal_text", "render"]
