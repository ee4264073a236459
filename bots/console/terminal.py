"""Chat on the terminal: lines in, the conversation's replies out; `/as PARTICIPANT` switches who
is speaking, so one person can play a whole scenario."""

from __future__ import annotations

import itertools
import sys
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from bots.conversation.messages import Conversation, Incoming, Reply

try:  # line editing and history at the prompt (input() uses it once it is imported)
    import readline
except ImportError:  # not on every platform
    readline = None

NEWCOMER = "newcomer"  # who speaks before any /as: someone not yet registered
QUIT = ("/quit", "/exit")
BYE = "Bye — the workers finish what is queued; `scis serve` resumes it."


class Terminal:
    def __init__(
        self,
        conversation: Conversation,
        console: Console,
        participants: Callable[[], dict[str, str]],
        pictures: Path,
        speaker: str = NEWCOMER,
    ):
        self.conversation, self.console = conversation, console
        self.participants = participants  # id → name, read fresh (people register as we go)
        self.pictures = pictures
        self.speaker = speaker
        # Message ids must be unique across restarts of the terminal on the same database.
        self._session = uuid.uuid4().hex[:8]
        self._counter = itertools.count(1)
        self.waiting = False  # at the keyboard's prompt, for ConsoleSender to redraw it

    def pending_prompt(self) -> str | None:
        """The prompt and what is typed so far, while the person is typing; else None."""
        return self.prompt + _typed() if self.waiting else None

    @property
    def prompt(self) -> str:
        return f"{self.speaker}> "

    def run(self, lines: Iterable[str] | None = None) -> None:
        """Reads `lines`, or the keyboard until end of input or /quit."""
        source = lines if lines is not None else _keyboard(self)
        for line in source:
            if not self.say(line):
                return
        if lines is None:  # end of input (Ctrl-D) or Ctrl-C
            self.console.print()
            self.console.print(BYE)

    def say(self, line: str) -> bool:
        """One line from the person at the terminal; False when they leave."""
        text = line.strip()
        if not text:
            return True
        if text.split()[0].lower() in QUIT:
            self.console.print(BYE)
            return False
        if text.split()[0].lower() == "/as":
            self._switch(text.split()[1:])
            return True
        incoming = Incoming("console", self.speaker, f"{self._session}:{next(self._counter)}", text)
        for reply in self.conversation.answer(incoming):
            self.show(reply)
        return True

    def _switch(self, words: list[str]) -> None:
        known = self.participants()
        if len(words) != 1:
            self.console.print(
                "Usage: /as PARTICIPANT — for example /as " + next(iter(known), "dana")
            )
            return
        wanted = words[0]
        if wanted not in known and wanted != NEWCOMER:
            close = [p for p in known if wanted.lower() in p.lower()][:5]
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            self.console.print(f"No participant {escape(wanted)!s}.{hint}")
            return
        self.speaker = wanted
        name = known.get(wanted, "someone new")
        self.console.print(f"You are now {escape(name)} ({wanted}). /help shows what you can do.")

    def show(self, reply: Reply) -> None:
        self.console.print(escape(reply.text))
        for row in reply.buttons:
            self.console.print(
                "   " + "   ".join(f"[{escape(b.label)}] {escape(b.command)}" for b in row)
            )
        if reply.picture is not None:
            self.pictures.mkdir(parents=True, exist_ok=True)
            path = self.pictures / reply.picture.filename
            path.write_bytes(reply.picture.png)
            self.console.print(f"(picture saved to {path})")


def _keyboard(terminal: Terminal):
    """Lines from the keyboard, with line editing and history; from a pipe or a file, each line
    is echoed after the prompt, so that the transcript reads like a conversation."""
    interactive = sys.stdin.isatty()
    while True:
        try:
            if interactive:
                terminal.waiting = True
                try:
                    line = input(terminal.prompt)
                finally:
                    terminal.waiting = False
            else:
                line = sys.stdin.readline()
                if not line:
                    return
                line = line.rstrip("\n")
                terminal.console.print(escape(terminal.prompt + line))
        except (EOFError, KeyboardInterrupt):
            return
        yield line


def _typed() -> str:
    return readline.get_line_buffer() if readline is not None else ""
