"""Negotiation frames: every party of a plan told its part, the others, and the equation."""

from __future__ import annotations

from sqlmodel import select

from core.frames import negotiation_frame
from core.pricing.equation import plan_equation
from core.service import records
from core.service.bus import Context
from core.service.results import buttons
from core.service.risk import outlook_text, plan_outlook, reliability
from core.store.tables import Contract, OrderRow, Quote
from core.weave.plan import Plan


def send_frames(
    ctx: Context,
    order: OrderRow,
    plan: Plan,
    contract: Contract,
    only: set[str] | None = None,
    outcome_for: str | None = None,
) -> None:
    """Each party's frame; the frame of `outcome_for` (the sender of the command) is the
    message that tells them how their command ended."""
    network = ctx.network()
    quotes = quoted(ctx, order.id)
    equation = plan_equation(network, plan, quotes)
    roles = records.parties(plan)
    outlook = outlook_text(
        plan_outlook(network, reliability(ctx.session, network), plan, order.buyer_id)
    )
    for party in [order.buyer_id, *roles]:
        if only is not None and party not in only:
            continue
        text = negotiation_frame(
            network, order.id, order.buyer_id, plan, equation, party, roles, order.due, outlook
        )
        payload = {
            "contract": contract.id,
            "equation": equation.text(),
            "values": dict(equation.values),
        }
        if party != order.buyer_id:  # the buyer agreed by choosing
            payload["buttons"] = buttons(
                ("Agree", f"/agree {order.id}"), ("Decline", f"/decline {order.id}")
            )
        if party == outcome_for:
            ctx.outcome(party, text, order.id, payload, kind="frame")
        else:
            ctx.tell(party, "frame", text, order.id, payload)


def quoted(ctx: Context, order_id: int) -> dict[str, float]:
    rows = ctx.session.exec(select(Quote).where(Quote.order_id == order_id).order_by(Quote.id))
    return {row.variable: row.value for row in rows}
