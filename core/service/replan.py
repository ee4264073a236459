"""Reweave: re-plan the broken sub-trees of a live plan over the network as it is now.

Each affected node is woven again on its own (same item and quantity, the order's criteria,
delivered where the old one was), without the sources that failed. The new sub-plans are
spliced into the tree; stages the new plan still uses keep their status and their short ids,
so what people typed stays valid; new stages get new ids. Parties who join get frames, parties
no longer needed are released, and when a node cannot be re-planned its substitutes are
proposed to the buyer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel import select

from core.network.model import Network, frozen_mapping
from core.pricing.equation import plan_equation
from core.service import records
from core.service.bus import Context
from core.service.lifecycle import ContractStatus, Decision, OrderStatus, move
from core.service.negotiation import send_frames
from core.service.orders import decide, plan_of, refresh_reason, validate
from core.service.results import buttons
from core.service.risk import plan_outlook, reliability
from core.stages.graph import StageGraph
from core.stages.plan import plan_stages
from core.store.tables import (
    AssertionRow,
    Contract,
    Disruption,
    OrderRow,
    PlanRow,
    StageRow,
    SubstitutionRow,
)
from core.weave import PRICE, Demand, Weave
from core.weave.plan import Plan, PlanNode, outermost
from core.weave.plan_document import node_document
from core.weave.ranking import source_location
from core.weave.sources import HELD, Bought, held_offer, is_held


def node_at(plan: Plan, path: str) -> PlanNode:
    parts = [int(p) for p in path.split(".")]
    node = plan.lines[parts[0]]
    for position in parts[1:]:
        node = node.inputs[position]
    return node


def splice(plan: Plan, path: str, new: PlanNode) -> Plan:
    parts = [int(p) for p in path.split(".")]

    def put(node: PlanNode, rest: list[int]) -> PlanNode:
        if not rest:
            return new
        inputs = list(node.inputs)
        inputs[rest[0]] = put(inputs[rest[0]], rest[1:])
        return replace(node, inputs=tuple(inputs))

    lines = list(plan.lines)
    lines[parts[0]] = put(lines[parts[0]], parts[1:])
    return replace(plan, lines=tuple(lines))


def parent_place(network: Network, plan: Plan, path: str, buyer_place):
    if "." not in path:
        return buyer_place
    parent = node_at(plan, path.rsplit(".", 1)[0])
    return source_location(network, parent.source)


def usable_network(ctx: Context, order: OrderRow, avoid: set[str]) -> Network:
    """The network now, without the order's decliners and the sources that failed it."""
    return ctx.network().without(
        participants=order.excluded,
        facilities={a.rsplit("@", 1)[1] for a in avoid if a.startswith("design:")},
        offers={a.removeprefix("offer:") for a in avoid if a.startswith("offer:")},
    )


@dataclass(frozen=True)
class Held:
    """Goods a party of the order made or received for it: `stage` put them with `holder`."""

    stage: str
    holder: str
    item: str
    quantity: int


def held_under(graph: StageGraph, plan: Plan, path: str) -> list[Held]:
    """The stock in the sub-tree at `path`: goods received (a done `receive`) or made and
    checked (a done `inspect`) and not yet passed on, and stock a forward leg has not moved yet."""
    found: list[Held] = []

    def visit(node: PlanNode, at: str) -> None:
        stages = {s.kind: s for s in graph.for_node(at)}
        receive, inspect = stages.get("receive"), stages.get("inspect")
        if receive is not None and receive.status == "done" and receive.owner:
            found.append(Held(receive.id, receive.owner, node.item, node.quantity))
            return
        if inspect is not None and inspect.status == "done" and inspect.owner:
            found.append(Held(inspect.id, inspect.owner, node.item, node.quantity))
            return
        if is_held(node.source) and node.source.offer.supplier:
            # Still where it was: its forward leg has not delivered it.
            offer = node.source.offer
            stage = offer.id.removeprefix(HELD)
            found.append(Held(stage, offer.supplier, node.item, int(offer.capacity or 0)))
            return
        for position, child in enumerate(node.inputs):
            visit(child, f"{at}.{position}")

    visit(node_at(plan, path), path)
    return found


def with_held(network: Network, held: list[Held], criteria) -> Network:
    """The network with the held stock as offers from its holders."""
    if not held:
        return network
    offers = dict(network.offers)
    for stock in held:
        offer = held_offer(stock.stage, stock.holder, stock.item, stock.quantity, criteria)
        offers[offer.id] = offer
    return replace(network, offers=frozen_mapping(offers))


def _weave_node(network, item, quantity, criteria, place, held: list[Held]) -> PlanNode | None:
    """The best sub-plan for the node, using held stock where it covers what is needed."""
    usable = list(held)
    for _ in range(len(held) + 1):
        weave = Weave(
            with_held(network, usable, criteria), [Demand(item, quantity)], criteria, PRICE, place
        )
        best = weave.best(1)
        if not best:
            return None
        short = [
            n.source.offer.id.removeprefix(HELD)
            for n in best[0].lines[0].walk()
            if is_held(n.source) and n.quantity > (n.source.offer.capacity or 0)
        ]
        if not short:
            return best[0].lines[0]
        usable = [h for h in usable if h.stage not in short]  # too little held: buy it instead
    return None


def replan(
    ctx: Context,
    order: OrderRow,
    contract: Contract,
    plan: Plan,
    paths: list[str],
    avoid: set[str],
    cause: str,
    substitute: dict[str, str] | None = None,
) -> Plan | None:
    """Re-plan `paths` of the contract's plan; returns the new plan, or None if some node found
    no plan (the order is then blocked: substitutes have been proposed to the buyer or the
    coordinators told, and the plan is left as it was). What was delivered is not re-planned;
    what parties hold for the order is used where it is."""
    graph = records.stage_graph(ctx.session, contract.id)
    delivered = records.delivered_paths(graph)
    paths = [p for p in paths if not records.within(p, delivered)]
    if not paths:
        return plan
    down = _down_participants(ctx)
    network = usable_network(ctx, order, avoid)
    buyer = network.participants.get(order.buyer_id)
    buyer_place = buyer.location if buyer else None
    new_plan, stuck = plan, []
    for path in paths:
        old = node_at(plan, path)
        item = (substitute or {}).get(path, old.item)
        held = [
            h
            for h in held_under(graph, plan, path)
            if h.holder not in down and h.holder not in order.excluded
        ]
        node = _weave_node(
            network,
            item,
            old.quantity,
            order.criteria,
            parent_place(network, plan, path, buyer_place),
            held,
        )
        if node is None:
            stuck.append((path, old))
            continue
        new_plan = splice(new_plan, path, node)
    if stuck:
        _block(ctx, order, network, plan, stuck, cause)
        return None
    _adopt(ctx, order, contract, plan, new_plan, cause)
    return new_plan


def replan_without(ctx: Context, order: OrderRow, contract: Contract, who: str, reason: str):
    """Re-plan the part of someone who turned it down (already in `order.excluded`)."""
    plan = plan_of(ctx, contract)
    paths = [path for path, node in plan.positioned() if _provider(node) == who]
    name = ctx.network().participant_name(who)
    cause = f"{name} declined their part" + (f" ({reason})" if reason else "")
    return replan(ctx, order, contract, plan, outermost(paths), set(), cause)


def _provider(node: PlanNode) -> str | None:
    source = node.source
    return source.offer.supplier if isinstance(source, Bought) else source.facility.operator


def _down_participants(ctx: Context) -> set[str]:
    rows = ctx.session.exec(
        select(Disruption.resource_id).where(
            Disruption.kind == "participant", Disruption.restored_at.is_(None)
        )
    )
    return set(rows)


def _adopt(
    ctx: Context, order: OrderRow, contract: Contract, old_plan: Plan, new_plan: Plan, cause: str
) -> None:
    network = ctx.network()
    old_row = ctx.session.get(PlanRow, contract.plan_id)
    batch = 1 + max((p.batch for p in records.plans(ctx.session, order.id)), default=0)
    equation = plan_equation(network, new_plan)
    row = PlanRow(
        order_id=order.id,
        batch=batch,
        rank=1,
        network_version=_newest_version(ctx, old_row.network_version),
        tree=[node_document(line) for line in new_plan.lines],
        equation=equation.text(),
        price=equation.price,
        unknowns=equation.unknowns,
        outlook=plan_outlook(network, reliability(ctx.session, network), new_plan, order.buyer_id),
        created_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    contract.plan_id = row.id
    ctx.session.add(contract)
    before, after = records.work_of(old_plan), records.work_of(new_plan)
    joined, released = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    changed = sorted(p for p in set(after) & set(before) if after[p] != before[p])
    # Whoever has new work agrees to it before its stages can start (DESIGN.md, Stages).
    gained = sorted(p for p in after if after[p] - before.get(p, set()))
    for party in gained:
        if party != order.buyer_id:
            decide(ctx, contract, party, Decision.ASKED)
    stages = None
    if contract.status == ContractStatus.AGREED:
        stages = _carry_stages(ctx, contract, plan_stages(network, new_plan, order.buyer_id))
    ctx.record(
        "replanned",
        {
            "contract": contract.id,
            "plan": row.id,
            "tree": row.tree,
            "cause": cause,
            "joined": joined,
            "released": released,
            "changed": changed,
            "asked": gained,
            "stages": None if stages is None else _documents(stages),
        },
        order.id,
    )
    for proposed in _proposed(ctx, order.id):
        proposed.status, proposed.decided_at = "withdrawn", ctx.now
        ctx.session.add(proposed)
    # Whoever has new work gets the new frame to agree to; whoever left is released.
    send_frames(ctx, order, new_plan, contract, only=set(gained))
    for party in released:
        ctx.tell(
            party,
            "released",
            f"Order {order.id} no longer needs your part ({cause}). "
            "Thank you — nothing more is expected of you." + _holding(ctx, contract, party),
            order.id,
        )
    for party in changed:
        if party not in gained:
            ctx.tell(
                party,
                "changed",
                f"Order {order.id}: {cause}. Your part is smaller now; /stages {order.id} "
                "shows what is still yours.",
                order.id,
            )
    if contract.status == ContractStatus.POTENTIAL:
        if order.status == OrderStatus.BLOCKED:
            move(ctx, order, OrderStatus.NEGOTIATING, "waiting for its parties to agree")
        validate(ctx, order, contract, new_plan)
    elif order.status == OrderStatus.BLOCKED:
        move(ctx, order, OrderStatus.IN_PROGRESS, "under way")
    waiting = refresh_reason(ctx, order, contract)
    names = ", ".join(network.participant_name(p) for p in joined)
    forwarded = [
        f"{network.participant_name(n.source.offer.supplier)} forwards {n.quantity} × "
        f"{network.item_name(n.item)}"
        for n in new_plan.nodes()
        if is_held(n.source) and n.source.offer.supplier != _receiver(new_plan, n, order)
    ]
    ctx.tell(
        order.buyer_id,
        "replanned",
        f"Order {order.id}: {cause}. Re-planned{' with ' + names if names else ''}"
        + (f"; {'; '.join(forwarded)}" if forwarded else "")
        + f". Now {waiting}. /stages {order.id} shows the stages.",
        order.id,
    )


def _receiver(plan: Plan, node: PlanNode, order: OrderRow) -> str | None:
    for path, candidate in plan.positioned():
        if candidate is node:
            if "." not in path:
                return order.buyer_id
            return _provider(node_at(plan, path.rsplit(".", 1)[0]))
    return None


def _holding(ctx: Context, contract: Contract, party: str) -> str:
    """What a released party still holds for the order, and what to do with it."""
    graph = records.stage_graph(ctx.session, contract.id)
    kept = [
        f"{s.quantity} × {ctx.network().item_name(s.item)}"
        for s in graph
        if s.owner == party and s.kind in ("receive", "inspect") and s.status == "done"
    ]
    rows = records.stage_rows(ctx.session, contract.id)
    kept += [
        f"{r.quantity} × {ctx.network().item_name(r.item_id)}"
        for r in rows
        if r.status == "superseded"
        and r.owner_id == party
        and r.kind in ("receive", "inspect")
        and _was_done(ctx, r)
    ]
    if not kept:
        return ""
    return (
        f" You hold {', '.join(dict.fromkeys(kept))} for it: keep it until the buyer or a "
        "coordinator tells you where it goes."
    )


def _was_done(ctx: Context, row: StageRow) -> bool:
    last = ctx.session.exec(
        select(AssertionRow.status)
        .where(AssertionRow.stage_id == row.id)
        .order_by(AssertionRow.id.desc())
    ).first()
    return last == "done"


def _newest_version(ctx: Context, fallback: int) -> int:
    return records.network_version(ctx.session) or fallback


def _carry_stages(ctx: Context, contract: Contract, fresh: StageGraph) -> StageGraph:
    """Keep the status and id of every stage the new plan still has; retire the others."""
    rows = records.stage_rows(ctx.session, contract.id)
    # A stage carries over when the new plan has it at the same place, from the same source,
    # owed by the same person: anything else is new work.
    live = {(r.node, r.source, r.kind, r.owner_id): r for r in rows if r.status != "superseded"}
    used_numbers = [int(r.code[1:]) for r in rows if r.code[1:].isdigit()]
    next_number = max(used_numbers, default=0) + 1
    codes: dict[str, str] = {}
    kept: set[int] = set()
    for stage in fresh:
        row = live.get((stage.node, stage.source, stage.kind, stage.owner))
        if row is not None:
            codes[stage.id] = row.code
            kept.add(row.id)
        else:
            codes[stage.id] = f"s{next_number}"
            next_number += 1
    renamed = []
    for stage in fresh:
        row = live.get((stage.node, stage.source, stage.kind, stage.owner))
        status = row.status if row is not None and row.status == "done" else "pending"
        renamed.append(
            replace(
                stage,
                id=codes[stage.id],
                status=status,
                depends_on=tuple(codes[d] for d in stage.depends_on),
            )
        )
    for row in rows:
        if row.id not in kept and row.status != "superseded":
            row.status, row.updated_at = "superseded", ctx.now
            ctx.session.add(row)
    by_code = {r.code: r for r in rows}
    for stage in renamed:
        row = by_code.get(stage.id) or StageRow(contract_id=contract.id)
        ctx.session.add(records.write_stage(row, stage, ctx.now))
    return StageGraph(renamed)


def _documents(graph: StageGraph) -> list[dict]:
    return records.stage_documents(graph)


def _block(ctx: Context, order: OrderRow, network: Network, plan: Plan, stuck, cause) -> None:
    """Some node has no source left: propose substitutes where they would work, else wait for
    the network; the buyer, the coordinators and the plan's other parties are told."""
    proposed: list[SubstitutionRow] = []
    names = []
    for path, node in stuck:
        names.append(network.item_name(node.item))
        proposed += _propose_substitutes(ctx, order, network, plan, path)
    what = " and ".join(dict.fromkeys(names))
    if proposed:
        reason = f"no source of {what} is left; waiting for the buyer to decide on a substitute"
        choices = "; ".join(
            f"{network.item_name(r.by_item_id)} instead of {network.item_name(r.item_id)} "
            f"(/approve {order.id} {r.id} or /reject {order.id} {r.id})"
            for r in proposed
        )
        move(ctx, order, OrderStatus.BLOCKED, reason, tell_buyer=False)
        ctx.tell(
            order.buyer_id,
            "substitution",
            f"Order {order.id}: {cause}, and no source of {what} is left. A substitute could "
            f"do: {choices}.",
            order.id,
            {
                "substitutions": [r.id for r in proposed],
                "buttons": decision_buttons(order.id, [r.id for r in proposed]),
            },
        )
    else:
        reason = f"no source of {what} is left and nothing can replace it for now"
        move(ctx, order, OrderStatus.BLOCKED, reason, tell_buyer=False)
        ctx.tell(
            order.buyer_id,
            "blocked",
            f"Order {order.id}: {cause}, and nothing can replace {what} for now. "
            "A coordinator has been told; you will hear as soon as that changes. "
            f"/cancel {order.id} if you no longer need it.",
            order.id,
        )
    ctx.record("blocked", {"cause": cause, "nodes": [p for p, _ in stuck]}, order.id)
    for party in sorted(set(records.work_of(plan)) - {order.buyer_id}):
        ctx.tell(
            party,
            "alert",
            f"Order {order.id}: {cause}. It waits for a decision; you will get a new frame "
            "if your part changes.",
            order.id,
        )


def _propose_substitutes(
    ctx: Context, order: OrderRow, network: Network, plan: Plan, path: str
) -> list[SubstitutionRow]:
    """Declared substitutes of the stuck item or of any item above it in the tree — at the
    nearest level where one meets the order's criteria and can be planned now."""
    already = {
        (s.item_id, s.by_item_id, s.node)
        for s in ctx.session.exec(
            select(SubstitutionRow).where(SubstitutionRow.order_id == order.id)
        )
    }
    at = path
    while True:
        node = node_at(plan, at)
        workable = [
            s.by
            for s in network.substitutes
            if s.item == node.item
            and s.by in network.items
            and Weave(network, [Demand(s.by, node.quantity)], order.criteria).count() > 0
        ]
        if workable:
            rows = []
            for by in workable:
                if (node.item, by, at) in already:
                    continue
                row = SubstitutionRow(
                    order_id=order.id,
                    item_id=node.item,
                    by_item_id=by,
                    node=at,
                    proposed_at=ctx.now,
                )
                ctx.session.add(row)
                ctx.session.flush()
                rows.append(row)
                ctx.record(
                    "substitution_proposed",
                    {"substitution": row.id, "item": node.item, "by": by, "node": at},
                    order.id,
                )
            return rows
        if "." not in at:
            return []
        at = at.rsplit(".", 1)[0]


def _proposed(ctx: Context, order_id: int) -> list[SubstitutionRow]:
    return list(
        ctx.session.exec(
            select(SubstitutionRow).where(
                SubstitutionRow.order_id == order_id, SubstitutionRow.status == "proposed"
            )
        )
    )


def decision_buttons(order_id: int, substitutions: list[int]) -> list[list[str]]:
    """Approve / Reject for each proposed substitution."""
    return buttons(
        *(
            pair
            for number in substitutions
            for pair in (
                (f"Approve {number}", f"/approve {order_id} {number}"),
                (f"Reject {number}", f"/reject {order_id} {number}"),
            )
        )
    )


def uses(node: PlanNode, resource: str) -> bool:
    """Whether the node's source is, or is run by, the resource (offer, facility, person)."""
    source = node.source
    if isinstance(source, Bought):
        return resource in (source.offer.id, source.offer.supplier)
    return resource in (source.facility.id, source.facility.operator)
