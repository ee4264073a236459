"""A re-planned tree adopted: it becomes the contract's plan (a new batch), the stages it still
has keep their status and short ids while new ones get new ids, whoever gained work is asked to
agree to it and gets a new frame, whoever left is released (told what they still hold), and the
buyer is told how the order goes on."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import insert
from sqlmodel import select

from core.pricing.equation import plan_equation
from core.service import records
from core.service.agreement import refresh_reason, validate
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
from core.service.replanning import Replanning, StageRecord
from core.service.risk import plan_outlook
from core.stages.graph import StageGraph
from core.stages.plan import plan_stages
from core.stages.schedule import end_of_day, schedule
from core.store.tables import AssertionRow, Contract, OrderRow, PlanRow
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
    old_row = shared.plan_row(contract)
    batch = shared.next_batch(order.id)
    # Orders alike re-planned alike share the new plan (Replanning.alike), and what follows
    # from it alone.
    equation = shared.alike(("equation",), (new_plan,), lambda: plan_equation(network, new_plan))
    tree = shared.alike(
        ("tree",), (new_plan,), lambda: [node_document(line) for line in new_plan.lines]
    )
    outlook = shared.alike(
        ("outlook", order.buyer_id),
        (new_plan,),
        lambda: plan_outlook(network, shared.learned, new_plan, order.buyer_id),
    )
    # Written with SQLAlchemy Core and without the autoflush every statement has: a flush here
    # would write each order's contract and order alone, where the unit of work's end writes
    # those of all its re-plans together (nothing read until then depends on them).
    with ctx.session.no_autoflush:
        plan_id = ctx.session.execute(
            _INSERT_PLAN,
            {
                "order_id": order.id,
                "batch": batch,
                "rank": 1,
                "network_version": _version_for(
                    ctx, new_plan, old_row.network_version, shared.version
                ),
                "tree": tree,
                "equation": equation.text(),
                "price": equation.price,
                "unknowns": equation.unknowns,
                "outlook": outlook,
                "created_at": ctx.now,
            },
        ).scalar_one()
    contract.plan_id = plan_id
    ctx.session.add(contract)
    before = shared.alike(("work",), (old_plan,), lambda: records.work_of(old_plan))
    after = shared.alike(("work",), (new_plan,), lambda: records.work_of(new_plan))
    joined, released = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    changed = sorted(p for p in set(after) & set(before) if after[p] != before[p])
    # Whoever has new work agrees to it before its stages can start (ARCHITECTURE.md, Stages).
    gained = sorted(p for p in after if after[p] - before.get(p, set()))
    for party in gained:
        if party != order.buyer_id:
            shared.decide(contract, party, Decision.ASKED)
    # The stage rows as the re-plans of this unit of work left them (written when settled).
    rows = shared.stage_rows(contract.id)
    stages, status = None, {r.id: r.status for r in rows}
    if contract.status == ContractStatus.AGREED:
        fresh = shared.alike(
            ("stages", order.buyer_id),
            (new_plan,),
            lambda: plan_stages(network, new_plan, order.buyer_id),
        )
        stages, status = _carry_stages(ctx, contract, rows, fresh, new_plan, order, shared)
        shared.moved(contract, new_plan)  # the old plan's hold moves to the new one
    ctx.record(
        "replanned",
        {
            "contract": contract.id,
            "plan": plan_id,
            "tree": tree,
            "cause": cause,
            "joined": joined,
            "released": released,
            "changed": changed,
            "asked": gained,
            "stages": None if stages is None else records.stage_documents(stages),
        },
        order.id,
    )
    for proposed in shared.proposed(order.id):
        proposed.status, proposed.decided_at = "withdrawn", ctx.now
        ctx.session.add(proposed)
    # Whom the contract waits for (lifecycle.awaited): the stages and words are not written yet.
    owners = {r.owner_id for r in rows if status[r.id] != "superseded"}
    if stages is not None:
        owners = {s.owner for s in stages}
    awaited = shared.awaited(contract, order, tree, owners)
    # Whoever has new work gets the new frame to agree to; whoever left is released.
    if gained:
        send_frames(
            ctx,
            order,
            new_plan,
            contract,
            set(gained),
            outlook=outlook,
            awaited=awaited,
            quotes=shared.quotes(order.id),
            platforms=shared.platforms,
            decided=shared.decisions(contract),
        )
    if released:
        holding = _Holding(ctx, rows, status)
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
        awaited = None  # the agreement may have moved the contract on
    elif order.status == OrderStatus.BLOCKED:
        move(ctx, order, OrderStatus.IN_PROGRESS, "under way")
    waiting = refresh_reason(ctx, order, contract, awaited)
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

    def __init__(self, ctx: Context, rows: list[StageRecord], status: dict[int, str]):
        """`rows`: the contract's stage rows as read before the re-plan, and `status`, theirs
        as it left them (the stages it added are pending: nobody holds anything for them)."""
        self.network = ctx.network()
        self.goods = [r for r in rows if r.kind in ("receive", "inspect")]
        self.status = status
        # A stage this re-plan superseded was done if its row said so; one superseded before,
        # if its last assertion did.
        older = [r for r in self.goods if r.status == "superseded"]
        self.done = _done(ctx, older) | {r.id for r in self.goods if r.status == "done"}

    def of(self, party: str) -> Held:
        goods = [r for r in self.goods if r.owner_id == party]
        live = [r for r in goods if self.status[r.id] == "done"]
        superseded = [r for r in goods if self.status[r.id] == "superseded" and r.id in self.done]
        kept = [(r.quantity, self.network.item_name(r.item_id)) for r in live + superseded]
        return tuple(dict.fromkeys(kept))


def _done(ctx: Context, rows: list[StageRecord]) -> set[int]:
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
    if newest == oldest:  # whether it rebuilds or not, there is no other version to try
        return newest
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
    rows: list[StageRecord],
    fresh: StageGraph,
    plan: Plan,
    order: OrderRow,
    shared: Replanning,
) -> tuple[StageGraph, dict[int, str]]:
    """Keep the status and id of every stage the new plan still has; retire the others. Every
    live stage is due again by the new plan's times, counted from now (what is done takes no
    time) or back from the order's due date; a stage already told late is not told again.
    `rows`: the contract's stage rows; returns the stages and the status each row has now.
    The rows are written when `shared` is settled, with those of the other re-plans."""
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
    now = ctx.now
    statuses = {r.id: r.status for r in rows}
    retired = [r.id for r in rows if r.id not in kept and r.status != "superseded"]
    statuses.update(dict.fromkeys(retired, "superseded"))
    by_code = {r.code: r for r in rows if r.id in kept}
    carried = StageGraph(renamed)
    due = schedule(plan, carried, now, end_of_day(order.due)).due
    again, new = [], []
    for stage in renamed:
        values = {
            "item_id": stage.item,
            "quantity": stage.quantity,
            "depends_on": list(stage.depends_on),
            "status": stage.status,
            "due_at": due.get(stage.id),
        }
        row = by_code.get(stage.id)
        if row is None:
            new.append(
                {
                    "contract_id": contract.id,
                    "code": stage.id,
                    "kind": stage.kind,
                    "owner_id": stage.owner,
                    "node": stage.node,
                    "source": stage.source,
                    "updated_at": now,
                    "late_told_at": None,
                    **values,
                }
            )
            continue
        statuses[row.id] = stage.status
        # A stage carried over keeps its code, place, source, kind and owner: its row is
        # written when what it waits for, its status, quantity or due date changed.
        if any(getattr(row, column) != value for column, value in values.items()):
            again.append({"row": row.id, "updated_at": now, **values})
    shared.stages_carried(contract.id, retired, again, new)
    return carried, statuses


# Built once (building a statement costs more CPU than running it).
_INSERT_PLAN = insert(PlanRow.__table__).returning(PlanRow.__table__.c.id)
