"""An order's plans: woven over the network, stored as a new batch, and offered to the buyer in
words (with what the declared capacities allow, for a standing order) and buttons."""

from __future__ import annotations

from sqlmodel import select

from core.frames import how_many, short_equation
from core.intents.model import PERIODS
from core.network.model import Network
from core.pricing.equation import plan_equation
from core.risk.supply import SupplyModel
from core.service import records
from core.service.bus import Context
from core.service.lifecycle import OrderStatus, move
from core.service.matched import matched_network
from core.service.records import network_version
from core.service.results import Refused, buttons
from core.service.risk import outlook_text, plan_outlook, reliability
from core.store.tables import OrderRow, PlanRow
from core.weave import PRICE, Demand, Weave
from core.weave.plan_document import node_document

PLANS_OFFERED = 5
NO_PLAN = "no plan can deliver it with the network as it is"


def weave_plans(ctx: Context, order: OrderRow, demands: list[Demand], network: Network):
    """Weave the order over `network` and store the best plans as a new batch."""
    network = network.without(participants=order.excluded)
    network = matched_network(ctx.session, network, order)  # an accepted match's offers are used
    buyer = network.participants.get(order.buyer_id)
    weave = Weave(network, demands, order.criteria, PRICE, buyer.location if buyer else None)
    count = weave.count()
    batch = 1 + max((p.batch for p in records.plans(ctx.session, order.id)), default=0)
    version = network_version(ctx.session)
    learned = reliability(ctx.session, network)
    offered = []
    for plan in weave.best(PLANS_OFFERED):
        equation = plan_equation(network, plan)
        outlook = plan_outlook(network, learned, plan, order.buyer_id)
        ctx.session.add(
            PlanRow(
                order_id=order.id,
                batch=batch,
                rank=plan.rank,
                network_version=version,
                tree=[node_document(line) for line in plan.lines],
                equation=equation.text(),
                price=equation.price,
                unknowns=equation.unknowns,
                outlook=outlook,
                created_at=ctx.now,
            )
        )
        offered.append(
            {
                "rank": plan.rank,
                "equation": equation.text(),
                "price": equation.price,
                "outlook": outlook,
                "tree": [node_document(line) for line in plan.lines],
            }
        )
    if offered:
        move(ctx, order, OrderStatus.OPEN, "waiting for the buyer to choose a plan")
    else:
        # The caller tells the buyer with the plans; the coordinators hear it from `move`.
        move(ctx, order, OrderStatus.UNPLANNABLE, NO_PLAN, tell_buyer=False)
    return count, offered


def rate_note(network: Network, item_id: str, quantity: int, per: str) -> str:
    """What the declared capacities allow in a period, against the rate asked."""
    days = PERIODS[per]
    can = SupplyModel(network).units(item_id) * days
    name = network.items[item_id].name
    if can >= quantity:
        return f"Declared capacities make up to {can:,.0f} {name} a {per}: enough."
    return (
        f"Declared capacities make only {can:,.0f} {name} a {per} of the {quantity:,} asked: "
        "more makers or suppliers are needed (/request tells the network)."
    )


def standing_note(network: Network, order: OrderRow, demands: list[Demand]) -> str:
    """For a standing order: per period, and what capacities allow; else nothing."""
    if order.per is None:
        return ""
    notes = [rate_note(network, d.item, d.quantity, order.per) for d in demands]
    return f"Prices are per {order.per}. " + " ".join(notes)


def plans_text(
    network: Network, order_id: int, count: int, offered: list[dict], note: str = ""
) -> str:
    if not offered:
        return (
            f"Order {order_id}: no plan can deliver it with the network as it is. "
            f"A coordinator has been told and can re-plan it; /cancel {order_id} if you no "
            "longer need it."
        )
    lines = [f"Order {order_id}: {how_many(count)} ways to deliver it. The best:"]
    for plan in offered:
        price = "price not known yet" if plan["price"] is None else f"{plan['price']:,.2f}"
        outlook = outlook_text(plan.get("outlook"))
        equation = short_equation(plan["equation"]) + (f" · {outlook}" if outlook else "")
        lines.append(f"  {plan['rank']}. {price} — {equation}")
    if note:
        lines.append(note)
    lines.append(f"/choose {order_id} N picks one; every party then gets its frame.")
    return "\n".join(lines)


def plans_payload(order_id: int, offered: list[dict]) -> dict:
    """The offered plans, with a button to choose each."""
    choices = buttons(
        *((f"Choose {p['rank']}", f"/choose {order_id} {p['rank']}") for p in offered)
    )
    return {"plans": offered, "buttons": choices}


def offered_plan(ctx: Context, order_id: int, rank: int) -> PlanRow:
    row = ctx.session.exec(
        select(PlanRow)
        .where(PlanRow.order_id == order_id, PlanRow.rank == rank)
        .order_by(PlanRow.batch.desc())
    ).first()
    newest = max((p.batch for p in records.plans(ctx.session, order_id)), default=0)
    if row is None or row.batch != newest:
        raise Refused(f"order {order_id} has no plan {rank}; /plans {order_id} lists them")
    return row
