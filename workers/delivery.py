"""Draining the outbox: a participant's pending messages, oldest first, one at a time.

Each message is sent in its own transaction holding the recipient's row lock, so two workers
never send one person's messages out of order, and a message is marked sent in the same
transaction that sent it (a crash between the two sends it again: at least once). A platform's
rate limit parks the recipient until the time it names; nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, select

from core.service.bus import Services
from core.store.database import writing
from core.store.tables import ChatIdentity, EventRow, Notification, ParticipantRow
from workers.senders import PREFERENCE, Outgoing, PermanentFailure, RateLimited, Sender


@dataclass
class Drained:
    sent: int = 0
    failed: int = 0
    retry_after: float | None = None  # seconds until this recipient may be tried again
    told: set[str] = field(default_factory=set)  # coordinators told of a failure


def deliver_pending(services: Services, senders: dict[str, Sender], participant_id: str) -> Drained:
    drained = Drained()
    while True:
        with Session(writing(services.engine)) as session, session.begin():
            step = _deliver_one(services, session, senders, participant_id)
        if step is None:
            return drained
        outcome, value = step
        if outcome == "sent":
            drained.sent += 1
            if not value:  # nothing else was waiting: spare the round that would find nothing
                return drained
        elif outcome == "failed":
            drained.failed += 1
            drained.told |= set(value)
        else:
            drained.retry_after = value
            return drained


def _deliver_one(services, session: Session, senders, participant_id: str):
    # The recipient's row is the lock that keeps their messages in order.
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
    if message.not_before is not None and message.not_before > now:
        return "wait", (message.not_before - now).total_seconds()
    route = _route(session, senders, participant_id)
    message.attempts += 1
    if route is None:
        return _fail(session, message, now, "no chat account this SCIS can reach")
    sender, address = route
    try:
        sender.send(
            address,
            Outgoing(message.id, message.text, message.kind, message.order_id, message.payload),
        )
    except RateLimited as limit:
        message.not_before = now + timedelta(seconds=limit.retry_after)
        session.add(message)
        return "wait", limit.retry_after
    except PermanentFailure as failure:
        return _fail(session, message, now, str(failure))
    message.status, message.sent_at, message.platform = "sent", now, sender.platform
    session.add(message)
    # A message queued after this look gets a delivery of its own from the command that made it.
    more = session.exec(
        select(Notification.id)
        .where(
            Notification.participant_id == participant_id,
            Notification.status == "pending",
            Notification.id != message.id,
        )
        .limit(1)
    ).first()
    return "sent", more is not None


def _route(session: Session, senders: dict[str, Sender], participant_id: str):
    identities = session.exec(
        select(ChatIdentity).where(ChatIdentity.participant_id == participant_id)
    ).all()
    by_platform = {i.platform: i.address for i in identities}
    for platform in PREFERENCE:
        if platform in by_platform and platform in senders:
            return senders[platform], by_platform[platform]
    return None


def _fail(session: Session, message: Notification, now, reason: str):
    """Recorded, and told to the coordinators; the next message is tried."""
    message.status, message.error = "failed", reason[:1000]
    session.add(message)
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
    return "failed", coordinators
