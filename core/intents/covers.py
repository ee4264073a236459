"""How much of a need offers cover: one offer's part in a match (`Cover`), offers ranked for a
need, and how far the best of those not yet used fill a need, a route (the mean of its needs) or
an item (its own offers, or its best filled route) — so that each offer goes to one match.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import inf

from core.intents.meeting import Near
from core.intents.model import Quantity

FULL = 1.0 - 1e-9  # shares summed in floating point: 0.3 + 0.7 must count as covered


@dataclass(frozen=True)
class Cover:
    """One offer's part in a match: it fills `share` (0..1] of `need` (an item or process id).

    For a direct match `need` is the request's own resource and `share` is of the request; in a
    composite match it is of that need alone. `measured` is False when the share is assumed,
    not computed from quantities (core/intents/matching.py gives the rules).
    """

    offer: int
    need: str
    share: float
    measured: bool = True
    distance_km: float | None = None


def covered_share(
    need: Quantity | None, offered: Quantity | None, span_days: int | None = None
) -> tuple[float, bool]:
    """The share of `need` that `offered` covers, and whether it was measured (by the rules in
    matching.py)."""
    if need is None or offered is None or not _comparable(need.unit, offered.unit):
        return 1.0, False
    if need.is_rate and offered.is_rate:
        ratio = offered.per_day() / need.per_day()
    elif need.is_rate != offered.is_rate and span_days is not None:
        ratio = _total(offered, span_days) / _total(need, span_days)
    else:
        ratio = offered.amount / need.amount
    return min(1.0, ratio), True


def _comparable(a: str, b: str) -> bool:
    return a == b or "each" in (a, b)


def _total(quantity: Quantity, days: int) -> float:
    return quantity.per_day() * days if quantity.is_rate else quantity.amount


def offer_order(cover: Cover, near: Near) -> tuple:
    """Offers for one need, best first: larger share, nearer, sooner, then by id."""
    distance = inf if cover.distance_km is None else cover.distance_km
    starts = -inf if near.starts is None else near.starts.toordinal()
    return (-cover.share, distance, starts, cover.offer)


class _Fill:
    """How far some offers fill a need: coverage in 0..1 and their covers."""

    __slots__ = ("coverage", "covers", "starts")

    def __init__(self, coverage: float, covers: tuple[Cover, ...] = (), starts=()):
        self.coverage, self.covers, self.starts = coverage, covers, starts


_EMPTY = _Fill(0.0)


class Offers:
    """The offers meeting one need, best first. Offers already used in an earlier match are
    skipped; as they are taken from the front, skipping costs nothing over a request's life."""

    __slots__ = ("ranked", "front")

    def __init__(self, ranked: list[tuple[Cover, Near]]):
        self.ranked, self.front = ranked, 0

    def fill(self, used: set[int]) -> _Fill:
        ranked = self.ranked
        while self.front < len(ranked) and ranked[self.front][0].offer in used:
            self.front += 1
        covers, starts, total = [], [], 0.0
        for k in range(self.front, len(ranked)):
            cover, near = ranked[k]
            if cover.offer in used:
                continue
            covers.append(cover)
            starts.append(near.starts)
            total += cover.share
            if total >= FULL:
                break
        return _Fill(min(1.0, total), tuple(covers), tuple(starts)) if covers else _EMPTY


class RouteNeeds:
    """All of a route's needs: its coverage is their mean."""

    __slots__ = ("parts",)

    def __init__(self, parts: list):
        self.parts = parts

    def fill(self, used: set[int]) -> _Fill:
        fills = [part.fill(used) for part in self.parts]
        if not fills:
            return _EMPTY
        return _Fill(
            sum(f.coverage for f in fills) / len(fills),
            tuple(c for f in fills for c in f.covers),
            tuple(s for f in fills for s in f.starts),
        )


class ItemNeeds:
    """An item wanted: its offers, or any one of its routes (the best filled is taken)."""

    __slots__ = ("offers", "routes")

    def __init__(self, offers: Offers | None, routes: list[RouteNeeds]):
        self.offers, self.routes = offers, routes

    def fill(self, used: set[int]) -> _Fill:
        options = [self.offers.fill(used)] if self.offers is not None else []
        options += [route.fill(used) for route in self.routes]
        return max(options, key=lambda f: f.coverage, default=_EMPTY)
