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
    weave_now: bool = True  # False: the order waits for a worker's WeaveOrder


@dataclass(frozen=True)
class WeaveOrder:
    """Weave an order placed with `weave_now=False`; nothing happens if it is woven already."""

    order_id: int


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
    analyse_now: bool = True  # False: workers analyse each affected order (AnalyseDisruption)


@dataclass(frozen=True)
class AffectedOrders:
    """Which live orders a disruption touches (a worker then analyses each one)."""

    disruption_id: int


@dataclass(frozen=True)
class AnalyseDisruption:
    """Error analysis and reweave of one order for one disruption; once only."""

    disruption_id: int
    order_id: int


@dataclass(frozen=True)
class Watch:
    """Hear about disruptions of an item (of any source of it) or of a resource."""

    actor: str
    target: str
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
class Say:
    """A message to every other party of an order (the negotiation thread)."""

    actor: str
    order_id: int
    text: str
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class ReadOrder:
    """Not a change: the record of someone asking to see an order (kept when refused)."""

    actor: str
    order_id: int
    what: str


@dataclass(frozen=True)
class Receive:
    """Keep a command that arrived from a chat before carrying it out (see ApplyInbound)."""

    platform: str
    message_id: str
    command: str
    arguments: dict


@dataclass(frozen=True)
class ApplyInbound:
    """Carry out a received command, once."""

    inbound_id: int


# The commands a chat message may carry, by name (what Receive stores and ApplyInbound rebuilds).
FROM_CHAT = {
    cls.__name__: cls
    for cls in (
        PlaceOrder,
        ChoosePlan,
        Agree,
        Decline,
        QuotePrice,
        AssertStage,
        Disrupt,
        Restore,
        DecideSubstitution,
        Complete,
        Reweave,
        ProposeSubstitution,
        CreateInvite,
        Join,
        Register,
        Watch,
        Say,
    )
}


@dataclass(frozen=True)
class OpenConsole:
    """The terminal speaks for every participant (one person plays them all with `/as`): each
    gets a console identity, so their messages are shown there."""
