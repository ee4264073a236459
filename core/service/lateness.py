"""Stages running late: the sweeper's check (workers/actors.py) tells each late stage's owner
and the order's buyer once, with the slack left (ARCHITECTURE.md, Logistics and time).

A stage is late when it is pending, its order is under way and the day it was due
(core/stages/schedule.py, set when the stages were made) is over (`overdue`): people are
promised days — a supplier that ships the same day is not late a minute after agreeing, at the
time the plan counted; it is told when its owner
can work on it (what it waits for is done), so a stuck step is one message, not one per stage
behind it. Each is told exactly once:
a conditional UPDATE … WHERE late_told_at IS NULL claims it, so of two sweepers running at the
same moment one claims it and the other finds it claimed. A stage done late was told when it
became late, if at all, and never again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import select, update

from core.service import records
from core.service.agreement import plan_of
from core.service.bus import Context
from core.service.commands import AssertStage
from core.service.lifecycle import ContractStatus, OrderStatus
from core.service.notices import Next, View
from core.service.notices.stages import StageLate
from core.stages.graph import StageGraph
from core.stages.schedule import end_of_day, schedule
from core.store.tables import Contract, OrderRow, StageRow


@dataclass(frozen=True)
class TellLateStages:
    """Tell whoever owes a late stage, and the buyer, that it is late (the sweeper's tick)."""


def late_stages_query(now):
    """The ids of the stages late at `now` and not yet told: what the sweeper looks for."""
    return select(StageRow.id).where(*_late(now)).order_by(StageRow.id)


def overdue(now: datetime) -> datetime:
    """A due date at or before this moment is past: the start of `now`'s day (a stage due by
    midnight was due the day before)."""
    return datetime.combine(now.date(), time())


def _late(now) -> tuple:
    under_way = (
        select(Contract.id)
        .join(OrderRow, OrderRow.id == Contract.order_id)
        .where(
            Contract.status == ContractStatus.AGREED.value,
            OrderRow.status == OrderStatus.IN_PROGRESS.value,
        )
    )
    return (
        StageRow.status == "pending",
        StageRow.due_at.is_not(None),
        StageRow.due_at <= overdue(now),
        StageRow.late_told_at.is_(None),
        StageRow.contract_id.in_(under_way),
    )


def tell_late_stages(command: TellLateStages, ctx: Context) -> list[tuple[int, str]]:
    """Claim every late stage not yet told whose owner can work on it now, and tell its owner
    and the buyer; returns (order, stage) of each told."""
    now = ctx.now
    late = ctx.session.exec(select(StageRow).where(*_late(now)).order_by(StageRow.id)).all()
    by_contract: dict[int, list[StageRow]] = {}
    for row in late:
        by_contract.setdefault(row.contract_id, []).append(row)
    # Only the stage that holds the order up is told: the late stages waiting behind it are
    # told when their turn comes, if they are late still — one message per stuck step, not one
    # per stage downstream of it.
    graphs = {c: records.stage_graph(ctx.session, c) for c in by_contract}
    ready = [r.id for c, rows in by_contract.items() for r in rows if graphs[c].ready(r.code)]
    if not ready:
        return []
    # A conditional UPDATE claims them: a second sweeper's waits for this one's row locks, then
    # finds late_told_at set and claims none of them.
    claimed = {
        row_id
        for (row_id,) in ctx.session.exec(
            update(StageRow)
            .where(StageRow.id.in_(ready), *_late(now))
            .values(late_told_at=now)
            .returning(StageRow.id)
            .execution_options(synchronize_session=False)
        )
    }
    told: list[tuple[int, str]] = []
    for contract_id, rows in by_contract.items():
        mine = [r for r in rows if r.id in claimed]
        if not mine:
            continue
        contract = ctx.session.get(Contract, contract_id)
        order = ctx.session.get(OrderRow, contract.order_id)
        told += _tell(ctx, order, contract, graphs[contract_id], mine, now)
    return told


def _tell(
    ctx: Context,
    order: OrderRow,
    contract: Contract,
    graph: StageGraph,
    late: list[StageRow],
    now: datetime,
) -> list[tuple[int, str]]:
    network = ctx.network()
    order_due_end = end_of_day(order.due)
    # What is left after each stage, by the plan's times (done stages take none): the start
    # does not matter for that, only the work still to do.
    times = schedule(plan_of(ctx, contract), graph, now, order_due_end)
    told = []
    for row in late:
        stage = graph[row.code]
        left = times.remaining_after(stage.id)
        done_by = None if order_due_end is None else order_due_end - timedelta(minutes=left)
        owner_name = network.participant_name(stage.owner) if stage.owner else ""
        common = dict(
            order_id=order.id,
            stage=stage.id,
            stage_kind=stage.kind,
            quantity=stage.quantity,
            item=network.item_name(stage.item),
            owner=owner_name,
            due=row.due_at,
            late_minutes=_minutes(now - row.due_at),
            order_due=None if order.due is None else order_due_end.date() - timedelta(days=1),
            done_by=done_by,
            # The slack: the order's due less now less the work still to do after this stage.
            slack_minutes=None if done_by is None else _minutes(done_by - now),
            arrives=now + timedelta(minutes=left),
            unknown=times.unknown_after(graph, stage.id),
        )
        if stage.owner is not None:
            done = Next(AssertStage, (order.id, stage.id), given=(("status", "done"),))
            notice = StageLate(**common, to_owner=True, next=(done,))
            ctx.notify(stage.owner, notice, order.id)
        if order.buyer_id != stage.owner:
            notice = StageLate(**common, to_owner=False, next=(Next(View.STAGES, (order.id,)),))
            ctx.notify(order.buyer_id, notice, order.id)
        ctx.record(
            "stage_late",
            {"stage": stage.id, "due": row.due_at.isoformat(), "owner": stage.owner},
            order.id,
        )
        told.append((order.id, stage.id))
    return told


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
