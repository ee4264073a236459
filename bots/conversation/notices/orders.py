"""An order's own course in words."""

from __future__ import annotations

from bots.conversation.next_steps import command_text
from core.service.notices import Next, Rendered, View
from core.service.notices.orders import (
    JoinedUnderWay,
    NoLongerNeeded,
    OrderReceived,
    YouDeclined,
)


def order_received(notice: OrderReceived) -> Rendered:
    text = (
        f"Order {notice.order_id} received. Weaving every way the network can deliver it; the "
        "best plans follow in a moment."
    )
    return Rendered(text, notice.kind)


def joined_under_way(notice: JoinedUnderWay) -> Rendered:
    now = f" You can start {', '.join(notice.startable)} now." if notice.startable else ""
    stages = command_text(Next(View.STAGES, (notice.order_id,)))
    text = (
        f"Thanks — noted. Order {notice.order_id} goes on with you.{now} {stages} shows your part."
    )
    return Rendered(text, notice.kind)


def you_declined(notice: YouDeclined) -> Rendered:
    text = (
        f"Noted: you declined order {notice.order_id}. Thank you — nothing more is expected of "
        "you; the buyer is told."
    )
    return Rendered(text, notice.kind)


def no_longer_needed(notice: NoLongerNeeded) -> Rendered:
    text = (
        f"Order {notice.order_id}: the plan changed and no longer needs you for now. Thank you; "
        "nothing more is expected of you."
    )
    return Rendered(text, notice.kind)


RENDERERS = {
    OrderReceived: order_received,
    JoinedUnderWay: joined_under_way,
    YouDeclined: you_declined,
    NoLongerNeeded: no_longer_needed,
}
