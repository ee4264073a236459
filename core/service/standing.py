"""Standing orders and use signals: the paper's indefinite dynamic supply chains.

A standing order (`/order masks 200/week`) is planned and priced per period, and checked
against what the network's declared capacities can make in a period (S_p of core/risk/supply.py,
capacities read per day). A use signal (`/used masks 50`) is a kanban card: it orders again what
was used, through the person's standing order of that item, with the same best plan chosen so
that the frames — and the dependent requests for inputs nobody has committed to — travel
upstream at once.
"""

from __future__ import annotations

from sqlmodel import select

from core.service import records
from core.service.bus import Context, handles
from core.service.commands import ChoosePlan, PlaceOrder, ReportUse
from core.service.orders import MAX_QUANTITY, choose_plan, place_order
from core.service.results import Refused
from core.store.tables import OrderLine, OrderRow


@handles(ReportUse)
def report_use(command: ReportUse, ctx: Context) -> int:
    """Returns the replenishment order."""
    network = ctx.network()
    item = network.find_item(command.item)
    if item is None:
        raise Refused(f"unknown item {command.item!r}; /catalog lists them")
    quantity = command.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity:
        raise Refused(f"quantity must be a positive whole number, not {quantity!r}")
    if quantity > MAX_QUANTITY:
        raise Refused(f"quantity must be at most {MAX_QUANTITY:,}")
    standing = _standing_order(ctx, command.actor, item.id)
    if standing is None:
        raise Refused(
            f"you have no standing order of {item.name}; /order {item.id} N/week sets one up"
        )
    ctx.record(
        "used",
        {"item": item.id, "quantity": quantity},
        standing.id,
        command.actor,
        command.origin,
    )
    order_id = place_order(
        PlaceOrder(
            command.actor,
            ((item.id, quantity),),
            criteria=tuple(standing.criteria),
            origin=command.origin,
            provenance={"used": quantity, "standing": standing.id},
        ),
        ctx,
    )
    if records.order(ctx.session, order_id).status == "open":
        choose_plan(ChoosePlan(command.actor, order_id, 1), ctx)
    return order_id


def _standing_order(ctx: Context, buyer: str, item_id: str) -> OrderRow | None:
    """The buyer's newest standing order with a line of the item, not cancelled."""
    rows = ctx.session.exec(
        select(OrderRow)
        .where(OrderRow.buyer_id == buyer, OrderRow.per.is_not(None))
        .where(OrderRow.status != "cancelled")
        .order_by(OrderRow.id.desc())
    )
    for row in rows:
        lines = ctx.session.exec(select(OrderLine).where(OrderLine.order_id == row.id))
        if any(line.item_id == item_id for line in lines):
            return row
    return None
