"""When a plan can arrive: the critical path through its sources and legs.

ARCHITECTURE.md, Logistics. A node takes its source's time — an offer's lead time, or a design's
make time per batch × its batches at the facility (held stock: none) — then its leg's transit
time, and it starts when the last of its inputs has arrived: arrival(node) = max over its
inputs of their arrival + its own time. Times are whole minutes, rounded up, so sums are exact
in any order (the weave's deadline windows and the literal oracle agree to the minute). A time
nobody gave counts as 0 and is counted in `unknown`: the arrival is then "at the earliest".
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from core.weave.legs import Leg
from core.weave.sources import Bought, Source, is_held

MINUTES_PER_DAY = 24 * 60


def minutes(days: float | None) -> int | None:
    return None if days is None else ceil(days * MINUTES_PER_DAY)


def source_minutes(source: Source, quantity: int) -> int | None:
    """How long the source takes to have `quantity` ready, None when nobody said."""
    if type(source) is Bought:
        if is_held(source):
            return 0
        return minutes(source.offer.lead_time_days)
    per_batch = minutes(source.design.make_days)
    if per_batch is None:
        return None
    return per_batch * -(-quantity // source.design.yield_)


def own_minutes(source: Source, quantity: int, leg: Leg | None) -> tuple[int, int]:
    """(known minutes, unknown parts) of a node's own source and leg."""
    made = source_minutes(source, quantity)
    moved = 0 if leg is None else leg.minutes
    return (made or 0) + (moved or 0), (made is None) + (moved is None)


@dataclass(frozen=True, order=True)
class Arrival:
    """Minutes from the order to delivery along the critical path; `unknown` times counted 0."""

    minutes: int
    unknown: int = 0

    @property
    def days(self) -> float:
        return self.minutes / MINUTES_PER_DAY


def node_arrival(node) -> Arrival:
    """The arrival of a plan node (core.weave.plan.PlanNode) at the place it is used."""
    own, unknown = own_minutes(node.source, node.quantity, node.leg)
    latest = 0
    for child in node.inputs:
        below = node_arrival(child)
        latest = max(latest, below.minutes)
        unknown += below.unknown
    return Arrival(latest + own, unknown)


def plan_arrival(plan) -> Arrival:
    """When the whole order is in: its last line's arrival."""
    arrivals = [node_arrival(line) for line in plan.lines]
    return Arrival(max(a.minutes for a in arrivals), sum(a.unknown for a in arrivals))
