"""Draining the outbox: a participant's pending messages, oldest first, a batch at a time.

A batch is sent in one transaction holding the recipient's row lock, so two workers never send
one person's messages out of order, and each message is marked sent in the transaction that
sent it: a crash before the commit sends the batch again (at least once, never lost). A
platform's rate limit parks the recipient until the time it names; nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, select

from core.service.bus import Services
from core.store.database import writing
from core.store.tables import ChatIdentity, EventRow, Notification, ParticipantRow
from workers.metrics import message_out
from workers.senders import PREFERENCE, Outgoing, PermanentFailure, RateLimited, Sender

# Small enough that a crash repeats little, large enough that a busy person's queue drains in
# a few transactions instead of one per message.
BATCH = 20


@dataclass
class Drained:
    sent: int = 0
    failed: int = 0
    retry_after: float | None = None  # seconds until this recipient may be tried again
    told: set[str] = field(default_factory=set)  # coordinators told of a failure


def deliver_pending(
    services: Services, senders: dict[str, Sender], participant_id: str, batch: int = BATCH
) -> Drained:
    drained = Drained()
    while True:
        with Session(writing(services.engine)) as session, session.begin():
            taken = _deliver_batch(services, session, senders, participant_id, batch, drained)
        # A message queued after this look gets a delivery of its own from the command that
        # made it, so a short batch means the queue is empty.
        if taken < batch or drained.retry_after is not None:
            return drained


def _deliver_batch(services, session: Session, senders, participant_id, batch, drained) -> int:
    """Sends up to `batch` of the recipient's oldest pending messages; how many it looked at."""
    # The recipient's row is the lock that keeps their messages in order.
    session.exec(
        select(ParticipantRow.id).where(ParticipantRow.id == participant_id).with_for_update()
    ).first()
    messages = session.exec(
        select(Notification)
        .where(Notification.participant_id == participant_id, Notification.status == "pending")
        .order_by(Notification.id)
        .limit(batch)
    ).all()
    if not messages:
        return 0
    now = services.clock()
    route = _route(session, senders, participant_id)
    for message in messages:
        if message.not_before is not None and message.not_before > now:
            drained.retry_after = (message.not_before - now).total_seconds()
            break
        message.attempts += 1
        session.add(message)
        if route is None:
            message_out("none", "failed")
            drained.failed += 1
            drained.told |= _fail(session, message, now, "no chat account this SCIS can reach")
            continue
        sender, address = route
        try:
            sender.send(
                address,
                Outgoing(message.id, message.text, message.kind, message.order_id, message.payload),
            )
        except RateLimited as limit:
            message_out(sender.platform, "rate_limited")
            message.not_before = now + timedelta(seconds=limit.retry_after)
            drained.retry_after = limit.retry_after
            break
        except PermanentFailure as failure:
            message_out(sender.platform, "failed")
            drained.failed += 1
            drained.told |= _fail(session, message, now, str(failure))
            continue
        except Exception:  # tried again by the actor's retry
            message_out(sender.platform, "failed")
            raise
        message_out(sender.platform, "sent")
        message.status, message.sent_at, message.platform = "sent", now, sender.platform
        drained.sent += 1
    return len(messages)


def _route(session: Session, senders: dict[str, Sender], participant_id: str):
    identities = session.exec(
        select(ChatIdentity).where(ChatIdentity.participant_id == participant_id)
    ).all()
    by_platform = {i.platform: i.address for i in identities}
    for platform in PREFERENCE:
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
