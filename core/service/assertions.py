"""Update U: a person asserts a stage done, failed or reset; the plan reacts."""

from __future__ import annotations

from sqlmodel import select

from core.service import evidence as photos
from core.service import lifecycle, records
from core.service.agreement import plan_of, plan_tree
from core.service.bus import Context, bounded
from core.service.commands import Agree, AssertStage
from core.service.lifecycle import ContractStatus, Decision, OrderStatus, move, move_contract
from core.service.notices import Next
from core.service.notices.stages import (
    OrderCompleted,
    StageAsserted,
    StageProved,
    StageUnblocked,
)
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
        raise Refused(f"say what went wrong with the stage of order {order.id}")
    if command.picture is not None and not photos.usable(
        ctx.session, command.picture, command.actor
    ):
        raise Refused("that photo is not one you sent, or proves another stage; send it again")
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
                f"agree to your part of order {order.id} first; then {stage.id} can be done",
                next=(Next(Agree, (order.id,)),),
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
    kept = keep_assertion(ctx, order.id, contract, applied, command.actor, origin, command.picture)
    share = progress(applied.graph).overall
    complete = command.status == "done" and all(s.status == "done" for s in applied.graph)
    said = StageAsserted(
        order.id,
        stage.id,
        stage.kind,
        command.status,
        applied.out_of_order,
        share.percent,
        complete,
        photo=command.picture is not None,
    )
    ctx.notify(command.actor, said, order.id, outcome=True)
    network = ctx.network()
    for waiting in applied.unblocked:
        agreed = decided.get(waiting.owner) == Decision.AGREED
        if waiting.owner and waiting.owner != command.actor and agreed:
            item = network.item_name(waiting.item)
            unblocked = StageUnblocked(order.id, waiting.id, waiting.kind, waiting.quantity, item)
            ctx.notify(waiting.owner, unblocked, order.id)
    if command.picture is not None:
        photos.bind(ctx.session, command.picture, command.actor, kept.id)
        if order.buyer_id != command.actor and command.status == "done":
            by = records.participant(ctx.session, command.actor).name
            item = network.item_name(stage.item)
            proof = StageProved(
                order.id, stage.id, stage.kind, stage.quantity, item, by, command.picture
            )
            ctx.notify(order.buyer_id, proof, order.id)
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
    picture: int | None = None,
) -> AssertionRow:
    """Store an applied assertion: its stage's row takes the new status, the assertion is kept
    with the message it came in (one made up from its platform and time when it has none), and
    the order's history says it. `actor` is whom the history names; `picture` a kept photo
    among its evidence (bound by the caller)."""
    said = applied.assertion
    row = ctx.session.exec(
        select(StageRow).where(StageRow.contract_id == contract.id, StageRow.code == said.stage)
    ).one()
    row.status, row.updated_at = applied.graph[said.stage].status, ctx.now
    ctx.session.add(row)
    kept = AssertionRow(
        stage_id=row.id,
        participant_id=said.by,
        status=said.status,
        at=said.at,
        platform=said.platform,
        message_id=said.message_id or f"{said.platform}:{said.at.isoformat()}",
        evidence=said.evidence,
        out_of_order=applied.out_of_order,
    )
    ctx.session.add(kept)
    if picture is not None:
        ctx.session.flush()  # its id binds the photo that proves it
    data = {
        "contract": contract.id,
        "stage": said.stage,
        "status": said.status,
        "evidence": said.evidence,
        "out_of_order": applied.out_of_order,
    }
    if picture is not None:
        data["picture"] = picture
    ctx.record("stage_asserted", data, order_id, actor, origin)
    return kept


def _finish(ctx: Context, order: OrderRow, contract: Contract, actor: str | None) -> None:
    """Its last stage done, the order is complete: its contract and it close, and every party
    is thanked (the one whose assertion finished it was told already)."""
    move_contract(contract, ContractStatus.COMPLETED, ctx)
    ctx.record("completed", {"contract": contract.id}, order.id, actor)
    move(ctx, order, OrderStatus.COMPLETED, "delivered and accepted", actor)
    for party in sorted({order.buyer_id, *lifecycle.plan_participants(plan_tree(ctx, contract))}):
        if party == actor and ctx.told_outcome(actor):
            continue  # the answer to their own command said it already
        ctx.notify(party, OrderCompleted(order.id), order.id, outcome=party == actor)


def _after_failure(ctx, order, contract, graph, stage, reason: str) -> None:
    """Error analysis, then re-plan the sub-trees under the root causes without their sources."""
    causes = root_causes(graph)
    ctx.record(
        "error_analysis", {"contract": contract.id, "root_causes": [c.id for c in causes]}, order.id
    )
    plan = plan_of(ctx, contract)
    paths = list(affected_nodes(graph, [c.id for c in causes]))
    avoid = {c.source for c in causes}
    item = ctx.network().item_name(stage.item)
    cause = f"{stage.id} {stage.kind} of {item} failed: {reason}"
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
