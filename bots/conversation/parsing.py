"""Text → a declared command with typed values, or a one-line problem and the usage.

Parsing reads nothing and changes nothing: whatever a person types, the worst outcome is a
`Problem`.
"""

from __future__ import annotations

import re

from bots.conversation import suggest
from bots.conversation.arguments import MAX_REST, Arg
from bots.conversation.declaration import Command
from bots.conversation.declarations import BY_NAME
from bots.conversation.parsed import Parsed, Problem

_TOKEN = re.compile(r"\S+")


def storable(text: str) -> str:
    """The text without what no database keeps: NUL goes (no person means one), and a lone
    surrogate (what a JSON "\\ud800" escape decodes to; UTF-8 cannot encode it) becomes U+FFFD."""
    return text.replace("\x00", "").encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def is_command(text: str) -> bool:
    return text.lstrip().startswith("/")


def command_word(text: str) -> str:
    """`/Order@scis_bot chair 2` → `order` (Telegram adds the bot's name in groups)."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return first.removeprefix("/").split("@", 1)[0].lower()


def parse(text: str) -> Parsed | Problem:
    stripped = text.strip()
    if not is_command(stripped):
        return Problem("That is not a command")
    name = command_word(stripped)
    command = BY_NAME.get(name)
    if command is None:
        shown = name if len(name) <= 30 else name[:27] + "…"
        if not shown:
            return Problem("A command follows the /")
        return Problem(f"I don't know /{shown}{suggest.command(name, BY_NAME)}")
    tokens = list(_TOKEN.finditer(stripped))[1:]
    if command.grammar is not None:
        return command.grammar(command, stripped, tokens)
    return _positional(command, stripped, tokens)


def _positional(command: Command, text: str, tokens: list[re.Match]) -> Parsed | Problem:
    values: dict = {}
    position = 0
    for arg in command.arguments:
        if position >= len(tokens):
            if arg.optional:
                continue
            return Problem(f"{arg.name} is missing", command, len(tokens), values)
        if arg.rest:
            rest = text[tokens[position].start() :].strip()
            if len(rest) > MAX_REST:
                return Problem(
                    f"{arg.name} is too long ({len(rest):,} characters; at most {MAX_REST:,})",
                    command,
                )
            try:
                values[arg.key] = arg.convert(rest)
            except ValueError as wrong:
                return Problem(str(wrong), command)
            position = len(tokens)
            continue
        try:
            values[arg.key] = arg.convert(tokens[position].group())
        except ValueError as wrong:
            return Problem(str(wrong), command)
        position += 1
    if position < len(tokens):
        extra = len(tokens) - position
        return Problem(
            f"/{command.name} takes {_count(command.arguments)}, and {extra} more "
            f"word{'s were' if extra > 1 else ' was'} given",
            command,
        )
    return Parsed(command, values)


def _count(arguments: tuple[Arg, ...]) -> str:
    if not arguments:
        return "nothing after it"
    most = len(arguments)
    least = sum(not a.optional for a in arguments)
    if least == most:
        return f"{most} argument{'s' if most > 1 else ''}"
    return f"{least} to {most} arguments"
