"""Reweave on request, and the substitutions people propose and the buyer decides."""

from __future__ import annotations

from sqlmodel import select

from core.service import records
from core.service.bus import Context, handles
from core.service.commands import DecideSubstitution, ProposeSubstitution, Reweave
from core.service.orders import plan_of, plans_payload, plans_text, weave_plans
from core.service.replan import decision_buttons, replan
from core.service.results import Refused
from core.store.tables import OrderRow, SubstitutionRow
from core.weave import Demand


@handles(Reweave)
def reweave(command: Reweave, ctx: Context) -> int:
    """Returns how many sub-trees (or, before a plan is chosen, how many plans) were found."""
    order = records.order(ctx.session, command.order_id, lock=True)
    if command.actor != order.buyer_id and not records.is_coordinator(ctx.session, command.actor):
        raise Refused(f"only the buyer of order {order.id} or a coordinator asks for a reweave")
    if order.status in ("completed", "cancelled"):
        raise Refused(f"order {order.id} is {order.status}")
    return reweave_order(ctx, order, "asked for a reweave", command.actor)


def reweave_order(ctx: Context, order: OrderRow, cause: str, actor: str | None = None) -> int:
    contract = records.live_contract(ctx.session, order.id)
    if contract is None:
        demands = [
            Demand(line.item_id, line.quantity) for line in records.lines(ctx.session, order.id)
        ]
        count, offered = weave_plans(ctx, order, demands, ctx.network())
        ctx.record(
            "rewoven", {"cause": cause, "plan_count": str(count), "plans": offered}, order.id, actor
        )
        if offered:
            ctx.tell(
                order.buyer_id,
                "plans",
                f"{cause.capitalize()}. " + plans_text(ctx.network(), order.id, count, offered),
                order.id,
                plans_payload(order.id, offered),
            )
        return len(offered)
    paths = records.gaps(ctx.network(), ctx.session.get(records.PlanRow, contract.plan_id))
    if not paths:
        return 0
    plan = plan_of(ctx, contract)
    if replan(ctx, order, contract, plan, paths, set(), cause) is None:
        return 0
    for row in _proposed(ctx, order.id):
        row.status, row.decided_at = "withdrawn", ctx.now
        ctx.session.add(row)
    return len(paths)


@handles(ProposeSubstitution)
def propose_substitution(command: ProposeSubstitution, ctx: Context) -> int:
    order = records.order(ctx.session, command.order_id, lock=True)
    records.participant(ctx.session, command.actor)
    contract = records.live_contract(ctx.session, order.id)
    if contract is None:
        raise Refused(f"order {order.id} has no plan under way")
    plan = plan_of(ctx, contract)
    party = command.actor in records.parties(plan) or command.actor == order.buyer_id
    if not party and not records.is_coordinator(ctx.session, command.actor):
        raise Refused(f"you are not a party of order {order.id}")
    network = ctx.network()
    item, by = network.find_item(command.item), network.find_item(command.by)
    if item is None or by is None:
        raise Refused(f"unknown item {command.item if item is None else command.by!r}")
    nodes = [path for path, node in plan.positioned() if node.item == item.id]
    if not nodes:
        raise Refused(f"order {order.id} uses no {item.name}")
    row = SubstitutionRow(
        order_id=order.id, item_id=item.id, by_item_id=by.id, node=nodes[0], proposed_at=ctx.now
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.record(
        "substitution_proposed",
        {"substitution": row.id, "item": item.id, "by": by.id, "node": nodes[0]},
        order.id,
        command.actor,
        command.origin,
    )
    ctx.tell(
        order.buyer_id,
        "substitution",
        f"Order {order.id}: {by.name} is proposed instead of {item.name}. "
        f"/approve {order.id} {row.id} or /reject {order.id} {row.id}.",
        order.id,
        {"substitution": row.id, "buttons": decision_buttons(order.id, [row.id])},
    )
    return row.id


def _proposed(ctx: Context, order_id: int) -> list[SubstitutionRow]:
    return list(
        ctx.session.exec(
            select(SubstitutionRow).where(
                SubstitutionRow.order_id == order_id, SubstitutionRow.status == "proposed"
            )
        )
    )


@handles(DecideSubstitution)
def decide_substitution(command: DecideSubstitution, ctx: Context) -> str:
    order = records.order(ctx.session, command.order_id, lock=True)
    if command.actor != order.buyer_id:
        raise Refused(f"only the buyer of order {order.id} decides substitutions")
    row = ctx.session.get(SubstitutionRow, command.substitution_id)
    if row is None or row.order_id != order.id:
        raise Refused(f"order {order.id} has no substitution {command.substitution_id}")
    if row.status != "proposed":
        raise Refused(f"substitution {row.id} was already {row.status}")
    row.status, row.decided_at = ("approved" if command.approve else "rejected"), ctx.now
    ctx.session.add(row)
    ctx.record(
        f"substitution_{row.status}",
        {"substitution": row.id, "item": row.item_id, "by": row.by_item_id},
        order.id,
        command.actor,
        command.origin,
    )
    network = ctx.network()
    if not command.approve:
        ctx.tell(
            order.buyer_id,
            "noted",
            f"Order {order.id}: {network.items[row.by_item_id].name} "
            "will not be used. The order waits for a source to come back.",
            order.id,
        )
        return row.status
    contract = records.live_contract(ctx.session, order.id)
    if contract is None:
        raise Refused(f"order {order.id} has no plan under way")
    plan = plan_of(ctx, contract)
    cause = f"{network.items[row.item_id].name} replaced by {network.items[row.by_item_id].name}"
    if (
        replan(ctx, order, contract, plan, [row.node], set(), cause, {row.node: row.by_item_id})
        is None
    ):
        raise Refused(f"no source of {network.items[row.by_item_id].name} either; nothing changed")
    return row.status
