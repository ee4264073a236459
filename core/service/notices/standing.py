"""Notices of a standing order's replenishment (core/service/standing.py): the order a use
signal made, from the standing order's sources, or from others when one no longer stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice
from core.service.notices.plans import PlanLine


@dataclass(frozen=True)
class GoneSource:
    """A source of a standing order's plan that no longer stands. `how`: "bought" (an
    `offer`), "made" (at `place`) or "held" (stock held for the standing order); `why`:
    "used up" (held stock), "declined" (the provider declined the standing order), "gone" (no
    longer in the network), "out of service", or "changed" (the design changed: `detail`)."""

    item: str  # name
    provider: str  # name
    how: str
    why: str
    offer: str | None = None
    place: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class ReplenishedAsBefore(Notice):
    """To the buyer: what was used is ordered again with the standing order's plan, chosen at
    once (`plan` is that plan, recomputed for the quantity)."""

    kind: ClassVar[str] = "plans"
    order_id: int
    standing_id: int
    quantity: int
    item: str  # name
    plan: PlanLine


@dataclass(frozen=True)
class ReplenishedElsewhere(Notice):
    """To the buyer: what was used is ordered again, but from the best plan there is now,
    because `gone` no longer stands."""

    kind: ClassVar[str] = "replenish"
    order_id: int
    standing_id: int
    quantity: int
    item: str  # name
    gone: GoneSource
