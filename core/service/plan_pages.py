"""An order's plans a page at a time (`/plans ORDER N`): every plan there is, not only the few
offered. The newest batch is woven again, lazily, as it was woven — over the network version it
names, without what was out of service then, ranked with the history known then — and trusted
only when its best plans are the ones the batch stored; otherwise the stored plans are all
there is to page through. A plan found so is stored in the batch when it is chosen
(`later_plan`), so any plan shown can be chosen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.service import capacity, lifecycle, records
from core.service.bus import Context, without_disrupted
from core.service.listings import plan_count
from core.service.notices import Next, View
from core.service.notices.plans import PlanLine
from core.service.results import Refused
from core.service.risk import failure_history
from core.service.weaving import described, order_weave, plan_line, row_line, stored
from core.store.tables import Disruption, OrderRow, PlanRow
from core.weave import Demand, Weave, WeaveError
from core.weave.plan_document import node_document
from core.weave.sources import SupplyIndex

PLANS_PER_PAGE = 5


@dataclass(frozen=True)
class PlanPage:
    order_id: int
    buyer: str
    status: str  # the order's
    page: int
    pages: int
    plan_count: int | None  # every way there is, when known
    plans: list[PlanLine]
    chosen: int | None  # the rank under way, when it is on this batch

    @property
    def choosable(self) -> bool:
        return self.status == "open" and self.chosen is None and bool(self.plans)


def plan_page(services, session: Session, order_id: int, page: int = 1) -> PlanPage:
    """One page of the order's plans, best first: the newest batch and, woven again, the plans
    after it."""
    order = records.order(session, order_id)
    batch = newest_batch(session, order_id)
    again = _woven_again(services, session, order, batch)
    total = again[0].count() if again else len(batch)
    pages = max(1, -(-total // PLANS_PER_PAGE))
    if page < 1 or page > pages:
        raise Refused(f"order {order_id} has {pages:,} page{'s' if pages > 1 else ''} of plans")
    ranks = range((page - 1) * PLANS_PER_PAGE + 1, min(total, page * PLANS_PER_PAGE) + 1)
    by_rank = {row.rank: row for row in batch}
    network = services.network_at(session, batch[0].network_version) if batch else None
    index = SupplyIndex(network) if network is not None else None  # one for the whole page
    lines = []
    for rank in ranks:
        if rank in by_rank:
            lines.append(row_line(network, by_rank[rank], index))
        elif again is not None:
            weave, learned = again
            plan = weave.plan(rank)
            if plan is not None:
                lines.append(
                    plan_line(
                        network,
                        described(weave.network, learned, plan, order.buyer_id),
                        since=min(batch, key=lambda r: r.id).created_at,
                    )
                )
    contract = lifecycle.live_contract(session, order_id)
    chosen = next((r.rank for r in batch if contract and r.id == contract.plan_id), None)
    return PlanPage(
        order_id=order.id,
        buyer=order.buyer_id,
        status=order.status,
        page=page,
        pages=pages,
        plan_count=again[0].count() if again else plan_count(session, order_id),
        plans=lines,
        chosen=chosen,
    )


def later_plan(services, session: Session, order_id: int, rank: int, at: datetime):
    """The plan of `rank` of the newest batch, woven again and stored in the batch; None when
    there is no such plan or the batch cannot be woven again as it was."""
    order = records.order(session, order_id)
    batch = newest_batch(session, order_id)
    again = _woven_again(services, session, order, batch)
    if again is None:
        return None
    weave, learned = again
    plan = weave.plan(rank)
    if plan is None:
        return None
    shown = described(weave.network, learned, plan, order.buyer_id)
    row = stored(order_id, batch[0].batch, batch[0].network_version, shown, at)
    session.add(row)
    session.flush()
    return row


def newest_batch(session: Session, order_id: int) -> list[PlanRow]:
    rows = records.plans(session, order_id)
    newest = max((r.batch for r in rows), default=0)
    return sorted((r for r in rows if r.batch == newest), key=lambda r: r.rank)


def _woven_again(
    services, session: Session, order: OrderRow, batch: list[PlanRow]
) -> tuple[Weave, object] | None:
    """The weave that gave `batch`, made again; None when it no longer gives the same plans."""
    if not batch:
        return None
    first = min(batch, key=lambda r: r.id)
    when = first.created_at
    network = services.network_at(session, first.network_version)
    down = session.exec(select(Disruption).where(Disruption.at <= when)).all()
    out = frozenset(
        (d.kind, d.resource_id) for d in down if d.restored_at is None or d.restored_at > when
    )
    demands = [Demand(line.item_id, line.quantity) for line in records.lines(session, order.id)]
    network = without_disrupted(network, out)
    try:
        weave, learned = order_weave(
            session,
            network,
            order,
            demands,
            failure_history(session, when),
            at=when,
            # What was left of every week then: the same sources skipped as in the first weave.
            limits=capacity.left_at(session, network, when),
        )
        for row in batch:
            plan = weave.plan(row.rank)
            if plan is None or [node_document(line) for line in plan.lines] != row.tree:
                return None
    except WeaveError:
        return None
    return weave, learned


def offered_plan(ctx: Context, order_id: int, rank: int) -> PlanRow:
    """The plan of `rank` in the newest batch: stored when it was offered, or found now by the
    same weave and stored in the batch, so that any plan `/plans` showed can be
    chosen."""
    rows = records.plans(ctx.session, order_id)
    newest = max((p.batch for p in rows), default=0)
    row = next((r for r in rows if r.batch == newest and r.rank == rank), None)
    if row is None and newest and rank > 0:
        row = later_plan(ctx.services, ctx.session, order_id, rank, ctx.now)
    if row is None:
        raise Refused(f"order {order_id} has no plan {rank}", next=(Next(View.PLANS, (order_id,)),))
    return row
