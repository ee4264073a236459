"""Update U: a person asserts a stage done, failed or reset; the plan reacts."""

from __future__ import annotations

from sqlmodel import select

from core.service import lifecycle, records
from core.service.bus import Context, bounded, handles
from core.service.commands import AssertStage
from core.service.lifecycle import Decision
from core.service.orders import finish, plan_of
from core.service.replan import replan
from core.service.results import Refused
from core.stages.graph import StageError
from core.stages.progress import affected_nodes, progress, root_causes
from core.stages.update import Assertion, apply, may_assert
from core.store.tables import AssertionRow, StageRow


@handles(AssertStage)
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
    row = ctx.session.exec(
        select(StageRow).where(StageRow.contract_id == contract.id, StageRow.code == stage.id)
    ).one()
    row.status, row.updated_at = applied.graph[stage.id].status, ctx.now
    ctx.session.add(row)
    ctx.session.add(
        AssertionRow(
            stage_id=row.id,
            participant_id=command.actor,
            status=command.status,
            at=ctx.now,
            platform=origin.platform,
            message_id=origin.message_id or f"{origin.platform}:{ctx.now.isoformat()}",
            evidence=evidence,
            out_of_order=applied.out_of_order,
        )
    )
    ctx.record(
        "stage_asserted",
        {
            "contract": contract.id,
            "stage": stage.id,
            "status": command.status,
            "evidence": evidence,
            "out_of_order": applied.out_of_order,
        },
        order.id,
        command.actor,
        origin,
    )
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
        finish(ctx, order, contract, command.actor)
    return applied.graph[stage.id].status


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
