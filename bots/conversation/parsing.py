"""Text → a declared command with typed values, or a one-line problem and the usage.

Parsing reads nothing and changes nothing: whatever a person types, the worst outcome is a
`Problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bots.conversation.declarations import (
    BY_NAME,
    MAX_REST,
    Arg,
    Command,
    criterion,
    digits,
    iso_date,
    quantity,
    word,
)

_TOKEN = re.compile(r"\S+")


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
        if self.command is None:
            return f"{self.sentence}. /help lists what you can do."
        return f"{self.sentence}. Usage: {self.command.usage}"


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
        return Problem(f"I don't know /{shown}" if shown else "A command follows the /")
    tokens = list(_TOKEN.finditer(stripped))[1:]
    if command.grammar is not None:
        return GRAMMARS[command.grammar](command, stripped, tokens)
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
            values[arg.key] = rest
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


RATE = re.compile(r"^([0-9]+)/(day|week|month)$", re.I)
PERIOD_WORDS = {
    "day": "day",
    "daily": "day",
    "week": "week",
    "weekly": "week",
    "month": "month",
    "monthly": "month",
}


def _order(command: Command, text: str, tokens: list[re.Match]) -> Parsed | Problem:
    """`ITEM QTY [+CRITERION…] [by DATE]`; the item may be several words (`chair leg 4`), and
    `4 chair legs`-style `QTY ITEM` is understood too. A standing order gives a rate:
    `masks 200/week`, `masks 200 per week`, `masks 200 a week`, `masks 200 weekly`."""
    words = [t.group() for t in tokens]
    if not words:
        return Problem("ITEM and QTY are missing", command, 0)
    due = None
    if len(words) >= 2 and words[-2].lower() == "by":
        try:
            due = iso_date(words[-1])
        except ValueError as wrong:
            return Problem(str(wrong), command)
        words = words[:-2]
    criteria = [w[1:] for w in words if w.startswith("+")]
    if any(not c for c in criteria):
        return Problem("a criterion follows the +, like +latex-free", command)
    words, per = _rate([w for w in words if not w.startswith("+")])
    if words and (odd := re.fullmatch(r"[0-9]+/(\w+)", words[-1])):
        return Problem(f"a rate is per day, week or month, not per {odd[1]}", command)
    found = _item_and_quantity(command, words)
    if isinstance(found, Problem):
        return found
    item, quantity = found
    try:
        criteria = [criterion(c) for c in criteria]
    except ValueError as wrong:
        return Problem(str(wrong), command)
    values = {
        "lines": [[item, quantity]],
        "criteria": criteria,
        "due": due,
        "item": item,
        "quantity": quantity,
    }
    if per is not None:
        values["per"] = per
    return Parsed(command, values)


def _used(command: Command, text: str, tokens: list[re.Match]) -> Parsed | Problem:
    """`ITEM QTY` or `QTY ITEM`, the item in several words if need be."""
    found = _item_and_quantity(command, [t.group() for t in tokens])
    if isinstance(found, Problem):
        return found
    item, quantity = found
    return Parsed(command, {"item": item, "quantity": quantity})


def _rate(words: list[str]) -> tuple[list[str], str | None]:
    """The words without a rate at their end, and the rate's period (None: no rate)."""
    if words and (m := RATE.match(words[-1])):
        return [*words[:-1], m[1]], m[2].lower()
    if len(words) >= 2 and words[-1].lower() in ("daily", "weekly", "monthly"):
        return words[:-1], PERIOD_WORDS[words[-1].lower()]
    if len(words) >= 2 and words[-1].lower() in PERIOD_WORDS and digits(words[-2]):
        return words[:-1], PERIOD_WORDS[words[-1].lower()]
    if len(words) >= 3 and words[-2].lower() in ("per", "a", "every", "each"):
        period = PERIOD_WORDS.get(words[-1].lower())
        if period is not None and digits(words[-3]):
            return words[:-2], period
    return words, None


def _item_and_quantity(command: Command, words: list[str]) -> tuple[str, int] | Problem:
    if not words:
        return Problem("ITEM and QTY are missing", command)
    if len(words) >= 2 and _number_like(words[-1]):
        quantity_text, item_words = words[-1], words[:-1]
    elif len(words) >= 2 and _number_like(words[0]):
        quantity_text, item_words = words[0], words[1:]
    elif len(words) == 1 and not _number_like(words[0]):
        return Problem(f"QTY is missing: how many {words[0]}?", command)
    else:
        return Problem("Say what and how many", command)
    try:
        return word("ITEM")(" ".join(item_words)), quantity("QTY")(quantity_text)
    except ValueError as wrong:
        return Problem(str(wrong), command)


def _number_like(text: str) -> bool:
    """Meant as the quantity: 0–9 digits, or digits of another script, "²" or "1,000", which
    `whole` then refuses with the fix (read as part of the item, they would be misunderstood)."""
    return digits(text) or (
        any(c.isnumeric() for c in text) and all(c.isnumeric() or c in ",." for c in text)
    )


GRAMMARS = {"order": _order, "used": _used}
