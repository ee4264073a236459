"""Notices of taking part (core/service/participants.py): an invite made, a person welcomed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class InviteMade(Notice):
    """To the coordinator: the code to pass on (`code` as shown, grouped for reading)."""

    kind: ClassVar[str] = "invite"
    role: str
    code: str
    expires: datetime


@dataclass(frozen=True)
class Joined(Notice):
    """To whoever joined with an invite: their role and the id they go by."""

    kind: ClassVar[str] = "welcome"
    role: str
    participant_id: str


@dataclass(frozen=True)
class Registered(Notice):
    """To a buyer who registered."""

    kind: ClassVar[str] = "welcome"
    name: str
