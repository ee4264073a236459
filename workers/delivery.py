"""Draining the outbox: a participant's pending messages, oldest first, one at a time.

Each message is claimed (claimed_at set and committed, under the recipient's row lock), sent
outside any transaction, and marked sent in a short transaction of its own. A crash anywhere
repeats at most the one message that was claimed and maybe sent; everything before it is
marked sent, everything after it was never touched. While a message's claim is fresh, no other
worker sends to that recipient, so each person's messages leave in order; a claim older than
the claim time (a worker that died with it) is taken over, found again by the sweeper. A
platform's rate limit parks the recipient until the time it names; nothing is dropped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from core.service.bus import Services
from core.store.database import writing
from core.store.tables import ChatIdentity, EventRow, Notification, ParticipantRow
from workers.metrics import message_out
from workers.senders import Outgoing, PermanentFailure, RateLimited, Sender

# Longer than any send may take (the Matrix sender waits up to 90 s): a claim this old belongs
# to a worker that died, and its message is sent again.
CLAIM_SECONDS = 120.0


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


def deliver_pending(
    services: Services,
    senders: dict[str, Sender],
    participant_id: str,
    claim_for: float | None = None,
) -> Drained:
    """Sends the recipient's pending messages until none is left, a rate limit parks them, or
    another worker is sending to them; `claim_for`: seconds after which a claim is stale."""
    stale = timedelta(seconds=claim_seconds() if claim_for is None else claim_for)
    drained = Drained()
    while True:
        with Session(writing(services.engine)) as session, session.begin():
            claimed = _claim(services, session, senders, participant_id, stale, drained)
        if claimed is None:
            return drained
        if claimed is True:  # a message that could go nowhere, recorded as failed
            continue
        if not _send(services, claimed, drained):
            return drained


def _claim(services, session: Session, senders, participant_id, stale: timedelta, drained):
    """The recipient's oldest pending message, claimed; True when it failed without a send;
    None when there is nothing to send now."""
    # The recipient's row is the lock under which one message at a time is claimed.
    session.exec(
        select(ParticipantRow.id).where(ParticipantRow.id == participant_id).with_for_update()
    ).first()
    message = session.exec(
        select(Notification)
        .where(Notification.participant_id == participant_id, Notification.status == "pending")
        .order_by(Notification.id)
        .limit(1)
    ).first()
    if message is None:
        return None
    now = services.clock()
    if message.claimed_at is not None and message.claimed_at > now - stale:
        return None  # another worker is sending it; what follows waits for it, in order
    if message.not_before is not None and message.not_before > now:
        drained.retry_after = (message.not_before - now).total_seconds()
        return None
    message.attempts += 1
    session.add(message)
    route = _route(session, services, senders, participant_id)
    if route is None:
        message_out("none", "failed")
        drained.failed += 1
        drained.told |= _fail(session, message, now, "no chat account this SCIS can reach")
        return True
    message.claimed_at = now
    sender, address = route
    outgoing = Outgoing(message.id, message.text, message.kind, message.order_id, message.payload)
    return Claimed(outgoing, sender, address)


def _send(services: Services, claimed: Claimed, drained: Drained) -> bool:
    """Sends one claimed message and records how it went; whether to go on with the next."""
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
        return False
    except PermanentFailure as failure:
        message_out(sender.platform, "failed")
        drained.failed += 1
        reason = str(failure)

        def fail(session, message, now):
            drained.told |= _fail(session, message, now, reason)

        _settle(services, claimed.outgoing.id, fail)
        return True
    except Exception:  # tried again by the actor's retry, at once: the claim is given back
        message_out(sender.platform, "failed")
        _settle(services, claimed.outgoing.id, _unclaim)
        raise
    message_out(sender.platform, "sent")

    def sent(session, message, now):
        message.status, message.sent_at, message.platform = "sent", now, sender.platform

    _settle(services, claimed.outgoing.id, sent)
    drained.sent += 1
    return True


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


def _route(session: Session, services: Services, senders: dict[str, Sender], participant_id: str):
    identities = session.exec(
        select(ChatIdentity).where(ChatIdentity.participant_id == participant_id)
    ).all()
    by_platform = {i.platform: i.address for i in identities}
    for platform in services.platforms:  # in delivery preference
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
            for p in session.exec(select(ParticipantRow))
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
