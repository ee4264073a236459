"""The weave: all fulfilment plans of a demand, counted exactly and ranked lazily."""

from core.weave.catalog import CatalogEntry, orderable_catalog
from core.weave.count import PlanCounter
from core.weave.plan import Demand, Plan, PlanNode
from core.weave.ranking import BALANCED, DISTANCE, LOCAL, PRICE, RANKINGS, RISK, SOONEST, Ranking
from core.weave.sources import Bought, Made, Source, SupplyIndex
from core.weave.weave import Weave, WeaveError

__all__ = [
    "BALANCED",
    "DISTANCE",
    "LOCAL",
    "PRICE",
    "RANKINGS",
    "RISK",
    "SOONEST",
    "Bought",
    "CatalogEntry",
    "Demand",
    "Made",
    "Plan",
    "PlanCounter",
    "PlanNode",
    "Ranking",
    "Source",
    "SupplyIndex",
    "Weave",
    "WeaveError",
    "orderable_catalog",
]
