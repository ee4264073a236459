"""An order's states in words."""

from __future__ import annotations

from bots.conversation.next_steps import buttons, command_text
from core.service.commands import CancelOrder, HandStage, ProposeSubstitution, Reweave
from core.service.notices import Next, Rendered, View
from core.service.notices.lifecycle import OrderStuck, StuckForCoordinator


def order_stuck(notice: OrderStuck) -> Rendered:
    text = (
        f"Order {notice.order_id} is stuck: {notice.what}. A coordinator has been told; you "
        "will hear as soon as that changes. "
        f"{command_text(Next(CancelOrder, (notice.order_id,)))} if you no longer need it."
    )
    return Rendered(text, notice.kind)


def stuck_for_coordinator(notice: StuckForCoordinator) -> Rendered:
    order = notice.order_id
    can = [
        command_text(Next(Reweave, (order,))),
        command_text(Next(ProposeSubstitution, (order, "ITEM", "BY"))),
        command_text(Next(HandStage, (order, "STAGE", "PARTICIPANT"))),
    ]
    text = (
        f"Order {order} of {notice.buyer} is stuck: {notice.what}. You can "
        f"{', '.join(can)} or {command_text(Next(CancelOrder, (order,)))}; "
        f"{command_text(Next(View.ORDERS))} lists every stuck order."
    )
    pressed = buttons(("Re-plan", Next(Reweave, (order,))), ("Cancel", Next(CancelOrder, (order,))))
    return Rendered(text, notice.kind, {"buttons": pressed})


RENDERERS = {OrderStuck: order_stuck, StuckForCoordinator: stuck_for_coordinator}
