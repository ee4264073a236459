"""Matching intents: offers against requests and proposals, and against the network's needs.

"Intents might find mates." An offer meets a request (or a proposal, matched the same way) when
every rule below holds for the pair; each rule has its test in tests/unit/test_intent_matching.py.

- Resource: the same item or process (same kind, same id).
- Time: their windows [starts, ends] overlap (a missing end is unbounded). Given `today`, an
  intent that is not open, has expired or whose window has ended meets nobody.
- Distance: when both have a place, at most `radius_km` apart (haversine). An unknown place is
  allowed but ranks after every known distance: someone must still check it.
- Quantity: an offer may cover part of a request. Its share is offered / needed, capped at 1;
  rates compare by `per_day()`; a rate against a plain amount is counted over the days both
  windows share when those are bounded, else as one period of the rate. No quantity on either
  side, or units that cannot be compared (not equal, neither the default "each"), count as a
  full share that was not measured (`Cover.measured` is False): the people must settle it.

A request's matches partition the offers that meet it: greedily, best offer first, offers are
gathered into one `Match` until they cover the request, then the next `Match` starts. So every
offer meeting a request appears in exactly one of its matches, and several small offers add up.

The network's needs: a request for an item the weave cannot yet serve (no plan at all) is also
matched against what is missing to make it (`Gap`): offers of the processes no facility can run
for its designs, and offers of its inputs that have no plan, recursively. Such a `Match` holds
several offers, each with the need it fills ("several offers covering one request"). A process
offer fills a process need whole (hours against items cannot be compared: share 1, not
measured); an input's need is the quantity the designs take for the requested amount. These
composite matches share out the offers that help the request the same way: the best fill of
what is missing first, then the best fill of the offers left, and so on.

Both directions: for a request or proposal, `Matcher.matches_for` gives its matches as above.
For an offer, it gives one match per request the offer helps, holding that offer alone: what it
would do for that request (the request's own matches may gather it with other offers). Either
way, a request and an offer are paired exactly when the rules above allow it.

Ranking: by `covered` (more first), then distance (nearer first; a match is as far as its
farthest offer, unknown if any offer's place is), then how soon all its offers can start, then
the intent ids — so the order never depends on insertion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from math import ceil, cos, inf, isnan, radians

import numpy as np

from core.intents.model import ITEM, OPEN, PROCESS, Intent, Quantity
from core.network.geo import EARTH_RADIUS_KM
from core.network.model import Network
from core.weave.count import PlanCounter
from core.weave.sources import Made, SupplyIndex

DEFAULT_RADIUS_KM = 100.0
_FULL = 1.0 - 1e-9  # shares summed in floating point: 0.3 + 0.7 must count as covered


@dataclass(frozen=True)
class Cover:
    """One offer's part in a match: it fills `share` (0..1] of `need` (an item or process id).

    For a direct match `need` is the request's own resource and `share` is of the request; in a
    composite match it is of that need alone. `measured` is False when the share is assumed,
    not computed from quantities (see the module's rules).
    """

    offer: int
    need: str
    share: float
    measured: bool = True
    distance_km: float | None = None


@dataclass(frozen=True)
class Match:
    """Offers that together answer the request `request`.

    `covered` is the share of the request they cover, (0..1]. For a `composite` match (against
    what the network lacks to make the item) it is how far the missing pieces are filled: the
    mean over a design's missing processes and inputs, each filled in turn the same way; 1
    means every missing piece of one way to make the item has an offer.

    `distance_km` is the farthest offer's, None if any is unknown; `starts` the first day all
    of them can begin (None: no date stands in the way). `score` sums the ranking up for
    display: `covered` discounted by up to half for distance (as much as the radius or
    unknown: half).
    """

    request: int
    offers: tuple[Cover, ...]
    covered: float
    distance_km: float | None
    score: float
    starts: date | None = None
    composite: bool = False

    def offer_ids(self) -> tuple[int, ...]:
        return tuple(c.offer for c in self.offers)


def rank_key(match: Match) -> tuple:
    """The order `Matcher.matches_for` returns matches in."""
    distance = inf if match.distance_km is None else match.distance_km
    starts = -inf if match.starts is None else match.starts.toordinal()
    return (-match.covered, distance, starts, match.request, match.offer_ids())


@dataclass(frozen=True)
class Route:
    """One design that could make a gap's item once its own gaps are filled."""

    design: str
    yield_: int
    processes: tuple[str, ...]  # wanted because no facility can run the design
    inputs: tuple[tuple[Gap, int], ...]  # inputs with no plan, and how many a batch takes


@dataclass(frozen=True)
class Gap:
    """What the network lacks to make `item`: filling any one route would give it a plan (and
    so would an offer of the item itself)."""

    item: str
    routes: tuple[Route, ...]

    def resources(self) -> set[tuple[str, str]]:
        """Every (kind, id) whose offer could fill part of this gap, the item excepted."""
        found: set[tuple[str, str]] = set()
        for route in self.routes:
            found.update((PROCESS, p) for p in route.processes)
            for child, _ in route.inputs:
                found.add((ITEM, child.item))
                found |= child.resources()
        return found


def covered_share(
    need: Quantity | None, offered: Quantity | None, span_days: int | None = None
) -> tuple[float, bool]:
    """The share of `need` that `offered` covers, and whether it was measured (module rules)."""
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


def holds(intent: Intent, today: date | None) -> bool:
    """Can the intent meet anyone `today` (None: the date is not checked, only the status)?"""
    if intent.status != OPEN:
        return False
    if today is None:
        return True
    return intent.holds_on(today) and (intent.ends is None or intent.ends >= today)


class _Near:
    """An offer that meets a request, with what the pair's ranking needs."""

    __slots__ = ("intent", "distance_km", "starts", "span_days")

    def __init__(self, intent: Intent, distance_km, starts, span_days):
        self.intent = intent
        self.distance_km = distance_km
        self.starts = starts
        self.span_days = span_days


def _meeting(a: Intent, b: Intent, today: date | None, distance_km: float | None) -> _Near:
    """`b` as met from `a`: when both could start, and how many days they share."""
    starts = max((d for d in (a.starts, b.starts, today) if d is not None), default=None)
    ends = min((d for d in (a.ends, b.ends) if d is not None), default=None)
    span = (ends - starts).days + 1 if starts is not None and ends is not None else None
    return _Near(b, distance_km, starts, span)


class _Side:
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

    def near(self, reference: Intent, today: date | None, radius_km: float) -> list[_Near]:
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
            found.append(_meeting(reference, intents[k], today, d))
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


class _Fill:
    """How far some offers fill a need: coverage in 0..1 and their covers."""

    __slots__ = ("coverage", "covers", "starts")

    def __init__(self, coverage: float, covers: tuple[Cover, ...] = (), starts=()):
        self.coverage, self.covers, self.starts = coverage, covers, starts


_EMPTY = _Fill(0.0)


class _Offers:
    """The offers meeting one need, best first. Offers already used in an earlier match are
    skipped; as they are taken from the front, skipping costs nothing over a request's life."""

    __slots__ = ("ranked", "front")

    def __init__(self, ranked: list[tuple[Cover, _Near]]):
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
            if total >= _FULL:
                break
        return _Fill(min(1.0, total), tuple(covers), tuple(starts)) if covers else _EMPTY


class _RouteNeeds:
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


class _ItemNeeds:
    """An item wanted: its offers, or any one of its routes (the best filled is taken)."""

    __slots__ = ("offers", "routes")

    def __init__(self, offers: _Offers | None, routes: list[_RouteNeeds]):
        self.offers, self.routes = offers, routes

    def fill(self, used: set[int]) -> _Fill:
        options = [self.offers.fill(used)] if self.offers is not None else []
        options += [route.fill(used) for route in self.routes]
        return max(options, key=lambda f: f.coverage, default=_EMPTY)


class Matcher:
    """The open intents of a network, indexed by resource and side, and their ranked matches.

    The index holds open intents only; `add`, `replace` and `remove` keep it right as intents
    are cast, edited, withdrawn or expire. The network is fixed for a matcher: its unservable
    items and their gaps are worked out once.
    """

    def __init__(
        self,
        network: Network,
        intents: Iterable[Intent] = (),
        radius_km: float = DEFAULT_RADIUS_KM,
    ):
        self.network = network
        self.radius_km = radius_km
        self._index = SupplyIndex(network)
        self._counter = PlanCounter(self._index)
        self._gaps: dict[tuple[str, frozenset[str]], Gap | None] = {}
        self._designs: dict[str, list] = {}
        for design in network.designs.values():
            if design.inputs_known:
                self._designs.setdefault(design.makes, []).append(design)
        self._processes = {p for f in network.facilities.values() for p in f.processes}
        self._all: dict[int, Intent] = {}
        self._sides: dict[tuple[bool, str, str], _Side] = {}
        self._helps = self._needs_by_resource()
        for intent in intents:
            self.add(intent)

    # -- the index -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._all)

    def __contains__(self, intent_id: int) -> bool:
        return intent_id in self._all

    def intent(self, intent_id: int) -> Intent:
        return self._all[intent_id]

    def add(self, intent: Intent) -> None:
        """Index a new intent (one that is not open is ignored: it can meet nobody)."""
        if intent.id is None:
            raise ValueError("an intent needs an id before it can be matched")
        if intent.id in self._all:
            raise ValueError(f"intent {intent.id} is already indexed; replace it instead")
        if intent.status == OPEN:
            self._all[intent.id] = intent
            self._side_of(intent, create=True).put(intent)

    def replace(self, intent: Intent) -> None:
        """The intent with this id was edited, withdrawn, expired or accepted."""
        self.remove(intent.id)
        self.add(intent)

    def remove(self, intent_id: int) -> None:
        """Forget the intent (a no-op when it is not indexed)."""
        old = self._all.pop(intent_id, None)
        if old is not None:
            side = self._side_of(old)
            side.drop(intent_id)
            if not side.intents:
                del self._sides[self._key(old.provides, old)]

    def expire(self, today: date) -> list[int]:
        """Drop the intents that no longer hold on `today`; their ids."""
        gone = [i for i, intent in self._all.items() if not holds(intent, today)]
        for intent_id in gone:
            self.remove(intent_id)
        return gone

    @staticmethod
    def _key(provides: bool, intent: Intent) -> tuple[bool, str, str]:
        return (provides, intent.resource.kind, intent.resource.id)

    def _side_of(self, intent: Intent, create: bool = False) -> _Side:
        key = self._key(intent.provides, intent)
        if create:
            return self._sides.setdefault(key, _Side())
        return self._sides[key]

    # -- matching --------------------------------------------------------------------------

    def matches_for(self, intent: Intent, today: date | None = None) -> list[Match]:
        """Ranked matches of an intent, indexed or not.

        For a request or proposal: its matches, which share out every offer meeting it, each
        offer in exactly one. For an offer: one match per request it helps, of what this offer
        alone does for it (the offerer's view; the request's own matches may gather it with
        other offers).
        """
        if intent.id is None:
            raise ValueError("an intent needs an id before it can be matched")
        if not holds(intent, today):
            return []
        if not intent.provides:
            found = self._request_matches(intent, today)
        else:
            found = []
            for request, distance in self._requests_helped(intent, today):
                met = _meeting(request, intent, today, distance)
                match = self._offer_alone(request, met)
                if match is not None:
                    found.append(match)
        return sorted(found, key=rank_key)

    def gap(self, item_id: str) -> Gap | None:
        """What the network lacks to make the item, if it has no plan yet and designs that
        could make it; None when it can be served (or nothing but an offer of it would do)."""
        return self._gap(item_id, frozenset())

    def _requests_helped(self, offer: Intent, today: date | None) -> list[tuple[Intent, float]]:
        """Requests and proposals an offer meets and could be part of a match of (of its own
        resource, and of the unservable items whose gaps it could fill), with the distance."""
        kinds = [(offer.resource.kind, offer.resource.id)]
        kinds += [(ITEM, item) for item in self._helps.get(self._resource(offer), ())]
        requests = []
        for kind, resource_id in kinds:
            side = self._sides.get((False, kind, resource_id))
            if side is not None:
                near = side.near(offer, today, self.radius_km)
                requests.extend((n.intent, n.distance_km) for n in near)
        return requests

    def _need(self, request: Intent) -> Quantity | None:
        if request.resource.kind != ITEM:
            return request.quantity
        return _in_unit(request.quantity, self._unit(request.resource.id))

    def _request_matches(self, request: Intent, today: date | None) -> list[Match]:
        pools: dict[tuple[str, str], list[_Near]] = {}

        def pool(resource: tuple[str, str]) -> list[_Near]:
            if resource not in pools:
                side = self._sides.get((True, *resource))
                near = side.near(request, today, self.radius_km) if side is not None else []
                pools[resource] = near
            return pools[resource]

        own, need = self._resource(request), self._need(request)
        found = self._bundles(request.id, request.resource.id, need, pool(own))
        gap = self.gap(request.resource.id) if own[0] == ITEM else None
        if gap is not None:
            found += self._composites(request.id, self._needs(gap, need, pool, top=True))
        return found

    def _offer_alone(self, request: Intent, offer: _Near) -> Match | None:
        need, resource = self._need(request), self._resource(offer.intent)
        if resource == self._resource(request):
            [(cover, _)] = self._ranked_covers(request.resource.id, need, [offer])
            return self._match(request.id, [cover], cover.share, [offer.starts])
        gap = self.gap(request.resource.id)
        needs = self._needs(gap, need, lambda r: [offer] if r == resource else [], top=True)
        fill = needs.fill(set())
        if fill.coverage <= 0:
            return None
        return self._match(request.id, fill.covers, fill.coverage, fill.starts, True)

    def _bundles(self, request_id: int, need_id: str, need, offers: list[_Near]) -> list[Match]:
        """Offers best first, gathered into matches that each cover the need once."""
        found, covers, starts, total = [], [], [], 0.0
        for cover, near in self._ranked_covers(need_id, need, offers):
            covers.append(cover)
            starts.append(near.starts)
            total += cover.share
            if total >= _FULL:
                found.append(self._match(request_id, covers, 1.0, starts))
                covers, starts, total = [], [], 0.0
        if covers:
            found.append(self._match(request_id, covers, total, starts))
        return found

    def _ranked_covers(self, need_id: str, need, offers: list[_Near]):
        covers = []
        for near in offers:
            share, measured = covered_share(need, near.intent.quantity, near.span_days)
            cover = Cover(near.intent.id, need_id, share, measured, near.distance_km)
            covers.append((cover, near))
        covers.sort(key=lambda pair: _offer_order(*pair))
        return covers

    def _composites(self, request_id: int, needs: _ItemNeeds) -> list[Match]:
        """Matches of an unservable request against what is missing to make its item, each
        offer used once: the best fill first, then the best of the offers left, and so on."""
        used: set[int] = set()
        found = []
        while True:
            fill = needs.fill(used)
            if fill.coverage <= 0:
                return found
            found.append(self._match(request_id, fill.covers, fill.coverage, fill.starts, True))
            used.update(c.offer for c in fill.covers)

    def _needs(self, gap: Gap, need, pool: Callable, top: bool = False) -> _ItemNeeds:
        """A request's gap with the offers meeting each of its needs ranked, once."""
        offers = (
            None if top else _Offers(self._ranked_covers(gap.item, need, pool((ITEM, gap.item))))
        )
        routes = []
        for route in gap.routes:
            parts: list = [
                _Offers(self._ranked_covers(p, None, pool((PROCESS, p)))) for p in route.processes
            ]
            for child, amount in route.inputs:
                child_need = _scaled(need, route.yield_, amount, self._unit(child.item))
                parts.append(self._needs(child, child_need, pool))
            routes.append(_RouteNeeds(parts))
        return _ItemNeeds(offers, routes)

    def _match(self, request_id, covers, covered, starts, composite=False) -> Match:
        distances = [c.distance_km for c in covers]
        distance = None if None in distances else max(distances)
        known = [s for s in starts if s is not None]
        penalty = 0.5 if distance is None else 0.5 * min(distance, self.radius_km) / self.radius_km
        return Match(
            request=request_id,
            offers=tuple(covers),
            covered=min(1.0, covered),
            distance_km=distance,
            score=min(1.0, covered) * (1 - penalty),
            starts=max(known) if known else None,
            composite=composite,
        )

    # -- the network's needs ---------------------------------------------------------------

    @staticmethod
    def _resource(intent: Intent) -> tuple[str, str]:
        return (intent.resource.kind, intent.resource.id)

    def _needs_by_resource(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """For each resource, the unservable items whose gaps an offer of it could fill."""
        helps: dict[tuple[str, str], list[str]] = {}
        for item_id in self.network.items:
            gap = self.gap(item_id)
            if gap is not None:
                for resource in sorted(gap.resources()):
                    helps.setdefault(resource, []).append(item_id)
        return {resource: tuple(items) for resource, items in helps.items()}

    def _unit(self, item_id: str) -> str:
        item = self.network.items.get(item_id)
        return item.unit if item is not None else "each"

    def _servable(self, item_id: str) -> bool:
        return self._counter.count(item_id) > 0

    def _gap(self, item_id: str, path: frozenset[str]) -> Gap | None:
        # Only the items above on the path that lie on a cycle with this one change its gap
        # (as for `SupplyIndex.child_context`): shared, the work stays linear on a DAG.
        key = (item_id, path & self._index.recursive_groups.get(item_id, frozenset()))
        if key not in self._gaps:
            self._gaps[key] = self._gap_of(item_id, key[1])
        return self._gaps[key]

    def _gap_of(self, item_id: str, path: frozenset[str]) -> Gap | None:
        if item_id not in self.network.items or self._servable(item_id):
            return None
        routes = []
        below = path | {item_id}
        for design in self._designs.get(item_id, ()):
            if any(input_id in below for input_id, _ in design.inputs):
                continue  # it would need what it makes: no way through here
            inputs = []
            for input_id, amount in design.inputs:
                if not self._servable(input_id):
                    child = self._gap(input_id, below) or Gap(input_id, ())
                    inputs.append((child, amount))
            processes = self._missing_processes(design, item_id)
            if processes or inputs:
                routes.append(Route(design.id, design.yield_, processes, tuple(inputs)))
        return Gap(item_id, tuple(routes)) if routes else None

    def _missing_processes(self, design, item_id: str) -> tuple[str, ...]:
        """The processes wanted for a design no facility can run: those no facility has, or,
        when each is somewhere but never together, all of them."""
        sources = self._index.sources(item_id)
        if any(isinstance(s, Made) and s.design.id == design.id for s in sources):
            return ()
        missing = sorted(p for p in design.processes if p not in self._processes)
        return tuple(missing or sorted(design.processes))


def _offer_order(cover: Cover, near: _Near) -> tuple:
    """Offers for one need, best first: larger share, nearer, sooner, then by id."""
    distance = inf if cover.distance_km is None else cover.distance_km
    starts = -inf if near.starts is None else near.starts.toordinal()
    return (-cover.share, distance, starts, cover.offer)


def _in_unit(quantity: Quantity | None, unit: str | None) -> Quantity | None:
    """A request's quantity in its item's unit when it gave none ("each" is the default)."""
    if quantity is None or unit is None or quantity.unit != "each":
        return quantity
    return Quantity(quantity.amount, unit, quantity.per)


def _scaled(need: Quantity | None, yield_: int, amount: int, unit: str) -> Quantity | None:
    """How much of an input a design takes for `need` of its product: whole batches."""
    if need is None:
        return None
    return Quantity(ceil(need.amount / yield_) * amount, unit, need.per)
