"""Update U: a person asserts a stage done, failed or reset; the plan reacts."""

from __future__ import annotations

from sqlmodel import select

from core.service import lifecycle, records
from core.service.agreement import plan_of, plan_tree
from core.service.bus import Context, bounded
from core.service.commands import AssertStage
from core.service.lifecycle import ContractStatus, Decision, OrderStatus, move, move_contract
from core.service.replan import replan
from core.service.results import Origin, Refused
from core.stages.graph import StageError
from core.stages.progress import affected_nodes, progress, root_causes
from core.stages.update import Applied, Assertion, apply, may_assert
from core.store.tables import AssertionRow, Contract, OrderRow, StageRow


def assert_stage(command: AssertStage, ctx: Context) -> str:
    order = records.order(ctx.session, command.order_id, lock=True)
    origin = command.origin
    if origin.message_id is not None and _seen(ctx, origin.platform, origin.message_id):
        return "already applied"  # a redelivered message changes nothing twice
    records.participant(ctx.session, command.actor)
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None or contract.status != "agreed":
        raise Refused(f"order {order.id} has no agreed plan with stages yet")
    if command.status not in ("done", "failed", "reset"):
        raise Refused("a stage is asserted done, failed or reset")
    evidence = bounded(command.evidence, "evidence")
    if command.status == "failed" and not evidence:
        raise Refused(f"say what went wrong: /fail {order.id} STAGE REASON")
    graph = records.stage_graph(ctx.session, contract.id)
    coordinator = records.is_coordinator(ctx.session, command.actor)
    try:
        allowed = may_assert(graph, command.stage, command.actor, coordinator)
    except StageError as unknown:
        raise Refused(str(unknown)) from unknown
    stage = graph.resolve(command.stage)
    owner = ctx.network().participant_name(stage.owner)
    if not allowed:
        raise Refused(
            f"stage {stage.id} belongs to {owner}; only they or a coordinator may assert it"
        )
    decided = lifecycle.decisions(ctx.session, contract)
    if command.status == "done" and stage.owner and decided.get(stage.owner) != Decision.AGREED:
        if stage.owner == command.actor:
            raise Refused(
                f"agree to your part of order {order.id} first (/agree {order.id}); then "
                f"{stage.id} can be done"
            )
        raise Refused(
            f"{owner} has not agreed to their part of order {order.id} yet; "
            f"{stage.id} waits for that"
        )
    applied = apply(
        graph,
        Assertion(
            stage.id,
            command.status,
            command.actor,
            ctx.now,
            origin.platform,
            origin.message_id,
            evidence,
        ),
    )
    keep_assertion(ctx, order.id, contract, applied, command.actor, origin)
    flag = (
        " (noted as out of order: an earlier stage is not done yet)" if applied.out_of_order else ""
    )
    share = progress(applied.graph).overall
    complete = command.status == "done" and all(s.status == "done" for s in applied.graph)
    ctx.outcome(
        command.actor,
        f"Order {order.id}: {stage.id} {stage.kind} {_word(command.status)}{flag}. "
        + (
            f"Order {order.id} is complete. Thank you all!"
            if complete
            else f"{share.percent}% of the stages are done."
        ),
        order.id,
        kind="completed" if complete else "noted",
    )
    for waiting in applied.unblocked:
        agreed = decided.get(waiting.owner) == Decision.AGREED
        if waiting.owner and waiting.owner != command.actor and agreed:
            ctx.tell(
                waiting.owner,
                "unblocked",
                f"Order {order.id}: {waiting.id} {waiting.kind} "
                f"of {waiting.quantity} × {waiting.item} can start now. "
                f"/done {order.id} {waiting.id} when it is done.",
                order.id,
            )
    if command.status == "failed":
        _after_failure(ctx, order, contract, applied.graph, stage, evidence)
    elif complete:
        _finish(ctx, order, contract, command.actor)
    return applied.graph[stage.id].status


def keep_assertion(
    ctx: Context,
    order_id: int,
    contract: Contract,
    applied: Applied,
    actor: str | None,
    origin: Origin | None = None,
) -> None:
    """Store an applied assertion: its stage's row takes the new status, the assertion is kept
    with the message it came in (one made up from its platform and time when it has none), and
    the order's history says it. `actor` is whom the history names."""
    said = applied.assertion
    row = ctx.session.exec(
        select(StageRow).where(StageRow.contract_id == contract.id, StageRow.code == said.stage)
    ).one()
    row.status, row.updated_at = applied.graph[said.stage].status, ctx.now
    ctx.session.add(row)
    ctx.session.add(
        AssertionRow(
            stage_id=row.id,
            participant_id=said.by,
            status=said.status,
            at=said.at,
            platform=said.platform,
            message_id=said.message_id or f"{said.platform}:{said.at.isoformat()}",
            evidence=said.evidence,
            out_of_order=applied.out_of_order,
        )
    )
    ctx.record(
        "stage_asserted",
        {
            "contract": contract.id,
            "stage": said.stage,
            "status": said.status,
            "evidence": said.evidence,
            "out_of_order": applied.out_of_order,
        },
        order_id,
        actor,
        origin,
    )


def _finish(ctx: Context, order: OrderRow, contract: Contract, actor: str | None) -> None:
    """Its last stage done, the order is complete: its contract and it close, and every party
    is thanked (the one whose assertion finished it was told already)."""
    move_contract(contract, ContractStatus.COMPLETED, ctx)
    ctx.record("completed", {"contract": contract.id}, order.id, actor)
    move(ctx, order, OrderStatus.COMPLETED, "delivered and accepted", actor)
    for party in sorted({order.buyer_id, *lifecycle.plan_participants(plan_tree(ctx, contract))}):
        if party == actor and ctx.told_outcome(actor):
            continue  # the answer to their own command said it already
        text = f"Order {order.id} is complete. Thank you all!"
        ctx.tell(party, "completed", text, order.id, outcome=party == actor)


def _after_failure(ctx, order, contract, graph, stage, reason: str) -> None:
    """Error analysis, then re-plan the sub-trees under the root causes without their sources."""
    causes = root_causes(graph)
    ctx.record(
        "error_analysis", {"contract": contract.id, "root_causes": [c.id for c in causes]}, order.id
    )
    plan = plan_of(ctx, contract)
    paths = list(affected_nodes(graph, [c.id for c in causes]))
    avoid = {c.source for c in causes}
    cause = f"{stage.id} {stage.kind} of {stage.item} failed: {reason}"
    replan(ctx, order, contract, plan, paths, avoid, cause)


def _seen(ctx: Context, platform: str, message_id: str) -> bool:
    return (
        ctx.session.exec(
            select(AssertionRow.id).where(
                AssertionRow.platform == platform, AssertionRow.message_id == message_id
            )
        ).first()
        is not None
    )


def _word(status: str) -> str:
    return {"done": "is done", "failed": "failed", "reset": "is pending again"}[status]
