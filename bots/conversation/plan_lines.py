"""Plans in words a person can compare: each plan in two lines — its rank, price (or equation
while a price is open), when it can arrive, chance of failing and riskiest stage; then who
makes what, who supplies the rest and who moves it, by name — and, where two plans would still
read alike, what sets one apart from the other. Used by `/plans` pages and by the notice that
offers the plans."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from bots.conversation.outlook import DOING
from core.frames import short_equation
from core.service.notices.plans import Arrives, Moved, PlanLine, PlanPart
from core.service.risk import percent

MOST = 160  # characters of one line of text: a phone shows it in three or four rows
_MEASURE = re.compile(r"\d")


def short(name: str, most: int = 24) -> str:
    """A name cut for a plan line: before a comma or a bracket, before its measures ("Flat
    elastic 6 mm" → "Flat elastic"), at a word, at most `most` characters."""
    name = re.split(r",| \(| — ", name, maxsplit=1)[0].strip()
    words = name.split()
    measured = next((i for i, w in enumerate(words) if _MEASURE.search(w)), len(words))
    words = words[:measured] or words
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > most:
            return " ".join(kept) + "…" if kept else word[: most - 1] + "…"
        kept.append(word)
    return " ".join(kept)


def price_text(plan: PlanLine) -> str:
    if plan.price is not None:
        return f"{plan.price:,.2f}"
    if plan.remaining:  # the known part, so that plans with an open price still compare
        return f"{short_equation(plan.remaining, 60)}, price open"
    return f"price open: {short_equation(plan.equation, 60)}"


def risk_text(plan: PlanLine) -> str:
    """ "27 % risk, riskiest: Carmen López making Face shield, 5 %" """
    if plan.failure is None:
        return ""
    said = f"{percent(plan.failure)} risk"
    top = plan.riskiest
    if top is not None:
        doing = DOING.get(top.kind, top.kind)
        what = f"{short(top.owner)} {doing} {short(top.item, 20)}"
        said += f", riskiest: {what}, {percent(top.failure)}"
    return said


def day_text(day: date) -> str:
    """ "Tue 9 Dec" """
    return f"{day:%a} {day.day} {day:%b}"


def arrival_text(arrives: Arrives) -> str:
    """ "arrives Tue 9 Dec", "… at the earliest" when some times nobody gave counted as none;
    "arrives in 3 days" when the day it counts from is not known."""
    if arrives.on is not None:
        said = f"arrives {day_text(arrives.on)}"
    else:
        days = max(1, -int(-arrives.days // 1))  # whole days, rounded up
        said = f"arrives within {days} day{'s' if days > 1 else ''}"
    return said + (" at the earliest" if arrives.unknown else "")


def moved_text(moved: Moved) -> str:
    """ "truck-03 carries it 12 km", "Bob delivers it", "Dana picks it up 3 km" """
    km = f" {moved.km:,.0f} km" if moved.km is not None else ""
    verb = {
        "vehicle": "carries it",
        "delivery": "delivers it",
        "arranged": "sends it as arranged",
    }.get(moved.kind, "picks it up")
    # A vehicle's number is its name ("Pickup 09"): kept, where `short` drops measures.
    mover = moved.mover if moved.kind == "vehicle" else short(moved.mover)
    mover = mover if len(mover) <= 24 else mover[:23] + "…"
    return f"{mover} {verb}{km}"


def head(plan: PlanLine, chosen: int | None = None) -> str:
    risk = risk_text(plan)
    mark = " ← under way" if plan.rank == chosen else ""
    arrival = f" · {arrival_text(plan.arrives)}" if plan.arrives is not None else ""
    return _cut(f"{plan.rank}. {price_text(plan)}{arrival}" + (f" · {risk}" if risk else "") + mark)


def who_text(parts: Sequence[PlanPart], detail: int = 0, ordered: str = "") -> str:
    """Who makes what, then who supplies what: "Carmen López makes Face shield; headband Héctor
    Rivera; visor, PP sheet Plásticos del Caribe". `detail` 1 adds where and by which design,
    2 the ids a person could look up."""
    said: list[str] = []
    supplied: dict[str, list[str]] = {}
    roots = [part for part in parts if part.depth == 0]
    ordered = roots[0].item if len(roots) == 1 else ordered
    for part in parts:
        item = _part_name(part.item, ordered)
        if part.how == "made":
            where = ""
            if detail >= 1:
                place = f" at {short(part.place)}" if part.place else ""
                design = f" ({short(part.design)})" if part.design else ""
                where = place + design
            if detail >= 2:
                where += f" [{part.source}]"
            named = short(part.party)
            moved = f", {moved_text(part.moved)}" if part.moved else ""
            if part.depth > 0:
                said.append(f"{item} {named}{where}{moved}")
            else:  # an order of one line: what is made is what was ordered
                made = f"{named} makes" + (f" {item}" if len(roots) > 1 else "")
                said.append(made + where + moved)
        elif part.how == "held":
            moved = f", {moved_text(part.moved)}" if part.moved else ""
            said.append(f"{item} held by {short(part.party)}{moved}")
        else:
            tag = f" [{part.source}]" if detail >= 2 else ""
            if part.moved:  # who moves it is said of this item alone
                said.append(f"{item}{tag} {short(part.party)}, {moved_text(part.moved)}")
            else:
                supplied.setdefault(short(part.party), []).append(item + tag)
    said += [f"{', '.join(items)} {supplier}" for supplier, items in supplied.items()]
    return "; ".join(said)


def plan_lines(plans: Sequence[PlanLine], chosen: int | None = None) -> list[str]:
    """Two lines a plan; where plans would read alike, more detail, and at last what sets each
    apart from the first of them."""
    detail = [0] * len(plans)
    whos = [who_text(p.parts) for p in plans]
    for level in (1, 2):
        alike = _alike(whos)
        trial = list(whos)
        for i in alike:
            trial[i] = who_text(plans[i].parts, level)
        # More detail only where it tells plans apart: lines long with movers still read
        # alike once cut, and ids would only push the difference further out of sight.
        if len(_alike(trial)) < len(alike):
            whos = trial
            for i in alike:
                detail[i] = level
    # A plan that changes little of another says only what it changes, so the eye finds the
    # difference: "as plan 1, but headband Fab Lab Santurce". Plans that still read alike
    # once cut are told from the first of them, with ids; the others from the first listed.
    ordered = next((p.item for p in plans[0].parts if p.depth == 0), "") if plans else ""
    told = set()
    for group in _groups(whos):
        first = plans[group[0]]
        for i in group[1:]:
            changed = [p for p in plans[i].parts if p not in first.parts]
            whos[i] = f"as plan {first.rank}, but " + who_text(changed, 2, ordered)
            told.add(i)
    if plans:
        first = plans[0]
        for i, plan in enumerate(plans[1:], start=1):
            changed = [p for p in plan.parts if p not in first.parts]
            if changed and 2 * len(changed) < len(plan.parts) and i not in told:
                whos[i] = f"as plan {first.rank}, but " + who_text(changed, detail[i], ordered)
    lines = []
    for plan, who in zip(plans, whos, strict=True):
        lines.append(head(plan, chosen))
        lines.append(_cut("   " + who))
    return lines


def _part_name(name: str, ordered: str) -> str:
    """A part's name, short, without the ordered item's name it begins with ("Face-shield
    visor" of a face shield is the visor)."""
    words, whole = name.split(), _folded(ordered)
    for cut in range(len(words) - 1, 0, -1):
        if whole and _folded(" ".join(words[:cut])) == whole:
            return short(" ".join(words[cut:]), 20)
    return short(name, 20)


def _folded(name: str) -> str:
    return re.sub(r"[\s-]+", " ", name).casefold().strip()


def _alike(texts: list[str]) -> list[int]:
    return [i for group in _groups(texts) for i in group]


def _groups(texts: list[str]) -> list[list[int]]:
    seen: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        seen.setdefault(_cut("   " + text), []).append(i)
    return [group for group in seen.values() if len(group) > 1]


def _cut(text: str) -> str:
    return text if len(text) <= MOST else text[: MOST - 1].rstrip() + "…"
