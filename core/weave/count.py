"""How many fulfilment plans there are, exactly, without listing any of them.

count(T, path) = #offers(T) + [T ∉ path] · Σ_(D,F) Π_inputs count(I, path ∪ {T})

by dynamic programming over the AND-OR graph (items are OR nodes over their sources, designs are
AND nodes over their inputs). Python integers keep 10^30 and beyond exact. The path matters only
through the items above T that T can lead back to (see `SupplyIndex.child_context`), so results
are shared among all paths and the work is linear in the graph on acyclic networks.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from core.weave.sources import Bought, Made, SupplyIndex


@contextmanager
def deep_recursion(limit: int = 100_000):
    """Deep bills of materials recurse deeply; Python 3.11 frames are cheap, the limit is not."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


class PlanCounter:
    def __init__(self, index: SupplyIndex, criteria: frozenset[str] = frozenset()):
        self.index = index
        self.criteria = criteria
        self._memo: dict[tuple[str, frozenset[str]], int] = {}

    def count(self, item_id: str, context: frozenset[str] = frozenset()) -> int:
        with deep_recursion():
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
