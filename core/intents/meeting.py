"""When two intents meet (core/intents/matching.py has the rules): both hold on the day, their
windows overlap, and they are near enough. `Side` keeps one resource's open intents on one side
as arrays, so that finding those that meet an intent is a few vectorised operations rather than
a loop over each of them.
"""

from __future__ import annotations

from datetime import date
from math import cos, inf, isnan, radians

import numpy as np

from core.intents.model import OPEN, Intent
from core.network.geo import EARTH_RADIUS_KM


def holds(intent: Intent, today: date | None) -> bool:
    """Can the intent meet anyone `today` (None: the date is not checked, only the status)?"""
    if intent.status != OPEN:
        return False
    if today is None:
        return True
    return intent.holds_on(today) and (intent.ends is None or intent.ends >= today)


class Near:
    """An intent that meets another, with what the pair's ranking needs."""

    __slots__ = ("intent", "distance_km", "starts", "span_days")

    def __init__(self, intent: Intent, distance_km, starts, span_days):
        self.intent = intent
        self.distance_km = distance_km
        self.starts = starts
        self.span_days = span_days


def meeting(a: Intent, b: Intent, today: date | None, distance_km: float | None) -> Near:
    """`b` as met from `a`: when both could start, and how many days they share."""
    starts = max((d for d in (a.starts, b.starts, today) if d is not None), default=None)
    ends = min((d for d in (a.ends, b.ends) if d is not None), default=None)
    span = (ends - starts).days + 1 if starts is not None and ends is not None else None
    return Near(b, distance_km, starts, span)


class Side:
    """The open intents of one resource on one side, with their fields as arrays for scans.

    The arrays are rebuilt lazily after a change: a query then scans a resource's intents in
    a few vectorised operations instead of a Python loop over each of them.
    """

    def __init__(self):
        self.intents: dict[int, Intent] = {}
        self._arrays: tuple | None = None

    def put(self, intent: Intent) -> None:
        self.intents[intent.id] = intent
        self._arrays = None

    def drop(self, intent_id: int) -> None:
        del self.intents[intent_id]
        self._arrays = None

    def _columns(self) -> tuple:
        if self._arrays is None:
            intents = list(self.intents.values())

            def days(field: str, missing: float) -> np.ndarray:
                values = (getattr(i, field) for i in intents)
                return np.array([missing if d is None else d.toordinal() for d in values], float)

            places = [i.place for i in intents]
            lat = np.radians([np.nan if p is None else p.lat for p in places])
            lon = np.radians([np.nan if p is None else p.lon for p in places])
            starts, ends, expires = days("starts", -inf), days("ends", inf), days("expires", inf)
            self._arrays = (intents, lat, lon, starts, ends, expires)
        return self._arrays

    def near(self, reference: Intent, today: date | None, radius_km: float) -> list[Near]:
        """The intents here that meet `reference` by window, validity and distance."""
        intents, lat, lon, starts, ends, expires = self._columns()
        low = -inf if reference.starts is None else reference.starts.toordinal()
        high = inf if reference.ends is None else reference.ends.toordinal()
        keep = (starts <= high) & (ends >= low)
        if today is not None:
            keep &= (expires >= today.toordinal()) & (ends >= today.toordinal())
        distance = None
        if reference.place is not None:
            distance = _haversine_km(reference.place.lat, reference.place.lon, lat, lon)
            keep &= ~(distance > radius_km)  # NaN, an unknown place, is kept
        found = []
        for k in np.flatnonzero(keep):
            d = None if distance is None or isnan(distance[k]) else float(distance[k])
            found.append(meeting(reference, intents[k], today, d))
        return found


def _haversine_km(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """`core.network.geo.haversine_km` from one place to many (in radians), NaN where unknown."""
    lat1, lon1 = radians(lat), radians(lon)
    with np.errstate(invalid="ignore"):
        h = (
            np.sin((lats - lat1) / 2) ** 2
            + cos(lat1) * np.cos(lats) * np.sin((lons - lon1) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
