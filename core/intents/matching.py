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
from math import ceil, inf

from core.intents.covers import (
    FULL,
    Cover,
    ItemNeeds,
    Offers,
    RouteNeeds,
    covered_share,
    offer_order,
)
from core.intents.gaps import Gap, Gaps
from core.intents.meeting import Near, Side, holds, meeting
from core.intents.model import ITEM, OPEN, PROCESS, Intent, Quantity
from core.network.model import Network

DEFAULT_RADIUS_KM = 100.0


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
        self._gaps = Gaps(network)
        self._all: dict[int, Intent] = {}
        self._sides: dict[tuple[bool, str, str], Side] = {}
        self._helps = self._gaps.helps
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

    def _side_of(self, intent: Intent, create: bool = False) -> Side:
        key = self._key(intent.provides, intent)
        if create:
            return self._sides.setdefault(key, Side())
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
                met = meeting(request, intent, today, distance)
                match = self._offer_alone(request, met)
                if match is not None:
                    found.append(match)
        return sorted(found, key=rank_key)

    def gap(self, item_id: str) -> Gap | None:
        """What the network lacks to make the item, if it has no plan yet and designs that
        could make it; None when it can be served (or nothing but an offer of it would do)."""
        return self._gaps.gap(item_id)

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
        pools: dict[tuple[str, str], list[Near]] = {}

        def pool(resource: tuple[str, str]) -> list[Near]:
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

    def _offer_alone(self, request: Intent, offer: Near) -> Match | None:
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

    def _bundles(self, request_id: int, need_id: str, need, offers: list[Near]) -> list[Match]:
        """Offers best first, gathered into matches that each cover the need once."""
        found, covers, starts, total = [], [], [], 0.0
        for cover, near in self._ranked_covers(need_id, need, offers):
            covers.append(cover)
            starts.append(near.starts)
            total += cover.share
            if total >= FULL:
                found.append(self._match(request_id, covers, 1.0, starts))
                covers, starts, total = [], [], 0.0
        if covers:
            found.append(self._match(request_id, covers, total, starts))
        return found

    def _ranked_covers(self, need_id: str, need, offers: list[Near]):
        covers = []
        for near in offers:
            share, measured = covered_share(need, near.intent.quantity, near.span_days)
            cover = Cover(near.intent.id, need_id, share, measured, near.distance_km)
            covers.append((cover, near))
        covers.sort(key=lambda pair: offer_order(*pair))
        return covers

    def _composites(self, request_id: int, needs: ItemNeeds) -> list[Match]:
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

    def _needs(self, gap: Gap, need, pool: Callable, top: bool = False) -> ItemNeeds:
        """A request's gap with the offers meeting each of its needs ranked, once."""
        offers = (
            None if top else Offers(self._ranked_covers(gap.item, need, pool((ITEM, gap.item))))
        )
        routes = []
        for route in gap.routes:
            parts: list = [
                Offers(self._ranked_covers(p, None, pool((PROCESS, p)))) for p in route.processes
            ]
            for child, amount in route.inputs:
                child_need = _scaled(need, route.yield_, amount, self._unit(child.item))
                parts.append(self._needs(child, child_need, pool))
            routes.append(RouteNeeds(parts))
        return ItemNeeds(offers, routes)

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

    def _unit(self, item_id: str) -> str:
        item = self.network.items.get(item_id)
        return item.unit if item is not None else "each"


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
