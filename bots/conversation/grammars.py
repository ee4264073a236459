"""The commands whose arguments are not read one word each: /order and /used take an item of
several words and a quantity, in either order; /order also takes criteria, a due date and a
rate. A declaration points at its grammar (`Command.grammar`)."""

from __future__ import annotations

import re

from bots.conversation.arguments import criterion, digits, due_date, quantity, word
from bots.conversation.declaration import Command
from bots.conversation.parsed import Parsed, Problem

RATE = re.compile(r"^([0-9]+)/(day|week|month)$", re.I)
PERIOD_WORDS = {
    "day": "day",
    "daily": "day",
    "week": "week",
    "weekly": "week",
    "month": "month",
    "monthly": "month",
}


def order(command: Command, text: str, tokens: list[re.Match]) -> Parsed | Problem:
    """`ITEM QTY [+CRITERION…] [by DATE]`, the parts in any order: the item may be several
    words and come before or after its quantity (`face shields 10`, `10 face shields`); the
    date is any day the one date reader reads (`by Friday`, `by Dec 20`, `by 2026-12-20`). A
    standing order gives a rate: `masks 200/week`, `masks 200 per week`, `masks 200 a week`,
    `masks 200 weekly`. Which item the words name is the network's to say (PlaceOrder)."""
    words = [t.group() for t in tokens]
    if not words:
        return Problem("ITEM and QTY are missing", command, 0)
    criteria = [w[1:] for w in words if w.startswith("+")]
    if any(not c for c in criteria):
        return Problem("a criterion follows the +, like +latex-free", command)
    words = [w for w in words if not w.startswith("+")]
    words, due = _due(words)
    if isinstance(due, Problem):
        return Problem(due.message, command)
    words, per = _rate(words)
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


DUE_WORDS = frozenset({"by", "before", "due", "until", "till"})


def _due(words: list[str]) -> tuple[list[str], str | None | Problem]:
    """The words without their due date, and the date (None: none given). The date is what
    follows the last "by" (or "before", "due", "until") to the end of the line."""
    for at in range(len(words) - 2, -1, -1):
        if words[at].casefold() in DUE_WORDS:
            try:
                return words[:at], due_date(" ".join(words[at + 1 :]))
            except ValueError as wrong:
                return words, Problem(str(wrong))
    return words, None


def used(command: Command, text: str, tokens: list[re.Match]) -> Parsed | Problem:
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
