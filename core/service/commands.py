"""The application's commands: one per use case. `actor` is the participant who asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.network.model import Network
from core.service.results import Origin


@dataclass(frozen=True)
class LoadNetwork:
    actor: str | None
    network: Network
    note: str = ""


@dataclass(frozen=True)
class CreateInvite:
    actor: str
    role: str
    participant_id: str | None = None


@dataclass(frozen=True)
class Join:
    platform: str
    address: str
    code: str
    name: str | None = None


@dataclass(frozen=True)
class Register:
    platform: str
    address: str
    role: str
    name: str


@dataclass(frozen=True)
class PlaceOrder:
    actor: str
    lines: tuple[tuple[str, int], ...]
    criteria: tuple[str, ...] = ()
    due: datetime | None = None
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class ChoosePlan:
    actor: str
    order_id: int
    rank: int
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class Agree:
    actor: str
    order_id: int
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class Decline:
    actor: str
    order_id: int
    reason: str = ""
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class QuotePrice:
    actor: str
    order_id: int
    variable: str
    value: float
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class AssertStage:
    actor: str
    order_id: int
    stage: str
    status: str  # done | failed | reset
    evidence: str = ""
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class Disrupt:
    actor: str
    resource: str  # a facility, offer or participant id
    reason: str
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class Restore:
    actor: str
    resource: str
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class DecideSubstitution:
    actor: str
    order_id: int
    substitution_id: int
    approve: bool
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class Complete:
    actor: str
    order_id: int
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class Reweave:
    """Re-plan what the network can no longer serve (or, before a plan is chosen, weave anew)."""

    actor: str
    order_id: int
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class ProposeSubstitution:
    actor: str
    order_id: int
    item: str
    by: str
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class ReadOrder:
    """Not a change: the record of someone asking to see an order (kept when refused)."""

    actor: str
    order_id: int
    what: str
