"""How many fulfilment plans there are, exactly, without listing any of them.

count(T, path) = #offers(T) + [T ∉ path] · Σ_(D,F) Π_inputs count(I, path ∪ {T})

by dynamic programming over the AND-OR graph (items are OR nodes over their sources, designs are
AND nodes over their inputs). Python integers keep 10^30 and beyond exact. The path matters only
through the items above T that T can lead back to (see `SupplyIndex.child_context`), so results
are shared among all paths and the work is linear in the graph on acyclic networks.

With legs (`LegCounter`, what the weave counts): a node's goods must also reach where they are
used, by one of the leg's options (core.weave.legs), so

count(T, path, to) = Σ_sources S Σ_options(S → to) Π_inputs count(I, path ∪ {T}, facility of S)

and a deadline window keeps an option only when its known minutes fit the time left, the inputs
getting what remains. The options of a leg, and their minutes, depend on where it goes from and
to and on who moves it, not on what it carries (only trips and price do), so they are found once
per pair of places; without a window the count does not depend on quantities either.
"""

from __future__ import annotations

import gc
import sys
from contextlib import contextmanager

from core.network.model import Delivery, Location, Network
from core.weave.capacity import LimitedIndex
from core.weave.legs import Leg, Stop, facility_stop, leg_ways, loaded, origin_of, way_count
from core.weave.sources import Bought, Made, Source, SupplyIndex
from core.weave.timing import own_minutes

BUYER = "@buyer"  # where the root of every order line goes
_NO_CONTEXT: frozenset[str] = frozenset()


@contextmanager
def graph_walk(limit: int = 100_000):
    """Deep recursion allowed and the cycle collector paused. Deep bills of materials recurse
    deeply (Python 3.11 frames are cheap, the limit is not); a big weave allocates millions of
    tuples that hold no cycles, and the collector would scan them again and again (half the
    time of a 10,000-item weave). Afterwards what the walk made goes straight to the oldest
    generation (freeze, then unfreeze: no scan), as if it had survived the young ones' scans:
    it is scanned again only by the next full collection, which frees it if it is garbage by
    then; re-enabled as it was, the collector would scan it all at once on the next allocation
    (a third of a second after a 10,000-item weave)."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
        sys.setrecursionlimit(previous)


class PlanCounter:
    def __init__(self, index: SupplyIndex, criteria: frozenset[str] = frozenset()):
        self.index = index
        self.criteria = criteria
        self._memo: dict[tuple[str, frozenset[str]], int] = {}

    def count(self, item_id: str, context: frozenset[str] = frozenset()) -> int:
        with graph_walk():
            return self._count(item_id, context)

    def _count(self, item_id: str, context: frozenset[str]) -> int:
        key = (item_id, context)
        known = self._memo.get(key)
        if known is not None:
            return known
        total = 0
        per_design: dict[str, int] = {}
        for source in self.index.sources(item_id, self.criteria):
            if isinstance(source, Bought):
                total += 1
            elif item_id not in context:
                total += self._design_count(source, item_id, context, per_design)
        self._memo[key] = total
        return total

    def _design_count(
        self, source: Made, item_id: str, context: frozenset[str], per_design: dict[str, int]
    ) -> int:
        # Every facility able to run a design gives the same sub-plans: count them once.
        design = source.design
        if design.id not in per_design:
            product = 1
            for input_id, _ in design.inputs:
                child = self.index.child_context(context, item_id, input_id)
                product *= self._count(input_id, child)
                if product == 0:
                    break
            per_design[design.id] = product
        return per_design[design.id]


class Destinations:
    """The Stop a node's goods go to: a facility by its id, or the buyer (`BUYER`)."""

    def __init__(self, network: Network, buyer: str | None, deliver_to: Location | None):
        self.network = network
        self.buyer = Stop(buyer, None, deliver_to)
        self._stops: dict[str | None, Stop] = {BUYER: self.buyer}

    def stop(self, destination: str) -> Stop:
        found = self._stops.get(destination)
        if found is None:
            facility = self.network.facilities[destination]
            found = self._stops[destination] = facility_stop(self.network, facility)
        return found


class LegOptions:
    """The leg options of every source towards every destination, found once per pair."""

    def __init__(self, network: Network, destinations: Destinations):
        self.network = network
        self.destinations = destinations
        # By the source's id (the index keeps every source alive): its origin, delivery terms
        # and sender, and a number for that triple, which sources sharing it share.
        self._origins: dict[int, tuple] = {}
        self._owners: dict[int, tuple] = {}
        self._numbers: dict[tuple, int] = {}
        self._triples: list[tuple] = []
        self._ways: dict[str, dict[int, int]] = {}
        self._shapes: dict[tuple[int, str], tuple[Leg | None, ...]] = {}

    def origin(self, source: Source) -> tuple[Stop, Delivery | None, str | None]:
        return self._origin(source)[:3]

    def _origin(self, source: Source) -> tuple:
        found = self._origins.get(id(source))
        if found is None:
            # What a facility makes leaves from it, an offer's goods from its supplier: found
            # once per facility or offer, not once per design run.
            owner = id(source.offer) if type(source) is Bought else id(source.facility)
            found = self._owners.get(owner)
            if found is None:
                triple = origin_of(self.network, source)
                number = self._numbers.get(triple)
                if number is None:
                    number = self._numbers[triple] = len(self._triples)
                    self._triples.append(triple)
                found = self._owners[owner] = (*triple, number)
            self._origins[id(source)] = found
        return found

    def options(
        self, source: Source, item_id: str, quantity: int, destination: str
    ) -> tuple[Leg | None, ...]:
        """The real options (trips, kg and price for this item and quantity)."""
        shape = self.shape(source, destination)
        if not shape or shape[0] is None:
            return shape  # cannot be moved, or nothing to choose: whatever is carried
        item = self.network.items[item_id]
        kg = None if item.mass_kg is None else item.mass_kg * quantity
        return tuple(loaded(way, kg) for way in shape)

    def shape(self, source: Source, destination: str) -> tuple[Leg | None, ...]:
        """The options whatever is carried: how many there are and their minutes, which is all
        that counting and timing read."""
        stop, delivery, sender, number = self._origin(source)
        found = self._shapes.get((number, destination))
        if found is None:
            found = self._shapes[(number, destination)] = leg_ways(
                self.network, stop, self.destinations.stop(destination), delivery, sender
            )
        return found

    def number(self, source: Source) -> int:
        """The number of the source's origin, delivery terms and sender: sources sharing it
        have the same options towards every destination."""
        return self._origin(source)[3]

    def ways_to(self, destination: str) -> dict[int, int]:
        """How many options each origin number has towards `destination`, as far as known (see
        `ways_from`)."""
        found = self._ways.get(destination)
        if found is None:
            found = self._ways[destination] = {}
        return found

    def ways_from(self, number: int, destination: str) -> int:
        """How many options sources of origin `number` have (`shape`), without building legs."""
        shape = self._shapes.get((number, destination))
        if shape is not None:
            found = len(shape)
        else:
            stop, delivery, sender = self._triples[number]
            found = way_count(
                self.network, stop, self.destinations.stop(destination), delivery, sender
            )
        self.ways_to(destination)[number] = found
        return found


class LegCounter:
    """Plans counted with their legs, and within a deadline window when one is given."""

    def __init__(
        self,
        index: SupplyIndex,
        criteria: frozenset[str] = frozenset(),
        legs: LegOptions | None = None,
        arrivals: Arrivals | None = None,
    ):
        self.index = index
        self.criteria = criteria
        network = index.network
        self.legs = legs or LegOptions(network, Destinations(network, None, None))
        self.arrivals = arrivals or Arrivals(index, criteria, self.legs)
        # Without transport every leg is the one option None, wherever it goes: the count
        # does not depend on the destination, and designs share it across facilities.
        self.moves = network.plans_transport
        # With what is left of each source, whether it is an option depends on the quantity.
        self.limited = isinstance(index, LimitedIndex)
        self._memo: dict[tuple, int] = {}
        # A design's inputs at one facility, for every leg option and destination of its goods.
        self._inputs_memo: dict[tuple, int] = {}
        self._origin_memo: dict[tuple, list[tuple[int, int]]] = {}
        self._plain_memo: dict[tuple, int] = {}

    def count(
        self,
        item_id: str,
        quantity: int,
        destination: str = BUYER,
        budget: int | None = None,
        context: frozenset[str] = frozenset(),
    ) -> int:
        with graph_walk():
            return self._count(item_id, quantity, context, destination, budget)

    def _count(
        self,
        item_id: str,
        quantity: int,
        context: frozenset[str],
        destination: str,
        budget: int | None,
    ) -> int:
        if budget is None:
            return self._plain(item_id, quantity, context, destination)
        budget = self.arrivals.window((item_id, quantity, context, destination), budget)
        if budget == -1:
            return 0
        key = (
            item_id,
            context,
            destination if self.moves else None,
            budget,
            None if budget is None and not self.limited else quantity,
        )
        known = self._memo.get(key)
        if known is not None:
            return known
        if budget is None:
            return self._plain(item_id, quantity, context, destination)
        total = 0
        for source in self.index.sources(item_id, self.criteria):
            made = type(source) is not Bought
            if made and item_id in context:
                continue
            if self.limited and not self.index.fits(item_id, source, quantity):
                continue
            options = self.legs.shape(source, destination) if self.moves else (None,)
            for leg in options:
                own = own_minutes(source, quantity, leg)[0]
                if own > budget:
                    continue
                if made:
                    total += self._inputs(source, item_id, quantity, context, budget - own)
                else:
                    total += 1
        self._memo[key] = total
        return total

    def _plain(self, item_id: str, quantity: int, context: frozenset[str], destination: str) -> int:
        """The count whenever plans arrive. Sources that leave from one place, with the same
        sender and terms, have the same options towards any destination: their sub-plans are
        summed once per item (`_by_origin`), and only how many ways each origin has here is
        read per destination. This runs for every node of a big network: the memos are read
        before each call."""
        key = (
            item_id,
            context,
            destination if self.moves else None,
            quantity if self.limited else None,
        )
        known = self._plain_memo.get(key)
        if known is not None:
            return known
        groups = self._origin_memo.get((item_id, context, quantity if self.limited else None))
        if groups is None:
            groups = self._by_origin(item_id, quantity, context)
        if not self.moves:
            total = self._plain_memo[key] = sum(below for _, below in groups)
            return total
        # Every place where the item may be used at once: the design runs there ask next.
        places = self.index.consumers.get(item_id, ())
        if destination not in places:
            places = (*places, destination)
        legs, memo, limited = self.legs, self._plain_memo, quantity if self.limited else None
        for place in places:
            ways = legs.ways_to(place)
            total = 0
            for number, below in groups:
                n = ways.get(number)
                if n is None:
                    n = legs.ways_from(number, place)
                total += n * below
            memo[(item_id, context, place, limited)] = total
        return memo[key]

    def _by_origin(self, item_id: str, quantity: int, context: frozenset[str]) -> list:
        """(origin number, plans below its sources) of the item's sources that may give it,
        whatever the destination and whenever they arrive."""
        limited, moves = self.limited, self.moves
        sums: dict[int, int] = {}
        for source in self.index.sources(item_id, self.criteria):
            if limited and not self.index.fits(item_id, source, quantity):
                continue
            if type(source) is Bought:
                below = 1
            elif item_id in context:
                continue
            else:
                where = source.facility.id if moves else None
                below = self._plain_inputs(source.design, where, item_id, quantity, context)
            if below:
                number = self.legs.number(source) if moves else -1
                sums[number] = sums.get(number, 0) + below
        found = self._origin_memo[(item_id, context, quantity if limited else None)] = list(
            sums.items()
        )
        return found

    def _plain_inputs(
        self, design, where: str | None, item_id: str, quantity: int, context: frozenset[str]
    ) -> int:
        """The plans of a design's inputs at a facility, whenever they arrive."""
        runs = -(-quantity // design.yield_)
        memo, limited = self._plain_memo, self.limited
        groups = self.index.recursive_groups
        product = 1
        for input_id, per_batch in design.inputs:
            child = (
                self.index.child_context(context, item_id, input_id)
                if input_id in groups
                else _NO_CONTEXT
            )
            needed = per_batch * runs
            found = memo.get((input_id, child, where, needed if limited else None))
            if found is None:
                found = self._plain(input_id, needed, child, where or BUYER)
            product *= found
            if product == 0:
                break
        return product

    def _inputs(
        self,
        source: Made,
        item_id: str,
        quantity: int,
        context: frozenset[str],
        budget: int | None,
    ) -> int:
        design = source.design
        where = source.facility.id if self.moves else None
        key = (
            design.id,
            where,
            context,
            budget,
            None if budget is None and not self.limited else quantity,
        )
        found = self._inputs_memo.get(key)
        if found is None:
            runs = -(-quantity // design.yield_)
            found = 1
            for input_id, per_batch in design.inputs:
                child = self.index.child_context(context, item_id, input_id)
                found *= self._count(input_id, per_batch * runs, child, source.facility.id, budget)
                if found == 0:
                    break
            self._inputs_memo[key] = found
        return found


class Arrivals:
    """The arrivals a node's plans can achieve (core.weave.timing: own minutes after the last
    input's arrival, times nobody gave counted 0), without listing the plans: the earliest, the
    latest, the earliest after a minute and the latest up to one. A node is (item, quantity,
    cycle context, destination).

    For one edge with inputs S_i: earliest = own + max_i earliest(S_i), latest likewise; the
    earliest after y is own + m, m = max_i earliest(S_i), when m > y − own, else own +
    min_j after(S_j, y − own) (one input must arrive later, the others keep to their
    earliest); the latest up to y is own + max_i upto(S_i, y − own) when every input can make
    it by y − own.

    A deadline window only matters through the arrivals a node can achieve: `window` turns the
    minutes left into the latest achievable arrival within them (None when no plan of the node
    can be late, -1 when none fits), so nodes that differ only in slack are one node.
    """

    def __init__(self, index: SupplyIndex, criteria: frozenset[str], legs: LegOptions):
        self.index = index
        self.criteria = criteria
        self.legs = legs
        self.moves = index.network.plans_transport
        self.limited = isinstance(index, LimitedIndex)
        self._edges: dict[tuple, list[tuple[int, tuple]]] = {}
        self._earliest: dict[tuple, int | None] = {}
        self._latest: dict[tuple, int | None] = {}
        self._after: dict[tuple, int | None] = {}
        self._upto: dict[tuple, int | None] = {}

    def window(self, key: tuple, budget: int | None) -> int | None:
        if budget is None:
            return None
        latest = self.latest(key)
        if latest is None or budget >= latest:
            return None  # every plan fits (or there is none, and no window changes that)
        found = self.upto(key, budget)
        return -1 if found is None else found

    def edges(self, key: tuple) -> list[tuple[int, tuple]]:
        found = self._edges.get(key)
        if found is not None:
            return found
        item_id, quantity, context, destination = key
        index = self.index
        found = []
        for source in index.sources(item_id, self.criteria):
            made = type(source) is not Bought
            if made and item_id in context:
                continue
            if self.limited and not index.fits(item_id, source, quantity):
                continue
            tails = ()
            if made:
                design = source.design
                runs = -(-quantity // design.yield_)
                tails = tuple(
                    (
                        input_id,
                        per_batch * runs,
                        index.child_context(context, item_id, input_id),
                        source.facility.id,
                    )
                    for input_id, per_batch in design.inputs
                )
            options = self.legs.shape(source, destination) if self.moves else (None,)
            for leg in options:
                found.append((own_minutes(source, quantity, leg)[0], tails))
        self._edges[key] = found
        return found

    def earliest(self, key: tuple) -> int | None:
        if key in self._earliest:
            return self._earliest[key]
        best = None
        for edge in self.edges(key):
            arrival = self.edge_earliest(edge)
            if arrival is not None and (best is None or arrival < best):
                best = arrival
        self._earliest[key] = best
        return best

    def latest(self, key: tuple) -> int | None:
        if key in self._latest:
            return self._latest[key]
        worst = None
        for own, tails in self.edges(key):
            last = 0
            for tail in tails:
                arrival = self.latest(tail)
                if arrival is None:
                    break
                last = max(last, arrival)
            else:
                if worst is None or own + last > worst:
                    worst = own + last
        self._latest[key] = worst
        return worst

    def edge_earliest(self, edge: tuple) -> int | None:
        own, tails = edge
        last = 0
        for tail in tails:
            arrival = self.earliest(tail)
            if arrival is None:
                return None
            last = max(last, arrival)
        return own + last

    def after(self, key: tuple, minutes: int) -> int | None:
        memo = (key, minutes)
        if memo in self._after:
            return self._after[memo]
        best = None
        latest = self.latest(key)
        if latest is not None and latest > minutes:
            for edge in self.edges(key):
                arrival = self.edge_after(edge, minutes)
                if arrival is not None and (best is None or arrival < best):
                    best = arrival
        self._after[memo] = best
        return best

    def edge_after(self, edge: tuple, minutes: int) -> int | None:
        earliest = self.edge_earliest(edge)
        if earliest is None:
            return None
        if earliest > minutes:
            return earliest
        own, tails = edge
        best = None
        for tail in tails:
            later = self.after(tail, minutes - own)
            if later is not None and (best is None or later < best):
                best = later
        return None if best is None else own + best

    def upto(self, key: tuple, minutes: int) -> int | None:
        """The latest arrival of the node's plans that is at most `minutes`; None if none."""
        earliest = self.earliest(key)
        if earliest is None or earliest > minutes:
            return None
        latest = self.latest(key)
        if latest <= minutes:
            return latest
        memo = (key, minutes)
        if memo in self._upto:
            return self._upto[memo]
        best = None
        for own, tails in self.edges(key):
            left = minutes - own
            if left < 0:
                continue
            last = 0
            for tail in tails:
                arrival = self.upto(tail, left)
                if arrival is None:
                    break
                last = max(last, arrival)
            else:
                if best is None or own + last > best:
                    best = own + last
        self._upto[memo] = best
        return best
