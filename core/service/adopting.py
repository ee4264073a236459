"""A re-planned tree adopted: it becomes the contract's plan (a new batch), the stages it still
has keep their status and short ids while new ones get new ids, whoever gained work is asked to
agree to it and gets a new frame, whoever left is released (told what they still hold), and the
buyer is told how the order goes on."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select

from core.pricing.equation import plan_equation
from core.service import records
from core.service.agreement import decide, refresh_reason, validate
from core.service.bus import Context
from core.service.lifecycle import ContractStatus, Decision, OrderStatus, move
from core.service.negotiation import send_frames
from core.service.notices.replanning import (
    Forwarded,
    Held,
    PartReleased,
    PartSmaller,
    Replanned,
)
from core.service.plan_paths import node_at, provider
from core.service.replanning import Replanning
from core.service.risk import plan_outlook
from core.stages.graph import StageGraph
from core.stages.plan import plan_stages
from core.stages.schedule import end_of_day, schedule
from core.store.tables import AssertionRow, Contract, OrderRow, PlanRow, StageRow, SubstitutionRow
from core.weave.plan import Plan, PlanNode
from core.weave.plan_document import PlanGap, node_document
from core.weave.sources import is_held


def adopt(
    ctx: Context,
    order: OrderRow,
    contract: Contract,
    old_plan: Plan,
    new_plan: Plan,
    cause: str,
    shared: Replanning,
) -> None:
    """The contract carries out `new_plan` from now on, re-planned because of `cause`;
    `shared`: what the re-plans of this unit of work share (the caller settles it)."""
    network = ctx.network()
    old_row = ctx.session.get(PlanRow, contract.plan_id)
    batch = 1 + max((p.batch for p in records.plans(ctx.session, order.id)), default=0)
    equation = plan_equation(network, new_plan)
    row = PlanRow(
        order_id=order.id,
        batch=batch,
        rank=1,
        network_version=_version_for(ctx, new_plan, old_row.network_version, shared.version),
        tree=[node_document(line) for line in new_plan.lines],
        equation=equation.text(),
        price=equation.price,
        unknowns=equation.unknowns,
        outlook=plan_outlook(network, shared.learned, new_plan, order.buyer_id),
        created_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    contract.plan_id = row.id
    ctx.session.add(contract)
    before, after = records.work_of(old_plan), records.work_of(new_plan)
    joined, released = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    changed = sorted(p for p in set(after) & set(before) if after[p] != before[p])
    # Whoever has new work agrees to it before its stages can start (ARCHITECTURE.md, Stages).
    gained = sorted(p for p in after if after[p] - before.get(p, set()))
    for party in gained:
        if party != order.buyer_id:
            decide(ctx, contract, party, Decision.ASKED)
    stages, rows = None, None
    if contract.status == ContractStatus.AGREED:
        fresh = plan_stages(network, new_plan, order.buyer_id)
        rows = records.stage_rows(ctx.session, contract.id)
        stages = _carry_stages(ctx, contract, rows, fresh, new_plan, order)
        shared.moved(contract, new_plan)  # the old plan's hold moves to the new one
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
            "stages": None if stages is None else records.stage_documents(stages),
        },
        order.id,
    )
    for proposed in _proposed(ctx, order.id):
        proposed.status, proposed.decided_at = "withdrawn", ctx.now
        ctx.session.add(proposed)
    # Whoever has new work gets the new frame to agree to; whoever left is released.
    if gained:
        send_frames(ctx, order, new_plan, contract, only=set(gained))
    if released:
        holding = _Holding(ctx, rows or records.stage_rows(ctx.session, contract.id))
    for party in released:
        ctx.notify(party, PartReleased(order.id, cause, holding.of(party)), order.id)
    for party in changed:
        if party not in gained:
            ctx.notify(party, PartSmaller(order.id, cause), order.id)
    if contract.status == ContractStatus.POTENTIAL:
        shared.settle()  # an agreement below is checked against what the re-plans hold
        if order.status == OrderStatus.BLOCKED:
            move(ctx, order, OrderStatus.NEGOTIATING, "waiting for its parties to agree")
        validate(ctx, order, contract, new_plan)
    elif order.status == OrderStatus.BLOCKED:
        move(ctx, order, OrderStatus.IN_PROGRESS, "under way")
    waiting = refresh_reason(ctx, order, contract)
    forwarded = tuple(
        Forwarded(
            network.participant_name(n.source.offer.supplier),
            n.quantity,
            network.item_name(n.item),
        )
        for n in new_plan.nodes()
        if is_held(n.source) and n.source.offer.supplier != _receiver(new_plan, n, order)
    )
    names = tuple(network.participant_name(p) for p in joined)
    ctx.notify(order.buyer_id, Replanned(order.id, cause, names, forwarded, waiting), order.id)


def _receiver(plan: Plan, node: PlanNode, order: OrderRow) -> str | None:
    for path, candidate in plan.positioned():
        if candidate is node:
            if "." not in path:
                return order.buyer_id
            return provider(node_at(plan, path.rsplit(".", 1)[0]))
    return None


class _Holding:
    """What released parties still hold for the order (they keep it until told): goods they
    received or checked, in a live stage or in one the re-plan superseded after it was done."""

    def __init__(self, ctx: Context, rows: list[StageRow]):
        """`rows`: the contract's stage rows as the re-plan left them (the stages it added are
        pending: nobody holds anything for them yet)."""
        self.network = ctx.network()
        self.rows = rows
        self.done = _done(ctx, [r for r in self.rows if r.status == "superseded"])

    def of(self, party: str) -> Held:
        goods = [r for r in self.rows if r.owner_id == party and r.kind in ("receive", "inspect")]
        live = [r for r in goods if r.status == "done"]
        superseded = [r for r in goods if r.status == "superseded" and r.id in self.done]
        kept = [(r.quantity, self.network.item_name(r.item_id)) for r in live + superseded]
        return tuple(dict.fromkeys(kept))


def _done(ctx: Context, rows: list[StageRow]) -> set[int]:
    """Those of the stage rows whose last assertion said done."""
    if not rows:
        return set()
    asserted = ctx.session.exec(
        select(AssertionRow.stage_id, AssertionRow.status)
        .where(AssertionRow.stage_id.in_([r.id for r in rows]))
        .order_by(AssertionRow.id)
    )
    last = dict(asserted.all())
    return {stage for stage, status in last.items() if status == "done"}


def _version_for(ctx: Context, plan: Plan, oldest: int, newest: int) -> int:
    """The newest network version the whole plan can be rebuilt over: the newest, unless a part
    delivered before the network was loaded again names a source it no longer has — then the
    newest that still has it (what was delivered is not re-planned, so it keeps its source)."""
    newest = newest or oldest
    tree = [node_document(line) for line in plan.lines]
    for version in range(newest, oldest - 1, -1):
        try:
            records.rebuild_tree(ctx.network_at(version), tree)
        except PlanGap:
            continue
        return version
    return newest


def _carry_stages(
    ctx: Context,
    contract: Contract,
    rows: list[StageRow],
    fresh: StageGraph,
    plan: Plan,
    order: OrderRow,
) -> StageGraph:
    """Keep the status and id of every stage the new plan still has; retire the others. Every
    live stage is due again by the new plan's times, counted from now (what is done takes no
    time) or back from the order's due date; a stage already told late is not told again.
    `rows`: the contract's stage rows, which take the new statuses."""
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
    carried = StageGraph(renamed)
    due = schedule(plan, carried, ctx.now, end_of_day(order.due)).due
    for stage in renamed:
        row = by_code.get(stage.id) or StageRow(contract_id=contract.id)
        row = records.write_stage(row, stage, ctx.now)
        row.due_at = due.get(stage.id)
        ctx.session.add(row)
    return carried


def _proposed(ctx: Context, order_id: int) -> list[SubstitutionRow]:
    return list(
        ctx.session.exec(
            select(SubstitutionRow).where(
                SubstitutionRow.order_id == order_id, SubstitutionRow.status == "proposed"
            )
        )
    )
