"""Notices of a stage asserted (core/service/assertions.py): how the assertion ended, who may
start now, the buyer shown the photo that proves a stage, the order complete, a stage late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class StageAsserted(Notice):
    """To whoever asserted it: the stage's new state, and how far the order is."""

    kind: ClassVar[str] = "noted"
    order_id: int
    stage: str
    stage_kind: str
    status: str  # done | failed | reset
    out_of_order: bool
    percent: int  # of the stages done
    complete: bool  # that was the order's last stage
    photo: bool = False  # a photo was kept as its evidence


@dataclass(frozen=True)
class StageUnblocked(Notice):
    """To a stage's owner: everything it waited for is done."""

    kind: ClassVar[str] = "unblocked"
    order_id: int
    stage: str
    stage_kind: str
    quantity: int
    item: str


@dataclass(frozen=True)
class StageProved(Notice):
    """To the buyer: a stage was done and its owner sent a photo of it (`picture`: the kept
    picture's id, which each platform's sender shows as a photo)."""

    kind: ClassVar[str] = "proved"
    order_id: int
    stage: str
    stage_kind: str
    quantity: int
    item: str
    by: str  # the name of who asserted it
    picture: int


@dataclass(frozen=True)
class OrderCompleted(Notice):
    """To every party: the order's last stage is done."""

    kind: ClassVar[str] = "completed"
    order_id: int


@dataclass(frozen=True)
class StageLate(Notice):
    """To a stage's owner and to the buyer (core/service/lateness.py): a pending stage is past
    its due date. `done_by`: the latest it can be done for the order to arrive by its due date,
    and `slack_minutes` how long that is from now — below 0, the order can no longer make its
    due date (both None when the order has none); `arrives`: the earliest the order can arrive
    if it is done now; `unknown`: how many times after it nobody gave (counted as none)."""

    kind: ClassVar[str] = "late"
    order_id: int
    stage: str
    stage_kind: str
    quantity: int
    item: str  # the item's name
    owner: str  # the owner's name ("" when nobody owes it yet)
    due: datetime
    late_minutes: int
    order_due: date | None
    done_by: datetime | None
    slack_minutes: int | None
    arrives: datetime
    unknown: int
    to_owner: bool  # addressed to whoever owes the stage (else to the buyer)
