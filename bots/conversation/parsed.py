"""What parsing a line gives: a declared command with its typed values, or a one-line problem
with the usage."""

from __future__ import annotations

from dataclasses import dataclass, field

from bots.conversation.declaration import Command


@dataclass(frozen=True)
class Parsed:
    command: Command
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    message: str
    command: Command | None = None
    # Set when the arguments were right as far as they went and the rest is missing: how many
    # were given (a declared Question may then ask for the rest).
    given: int | None = None
    values: dict = field(default_factory=dict)  # what was understood before it stopped

    @property
    def sentence(self) -> str:
        return self.message[:1].upper() + self.message[1:]

    @property
    def text(self) -> str:
        said = self.sentence if self.sentence.endswith(("?", "!")) else f"{self.sentence}."
        if self.command is None:
            return f"{said} /help lists what you can do."
        return f"{said} Usage: {self.command.usage}"
