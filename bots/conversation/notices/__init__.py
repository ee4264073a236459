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

import core.service.notices
from bots.conversation.declarations import COMMANDS
from bots.conversation.notices import talk
from core.service.notices import Next, Notice, Rendered, View

# Each area module: RENDERERS = {NoticeClass: function(notice) -> Rendered}.
AREAS = (talk,)

Renderer = Callable[[Notice], Rendered]


def _commands_by_action() -> dict[type | View, str]:
    """The chat command of each command class and view, from the declarations. A class that
    several declarations carry (a command that stands alone for another) is the first's."""
    named: dict[type | View, str] = {}
    for declaration in COMMANDS:
        action = declaration.service or declaration.shows
        if action is not None and action not in named and not declaration.fixed:
            named[action] = declaration.name
    return named


COMMAND_OF = _commands_by_action()


def command_text(step: Next) -> str:
    """What a person types (or a button sends) to do `step`: `/choose 12 3`."""
    name = COMMAND_OF.get(step.action)
    if name is None:
        raise LookupError(f"no chat command is declared for {step.action!r}")
    return " ".join([f"/{name}", *(str(a) for a in step.args)])


def buttons(*pairs: tuple[str, Next]) -> list[list[str]]:
    """An outbox payload's buttons, `[[label, command], ...]`, from labels and what they do."""
    return [[label, command_text(step)] for label, step in pairs]


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

__all__ = ["buttons", "command_text", "render"]
