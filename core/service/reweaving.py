"""Reweave on request, and the substitutions people propose and the buyer decides."""

from __future__ import annotations

from core.service import lifecycle, records
from core.service.agreement import plan_of
from core.service.bus import Context, bounded
from core.service.commands import DecideSubstitution, ProposeSubstitution, Reweave
from core.service.lifecycle import ENDED, OrderStatus
from core.service.replan import decision_buttons, replan
from core.service.results import Refused
from core.service.weaving import plans_payload, plans_text, weave_plans
from core.stages.progress import affected_nodes, root_causes
from core.store.tables import OrderRow, SubstitutionRow
from core.weave import Demand
from core.weave.plan import outermost


def reweave(command: Reweave, ctx: Context) -> int:
    """Returns how many sub-trees (or, before a plan is chosen, how many plans) were found."""
    order = records.order(ctx.session, command.order_id, lock=True)
    if command.actor != order.buyer_id and not records.is_coordinator(ctx.session, command.actor):
        raise Refused(f"only the buyer of order {order.id} or a coordinator asks for a reweave")
    if order.status in ENDED:
        raise Refused(f"order {order.id} is {order.status}")
    if order.status == OrderStatus.WEAVING:
        raise Refused(f"order {order.id} is being planned right now; its plans follow shortly")
    name = ctx.network().participants.get(command.actor)
    cause = f"{name.name if name else command.actor} asked to re-plan"
    found = reweave_order(ctx, order, cause, command.actor)
    if not ctx.told_outcome(command.actor):
        ctx.outcome(command.actor, _reweave_outcome(order, found), order.id, kind="noted")
    return found


def _reweave_outcome(order: OrderRow, found: int) -> str:
    if order.status == OrderStatus.OPEN:
        return f"Order {order.id}: new plans are ready; /plans {order.id} shows them."
    if order.status in (OrderStatus.UNPLANNABLE, OrderStatus.BLOCKED):
        return (
            f"Order {order.id}: still no way to deliver it ({order.reason}). It waits; "
            f"/reweave {order.id} again when a source is back or the network is updated."
        )
    if found:
        return f"Order {order.id}: re-planned — {order.reason}. /stages {order.id} shows it."
    return f"Order {order.id}: nothing is missing from its plan; it goes on as planned."


def reweave_order(ctx: Context, order: OrderRow, cause: str, actor: str | None = None) -> int:
    """Weave again what the order lacks: all of it before a plan is chosen, else the parts of
    its plan the network no longer serves or whose stages failed. Returns how many plans or
    re-planned parts were found (0: nothing missing, or still no way)."""
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None:
        demands = [
            Demand(line.item_id, line.quantity) for line in records.lines(ctx.session, order.id)
        ]
        count, offered = weave_plans(ctx, order, demands, ctx.network())
        ctx.record(
            "rewoven", {"cause": cause, "plan_count": str(count), "plans": offered}, order.id, actor
        )
        text = f"{cause}. " + plans_text(ctx.network(), order.id, count, offered)
        payload = plans_payload(order.id, offered)
        ctx.tell(order.buyer_id, "plans", text, order.id, payload, outcome=actor == order.buyer_id)
        return len(offered)
    graph = records.stage_graph(ctx.session, contract.id)
    delivered = records.delivered_paths(graph)
    row = ctx.session.get(records.PlanRow, contract.plan_id)
    causes = root_causes(graph)
    paths = outermost(
        [
            *records.gaps(ctx.network(), row, delivered),
            *affected_nodes(graph, [c.id for c in causes]),
        ]
    )
    ctx.record("reweave", {"cause": cause, "nodes": paths}, order.id, actor)
    if not paths:
        return 0
    plan = plan_of(ctx, contract)
    if replan(ctx, order, contract, plan, paths, {c.source for c in causes}, cause) is None:
        return 0
    return len(paths)


def propose_substitution(command: ProposeSubstitution, ctx: Context) -> int:
    order = records.order(ctx.session, command.order_id, lock=True)
    records.participant(ctx.session, command.actor)
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None:
        raise Refused(f"order {order.id} has no plan under way")
    plan = plan_of(ctx, contract)
    if not lifecycle.is_party(ctx.session, order, command.actor):
        raise Refused(f"you are not a party of order {order.id}")
    reason = bounded(command.reason, "reason", 500)
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
        {
            "substitution": row.id,
            "item": item.id,
            "by": by.id,
            "node": nodes[0],
            "reason": reason,
        },
        order.id,
        command.actor,
        command.origin,
    )
    proposer = network.participants.get(command.actor)
    who = proposer.name if proposer else command.actor
    ctx.tell(
        order.buyer_id,
        "substitution",
        f"Order {order.id}: {who} proposes {by.name} instead of {item.name}"
        f"{' — ' + reason if reason else ''}. "
        f"/approve {order.id} {row.id} or /reject {order.id} {row.id}.",
        order.id,
        {"substitution": row.id, "buttons": decision_buttons(order.id, [row.id])},
        outcome=command.actor == order.buyer_id,
    )
    if command.actor != order.buyer_id:
        ctx.outcome(
            command.actor,
            f"Order {order.id}: your proposal of {by.name} instead of {item.name} went to the "
            f"buyer, who decides; /history {order.id} shows the answer.",
            order.id,
            kind="noted",
        )
    return row.id


def decide_substitution(command: DecideSubstitution, ctx: Context) -> str:
    order = records.order(ctx.session, command.order_id, lock=True)
    if command.actor != order.buyer_id:
        raise Refused(f"only the buyer of order {order.id} decides substitutions")
    row = ctx.session.get(SubstitutionRow, command.substitution_id)
    if row is None or row.order_id != order.id:
        raise Refused(f"order {order.id} has no substitution {command.substitution_id}")
    if row.status != "proposed":
        raise Refused(f"substitution {row.id} was already {row.status}")
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None:
        raise Refused(f"order {order.id} has no plan under way")
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
        ctx.outcome(
            order.buyer_id,
            f"Order {order.id}: {network.item_name(row.by_item_id)} will not be used. "
            + (
                "It waits for a source to come back; a coordinator knows."
                if order.status == OrderStatus.BLOCKED
                else f"/stages {order.id} shows how it stands."
            ),
            order.id,
            kind="noted",
        )
        return row.status
    cause = f"{network.item_name(row.item_id)} replaced by {network.item_name(row.by_item_id)}"
    replanned = replan(
        ctx,
        order,
        contract,
        plan_of(ctx, contract),
        [row.node],
        set(),
        cause,
        {row.node: row.by_item_id},
    )
    if replanned is None:
        raise Refused(
            f"no source of {network.item_name(row.by_item_id)} is left either; nothing changed"
        )
    ctx.outcome(
        order.buyer_id,
        f"Order {order.id}: {cause} — re-planned; now {order.reason}. /stages {order.id} "
        "shows the stages.",
        order.id,
        kind="noted",
    )
    return row.status
