"""Reweave: re-plan the broken sub-trees of a live plan over the network as it is now.

Each affected node is woven again on its own (same item and quantity, the order's criteria,
delivered where the old one was), without the sources that failed. The new sub-plans are
spliced into the tree; stages the new plan still uses keep their status and their short ids,
so what people typed stays valid; new stages get new ids. Parties who join get frames, parties
no longer needed are released, and when a node cannot be re-planned its substitutes are
proposed to the buyer.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select

from core.network.model import Network
from core.pricing.equation import plan_equation
from core.service import records
from core.service.bus import Context
from core.service.negotiation import send_frames
from core.service.orders import validate
from core.service.results import buttons
from core.service.risk import plan_outlook, reliability
from core.stages.graph import StageGraph
from core.stages.plan import plan_stages
from core.store.tables import Contract, OrderRow, PlanRow, StageRow, SubstitutionRow
from core.weave import PRICE, Demand, Weave
from core.weave.plan import Plan, PlanNode
from core.weave.plan_document import node_document
from core.weave.ranking import source_location
from core.weave.sources import Bought


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
    no plan (substitutes have then been proposed and the plan is left as it was)."""
    network = usable_network(ctx, order, avoid)
    buyer = network.participants.get(order.buyer_id)
    buyer_place = buyer.location if buyer else None
    new_plan, stuck = plan, []
    for path in paths:
        old = node_at(plan, path)
        item = (substitute or {}).get(path, old.item)
        weave = Weave(
            network,
            [Demand(item, old.quantity)],
            order.criteria,
            PRICE,
            parent_place(network, plan, path, buyer_place),
        )
        best = weave.best(1)
        if not best:
            stuck.append((path, old))
            continue
        new_plan = splice(new_plan, path, best[0].lines[0])
    if stuck:
        _propose_substitutes(ctx, order, network, stuck, cause)
        _tell_parties_the_order_waits(ctx, order, plan, cause)
        return None
    _adopt(ctx, order, contract, plan, new_plan, cause)
    return new_plan


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
    stages = None
    if contract.status == "potential":
        # The party still to agree may be the one the new plan no longer needs.
        validate(ctx, order, contract, new_plan)
    elif contract.status == "agreed":
        stages = _carry_stages(ctx, contract, plan_stages(network, new_plan, order.buyer_id))
    before, after = records.work_of(old_plan), records.work_of(new_plan)
    joined, released = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    changed = sorted(p for p in set(after) & set(before) if after[p] != before[p])
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
            "stages": None if stages is None else _documents(stages),
        },
        order.id,
    )
    # Whoever joins, or whose part changed, gets the new frame; whoever left is released.
    send_frames(ctx, order, new_plan, contract, only={*joined, *changed})
    for party in released:
        ctx.tell(
            party,
            "released",
            f"Order {order.id} no longer needs your part ({cause}). "
            "Thank you — nothing more is expected of you.",
            order.id,
        )
    names = ", ".join(network.participants[p].name for p in joined if p in network.participants)
    ctx.tell(
        order.buyer_id,
        "replanned",
        f"Order {order.id}: {cause}. Re-planned{' with ' + names if names else ''}: "
        f"{equation.text()}. /stages {order.id} shows the new stages.",
        order.id,
    )


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


def _tell_parties_the_order_waits(ctx: Context, order: OrderRow, plan: Plan, cause: str) -> None:
    """The buyer decides; everyone else in the plan hears why the work may change."""
    for party in sorted(set(records.work_of(plan)) - {order.buyer_id}):
        ctx.tell(
            party,
            "alert",
            f"Order {order.id}: {cause}. The buyer is deciding how to go on; you will get a new "
            "frame if your part changes.",
            order.id,
        )


def _propose_substitutes(
    ctx: Context, order: OrderRow, network: Network, stuck: list[tuple[str, PlanNode]], cause: str
) -> None:
    for path, node in stuck:
        options = [s.by for s in network.substitutes if s.item == node.item]
        already = {
            (s.item_id, s.by_item_id)
            for s in ctx.session.exec(
                select(SubstitutionRow).where(SubstitutionRow.order_id == order.id)
            )
        }
        name = network.items[node.item].name
        proposed = []
        for by in options:
            if (node.item, by) in already:
                continue
            row = SubstitutionRow(
                order_id=order.id, item_id=node.item, by_item_id=by, node=path, proposed_at=ctx.now
            )
            ctx.session.add(row)
            ctx.session.flush()
            proposed.append(row)
            ctx.record(
                "substitution_proposed",
                {"substitution": row.id, "item": node.item, "by": by, "node": path},
                order.id,
            )
        if proposed:
            choices = "; ".join(
                f"{network.items[r.by_item_id].name} (/approve {order.id} {r.id} or "
                f"/reject {order.id} {r.id})"
                for r in proposed
            )
            ctx.tell(
                order.buyer_id,
                "substitution",
                f"Order {order.id}: {cause}, and no source of {name} is left. "
                f"A substitute could do: {choices}.",
                order.id,
                {
                    "substitutions": [r.id for r in proposed],
                    "buttons": decision_buttons(order.id, [r.id for r in proposed]),
                },
            )
        else:
            ctx.tell(
                order.buyer_id,
                "blocked",
                f"Order {order.id}: {cause}, and nothing can replace {name} for now. "
                "A coordinator is told; you will hear as soon as that changes.",
                order.id,
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
