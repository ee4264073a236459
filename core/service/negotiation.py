"""Negotiation: every party of a plan gets its frame (its part, the others, and the equation),
and the parties quote the prices the equation leaves open."""

from __future__ import annotations

import math

from sqlmodel import select

from core.frames import negotiation_frame
from core.pricing.equation import plan_equation
from core.service import lifecycle, records
from core.service.agreement import plan_of
from core.service.bus import Context
from core.service.commands import QuotePrice
from core.service.lifecycle import ENDED
from core.service.results import Refused, buttons
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


def quote_price(command: QuotePrice, ctx: Context) -> float:
    order = records.order(ctx.session, command.order_id, lock=True)
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None:
        raise Refused(f"order {order.id} has no plan under way")
    plan = plan_of(ctx, contract)
    equation = plan_equation(ctx.network(), plan, quoted(ctx, order.id))
    variable = equation.variables.get(command.variable)
    if variable is None:
        by_letter = {v: k for k, v in equation.letters.items()}
        variable = equation.variables.get(by_letter.get(command.variable, ""))
    if variable is None:
        raise Refused(
            f"{command.variable!r} is not in the equation of order {order.id}: {equation.text()}"
        )
    if variable.setter != command.actor and not records.is_coordinator(ctx.session, command.actor):
        raise Refused(f"{variable.name} is set by {variable.setter}, not by you")
    if order.status in ENDED:
        raise Refused(f"order {order.id} is {order.status}")
    value = command.value
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise Refused(f"a price is a number ≥ 0, not {value!r}")
    ctx.session.add(
        Quote(
            order_id=order.id,
            variable=variable.name,
            value=float(value),
            participant_id=command.actor,
            at=ctx.now,
        )
    )
    ctx.session.flush()
    ctx.record(
        "quoted",
        {"variable": variable.name, "value": float(value)},
        order.id,
        command.actor,
        command.origin,
    )
    send_frames(ctx, order, plan, contract, outcome_for=command.actor)
    if not ctx.told_outcome(command.actor):
        ctx.outcome(
            command.actor,
            f"Order {order.id}: {variable.name} = {value:,.2f} recorded; every party has the "
            "updated price.",
            order.id,
            kind="noted",
        )
    return float(value)
