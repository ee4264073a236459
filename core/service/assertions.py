"""Update U: a person asserts a stage done, failed or reset; the plan reacts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Row, bindparam, select, update

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
from core.stages.graph import Stage, StageError, StageGraph
from core.stages.progress import affected_nodes, progress, root_causes
from core.stages.update import Applied, Assertion, apply, may_assert
from core.store.inserts import insert_new_values
from core.store.tables import AssertionRow, Contract, OrderRow, StageRow


def assert_stage(command: AssertStage, ctx: Context) -> str:
    # The order, the asserter and the contract are read as Core rows: the common assertion
    # changes none of them, and the ORM's objects cost more CPU than the reads. Finishing the
    # order or re-planning after a failure loads the objects it changes (`_objects`).
    order = records.locked_order_row(ctx.session, command.order_id, command.actor)
    origin = command.origin
    try:
        checked = _checked(command, ctx, order)
    except Refused:
        # The same message again may be refused now (its stage moved on, its order complete):
        # a redelivered message changes nothing twice, and is not refused either.
        if origin.message_id is not None and _seen(ctx, origin.platform, origin.message_id):
            return "already applied"
        raise
    contract_id, stage, evidence = checked.contract_id, checked.stage, checked.evidence
    applied = apply(
        checked.graph,
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
    kept = keep_assertion(
        ctx,
        order.id,
        contract_id,
        applied,
        command.actor,
        origin,
        command.picture,
        checked.stage_id,
    )
    if kept is None:
        return "already applied"  # a redelivered message changes nothing twice
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
    for waiting in applied.unblocked:
        agreed = checked.decided.get(waiting.owner) == Decision.AGREED
        if waiting.owner and waiting.owner != command.actor and agreed:
            item = ctx.network().item_name(waiting.item)
            unblocked = StageUnblocked(order.id, waiting.id, waiting.kind, waiting.quantity, item)
            ctx.notify(waiting.owner, unblocked, order.id)
    if command.picture is not None:
        photos.bind(ctx.session, command.picture, command.actor, kept)
        if order.buyer_id != command.actor and command.status == "done":
            by = checked.actor_name
            item = ctx.network().item_name(stage.item)
            proof = StageProved(
                order.id, stage.id, stage.kind, stage.quantity, item, by, command.picture
            )
            ctx.notify(order.buyer_id, proof, order.id)
    if command.status == "failed":
        order_row, contract = _objects(ctx, order, contract_id)
        _after_failure(ctx, order_row, contract, applied.graph, stage, evidence)
    elif complete:
        order_row, contract = _objects(ctx, order, contract_id)
        _finish(ctx, order_row, contract, command.actor)
    return applied.graph[stage.id].status


def _objects(ctx: Context, order: Row, contract_id: int) -> tuple[OrderRow, Contract]:
    """The ORM objects of the order (locked already) and its contract, for a change of them."""
    return ctx.session.get(OrderRow, order.id), ctx.session.get(Contract, contract_id)


@dataclass(frozen=True)
class Checked:
    """What an assertion that may be made was checked against, for carrying it out."""

    actor_name: str
    contract_id: int  # the live contract's
    graph: StageGraph
    stage: Stage
    stage_id: int  # its row's, read with the graph
    evidence: str
    decided: dict[str, str]  # the stage owners' decisions, by owner


def _checked(command: AssertStage, ctx: Context, order: Row) -> Checked:
    """Refuses an assertion that may not be made now, and says why (`order`: as
    records.locked_order_row reads it, with the asserter)."""
    if order.actor_id is None:
        records.known_participant(None, command.actor)  # refused: nobody by that id
    contract, rows = lifecycle.live_contract_and_stages(ctx.session, order.id)
    if contract is None or contract.contract_status != "agreed":
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
    graph = records.graph_of(rows)
    coordinator = "coordinator" in order.actor_roles
    try:
        allowed = may_assert(graph, command.stage, command.actor, coordinator)
    except StageError as unknown:
        raise Refused(str(unknown)) from unknown
    stage = graph.resolve(command.stage)
    if not allowed:
        owner = ctx.network().participant_name(stage.owner)
        raise Refused(
            f"stage {stage.id} belongs to {owner}; only they or a coordinator may assert it"
        )
    decided = {r.owner_id: r.owner_decision for r in rows if r.owner_decision is not None}
    if command.status == "done" and stage.owner and decided.get(stage.owner) != Decision.AGREED:
        if stage.owner == command.actor:
            raise Refused(
                f"agree to your part of order {order.id} first; then {stage.id} can be done",
                next=(Next(Agree, (order.id,)),),
            )
        owner = ctx.network().participant_name(stage.owner)
        raise Refused(
            f"{owner} has not agreed to their part of order {order.id} yet; "
            f"{stage.id} waits for that"
        )
    stage_id = next(r.id for r in rows if r.code == stage.id)
    return Checked(
        order.actor_name, contract.contract_id, graph, stage, stage_id, evidence, decided
    )


def keep_assertion(
    ctx: Context,
    order_id: int,
    contract_id: int,
    applied: Applied,
    actor: str | None,
    origin: Origin | None = None,
    picture: int | None = None,
    stage_id: int | None = None,
) -> int | None:
    """Store an applied assertion: the assertion is kept with the message it came in (one made
    up from its platform and time when it has none), its stage's row (`stage_id`, when the
    caller has it) takes the new status, and the order's history says it. `actor` is whom the
    history names; `picture` a kept photo among its evidence (bound by the caller). The kept
    assertion's id; None, and nothing written, when that message's assertion is kept already."""
    said = applied.assertion
    if stage_id is None:
        stage_id = ctx.session.execute(
            _STAGE_ID, {"contract": contract_id, "code": said.stage}
        ).scalar_one()
    assertion = {
        "stage_id": stage_id,
        "participant_id": said.by,
        "status": said.status,
        "at": said.at,
        "platform": said.platform,
        "message_id": said.message_id or f"{said.platform}:{said.at.isoformat()}",
        "evidence": said.evidence,
        "out_of_order": applied.out_of_order,
    }
    kept = insert_new_values(ctx.session, _ASSERTIONS, assertion, "platform", "message_id")
    if kept is None:
        return None
    status = applied.graph[said.stage].status
    ctx.session.execute(_STAGE_STATUS, {"stage": stage_id, "status_": status, "at": ctx.now})
    data = {
        "contract": contract_id,
        "stage": said.stage,
        "status": said.status,
        "evidence": said.evidence,
        "out_of_order": applied.out_of_order,
    }
    if picture is not None:
        data["picture"] = picture
    ctx.record("stage_asserted", data, order_id, actor, origin)
    return kept


# Built once (building a statement costs more CPU than running it); SQLAlchemy Core: the stage
# rows an assertion reads are Core rows (records.live_stage_rows).
_STAGES = StageRow.__table__
_ASSERTIONS = AssertionRow.__table__
_STAGE_ID = select(_STAGES.c.id).where(
    _STAGES.c.contract_id == bindparam("contract"), _STAGES.c.code == bindparam("code")
)
_STAGE_STATUS = (
    update(_STAGES)
    .where(_STAGES.c.id == bindparam("stage"))
    .values(status=bindparam("status_"), updated_at=bindparam("at"))
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
