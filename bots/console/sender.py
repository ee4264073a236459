"""The outbox on the terminal: every participant's messages, shown with their names."""

from __future__ import annotations

import threading
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from bots.conversation.messages import outbox_buttons
from workers.senders import Outgoing


class ConsoleSender:
    """`address` is the participant's id (a console identity speaks for itself)."""

    platform = "console"

    def __init__(
        self,
        console: Console,
        name_of: Callable[[str], str],
        prompt: Callable[[], str | None] = lambda: None,
    ):
        self.console, self.name_of = console, name_of
        # The prompt (and what is typed after it) while the person is typing: a message that
        # arrives meanwhile is printed above it, and the prompt drawn again below.
        self.prompt = prompt
        self._lock = threading.Lock()  # worker threads deliver concurrently

    def send(self, address: str, message: Outgoing) -> None:
        buttons = [f"[{b.label}] {b.command}" for b in outbox_buttons(message.payload)]
        with self._lock:
            typing = self.prompt() if self.console.is_terminal else None
            if typing is not None:
                self.console.file.write("\r\x1b[K")  # the prompt's line, cleared
            self.console.print(
                f"[bold cyan]→ {escape(self.name_of(address))}[/] {escape(message.text)}"
            )
            if buttons:
                self.console.print("    [dim]" + escape("   ".join(buttons)) + "[/]")
            if typing is not None:
                self.console.file.write(typing)
                self.console.file.flush()
