"""What the network lacks to make an item it cannot serve yet (no plan at all): for each design
that could make it, the processes no facility can run for it and the inputs that have no plan
themselves, recursively — so that offers of those can be matched against a request for the item.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.intents.model import ITEM, PROCESS
from core.network.model import Network
from core.weave.count import PlanCounter
from core.weave.sources import Made, SupplyIndex


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


class Gaps:
    """The gaps of one network's unservable items, worked out once and shared along the way."""

    def __init__(self, network: Network):
        self.network = network
        self._index = SupplyIndex(network)
        self._counter = PlanCounter(self._index)
        self._gaps: dict[tuple[str, frozenset[str]], Gap | None] = {}
        self._designs: dict[str, list] = {}
        for design in network.designs.values():
            if design.inputs_known:
                self._designs.setdefault(design.makes, []).append(design)
        self._processes = {p for f in network.facilities.values() for p in f.processes}
        self.helps = self._needs_by_resource()

    def gap(self, item_id: str) -> Gap | None:
        """What the network lacks to make the item, if it has no plan yet and designs that
        could make it; None when it can be served (or nothing but an offer of it would do)."""
        return self._gap(item_id, frozenset())

    def _needs_by_resource(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """For each resource, the unservable items whose gaps an offer of it could fill."""
        helps: dict[tuple[str, str], list[str]] = {}
        for item_id in self.network.items:
            gap = self.gap(item_id)
            if gap is not None:
                for resource in sorted(gap.resources()):
                    helps.setdefault(resource, []).append(item_id)
        return {resource: tuple(items) for resource, items in helps.items()}

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
