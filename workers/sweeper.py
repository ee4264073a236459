"""What the state says is unfinished: the sweeper's list of work to hand out again. A dead
letter is processed, so never among it; a recipient whose message a dead worker claimed is
(its pending message stays pending), and delivery takes the claim over once it is stale."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, or_, select

from core.service.bus import Services
from core.service.lateness import late_stages_query
from core.store.tables import Disruption, InboundMessage, Notification, OrderRow


@dataclass
class StaleWork:
    orders_to_weave: list[int] = field(default_factory=list)
    inbound: list[int] = field(default_factory=list)
    disruptions: list[int] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    # Stages past their due date whose owner and buyer are not yet told: no age, due is due.
    late_stages: list[int] = field(default_factory=list)


def stale_work(services: Services, older_than_seconds: float) -> StaleWork:
    cutoff = services.clock() - timedelta(seconds=older_than_seconds)
    with Session(services.engine) as session:
        return StaleWork(
            orders_to_weave=list(
                session.exec(
                    select(OrderRow.id)
                    .where(OrderRow.status == "weaving", OrderRow.created_at <= cutoff)
                    .order_by(OrderRow.id)
                )
            ),
            inbound=list(
                session.exec(
                    select(InboundMessage.id)
                    .where(
                        InboundMessage.processed_at.is_(None),
                        InboundMessage.received_at <= cutoff,
                        # A failed command's next try is queued for its time; only when that
                        # is past by the sweep's age was it lost.
                        or_(
                            InboundMessage.next_try_at.is_(None),
                            InboundMessage.next_try_at <= cutoff,
                        ),
                    )
                    .order_by(InboundMessage.id)
                )
            ),
            disruptions=list(
                session.exec(
                    select(Disruption.id)
                    .where(
                        Disruption.analysed_at.is_(None),
                        Disruption.restored_at.is_(None),
                        Disruption.at <= cutoff,
                    )
                    .order_by(Disruption.id)
                )
            ),
            recipients=list(
                session.exec(
                    select(Notification.participant_id)
                    .where(Notification.status == "pending", Notification.created_at <= cutoff)
                    .group_by(Notification.participant_id)
                    .order_by(Notification.participant_id)
                )
            ),
            late_stages=list(session.exec(late_stages_query(services.clock()))),
        )
