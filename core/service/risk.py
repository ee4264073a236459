"""The risk of an order (ARCHITECTURE.md, Risk), from what the network declares and what its people
have done: the chance its plan fails and at which stages, its single points of failure, how many
separate routes supply each line, how local it is, and which of its stages are late.

Learned reliability reads every stage ever asserted done or failed, per owner and kind. Plans
and frames show the failure chance and the local share beside the price (`plan_outlook`);
`/risk ORDER` shows the rest (`order_risk`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from core.network.model import Network
from core.risk.bottlenecks import name as resource_name
from core.risk.bottlenecks import separable_paths, single_points_of_failure, supply_graph
from core.risk.locality import Locality, locality
from core.risk.reliability import History, Reliability
from core.service import lifecycle, records
from core.service.lateness import overdue
from core.service.results import Refused
from core.store.tables import AssertionRow, PlanRow, StageRow
from core.weave.plan import Demand, Plan

RADIUS_KM = 50.0  # "local": within a day's round trip by van of the buyer
RISKIEST = 5  # stages named in /risk; the picture shows a few more
PICTURED = 12


def failure_history(session: Session, until: datetime | None = None) -> History:
    """(owner, stage kind) → (failed, total) over every stage anyone has asserted done or failed.

    Read from the assertions, which are never deleted (a re-plan supersedes the stages it
    replaces, failed ones included). A stage once asserted failed counts as a failure even if it
    was reset and done later: its owner did fail it once. A disruption fails the stages of what
    it stops, whoever owns them: those count against their owner only when the owner said so
    (a maker whose shop flooded), not against the carrier and the receiver of its goods, who
    failed nothing. `until`: only what was asserted by then (the history a batch of plans was
    ranked with).
    """
    # Counted by the database: this runs with every weave and every frame, and the assertions
    # only grow. One row per stage asserted (1 when it was ever failed), then one per owner/kind.
    asserted = [
        AssertionRow.status.in_(("done", "failed")),
        or_(
            AssertionRow.platform != records.SIGNALLED,
            AssertionRow.participant_id == StageRow.owner_id,
        ),
    ]
    if until is not None:
        asserted.append(AssertionRow.at <= until)
    per_stage = (
        select(
            AssertionRow.stage_id,
            func.max(case((AssertionRow.status == "failed", 1), else_=0)).label("failed"),
        )
        .join(StageRow, StageRow.id == AssertionRow.stage_id)
        .where(*asserted)
        .group_by(AssertionRow.stage_id)
        .subquery()
    )
    rows = session.exec(
        select(StageRow.owner_id, StageRow.kind, func.sum(per_stage.c.failed), func.count())
        .join(per_stage, per_stage.c.stage_id == StageRow.id)
        .where(StageRow.owner_id.is_not(None))
        .group_by(StageRow.owner_id, StageRow.kind)
    )
    return {(owner, kind): (int(failed), int(total)) for owner, kind, failed, total in rows}


def reliability(session: Session, network: Network) -> Reliability:
    return Reliability(network, failure_history(session))


def plan_outlook(network: Network, learned: Reliability, plan: Plan, buyer: str) -> dict:
    """What is shown beside a plan's price: its chance of failing, its riskiest stage (kind,
    names of the item and the owner, chance) and how local it is."""
    person = network.participants.get(buyer)
    near = locality(network, plan, person.location if person else None, RADIUS_KM)
    risk = learned.plan_risk(plan, buyer)
    outlook = {
        "failure": risk.failure,
        "local_mass": near.mass_share,
        "radius_km": RADIUS_KM,
    }
    if risk.stages:
        top = risk.stages[0]
        outlook["riskiest"] = {
            "kind": top.stage.kind,
            "item": _name(network.items, top.stage.item),
            "owner": _name(network.participants, top.stage.owner),
            "failure": top.failure,
        }
    return outlook


@dataclass(frozen=True)
class RiskyStage:
    stage: str
    kind: str
    item: str  # the item's name
    owner: str  # the owner's name
    failure: float


@dataclass(frozen=True)
class SupplyRoutes:
    item: str  # the item's name
    count: int  # node-disjoint supply paths
    cut: tuple[str, ...]  # names of a smallest set of nodes whose loss leaves none


@dataclass(frozen=True)
class OrderRisk:
    order_id: int
    under_way: bool  # figures are of the stages left, not of the whole plan
    rank: int  # the plan they are of
    stages: int  # how many stages they cover
    failure: float
    riskiest: tuple[RiskyStage, ...]  # riskiest first
    single_points: tuple[str, ...]
    routes: tuple[SupplyRoutes, ...]  # one per order line
    locality: Locality | None
    # Pending stages past their due date (core/stages/schedule.py), by id: "2 stages late".
    late: tuple[str, ...] = ()


def order_risk(services, session: Session, order_id: int) -> OrderRisk:
    """The risk of the order's plan under way, else of its best plan offered."""
    order = records.order(session, order_id)
    network = services.current_network(session)
    learned = reliability(session, network)
    contract = lifecycle.live_contract(session, order_id)
    row = _plan_row(session, order_id, contract)
    plan = records.rebuild_plan(services.network_at(session, row.network_version), row)
    late: tuple[str, ...] = ()
    if contract is not None:  # what is done cannot fail any more
        left = [s for s in records.stage_graph(session, contract.id) if s.status != "done"]
        chances = [(s, learned.p(s.owner, s.kind)) for s in left]
        late = _late_stages(session, contract.id, services.clock())
    else:
        chances = [(r.stage, r.failure) for r in learned.plan_risk(plan, order.buyer_id).stages]
    survival = 1.0
    for _, p in chances:
        survival *= 1.0 - p
    chances.sort(key=lambda pair: -pair[1])
    demands = [Demand(line.item_id, line.quantity) for line in records.lines(session, order_id)]
    single = single_points_of_failure(network, demands, order.criteria).order
    buyer = network.participants.get(order.buyer_id)
    return OrderRisk(
        order_id=order_id,
        under_way=contract is not None,
        rank=row.rank,
        stages=len(chances),
        failure=1.0 - survival,
        riskiest=tuple(
            RiskyStage(
                s.id,
                s.kind,
                _name(network.items, s.item),
                _name(network.participants, s.owner),
                p,
            )
            for s, p in chances[:PICTURED]
        ),
        single_points=tuple(r.name for r in single.resources),
        routes=tuple(_routes(network, d.item, order.criteria) for d in demands),
        locality=locality(network, plan, buyer.location if buyer else None, RADIUS_KM),
        late=late,
    )


def _late_stages(session: Session, contract_id: int, now: datetime) -> tuple[str, ...]:
    """The contract's pending stages whose due day is over (`lateness.overdue`), told or
    not yet."""
    rows = session.exec(
        select(StageRow.code)
        .where(
            StageRow.contract_id == contract_id,
            StageRow.status == "pending",
            StageRow.due_at.is_not(None),
            StageRow.due_at <= overdue(now),
        )
        .order_by(StageRow.id)
    )
    return tuple(rows)


def risk_picture(found: OrderRisk) -> bytes:
    """The riskiest stages as bars; those of a single point of failure stand out."""
    from core.risk.plots import stage_risk_png  # matplotlib loads only when a picture is asked

    labelled = [(f"{s.stage} {s.kind} {s.item} — {s.owner}", s.failure) for s in found.riskiest]
    alone = {
        label
        for (label, _), s in zip(labelled, found.riskiest, strict=True)
        if s.owner in found.single_points
    }
    what = "the stages left" if found.under_way else f"plan {found.rank}"
    title = f"Order {found.order_id}: {percent(found.failure)} chance {what} fails somewhere"
    return stage_risk_png(title, labelled, highlight=alone)


def _plan_row(session: Session, order_id: int, contract) -> PlanRow:
    """The plan under way, else the best of the newest plans offered."""
    if contract is not None:
        return session.get(PlanRow, contract.plan_id)
    rows = records.plans(session, order_id)
    newest = max((r.batch for r in rows), default=0)
    row = min((r for r in rows if r.batch == newest), key=lambda r: r.rank, default=None)
    if row is None:
        raise Refused(f"order {order_id} has no plan yet")
    return row


def _routes(network: Network, item_id: str, criteria) -> SupplyRoutes:
    found = separable_paths(supply_graph(network, item_id, criteria), item_id)
    cut = tuple(resource_name(network, kind, node_id) for kind, node_id in found.cut)
    return SupplyRoutes(resource_name(network, "item", item_id), found.count, cut)


def _name(records_by_id, record_id: str | None) -> str:
    record = records_by_id.get(record_id) if record_id else None
    if record is None:
        return record_id or "nobody yet"
    return getattr(record, "name", None) or record.id


def percent(share: float) -> str:
    if 0 < share < 0.005:
        return "<1 %"
    return f"{share:.0%}".replace("%", " %")
