"""Draining the outbox: a participant's pending messages, oldest first, one at a time.

The recipient's pending messages are read once (again only when those run out) and the chat
account they go to once per drain. Each message is claimed (claimed_at set and committed)
before it is sent outside any transaction; the short transaction that marks it sent claims the
next one, or finds that nothing more waits. The first claim is made under the recipient's row
lock, and every claim only of a message no other worker holds. A crash anywhere repeats at most
the one message that was claimed and maybe sent; everything before it is marked sent,
everything after it was never touched. While a message's claim is fresh, no other worker sends
to that recipient, so each person's messages leave in order; a claim older than the claim time
(a worker that died with it) is taken over, found again by the sweeper. A platform's rate limit
parks the recipient until the time it names; nothing is dropped.

A worker that carries out a chat command sends its answers itself, at once (`FirstClaims`): the
first claim of each recipient is then made in the command's own transaction, committed with the
messages, and the drain goes on from there as any other.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, true, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from core.service.bus import Services
from core.store.database import writing
from core.store.tables import ChatIdentity, EventRow, Notification, ParticipantRow
from workers.metrics import message_out
from workers.senders import Outgoing, PermanentFailure, RateLimited, Sender

# Longer than any send may take (the Matrix sender waits up to 90 s): a claim this old belongs
# to a worker that died, and its message is sent again.
CLAIM_SECONDS = 120.0
BATCH = 100  # pending messages of one recipient read at once

# The hot path goes through SQLAlchemy Core, not the ORM, with statements built once (building
# one costs more CPU than running it).
OUTBOX = Notification.__table__
_ACCOUNT = ChatIdentity.__table__
_PEOPLE = ParticipantRow.__table__
_PENDING = (
    select(
        OUTBOX.c.id,
        OUTBOX.c.text,
        OUTBOX.c.kind,
        OUTBOX.c.order_id,
        OUTBOX.c.payload,
        OUTBOX.c.claimed_at,
        OUTBOX.c.not_before,
    )
    .where(OUTBOX.c.participant_id == bindparam("recipient"), OUTBOX.c.status == "pending")
    .order_by(OUTBOX.c.id)
    .limit(BATCH)
)
# A drain's first statement: the recipient locked, with their chat accounts and their pending
# messages (as _PENDING reads them) read under the lock: a row per account and message (an
# empty side is NULLs; a recipient without a participant row gives no row at all). The lock is
# FOR NO KEY UPDATE: drains exclude each other as with FOR UPDATE, but a transaction that only
# refers to the person (a new order of theirs, whose foreign key takes FOR KEY SHARE) neither
# waits for a drain nor makes one wait.
_WAITING = _PENDING.subquery("waiting")
_READ_UNDER_LOCK = (
    select(_ACCOUNT.c.platform, _ACCOUNT.c.address, *_WAITING.c)
    .select_from(
        _PEOPLE.outerjoin(_ACCOUNT, _ACCOUNT.c.participant_id == _PEOPLE.c.id).outerjoin(
            _WAITING, true()
        )
    )
    .where(_PEOPLE.c.id == bindparam("recipient"))
    .order_by(_WAITING.c.id)
)
_LOCK_RECIPIENT_AND_READ = _READ_UNDER_LOCK.with_for_update(of=_PEOPLE, key_share=True)
# The same in a command's own transaction (FirstClaims), which holds its order's and other
# rows' locks already: a recipient another transaction holds is skipped (no row), never waited
# for, so that no two commands can wait for each other; their drain starts after the commit.
_LOCK_FREE_RECIPIENT_AND_READ = _READ_UNDER_LOCK.with_for_update(
    of=_PEOPLE, key_share=True, skip_locked=True
)
_CLAIM = (
    update(OUTBOX)
    .where(
        OUTBOX.c.id == bindparam("message"),
        OUTBOX.c.status == "pending",
        # Not a message another worker claimed since it was read.
        or_(OUTBOX.c.claimed_at.is_(None), OUTBOX.c.claimed_at <= bindparam("stale_before")),
    )
    .values(attempts=OUTBOX.c.attempts + 1, claimed_at=bindparam("now"))
)
_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("message"))
    .values(status="sent", sent_at=bindparam("now"), platform=bindparam("sent_on"))
)


def claim_seconds(environ=os.environ) -> float:
    return float(environ.get("SCIS_DELIVERY_CLAIM_SECONDS") or CLAIM_SECONDS)


@dataclass
class Drained:
    sent: int = 0
    failed: int = 0
    retry_after: float | None = None  # seconds until this recipient may be tried again
    told: set[str] = field(default_factory=set)  # coordinators told of a failure


@dataclass(frozen=True)
class Claimed:
    outgoing: Outgoing
    sender: Sender
    address: str


NOWHERE = "no chat account this SCIS can reach"
LATER = "not claimed in the command's transaction"  # FirstClaims: the drain claims it after
# How a send went: for the caller to record (SENT), or recorded already.
SENT, FAILED, PARKED = "sent", "failed", "parked"


class _Drain:
    """One recipient's drain: their pending messages as read, and where they go."""

    def __init__(
        self,
        services: Services,
        senders: dict[str, Sender],
        participant_id: str,
        stale: timedelta,
        drained: Drained,
    ):
        self.services, self.senders, self.participant_id = services, senders, participant_id
        self.stale, self.drained = stale, drained
        self.pending: deque[Row] = deque()
        self.route: tuple[Sender, str] | None = None

    def first(self) -> Claimed | str | None:
        """The oldest pending message, claimed under the recipient's lock; NOWHERE when it can
        go nowhere; None when there is nothing to send now."""
        with writing(self.services.engine).begin() as connection:
            return self.first_in(connection)

    def first_in(self, connection: Connection) -> Claimed | str | None:
        """`first`, in the transaction of `connection` (committed by its owner)."""
        read = connection.execute(_LOCK_RECIPIENT_AND_READ, {"recipient": self.participant_id})
        return self._first_of(connection, read.all())

    def first_if_free(self, connection: Connection) -> Claimed | str:
        """`first_in`, in a command's transaction before it commits: LATER when another
        transaction holds the recipient (or there is no such participant), or when no message
        can be claimed now. The recipient's drain then decides after the commit, as a drain
        that starts after it would: one that steps aside for another worker's send now could
        miss its re-read of the outbox, made before this commit, and leave the new messages
        waiting for the sweeper."""
        read = connection.execute(_LOCK_FREE_RECIPIENT_AND_READ, {"recipient": self.participant_id})
        rows = read.all()
        claimed = self._first_of(connection, rows) if rows else None
        return LATER if claimed is None else claimed

    def _first_of(self, connection: Connection, rows: list[Row]) -> Claimed | str | None:
        self.route = _route(rows, self.services.platforms, self.senders)
        if rows:
            waiting = {r.id: r for r in rows if r.id is not None}  # once per account
            self.pending = deque(waiting.values())
        else:  # messages to someone who is no participant: they can go nowhere
            self.pending = deque(self._read(connection))
        return self._claim(connection)

    def sent_then_next(self, claimed: Claimed) -> Claimed | str | None:
        """`claimed` marked sent, and the next message claimed, in one transaction. A
        connection lost just now (a restarted or failed-over database) is tried once more on a
        new one: the message is out, and only this commit stands between it and a duplicate."""
        for attempt in (1, 2):
            try:
                with writing(self.services.engine).begin() as connection:
                    sent = {
                        "message": claimed.outgoing.id,
                        "now": self.services.clock(),
                        "sent_on": claimed.sender.platform,
                    }
                    connection.execute(_SENT, sent)
                    if self.pending and self.pending[0].id == claimed.outgoing.id:
                        self.pending.popleft()
                    if not self.pending:  # what came meanwhile
                        self.pending = deque(self._read(connection))
                    return self._claim(connection)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def _read(self, connection: Connection) -> list[Row]:
        return list(connection.execute(_PENDING, {"recipient": self.participant_id}))

    def _claim(self, connection: Connection) -> Claimed | str | None:
        if not self.pending:
            return None
        message, now = self.pending[0], self.services.clock()
        if message.claimed_at is not None and message.claimed_at > now - self.stale:
            return None  # another worker is sending it; what follows waits for it, in order
        if message.not_before is not None and message.not_before > now:
            self.drained.retry_after = (message.not_before - now).total_seconds()
            return None
        if self.route is None:
            return NOWHERE
        claim = {"message": message.id, "now": now, "stale_before": now - self.stale}
        taken = connection.execute(_CLAIM, claim).rowcount
        if not taken:
            return None
        sender, address = self.route
        outgoing = Outgoing(
            message.id, message.text, message.kind, message.order_id, message.payload
        )
        return Claimed(outgoing, sender, address)


def deliver_pending(
    services: Services,
    senders: dict[str, Sender],
    participant_id: str,
    claim_for: float | None = None,
) -> Drained:
    """Sends the recipient's pending messages until none is left, a rate limit parks them, or
    another worker is sending to them; `claim_for`: seconds after which a claim is stale."""
    stale = timedelta(seconds=claim_seconds() if claim_for is None else claim_for)
    drain = _Drain(services, senders, participant_id, stale, Drained())
    return _drain_from(services, drain, drain.first())


class FirstClaims:
    """For a worker that delivers a command's messages itself, right after its commit: the
    first message of each of its recipients, claimed in the command's own transaction
    (`Services.handle(command, before_commit=claims)`), so that the drain that follows starts
    with a send instead of a transaction of its own. The same claims as `deliver_pending`'s
    first transaction makes, under the same recipient locks, committed with the messages: a
    crash after the commit leaves each recipient one claimed message, sent again once the claim
    is stale (the sweeper finds it), as a crash after that first transaction does. A recipient
    whose lock another transaction holds is not waited for (the command holds its own locks
    meanwhile: two commands could wait for each other), and one whose first message cannot be
    claimed now (another worker is sending to them, a rate limit parked them) is not decided
    for before the commit: their drain starts after it, as a `deliver` job would."""

    def __init__(
        self, services: Services, senders: dict[str, Sender], claim_for: float | None = None
    ):
        self.services, self.senders = services, senders
        self.stale = timedelta(seconds=claim_seconds() if claim_for is None else claim_for)
        self.claims: dict[str, tuple[_Drain, Claimed | str]] = {}

    def __call__(self, session: Session, result) -> None:
        """Claims, in the transaction of `session`, the first message of each recipient of
        `result` (its messages written already)."""
        self.claims = {}  # a command run again (a lost connection) claims afresh
        recipients = list(dict.fromkeys(m.participant_id for m in result.messages))
        connection = session.connection()
        for participant in recipients:
            drain = _Drain(self.services, self.senders, participant, self.stale, Drained())
            self.claims[participant] = (drain, drain.first_if_free(connection))

    def recipients(self) -> list[str]:
        """Whom the command told, in the order it told them."""
        return list(self.claims)

    def deliver(self, participant_id: str) -> Drained:
        """After the commit: the recipient's drain, from the message claimed for them."""
        drain, claimed = self.claims.pop(participant_id)
        if claimed == LATER:
            drain.drained.retry_after = None  # what the drain finds now says
            claimed = drain.first()
        return _drain_from(self.services, drain, claimed)


def _drain_from(services: Services, drain: _Drain, claimed: Claimed | str | None) -> Drained:
    """Sends `claimed` and what follows it, as `deliver_pending` does from its first claim."""
    drained = drain.drained
    while claimed is not None:
        if claimed == NOWHERE:
            _settle(services, drain.pending.popleft().id, _nowhere(drained))
            claimed = drain.first()
            continue
        went = _send(services, claimed, drained)
        if went == SENT:
            claimed = drain.sent_then_next(claimed)
        elif went == FAILED:
            claimed = drain.first()
        else:
            return drained
    return drained


def _send(services: Services, claimed: Claimed, drained: Drained) -> str:
    """Sends one claimed message: SENT (for the caller to record), FAILED for good (recorded),
    or PARKED by a rate limit (recorded)."""
    sender = claimed.sender
    try:
        sender.send(claimed.address, claimed.outgoing)
    except RateLimited as limit:
        message_out(sender.platform, "rate_limited")
        wait = limit.retry_after

        def park(session, message, now):
            message.claimed_at = None
            message.not_before = now + timedelta(seconds=wait)

        _settle(services, claimed.outgoing.id, park)
        drained.retry_after = wait
        return PARKED
    except PermanentFailure as failure:
        message_out(sender.platform, "failed")
        drained.failed += 1
        reason = str(failure)

        def fail(session, message, now):
            drained.told |= _fail(session, message, now, reason)

        _settle(services, claimed.outgoing.id, fail)
        return FAILED
    except Exception:  # tried again by the actor's retry, at once: the claim is given back
        message_out(sender.platform, "failed")
        _settle(services, claimed.outgoing.id, _unclaim)
        raise
    message_out(sender.platform, "sent")
    drained.sent += 1
    return SENT


def _nowhere(drained: Drained) -> Callable[[Session, Notification, datetime], None]:
    """A message that can go nowhere: recorded as failed, the coordinators told."""

    def fail(session, message, now):
        message.attempts += 1
        message_out("none", "failed")
        drained.failed += 1
        drained.told |= _fail(session, message, now, NOWHERE)

    return fail


def _unclaim(session: Session, message: Notification, now: datetime) -> None:
    message.claimed_at = None


def _settle(
    services: Services,
    notification_id: int,
    change: Callable[[Session, Notification, datetime], None],
) -> None:
    """Records what became of a sent message, in a transaction of its own. A connection lost
    just now (a restarted or failed-over database) is tried once more on a new one: the
    message is out, and only this commit stands between it and a duplicate."""
    for attempt in (1, 2):
        try:
            with Session(writing(services.engine)) as session, session.begin():
                message = session.get(Notification, notification_id)
                change(session, message, services.clock())
                session.add(message)
            return
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise


def _route(
    accounts: list[Row], platforms: tuple[str, ...], senders: dict[str, Sender]
) -> tuple[Sender, str] | None:
    """The sender and address of the recipient's messages (`accounts`: their chat accounts'
    platform and address): the first platform, in delivery preference, they have an account
    on and a sender exists for; None when there is none."""
    by_platform = {a.platform: a.address for a in accounts if a.platform is not None}
    for platform in platforms:  # in delivery preference
        if platform in by_platform and platform in senders:
            return senders[platform], by_platform[platform]
    return None


def _fail(session: Session, message: Notification, now, reason: str) -> set[str]:
    """Recorded, and told to the coordinators (who they are is returned); the next message is
    tried."""
    message.status, message.error = "failed", reason[:1000]
    coordinators: list[str] = []
    if message.kind != "delivery_failed":  # a coordinator's own failure is only recorded
        coordinators = [
            p.id
            for p in session.scalars(select(ParticipantRow))
            if "coordinator" in p.roles and p.id != message.participant_id
        ]
        for coordinator in coordinators:
            session.add(
                Notification(
                    participant_id=coordinator,
                    order_id=message.order_id,
                    kind="delivery_failed",
                    text=f"A message to {message.participant_id} could not be delivered "
                    f"({reason}). They may need another way to be reached.",
                    created_at=now,
                )
            )
    session.add(
        EventRow(
            at=now,
            kind="delivery_failed",
            actor_id=None,
            order_id=message.order_id,
            data={
                "notification": message.id,
                "participant": message.participant_id,
                "reason": reason,
            },
        )
    )
    return set(coordinators)
