"""The declared chat commands by what they do (a command class of core, or a view), filled once
by bots/conversation/declarations.py when it is imported.

It imports nothing of the conversation, so the views, reads and steps that the declarations
name can word a `Next` (bots/conversation/next_steps.py) without importing the declarations
back: the table points down, the modules it names never point up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.service.notices import View

# action → its declarations, in declared order (one class may have several: /done and /fail).
COMMAND_OF: dict[type | View, tuple[Any, ...]] = {}


def declare(commands: Iterable[Any]) -> None:
    """Index `commands` (bots.conversation.declaration.Command) by the class or view of each."""
    COMMAND_OF.clear()
    for declaration in commands:
        action = declaration.service or declaration.shows
        if action is not None:
            COMMAND_OF[action] = (*COMMAND_OF.get(action, ()), declaration)
