"""Notices of an order's states (core/service/lifecycle.py): an order that is stuck."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class OrderStuck(Notice):
    """To the buyer: their order is stuck, `what` says why; a coordinator knows."""

    kind: ClassVar[str] = "blocked"
    order_id: int
    what: str


@dataclass(frozen=True)
class StuckForCoordinator(Notice):
    """To a coordinator: an order is stuck and they can get it moving (`next`: re-plan,
    cancel)."""

    kind: ClassVar[str] = "stuck"
    order_id: int
    buyer: str  # name
    what: str
