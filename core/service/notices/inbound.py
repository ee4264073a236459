"""Notices about a command from chat as such (core/service/inbound.py): refused, carried out
without a word of its own, or given up on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class CommandRefused(Notice):
    """To the sender: their command was refused, and why (`next`: what they can do instead)."""

    kind: ClassVar[str] = "refusal"
    reason: str


@dataclass(frozen=True)
class CarriedOut(Notice):
    """To the sender, when the handler forgot to say how their command ended."""

    kind: ClassVar[str] = "noted"
    command: str  # the command class's name: "Watch"


@dataclass(frozen=True)
class NotCarriedOut(Notice):
    """To the sender: their command kept failing and was given up; nothing of it changed."""

    kind: ClassVar[str] = "failed"
    command: str
    order_id: int | None
    coordinators_told: bool


@dataclass(frozen=True)
class DeadLetter(Notice):
    """To each coordinator: a command was given up (its name and order, never its words)."""

    kind: ClassVar[str] = "dead_letter"
    command: str
    order_id: int | None
    sender: str | None
    tries: int
    error: str
    inbound_id: int
