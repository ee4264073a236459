"""Notices of a coordinator's or buyer's interventions (core/service/coordination.py): an order
cancelled, a stage handed to another owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice

Holdings = tuple[tuple[str, tuple[str, ...]], ...]  # (holder's name, ("2 × Seat", …))


@dataclass(frozen=True)
class Cancelled(Notice):
    """To a party of a cancelled order. `said`: "cancelled by Ana: reason"; `held`: what each
    holder (not the buyer) keeps for it; `yours`: what the reader keeps."""

    kind: ClassVar[str] = "cancelled"
    order_id: int
    said: str
    to_buyer: bool
    held: Holdings = ()
    yours: tuple[str, ...] = ()


@dataclass(frozen=True)
class StuckCancelled(Notice):
    """To a coordinator who was asked to act on a stuck order: it is cancelled."""

    kind: ClassVar[str] = "cancelled"
    order_id: int
    said: str


@dataclass(frozen=True)
class CancelDone(Notice):
    """To whoever cancelled: who is told, and who keeps what."""

    kind: ClassVar[str] = "outcome"
    order_id: int
    released: int  # parties told and released, besides the buyer
    buyer_told: bool
    by_buyer: bool
    held: Holdings = ()


@dataclass(frozen=True)
class StageWork:
    """A stage as its owner reads it: "s7 make of 2 × Seat"."""

    stage: str
    kind: str
    quantity: int
    item: str  # name


@dataclass(frozen=True)
class HandedYou(Notice):
    """To the stage's new owner. `state`: "failed" (it failed with its last owner), "ready"
    (it can start), "waiting"; `agreed`: they agreed to the order already."""

    kind: ClassVar[str] = "handed"
    order_id: int
    coordinator: str  # name
    work: StageWork
    agreed: bool
    state: str


@dataclass(frozen=True)
class HandedAway(Notice):
    """To the stage's previous owner: released from it."""

    kind: ClassVar[str] = "released"
    order_id: int
    coordinator: str
    work: StageWork
    to: str  # name


@dataclass(frozen=True)
class Handed(Notice):
    """To the coordinator who handed the stage."""

    kind: ClassVar[str] = "outcome"
    order_id: int
    work: StageWork
    to: str
    was: str | None  # previous owner's name
    asked_to_agree: bool
