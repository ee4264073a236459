"""Notices of an order's own course (core/service/orders.py): received, agreed to, declined."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class OrderReceived(Notice):
    """To the buyer: the order is kept and being planned; the plans follow."""

    kind: ClassVar[str] = "received"
    order_id: int


@dataclass(frozen=True)
class JoinedUnderWay(Notice):
    """To someone a re-plan brought into an order under way, once they agree (`startable`:
    their stages that may start now)."""

    kind: ClassVar[str] = "noted"
    order_id: int
    startable: tuple[str, ...] = ()


@dataclass(frozen=True)
class YouDeclined(Notice):
    kind: ClassVar[str] = "noted"
    order_id: int


@dataclass(frozen=True)
class NoLongerNeeded(Notice):
    """To the other parties when someone declined: the plan changed without them for now."""

    kind: ClassVar[str] = "released"
    order_id: int
