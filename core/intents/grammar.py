"""The forgiving grammar of `/offer`, `/request` and `/propose`.

People type what they have or need the way they would say it: "3d printing 10 h/week near
Baltimore", "200 face shields by Dec 20", "pet-sheet 500/week -- pickup only". The words are read
in passes, each cutting out what it understood, so that the order of the parts is free:

1. note: the words after " -- " (or " — "), and anything in double quotes;
2. dates (dates.py): "from A to B", "from A", "by/before/until/till/due B", and a bare date,
   which is read as the end ("masks 200 tomorrow"). A date is an ISO date, "today", "tomorrow",
   "next week/month" (7/30 days on), "in N days/weeks/months", "Dec 20" or "20 December" with
   an optional year (without one, a day that has passed this year is next year's), or, after a
   keyword only, a weekday (the next one, today included). "before B" ends on B, like "by";
3. rate: "/week", "per week", "a week", "every week", "weekly" (day, week or month);
4. quantity: an amount ("200", "1,000", "2.5", "x200", "200x") and the unit right after it
   (hours, kg, …, and the units of the network's items: "50 sheets"). Without a unit, a known
   item's own unit, else "each". When several numbers could be the amount, the one that leaves
   words naming a known resource wins, then one with a unit, then the first;
5. place: "near/in/around PLACE", running to the next part already cut out or the end. It is
   placed at the mean of the coordinates of every participant whose `location.place` mentions
   it as whole words, ignoring case and accents ("San Juan" in "Santurce, San Juan"; each
   participant counts once, so a busy neighbourhood pulls the mean its way — good enough for
   matching by distance within a city). When no one's does, `place` is None and the words are
   kept in `place_name` for a person to settle;
6. what is left, less a few filler words ("of", "some", "the", …), names the resource.

An intent expires when it ends; without an end, EXPIRY_DAYS after today (or after its start,
when that is later).

The resource is looked up in the network (resources.py) by normalised words (any case, accents,
spaces or hyphens; a last plural word made singular): an item by id, name or alias, a process
(what a facility or design does) by id or, if at least 3 letters long and unambiguous, by a
prefix of it ("3dp", "laser cut"). An offer tries processes first, a request or proposal items
first.
Words the network does not know are kept (`known=False`) with the normalised words as id, so
that a coordinator can add them later. Their kind: an offer whose last word ends in "-ing"
("knitting", "welding") is of a PROCESS; everything else is an ITEM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean

from core.intents.dates import BARE_DATE_RE, END_RE, RANGE_RE, DateError, named_day
from core.intents.model import ITEM, OFFER, PROCESS, PROPOSAL, REQUEST, Intent, Quantity, Resource
from core.intents.resources import find, fold, key_of, known_processes
from core.network.model import Location, Network

# An intent no one gave an end to stops being matched after this many days, so that stale
# offers do not pile up; the person can renew or edit it.
EXPIRY_DAYS = 30

KIND_WORDS = {"offer": OFFER, "request": REQUEST, "proposal": PROPOSAL, "propose": PROPOSAL}

UNITS = {  # the spellings of a unit → its canonical name
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"), "kg"),
    **dict.fromkeys(("g", "gram", "grams"), "g"),
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), "m"),
    **dict.fromkeys(("m2", "m²", "sqm"), "m2"),
    **dict.fromkeys(("l", "litre", "litres", "liter", "liters"), "l"),
    **dict.fromkeys(("each", "ea", "pc", "pcs", "piece", "pieces", "unit", "units"), "each"),
}
PERIOD_WORDS = {
    **dict.fromkeys(("d", "day", "days", "daily"), "day"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks", "weekly"), "week"),
    **dict.fromkeys(("mo", "month", "months", "monthly"), "month"),
}
FILLER = {"of", "some", "a", "an", "the", "for", "please", "each"}

CUT = "\x1e"  # stands where a part was cut out, so that a place stops there
_SPACE = rf"[^\S{CUT}]"  # Python counts CUT as white space; a word after a cut is not "next"

NOTE_RE = re.compile(r"(?:^|\s+)(?:--|—)\s*(?P<note>.*)$|[\"“”](?P<quoted>[^\"“”]*)[\"“”]", re.S)
# "/fortnight" and "per fortnight" are rates with a period we do not know (an error); "a" or
# "every" before a word that is not a period are just words ("a face shield").
RATE_RE = re.compile(
    r"(?:(?P<strict>/|(?<!\w)per\s)|(?<!\w)(?:an?|every)\s)\s*(?P<per>[^\W\d_]+)(?!\w)"
    r"|(?<!\w)(?P<adverb>daily|weekly|monthly)(?!\w)",
    re.I,
)
AMOUNT_RE = re.compile(
    r"(?<![\w.,/-])(?:[x×]\s*)?(?P<amount>-?[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?)(?:\s*[x×](?!\w))?"
)
# A comma that does not group thousands: 1,5 is 1.5 to some and a typo of 1,500 to others.
UNCLEAR_AMOUNT_RE = re.compile(
    r"(?<![\w.,])(?P<whole>[0-9]+),(?P<part>[0-9]{1,2}|[0-9]{4,})(?![\w,.])"
)
AFTER_AMOUNT_RE = re.compile(r"[0-9]\s*(?P<unit>[^\W\d_]+)?\s*$")  # "10 h" before "/fortnight"
WORD_RE = re.compile(rf"{_SPACE}*(?P<word>[^\W_]+)(?!\w)")
PLACE_RE = re.compile(rf"(?<!\w)(?:near|around|in)(?![\w-]){_SPACE}*(?P<place>[^{CUT}]*)", re.I)


class IntentError(ValueError):
    """Words we could not read as an intent; the message says what. `shows_how`: an example
    of an intent of that kind would help the person (the chat layer has one for each kind)."""

    def __init__(self, problem: str, *, shows_how: bool = False):
        super().__init__(problem)
        self.shows_how = shows_how


@dataclass(frozen=True)
class _Amount:
    """A number that may be the quantity: where it stands in the text and what follows it."""

    start: int
    end: int  # after the unit, when it has one
    amount: float
    unit: str | None
    next_word: str | None  # the word right after, when it is not a unit


def parse_intent(kind: str, participant: str, words: str, network: Network, today: date) -> Intent:
    """Read an offer, request or proposal typed in chat; raise IntentError when it cannot."""
    kind = _kind(kind)
    try:
        return _parse(kind, participant, words, network, today)
    except (OverflowError, ValueError) as error:  # a start in year 9999, say: said kindly too
        if isinstance(error, IntentError):
            raise
        raise _explain(f"I could not read that: {error}") from error


def describe(intent: Intent, network: Network) -> str:
    """The intent as it will be cast, read back to the person before they confirm it."""
    parts = [f"{intent.kind.capitalize()}: {_named(intent.resource, network)}"]
    if intent.quantity is not None:
        parts.append(str(intent.quantity))
    if intent.place_name:
        where = intent.place
        at = f" ({where.lat:.2f}, {where.lon:.2f})" if where else " (not on our map yet)"
        parts.append(f"near {intent.place_name}{at}")
    parts.append(_window(intent))
    if intent.note:
        parts.append(f'note: "{intent.note}"')
    return ", ".join(parts)


def _parse(kind: str, participant: str, words: str, network: Network, today: date) -> Intent:
    text = words.replace(CUT, " ").replace("\uff0f", "/")
    text, note = _note(text)
    text, starts, ends = _dates(text, today, kind)
    units = _units(network)
    text, per = _rate(text, kind, units)
    processes = known_processes(network)
    text, quantity, resource = _quantity_and_resource(text, per, kind, network, processes, units)
    place_name = _place_name(text, kind)
    place = _place(place_name, network) if place_name else None
    if ends is not None and ends < today:
        raise _explain(f"{ends} has already passed; give a later date")
    if starts is not None and ends is not None and ends < starts:
        raise _explain(f"it ends ({ends}) before it starts ({starts})")
    return Intent(
        kind=kind,
        participant=participant,
        resource=resource,
        quantity=quantity,
        starts=starts,
        ends=ends,
        place=place,
        place_name=place_name,
        note=note,
        expires=ends or max(today, starts or today) + timedelta(days=EXPIRY_DAYS),
    )


def _kind(word: str) -> str:
    kind = KIND_WORDS.get(word.strip().lstrip("/").casefold())
    if kind is None:
        raise IntentError(f"an intent is an offer, a request or a proposal, not {word!r}")
    return kind


def _explain(problem: str) -> IntentError:
    """The words are unclear: an example of an intent of their kind helps."""
    return IntentError(problem, shows_how=True)


# -- note ----------------------------------------------------------------------------------------


def _note(text: str) -> tuple[str, str]:
    notes = []

    def cut(match: re.Match) -> str:
        notes.append(match["note"] if match["note"] is not None else match["quoted"])
        return CUT

    text = NOTE_RE.sub(cut, text)
    return text, " ".join(" ".join(n.split()) for n in notes if n.strip())


# -- dates ---------------------------------------------------------------------------------------


def _dates(text: str, today: date, kind: str) -> tuple[str, date | None, date | None]:
    found: dict[str, list[str]] = {"start": [], "end": []}

    def cut(match: re.Match) -> str:
        for part in ("start", "end"):
            if match.groupdict().get(part):
                found[part].append(match[part])
        return CUT

    for pattern in (RANGE_RE, END_RE, BARE_DATE_RE):
        text = pattern.sub(cut, text)
    bounds = []
    for part, said in found.items():
        if len(said) > 1:
            raise _explain(f"two {part} dates ({' and '.join(said)}); give one")
        try:
            bounds.append(named_day(said[0], today) if said else None)
        except DateError as problem:
            raise _explain(str(problem)) from None
    return text, bounds[0], bounds[1]


# -- quantity ------------------------------------------------------------------------------------


def _rate(text: str, kind: str, units: dict[str, str]) -> tuple[str, str | None]:
    """The period of a rate ("/week", "per day", "monthly"), cut out of the text.

    "per X" and "10/X" or "10 h/X" must be rates; a slash between words is not ("PLA/PETG").
    """
    for match in RATE_RE.finditer(text):
        said = (match["adverb"] or match["per"]).casefold()
        period = PERIOD_WORDS.get(said)
        amount = AFTER_AMOUNT_RE.search(text[: match.start()])
        after_amount = amount is not None and (
            amount["unit"] is None or amount["unit"].casefold() in units
        )
        if period is None and match["strict"] and (match["strict"] != "/" or after_amount):
            raise _explain(f"I don't know the period {said!r}; say per day, week or month")
        if period is not None:
            return text[: match.start()] + CUT + text[match.end() :], period
    return text, None


def _units(network: Network) -> dict[str, str]:
    """The spellings of every unit we know: ours, and the network's items' own ("sheets")."""
    units = dict(UNITS)
    for item in network.items.values():
        unit = item.unit.casefold()
        units.setdefault(unit, item.unit)
        units.setdefault(unit + "s", item.unit)
    return units


def _amounts(text: str, units: dict[str, str]) -> list[_Amount]:
    """Every number that may be the quantity; "3d" (a number glued to a word) is not one."""
    found = []
    for match in AMOUNT_RE.finditer(text):
        after = WORD_RE.match(text, match.end())
        word = after["word"] if after else None
        glued = after is not None and after.start("word") == match.end()
        unit = units.get(word.casefold()) if word else None
        if glued and unit is None:
            continue
        amount = float(match["amount"].replace(",", ""))
        end = after.end() if unit else match.end()
        found.append(_Amount(match.start(), end, amount, unit, None if unit else word))
    return found


def _quantity_and_resource(
    text: str,
    per: str | None,
    kind: str,
    network: Network,
    processes: frozenset[str],
    units: dict[str, str],
) -> tuple[str, Quantity | None, Resource]:
    """Choose which number is the quantity, by the resource the other words then name."""
    if unclear := UNCLEAR_AMOUNT_RE.search(text):
        whole, part = unclear["whole"], unclear["part"]
        thousands = f"{whole}{part.ljust(3, '0')}"
        raise _explain(f"{unclear[0]!r} is unclear: write {whole}.{part} or {thousands}")
    choices = []
    for rank, amount in enumerate(_amounts(text, units)):
        rest = text[: amount.start] + CUT + text[amount.end :]
        found = find(_resource_words(rest), kind, network, processes)
        choices.append((found is None, amount.unit is None, rank, amount, rest, found))
    if not choices:
        if per is not None:
            raise _explain(f"how many per {per}?")
        return text, None, _resource(text, kind, network, processes)
    *_, amount, rest, found = min(choices, key=lambda choice: choice[:3])
    if not amount.amount > 0:
        raise _explain(f"a quantity must be more than 0, not {amount.amount:g}")
    if amount.amount == float("inf"):
        raise _explain("that number is too large")
    if per and _unknown_unit(text, amount, kind, network, processes):
        raise _explain(f"I don't know the unit {amount.next_word!r}; try h, kg or each")
    unit = amount.unit or _default_unit(found, network)
    resource = found or _resource(rest, kind, network, processes)
    return rest, Quantity(amount.amount, unit, per), resource


def _unknown_unit(
    text: str, amount: _Amount, kind: str, network: Network, processes: frozenset[str]
) -> bool:
    """Whether the word between the amount and its rate ("3d printing 10 furlongs/week") must be
    a unit we do not know: it must, when the other words already name a known resource; else it
    is part of the resource ("200 masks/week")."""
    after = WORD_RE.match(text, amount.end)
    if after is None or amount.unit or not re.match(rf"{_SPACE}*{CUT}", text[after.end() :]):
        return False
    rest = text[: amount.start] + CUT + text[after.end() :]
    return find(_resource_words(rest), kind, network, processes) is not None


def _default_unit(resource: Resource | None, network: Network) -> str:
    if resource is not None and resource.kind == ITEM and resource.id in network.items:
        return network.items[resource.id].unit
    return "each"


# -- place ---------------------------------------------------------------------------------------


def _place_name(text: str, kind: str) -> str | None:
    match = PLACE_RE.search(text)
    if match is None:
        return None
    name = " ".join(match["place"].split()).strip(" ,;:.!?")
    if not name:
        raise _explain("near where? name a town or neighbourhood")
    return name


def _place(name: str, network: Network) -> Location | None:
    """Where `name` is: the mean of the coordinates of every participant whose place mentions it
    as whole words ("San Juan" in "Santurce, San Juan"); None when no one's does."""
    wanted = re.compile(rf"(?<!\w){re.escape(fold(name))}(?!\w)")
    spots = [
        p.location
        for p in network.participants.values()
        if p.location and p.location.place and wanted.search(fold(p.location.place))
    ]
    if not spots:
        return None
    return Location(fmean(s.lat for s in spots), fmean(s.lon for s in spots), name)


# -- resource ------------------------------------------------------------------------------------


def _resource_words(text: str) -> str:
    """What is left of the text once every other part is cut out, less filler words."""
    match = PLACE_RE.search(text)
    if match is not None:
        text = text[: match.start()] + CUT + text[match.end() :]
    words = re.sub(r"[\s,;:!?]+", " ", text.replace(CUT, " ")).strip(" .").split()
    while words and words[0].casefold() in FILLER:
        words.pop(0)
    while words and words[-1].casefold() in FILLER:
        words.pop()
    return " ".join(words)


def _resource(text: str, kind: str, network: Network, processes: frozenset[str]) -> Resource:
    words = _resource_words(text)
    found = find(words, kind, network, processes)
    if found is not None:
        return found
    normalised = key_of(words)
    if not normalised:
        what = {OFFER: "offer", REQUEST: "request", PROPOSAL: "propose"}[kind]
        raise _explain(f"what do you want to {what}?")
    looks_active = kind == OFFER and normalised.split("-")[-1].endswith("ing")
    return Resource(PROCESS if looks_active else ITEM, normalised, known=False)


def _named(resource: Resource, network: Network) -> str:
    if not resource.known:
        return f"{resource.id} (new {resource.kind}, not in the network yet)"
    if resource.kind == ITEM and resource.id in network.items:
        return f"{network.items[resource.id].name} (item {resource.id})"
    return f"{resource.id} ({resource.kind})"


def _window(intent: Intent) -> str:
    start = str(intent.starts) if intent.starts else "today"
    if intent.ends is not None:
        window = f"from {start} until {intent.ends}"
        if intent.expires not in (None, intent.ends):
            window += f", expires {intent.expires}"
        return window
    if intent.expires is not None:
        return f"from {start} until {intent.expires} (expires)"
    return f"from {start}, no expiry"
