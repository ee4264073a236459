"""Reweave on request, and the substitutions people propose and the buyer decides."""

from __future__ import annotations

from core.plan_counts import exact_text
from core.service import lifecycle, records
from core.service.agreement import plan_of
from core.service.bus import Context, bounded
from core.service.commands import DecideSubstitution, ProposeSubstitution, Reweave
from core.service.lifecycle import ENDED, ContractStatus, OrderStatus
from core.service.notices.replanning import (
    ProposalPassed,
    Rewoven,
    SubstituteAdopted,
    SubstituteRejected,
    SubstitutionProposed,
)
from core.service.replan import choice_of, replan
from core.service.results import Refused
from core.service.weaving import offer_plans, weave_plans
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
        ctx.notify(command.actor, _rewoven(order, found), order.id, outcome=True)
    return found


def _rewoven(order: OrderRow, found: int) -> Rewoven:
    if order.status == OrderStatus.OPEN:
        return Rewoven(order.id, "open")
    if order.status in (OrderStatus.UNPLANNABLE, OrderStatus.BLOCKED):
        return Rewoven(order.id, "waiting", order.reason or "")
    if found:
        return Rewoven(order.id, "replanned", order.reason or "")
    return Rewoven(order.id, "unchanged")


def reweave_order(ctx: Context, order: OrderRow, cause: str, actor: str | None = None) -> int:
    """Weave again what the order lacks: all of it before a plan is chosen, else the parts of
    its plan the network no longer serves or whose stages failed. Returns how many plans or
    re-planned parts were found (0: nothing missing, or still no way)."""
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None:
        return _weave_afresh(ctx, order, cause, actor)
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
        if contract.status == ContractStatus.POTENTIAL and order.status == OrderStatus.BLOCKED:
            # Everyone agreed, but the plan no longer fits what is left of someone's week:
            # nothing of it started, so the whole order is woven again over what is left.
            lifecycle.move_contract(contract, ContractStatus.CANCELLED, ctx)
            return _weave_afresh(ctx, order, cause, actor)
        return 0
    plan = plan_of(ctx, contract)
    # Avoided: what people said failed. What failed because it was out of service is for the
    # network to leave out while it is (and to offer again once it is back).
    failed = records.failed_by_people(ctx.session, contract.id, {c.id for c in causes})
    avoid = {c.source for c in causes if c.id in failed}
    if replan(ctx, order, contract, plan, paths, avoid, cause) is None:
        return 0
    return len(paths)


def _weave_afresh(ctx: Context, order: OrderRow, cause: str, actor: str | None) -> int:
    """Weave the whole order again and offer its plans to the buyer; how many were found."""
    demands = [Demand(line.item_id, line.quantity) for line in records.lines(ctx.session, order.id)]
    count, offered = weave_plans(ctx, order, demands, ctx.network())
    ctx.record(
        "rewoven",
        {"cause": cause, "plan_count": exact_text(count), "plans": offered},
        order.id,
        actor,
    )
    offer_plans(ctx, order, count, offered, outcome=actor == order.buyer_id, cause=cause)
    return len(offered)


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
    proposed = SubstitutionProposed(order.id, choice_of(network, row), who, reason)
    ctx.notify(order.buyer_id, proposed, order.id, outcome=command.actor == order.buyer_id)
    if command.actor != order.buyer_id:
        passed = ProposalPassed(order.id, by.name, item.name)
        ctx.notify(command.actor, passed, order.id, outcome=True)
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
        waits = order.status == OrderStatus.BLOCKED
        rejected = SubstituteRejected(order.id, network.item_name(row.by_item_id), waits)
        ctx.notify(order.buyer_id, rejected, order.id, outcome=True)
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
    adopted = SubstituteAdopted(order.id, cause, order.reason or "")
    ctx.notify(order.buyer_id, adopted, order.id, outcome=True)
    return row.status
