"""The dates people type in an intent: an ISO date, "today", "tomorrow", "this week" (to its
Sunday), "this month" (to its last day), "next week/month" (7/30 days on), "in N
days/weeks/months", "Dec 20" or "20 December" with an optional year (without one, a day that has
passed this year is next year's), or, after a keyword only, a weekday (the next one, today
included).

`RANGE_RE` ("from A to B", "from A"), `END_RE` ("by/before/until/till/due B") and `BARE_DATE_RE`
find them in a text; `named_day` says which day one of them names.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from core.intents.model import PERIODS

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SMALL_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"[0-9]{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+[0-9]{4})?"
_DATE = (
    r"(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|today|tomorrow|(?:this|next)\s+(?:week|month)"
    r"|in\s+(?:[0-9]+|an?|one|two|three|four)\s+(?:day|week|month)s?"
    rf"|{_MONTH}\s+{_DAY}{_YEAR}|{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR})(?!\w)"
)
_WEEKDAY = r"(?:mon|tue|tues|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?(?!\w)"
_ANY_DATE = rf"(?:{_DATE}|{_WEEKDAY})"

RANGE_RE = re.compile(
    rf"(?<!\w)(?:from|starting)\s+(?P<start>{_ANY_DATE})"
    rf"(?:\s*(?:to|until|till|through|thru|-|–)\s*(?P<end>{_ANY_DATE}))?",
    re.I,
)
END_RE = re.compile(
    rf"(?<!\w)(?:by|before|until|till|til|due|through)\s+(?P<end>{_ANY_DATE})", re.I
)
BARE_DATE_RE = re.compile(rf"(?<!\w)(?P<end>{_DATE})", re.I)

ISO_RE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})")
RELATIVE_RE = re.compile(
    r"(?:in\s+(?P<count>[0-9]+|an?|one|two|three|four)|(?P<next>next))\s+(?P<period>day|week|month)s?",
    re.I,
)
MONTH_DAY_RE = re.compile(
    rf"(?P<month>{_MONTH})\s+(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>[0-9]{{4}}))?",
    re.I,
)
DAY_MONTH_RE = re.compile(
    rf"(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH})"
    rf"(?:,?\s+(?P<year>[0-9]{{4}}))?",
    re.I,
)


class DateError(ValueError):
    """Words that name no day; the message says which."""


def named_day(words: str, today: date) -> date:
    """The day `words` (one of _ANY_DATE's forms) name, seen from `today`; DateError when it
    names none."""
    words = " ".join(words.split()).casefold()
    if words == "today":
        return today
    if words == "tomorrow":
        return today + timedelta(days=1)
    if words == "this week":  # until its Sunday
        return today + timedelta(days=6 - today.weekday())
    if words == "this month":  # until its last day
        following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        return following - timedelta(days=1)
    if match := ISO_RE.fullmatch(words):
        return _calendar_day(int(match["year"]), int(match["month"]), int(match["day"]), words)
    if match := RELATIVE_RE.fullmatch(words):
        count = match["count"] or "1"
        count = int(count) if count.isdigit() else SMALL_NUMBERS[count]
        try:
            return today + timedelta(days=count * PERIODS[match["period"]])
        except OverflowError:
            raise DateError(f"{words!r} is too far away") from None
    if match := MONTH_DAY_RE.fullmatch(words) or DAY_MONTH_RE.fullmatch(words):
        month = MONTHS.index(match["month"][:3].lower()) + 1
        day = int(match["day"])
        if match["year"]:
            return _calendar_day(int(match["year"]), month, day, words)
        for year in range(today.year, today.year + 9):  # Feb 29 may be years away
            try:
                when = date(year, month, day)
            except ValueError:
                continue
            if when >= today:
                return when
        raise DateError(f"there is no day {words!r}")
    if re.fullmatch(_WEEKDAY, words):
        weekday = WEEKDAYS.index(words[:3])
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    raise DateError(f"I could not read the date {words!r}")


def _calendar_day(year: int, month: int, day: int, words: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(f"there is no day {words!r}") from None
