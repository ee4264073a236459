"""The arguments of chat commands: each type turns what a person typed into a value, or says in
one line why not (a ValueError whose text is that line). Reading them changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from core.intents.dates import DateError, named_day
from core.network.model import ROLES
from core.service.bus import MAX_TEXT
from core.service.orders import due_problem

MAX_WORD = 200
MAX_REST = MAX_TEXT  # free text: what the service keeps of it


def digits(text: str) -> bool:
    """Whether `text` is a whole number written with 0–9. `str.isdigit` also says yes to "²",
    which `int` then refuses; other scripts' digits (٣, ３) are refused with the fix, because
    the dates, rates and quantities of offers are read in 0–9 only and one rule is clearer."""
    return text.isascii() and text.isdecimal()


def _not_ascii_digits(text: str) -> str:
    odd = any(c.isnumeric() and not c.isascii() for c in text)
    return " (write it with the digits 0–9)" if odd else ""


def order_number(text: str) -> int:
    number = text.removeprefix("#")
    if not digits(number) or not 0 < int(number) < 2**31:
        raise ValueError(
            f"ORDER should be an order number like 12, not {_shown(text)}{_not_ascii_digits(text)}"
        )
    return int(number)


def whole(what: str) -> Callable[[str], int]:
    def convert(text: str) -> int:
        if not digits(text) or not 0 < int(text) < 2**31:
            raise ValueError(
                f"{what} should be a whole number like 1 or 2, not {_shown(text)}"
                f"{_not_ascii_digits(text)}"
            )
        return int(text)

    return convert


_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")


def quantity(what: str) -> Callable[[str], int]:
    """A whole number; 1,000 is one thousand."""
    convert = whole(what)
    return lambda text: convert(text.replace(",", "") if _GROUPED.fullmatch(text) else text)


MAX_PRICE = 10**12
# Commas only group thousands (1,000 or 12,345,678.50); a comma anywhere else is a decimal comma
# or a typo, and guessing which is how 1,000 once became 1.00.
_PRICE = re.compile(r"\$?(?P<number>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)")
_COMMA = re.compile(r"\$?(?P<whole>[0-9]*),(?P<part>[0-9]+)")


def price(text: str) -> float:
    if match := _PRICE.fullmatch(text):
        value = float(match["number"].replace(",", ""))
        if value > MAX_PRICE:
            raise ValueError(f"PRICE should be at most {MAX_PRICE:,}, not {_shown(text)}")
        return value
    if match := _COMMA.fullmatch(text):
        whole, part = match["whole"] or "0", match["part"]
        thousands = f"{whole}{part.ljust(3, '0')}"
        raise ValueError(f"PRICE {_shown(text)} is unclear: write {whole}.{part} or {thousands}")
    raise ValueError(
        f"PRICE should be a number like 9.50, not {_shown(text)}{_not_ascii_digits(text)}"
    )


def word(what: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if len(text) > MAX_WORD:
            raise ValueError(f"{what} is too long ({len(text):,} characters; at most {MAX_WORD})")
        return text

    return convert


def role(text: str) -> str:
    wanted = text.lower()
    if wanted not in ROLES:
        raise ValueError(f"ROLE should be one of {', '.join(ROLES)}, not {_shown(text)}")
    return wanted


def due_date(text: str, today: date | None = None) -> str:
    """A day, read as an offer or a request reads it (core.intents.dates: the one date reader):
    "Friday", "Dec 20", "20 December 2026", "2026-12-20", "tomorrow", "in 2 weeks"."""
    today = today or datetime.now(UTC).date()
    try:
        day = named_day(text, today)
    except (DateError, OverflowError):
        raise ValueError(
            f"DATE should be a day like Friday, Dec 20 or 2026-12-20, not {_shown(text)}"
        ) from None
    # PlaceOrder checks again against its own clock; this lets the person hear it right away.
    problem = due_problem(day, today)
    if problem is not None:
        raise ValueError(problem)
    return day.isoformat()  # JSON carries it as text


_CRITERION = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")


def criterion(text: str) -> str:
    """The shape of a criterion (a word like latex-free); which ones the network knows is
    PlaceOrder's to say."""
    if len(text) > 60 or not _CRITERION.fullmatch(text):
        raise ValueError(f"a criterion is a word like +latex-free, not {_shown('+' + text)}")
    return text


@dataclass(frozen=True)
class Moment:
    """A time a person named, in UTC: a day (2026-12-05) or a minute of it (2026-12-05 14:30)."""

    at: datetime  # naive UTC, as the store keeps times: the last instant of that day or minute
    shown: str  # for a reply: "the end of 2026-12-05" or "2026-12-05 14:30"


_MOMENT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2}))?")


def moment(text: str) -> Moment:
    """A day or a minute, UTC. It means the end of it: what happened at 14:30:40 is shown as
    14:30 in a timeline, so "as it was at 14:30" includes it."""
    match = _MOMENT.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        day = date.fromisoformat(match[1])
        if match[2] is None:
            return Moment(datetime.combine(day, time.max), f"the end of {day.isoformat()}")
        minute = time(int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(
            f"AT should be a day like 2026-12-05 or a time like 2026-12-05 14:30 (UTC), "
            f"not {_shown(text)}"
        ) from None
    end = datetime.combine(day, minute).replace(second=59, microsecond=999_999)
    return Moment(end, f"{day.isoformat()} {minute:%H:%M}")


def page_or_moment(text: str) -> int | Moment:
    """/history's second argument: a small number is a page (1: the newest events), anything
    else a moment (AT)."""
    if digits(text.strip()) and 0 < int(text) < 10_000:
        return int(text)
    return moment(text)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 30 else text[:27] + "…")


@dataclass(frozen=True)
class Arg:
    name: str  # as a person sees it in the usage: ORDER
    key: str  # its name in the service command (order_id), or for the reply
    convert: Callable[[str], Any] = str
    optional: bool = False
    rest: bool = False  # the rest of the line, several words

    @property
    def usage(self) -> str:
        shown = f"{self.name}…" if self.rest else self.name
        return f"[{shown}]" if self.optional else shown
