"""The application's commands: one per use case. `actor` is the participant who asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.network.model import Network
from core.service.results import Origin

INVITE_DAYS = 7  # an invite code works this many days unless its coordinator's SCIS says


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
    days: int = INVITE_DAYS  # how long the code works (SCIS_INVITE_DAYS reaches it from chat)


@dataclass(frozen=True)
class Join:
    platform: str
    address: str  # the person's own account, never a group chat's
    code: str
    name: str | None = None
    handle: str | None = None  # how others know the account there: @alice, @alice:example.org


@dataclass(frozen=True)
class Register:
    platform: str
    address: str
    role: str
    name: str
    handle: str | None = None


@dataclass(frozen=True)
class PlaceOrder:
    actor: str
    lines: tuple[tuple[str, int], ...]
    criteria: tuple[str, ...] = ()
    due: datetime | None = None
    origin: Origin = field(default_factory=Origin)
    weave_now: bool = True  # False: the order waits for a worker's WeaveOrder
    per: str | None = None  # a standing order: quantities per day, week or month
    provenance: dict = field(default_factory=dict)  # an accepted match, a use signal


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
    picture: int | None = None  # a kept photo that proves it (core.service.evidence), by id


@dataclass(frozen=True)
class Disrupt:
    actor: str
    resource: str  # a facility, offer or participant id
    reason: str
    origin: Origin = field(default_factory=Origin)
    analyse_now: bool = True  # False: workers analyse the affected orders (AnalyseDisruption)


@dataclass(frozen=True)
class AffectedOrders:
    """Which live orders a disruption touches (workers then analyse them in batches)."""

    disruption_id: int


@dataclass(frozen=True)
class AnalyseDisruption:
    """Error analysis and reweave of a batch of orders for one disruption, in one unit of work;
    each order once only (one handled already is skipped)."""

    disruption_id: int
    order_ids: tuple[int, ...]


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
    reason: str = ""  # why the proposer suggests it, for the buyer who decides


@dataclass(frozen=True)
class CancelOrder:
    """The buyer (or a coordinator) calls an order off: its contract ends, every party is
    released and told what to do with what it holds for the order."""

    actor: str
    order_id: int
    reason: str = ""
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class HandStage:
    """A coordinator gives a stage that is not done to another owner."""

    actor: str
    order_id: int
    stage: str
    to: str
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class Say:
    """A message to every other party of an order (the negotiation thread)."""

    actor: str
    order_id: int
    text: str
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class CastIntent:
    """An offer, request or proposal, in the words the person typed (core/intents/grammar.py)."""

    actor: str
    kind: str
    words: str
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class EditIntent:
    actor: str
    intent_id: int
    words: str
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class WithdrawIntent:
    actor: str
    intent_id: int
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class MatchIntent:
    """Find and tell the matches of an intent (a worker's job after it is cast or edited)."""

    intent_id: int


@dataclass(frozen=True)
class AcceptMatch:
    """The requester takes up every offer of the match (the offers join the network and the
    request becomes an order); an offerer commits its own offer (it joins the network)."""

    actor: str
    match_id: int
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True)
class SyncDependentDemand:
    """An order's plan asks the network for the inputs no one has committed to yet: one request
    per bought input whose supplier has not agreed, closed once they do (a worker's job)."""

    order_id: int


@dataclass(frozen=True)
class ImportIntents:
    """Cast the open intents of a Value Flows document, all or none (core/intents/valueflows/);
    `source` says where it came from (a file name). actor None: the command line."""

    actor: str | None
    document: dict
    source: str


@dataclass(frozen=True)
class ExpireIntents:
    """Intents past their expiry date close (the sweeper's tick)."""


@dataclass(frozen=True)
class ReportUse:
    """A point-of-use signal: `quantity` of `item` consumed; like a kanban card, it pulls the
    replenishment of what was used through the person's standing order of that item."""

    actor: str
    item: str
    quantity: int
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


# The work a command leaves for the workers (Result.jobs): each is carried out by one actor.
FollowUp = WeaveOrder | AffectedOrders | MatchIntent | SyncDependentDemand

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
        Reweave,
        ProposeSubstitution,
        CancelOrder,
        HandStage,
        CreateInvite,
        Join,
        Register,
        Watch,
        Say,
        CastIntent,
        EditIntent,
        WithdrawIntent,
        AcceptMatch,
        ReportUse,
    )
}


@dataclass(frozen=True)
class SpeakForEveryone:
    """One place speaks for every participant — the terminal, where one person plays them all
    with `/as`: each gets an identity on `platform`, its id as the address, so that their
    messages are shown there."""

    platform: str
