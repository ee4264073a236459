"""The database schema: current state in tables, and every change in the append-only event log.

The tables hold what handlers need to read quickly; the event log holds what happened, in order,
with who did it and which chat message said so — history is rebuilt from it (H(D, t)).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def now() -> datetime:
    """Naive UTC: both SQLite and PostgreSQL keep it as written.

    Every timestamp column says `sa_type=DateTime` (naive): newer sqlmodel maps a bare
    `datetime` to its UTCDateTime, which rejects naive values on insert."""
    return datetime.now(UTC).replace(tzinfo=None)


class ParticipantRow(SQLModel, table=True):
    __tablename__ = "participant"

    id: str = Field(primary_key=True, max_length=120)
    name: str = Field(max_length=200)
    roles: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    contacts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)


class ChatIdentity(SQLModel, table=True):
    """A chat account (platform + address) that speaks for a participant."""

    __tablename__ = "chat_identity"
    __table_args__ = (UniqueConstraint("platform", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=40)
    address: str = Field(max_length=200)
    participant_id: str = Field(foreign_key="participant.id", index=True)
    # How others recognise the account on its platform (@alice, @alice:example.org): shown
    # beside the name when a message is relayed, since two people may choose one name.
    handle: str | None = Field(default=None, max_length=200)


class Invite(SQLModel, table=True):
    __tablename__ = "invite"

    code: str = Field(primary_key=True, max_length=40)
    role: str = Field(max_length=40)
    participant_id: str | None = Field(default=None, max_length=120)
    created_by: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)
    expires_at: datetime | None = Field(default=None, sa_type=DateTime)
    used_by: str | None = Field(default=None, max_length=120)
    used_at: datetime | None = Field(default=None, sa_type=DateTime)


class JoinAttempt(SQLModel, table=True):
    """A /join with a code that did not work, kept so that guessing is limited per chat account
    across processes and restarts."""

    __tablename__ = "join_attempt"
    __table_args__ = (Index("ix_join_attempt_account", "platform", "address", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=40)
    address: str = Field(max_length=200)
    at: datetime = Field(default_factory=now, sa_type=DateTime)


class NetworkVersion(SQLModel, table=True):
    """One version of the supply network; the newest is the network as it is now."""

    __tablename__ = "network_version"

    version: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)
    actor: str | None = Field(default=None, max_length=120)
    note: str = Field(default="", max_length=500)
    document: dict = Field(sa_column=Column(JSON, nullable=False))


class Disruption(SQLModel, table=True):
    """A resource (facility, offer or participant) out of service until restored."""

    __tablename__ = "disruption"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    resource_id: str = Field(max_length=200, index=True)
    reason: str = Field(max_length=500)
    actor: str | None = Field(default=None, max_length=120)
    at: datetime = Field(default_factory=now, sa_type=DateTime)
    restored_at: datetime | None = Field(default=None, sa_type=DateTime)
    # Set when every live order using the resource has been analysed and re-planned.
    analysed_at: datetime | None = Field(default=None, sa_type=DateTime)


class DisruptionEffect(SQLModel, table=True):
    """One order handled for one disruption: what makes that work happen once."""

    __tablename__ = "disruption_effect"
    __table_args__ = (UniqueConstraint("disruption_id", "order_id"),)

    id: int | None = Field(default=None, primary_key=True)
    disruption_id: int = Field(foreign_key="disruption.id", index=True)
    order_id: int = Field(foreign_key="supply_order.id")
    at: datetime = Field(default_factory=now, sa_type=DateTime)


class InboundMessage(SQLModel, table=True):
    """A command as it arrived from a chat, kept before it is carried out: a worker applies it
    by id, a redelivery finds it done, and the sweeper finds what Redis lost."""

    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("platform", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=40)
    message_id: str = Field(max_length=200)
    command: str = Field(max_length=60)
    arguments: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=now, sa_type=DateTime)
    processed_at: datetime | None = Field(default=None, sa_type=DateTime, index=True)
    outcome: str | None = Field(default=None, max_length=1000)
    # A command that keeps failing is tried a bounded number of times, later each time; then it
    # is a dead letter: processed, with failed_at set, and never tried again.
    attempts: int = 0
    next_try_at: datetime | None = Field(default=None, sa_type=DateTime)
    failed_at: datetime | None = Field(default=None, sa_type=DateTime)


class OrderRow(SQLModel, table=True):
    __tablename__ = "supply_order"

    id: int | None = Field(default=None, primary_key=True)
    buyer_id: str = Field(foreign_key="participant.id", index=True)
    status: str = Field(default="open", max_length=20)  # core/service/lifecycle.OrderStatus
    # Why it is in that state, in words for people: whom or what it waits for.
    reason: str = Field(default="", max_length=500)
    criteria: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Participants who declined this order: its re-plans go without them.
    excluded: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    due: datetime | None = Field(default=None, sa_type=DateTime)
    # A standing order: its lines are quantities per this period (day, week, month), not totals.
    per: str | None = Field(default=None, max_length=20)
    # What it came from when not a plain /order: an accepted match, a use signal, a standing order.
    provenance: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)
    # Bumped by every change to the order's life, under a row lock: concurrent handlers on one
    # order are serialised, so no update is lost.
    revision: int = Field(default=0)


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="supply_order.id", index=True)
    item_id: str = Field(max_length=200)
    quantity: int


class PlanRow(SQLModel, table=True):
    """A fulfilment plan offered for an order, as woven over one network version."""

    __tablename__ = "plan"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="supply_order.id", index=True)
    batch: int = 1  # each (re)weave of the order offers a new batch of ranked plans
    rank: int
    network_version: int
    tree: list = Field(sa_column=Column(JSON, nullable=False))
    equation: str = Field(sa_type=Text)  # a plan over a large network has hundreds of terms
    price: float | None = None
    unknowns: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Shown beside the price: chance of failing, share made near the buyer (service/risk.py).
    outlook: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)


class Contract(SQLModel, table=True):
    """Buyer + dynamic supply chain: potential → agreed → completed (or contested, cancelled)."""

    __tablename__ = "contract"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="supply_order.id", index=True)
    plan_id: int = Field(foreign_key="plan.id")
    status: str = Field(default="potential", max_length=20)
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)
    agreed_at: datetime | None = Field(default=None, sa_type=DateTime)
    ended_at: datetime | None = Field(default=None, sa_type=DateTime)


class Agreement(SQLModel, table=True):
    __tablename__ = "agreement"
    __table_args__ = (UniqueConstraint("contract_id", "participant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    participant_id: str = Field(max_length=120)
    decision: str = Field(max_length=20)  # agreed | declined
    reason: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=now, sa_type=DateTime)


class StageRow(SQLModel, table=True):
    __tablename__ = "stage"
    __table_args__ = (UniqueConstraint("contract_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    code: str = Field(max_length=20)  # the short id a person types: s7
    kind: str = Field(max_length=20)
    item_id: str = Field(max_length=200)
    quantity: int
    owner_id: str | None = Field(default=None, max_length=120)
    node: str = Field(max_length=200)
    source: str = Field(max_length=300)
    depends_on: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)
    updated_at: datetime = Field(default_factory=now, sa_type=DateTime)
    # When the stage must be done for the order to arrive by its due date (or, without one,
    # the earliest it can be done); empty for stages made before due dates were kept.
    due_at: datetime | None = Field(default=None, sa_type=DateTime)
    # Set once when the stage's owner and the buyer are told it is late: never told twice.
    late_told_at: datetime | None = Field(default=None, sa_type=DateTime)


class AssertionRow(SQLModel, table=True):
    """A person's word that a stage is done, failed, or back to pending; never deleted."""

    __tablename__ = "assertion"
    __table_args__ = (UniqueConstraint("platform", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(foreign_key="stage.id", index=True)
    participant_id: str = Field(max_length=120)
    status: str = Field(max_length=20)
    at: datetime = Field(default_factory=now, sa_type=DateTime)
    platform: str = Field(max_length=40)
    message_id: str = Field(max_length=200)
    evidence: str = Field(default="", max_length=2000)
    out_of_order: bool = False


class EvidencePicture(SQLModel, table=True):
    """A photo a person sent to prove a stage: its bytes are kept here so that every platform
    can show it. Kept when it arrives (`assertion_id` empty while the person says which stage it
    proves), bound to the assertion it proves once that is carried out."""

    __tablename__ = "evidence_picture"

    id: int | None = Field(default=None, primary_key=True)
    assertion_id: int | None = Field(default=None, foreign_key="assertion.id", index=True)
    participant_id: str = Field(max_length=120)  # who sent it: only they may prove with it
    content_type: str = Field(max_length=100)
    data: bytes = Field(sa_type=LargeBinary)
    platform: str = Field(max_length=40)
    reference: str = Field(max_length=500)  # the platform's own: a Telegram file id, an mxc URI
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)


class SubstitutionRow(SQLModel, table=True):
    __tablename__ = "substitution"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="supply_order.id", index=True)
    item_id: str = Field(max_length=200)
    by_item_id: str = Field(max_length=200)
    node: str = Field(default="0", max_length=200)  # the plan node it would replace
    status: str = Field(default="proposed", max_length=20)  # proposed | approved | rejected
    proposed_at: datetime = Field(default_factory=now, sa_type=DateTime)
    decided_at: datetime | None = Field(default=None, sa_type=DateTime)


class Quote(SQLModel, table=True):
    __tablename__ = "quote"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="supply_order.id", index=True)
    variable: str = Field(max_length=300)
    value: float
    participant_id: str = Field(max_length=120)
    at: datetime = Field(default_factory=now, sa_type=DateTime)


class Notification(SQLModel, table=True):
    """The outbox: a message to a participant, written with the change that caused it."""

    __tablename__ = "notification"
    # Delivery asks "this person's oldest pending message" on every send.
    __table_args__ = (Index("ix_notification_recipient_queue", "participant_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(max_length=120, index=True)
    order_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=40)
    text: str = Field(max_length=8000)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)
    status: str = Field(default="pending", max_length=20, index=True)  # pending, sent, failed
    attempts: int = 0
    # Set, and committed, before the message goes out: a crash between the send and the commit
    # that marks it sent repeats this one message at most.
    claimed_at: datetime | None = Field(default=None, sa_type=DateTime)
    sent_at: datetime | None = Field(default=None, sa_type=DateTime)
    platform: str | None = Field(default=None, max_length=40)  # where it went, once sent
    # A platform asked to wait (rate limit): nothing more goes to this person before then.
    not_before: datetime | None = Field(default=None, sa_type=DateTime)
    error: str | None = Field(default=None, max_length=1000)


class WatchRow(SQLModel, table=True):
    """Someone who wants to hear when an item or a resource is disrupted or restored."""

    __tablename__ = "watch"
    __table_args__ = (UniqueConstraint("participant_id", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(max_length=120, index=True)
    target: str = Field(max_length=200, index=True)  # an item, facility, offer or participant id
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)


class IntentRow(SQLModel, table=True):
    """An offer, request or proposal cast by a participant (core/intents/model.py)."""

    __tablename__ = "intent"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    participant_id: str = Field(max_length=120, index=True)
    resource_kind: str = Field(max_length=20)  # item | process
    resource_id: str = Field(max_length=200, index=True)
    resource_known: bool = True
    amount: float | None = None
    unit: str | None = Field(default=None, max_length=40)
    per: str | None = Field(default=None, max_length=20)  # a rate: per day, week, month
    starts: date | None = None
    ends: date | None = None
    expires: date | None = None
    place_lat: float | None = None
    place_lon: float | None = None
    place_name: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", max_length=1000)
    status: str = Field(default="open", max_length=20, index=True)
    words: str = Field(default="", max_length=2000)  # as typed, for the record
    # Where it came from: a chat message, an order's dependent demand, a Value Flows import.
    provenance: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)


class IntentMatch(SQLModel, table=True):
    """Offers found for a request or proposal: each covers a need (an item or a process) for a
    share of it. Accepting turns it into commitments (`commitment` says which)."""

    __tablename__ = "intent_match"
    __table_args__ = (UniqueConstraint("request_id", "signature"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="intent.id", index=True)
    signature: str = Field(max_length=500)  # the offers and needs it covers, sorted
    covers: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    covered: float
    distance_km: float | None = None
    score: float = 0.0
    status: str = Field(default="open", max_length=20)  # open, accepted, stale
    accepted_by: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    commitment: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)


class EventRow(SQLModel, table=True):
    """The append-only log: every state change, with its actor, time and source message."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=now, index=True, sa_type=DateTime)
    kind: str = Field(max_length=60)
    actor_id: str | None = Field(default=None, max_length=120)
    order_id: int | None = Field(default=None, index=True)
    platform: str | None = Field(default=None, max_length=40)
    message_id: str | None = Field(default=None, max_length=200)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PlatformState(SQLModel, table=True):
    """What a chat adapter must remember across restarts: a Matrix sync's next_batch, the room
    of an order's negotiation thread, relays already posted. Keys are namespaced by platform."""

    __tablename__ = "platform_state"

    platform: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=300)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_type=DateTime)


class ReservationRow(SQLModel, table=True):
    """What an agreed contract's plan holds of one resource ("offer:ID", "facility:ID:ITEM") in
    one week (core.weave.capacity); live while `released_at` is empty."""

    __tablename__ = "reservation"
    __table_args__ = (Index("ix_reservation_resource_week", "resource", "week"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    plan_id: int = Field(foreign_key="plan.id")
    resource: str = Field(max_length=300)
    week: date
    quantity: float
    created_at: datetime = Field(default_factory=now, sa_type=DateTime)
    released_at: datetime | None = Field(default=None, sa_type=DateTime)
