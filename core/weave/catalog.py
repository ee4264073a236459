"""F_O: the orderable subset of the catalog — items with at least one complete plan."""

from __future__ import annotations

from dataclasses import dataclass

from core.network.model import Item, Network
from core.weave.count import PlanCounter
from core.weave.sources import SupplyIndex


@dataclass(frozen=True)
class CatalogEntry:
    item: Item
    plan_count: int
    normal: bool  # some offer sells it ready-made (the paper's "normal" item)
    adaptive: bool = False  # some design that says what goes in makes it

    @property
    def orderable(self) -> bool:
        return self.plan_count > 0


def orderable_catalog(
    network: Network,
    criteria: frozenset[str] = frozenset(),
    index: SupplyIndex | None = None,
) -> list[CatalogEntry]:
    """Every item with its exact plan count, in declaration order."""
    index = index or SupplyIndex(network)
    counter = PlanCounter(index, criteria)
    offered = {offer.item for offer in network.offers.values()}
    designed = {d.makes for d in network.designs.values() if d.inputs_known}
    return [
        CatalogEntry(item, counter.count(item.id), item.id in offered, item.id in designed)
        for item in network.items.values()
    ]
