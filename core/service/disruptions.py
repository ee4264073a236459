"""Supply signals: a resource goes out of service or comes back; substitutions are decided."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from core.network.model import Network
from core.service import lifecycle, records
from core.service.bus import Context, bounded
from core.service.commands import AffectedOrders, AnalyseDisruption, Disrupt, Restore, Watch
from core.service.lifecycle import OrderStatus
from core.service.notices import Next, Notice
from core.service.notices.disruptions import (
    BackInService,
    DisruptionNoted,
    OutOfService,
    RestoreNoted,
    Watching,
)
from core.service.plan_paths import node_at, uses
from core.service.replan import replan
from core.service.replanning import Replanning
from core.service.results import Refused
from core.service.reweaving import reweave_order
from core.stages.graph import StageGraph
from core.stages.progress import affected_nodes, root_causes
from core.stages.update import NEW_STATUS, Assertion
from core.store.tables import (
    AssertionRow,
    Contract,
    Disruption,
    DisruptionEffect,
    OrderRow,
    PlanRow,
    StageRow,
    WatchRow,
)
from core.weave import SupplyIndex
from core.weave.plan import Plan, outermost
from core.weave.plan_document import node_document, source_label

MAX_BATCH = 1000  # orders one AnalyseDisruption may name


def disrupt(command: Disrupt, ctx: Context) -> int | list[int]:
    """The resource is out of service. With `analyse_now`, every live order using it is
    error-analysed and re-planned here and their ids returned; otherwise the disruption's id is
    returned for the workers (AffectedOrders, then AnalyseDisruption per batch of orders)."""
    whole = _whole_network(ctx)
    kind, operator = _resource(whole, command.resource)
    _may_signal(ctx, command.actor, operator, command.resource)
    reason = bounded(command.reason, "reason", 500)
    if not reason:
        raise Refused("say what happened", next=(Next(Disrupt, (command.resource, "REASON")),))
    if _active(ctx, command.resource) is not None:
        raise Refused(
            f"{command.resource} is already out of service; restore it when it is back",
            next=(Next(Restore, (command.resource,)),),
        )
    disruption = Disruption(
        kind=kind, resource_id=command.resource, reason=reason, actor=command.actor, at=ctx.now
    )
    ctx.session.add(disruption)
    ctx.session.flush()
    ctx.forget_network()
    ctx.record(
        "disrupted",
        {"disruption": disruption.id, "kind": kind, "resource": command.resource, "reason": reason},
        actor=command.actor,
        origin=command.origin,
    )
    name = resource_name(whole, command.resource)
    alert = OutOfService(command.resource, name, reason)
    _alert_watchers(ctx, whole, command.resource, kind, command.actor, alert)
    affected = _affected(ctx, disruption)
    noted = DisruptionNoted(command.resource, name, len(affected))
    ctx.notify(command.actor, noted, outcome=True)
    if not command.analyse_now:
        ctx.result.jobs.append(AffectedOrders(disruption.id))
        return disruption.id
    _replan_all(ctx, disruption, _locked(ctx, affected))
    disruption.analysed_at = ctx.now
    return affected


def watch(command: Watch, ctx: Context) -> str:
    records.participant(ctx.session, command.actor)
    whole = _whole_network(ctx)
    item = whole.find_item(bounded(command.target, "what to watch", 200))
    target = item.id if item is not None else command.target
    if item is None:
        _resource(whole, target)  # refuses what is neither an item nor a resource
    exists = ctx.session.exec(
        select(WatchRow.id).where(
            WatchRow.participant_id == command.actor, WatchRow.target == target
        )
    ).first()
    if exists is None:
        ctx.session.add(WatchRow(participant_id=command.actor, target=target, created_at=ctx.now))
        ctx.record("watching", {"target": target}, actor=command.actor, origin=command.origin)
    named = whole.item_name(target) if item is not None else resource_name(whole, target)
    ctx.notify(command.actor, Watching(target, named), outcome=True)
    return target


def _alert_watchers(
    ctx: Context, network: Network, resource: str, kind: str, actor: str | None, alert: Notice
) -> None:
    """Everyone watching the resource, or an item it provides, hears of the change."""
    targets = {resource, *_items_of(network, resource, kind)}
    watchers = ctx.session.exec(
        select(WatchRow.participant_id).where(WatchRow.target.in_(targets))
    ).all()
    for participant in sorted(set(watchers) - {actor}):
        ctx.notify(participant, alert)


def _items_of(network: Network, resource: str, kind: str) -> set[str]:
    if kind == "offer":
        return {network.offers[resource].item}
    if kind == "facility":
        facility = network.facilities[resource]
        return {d.makes for d in network.designs.values() if network.can_make(d, facility)}
    offered = {o.item for o in network.offers.values() if o.supplier == resource}
    run = [f for f in network.facilities.values() if f.operator == resource]
    made = {d.makes for d in network.designs.values() for f in run if network.can_make(d, f)}
    return offered | made


def affected_orders(command: AffectedOrders, ctx: Context) -> list[int]:
    """The live orders the disruption touches that are not analysed yet; none left marks the
    disruption analysed."""
    disruption = ctx.session.get(Disruption, command.disruption_id)
    if disruption is None:
        raise Refused(f"unknown disruption {command.disruption_id}")
    if disruption.analysed_at is not None or disruption.restored_at is not None:
        return []
    done = set(
        ctx.session.exec(
            select(DisruptionEffect.order_id).where(DisruptionEffect.disruption_id == disruption.id)
        )
    )
    waiting = [o for o in _affected(ctx, disruption) if o not in done]
    if not waiting:
        disruption.analysed_at = ctx.now
        ctx.session.add(disruption)
    return waiting


def analyse_disruption(command: AnalyseDisruption, ctx: Context) -> list[int]:
    """Analyse each order of the batch not handled for this disruption yet, in this unit of
    work, sharing what does not depend on the order; returns those (none is analysed once the
    resource is back in service). A batch handled again changes nothing twice."""
    disruption = ctx.session.get(Disruption, command.disruption_id)
    if disruption is None:
        raise Refused(f"unknown disruption {command.disruption_id}")
    orders = _locked(ctx, _batch(command.order_ids))
    handled = set(
        ctx.session.exec(
            select(DisruptionEffect.order_id).where(
                DisruptionEffect.disruption_id == disruption.id,
                DisruptionEffect.order_id.in_([o.id for o in orders]),
            )
        )
    )
    waiting = [o for o in orders if o.id not in handled]
    if disruption.restored_at is None:
        _replan_all(ctx, disruption, waiting)
    return [o.id for o in waiting]


def _replan_all(ctx: Context, disruption: Disruption, orders: list[OrderRow]) -> None:
    """Analyse each order, marked handled for the disruption (all of them in one INSERT),
    sharing what does not depend on the order."""
    if not orders:
        return
    ctx.session.execute(
        insert(DisruptionEffect.__table__),
        [{"disruption_id": disruption.id, "order_id": o.id, "at": ctx.now} for o in orders],
    )
    shared = Replanning(ctx)
    shared.read_ahead(orders)
    for order in orders:
        _analyse(ctx, disruption, order, shared)
    shared.settle()


def _batch(order_ids) -> list[int]:
    if not isinstance(order_ids, tuple | list) or not order_ids:
        raise Refused("name the orders to analyse")
    if len(order_ids) > MAX_BATCH:
        raise Refused(f"analyse at most {MAX_BATCH} orders at a time")
    for order_id in order_ids:
        if isinstance(order_id, bool) or not isinstance(order_id, int):
            raise Refused(f"unknown order {order_id!r}")
    return sorted(set(order_ids))


def _locked(ctx: Context, order_ids: list[int]) -> list[OrderRow]:
    """The orders, locked until commit in the order of their ids (two batches sharing orders
    never wait on each other in a circle), so that no other handler changes them meanwhile."""
    if not order_ids:
        return []
    orders = list(
        ctx.session.exec(
            select(OrderRow)
            .where(OrderRow.id.in_(order_ids))
            .order_by(OrderRow.id)
            .with_for_update()
        )
    )
    unknown = sorted(set(order_ids) - {o.id for o in orders})
    if unknown:
        raise Refused(f"unknown order {unknown[0]}")
    return orders


def _affected(ctx: Context, disruption: Disruption) -> list[int]:
    """Live orders whose plan still needs the resource (what it delivered already is in hand).
    Read for all live contracts at once: their plans, and which of them have a stage done
    (only those can have delivered something); alike plans are rebuilt once."""
    contracts = _live_contracts(ctx)
    if not contracts:
        return []
    trees = {
        row.id: row
        for row in ctx.session.execute(
            select(PlanRow.id, PlanRow.network_version, PlanRow.rank, PlanRow.tree).where(
                PlanRow.id.in_([c.plan_id for c in contracts])
            )
        )
    }
    started = set(
        ctx.session.exec(
            select(StageRow.contract_id)
            .where(StageRow.contract_id.in_([c.id for c in contracts]), StageRow.status == "done")
            .distinct()
        )
    )
    indexes: dict[int, SupplyIndex] = {}
    rebuilt: dict[tuple[int, int, str], Plan] = {}
    orders = []
    for contract in contracts:
        row = trees[contract.plan_id]
        key = (row.network_version, row.rank, json.dumps(row.tree, sort_keys=True))
        if key not in rebuilt:
            network = ctx.network_at(row.network_version)
            if row.network_version not in indexes:
                indexes[row.network_version] = SupplyIndex(network)
            index = indexes[row.network_version]
            rebuilt[key] = records.rebuild_tree(network, row.tree, row.rank, index)
        plan = rebuilt[key]
        if not _paths_using(plan, frozenset(), disruption.resource_id):
            continue
        delivered = frozenset()
        if contract.id in started:
            delivered = records.live_delivered(ctx.session, contract)
        if _paths_using(plan, delivered, disruption.resource_id):
            orders.append(contract.order_id)
    return orders


def _paths_using(plan, delivered: frozenset[str], resource: str) -> list[str]:
    return [
        path
        for path, node in plan.positioned()
        if uses(node, resource) and not records.within(path, delivered)
    ]


def _analyse(ctx: Context, disruption: Disruption, order: OrderRow, shared: Replanning) -> None:
    """Fail the order's stages that used the resource, name the root causes, re-plan."""
    contract = shared.live_contract(order.id)
    if contract is None:
        return
    plan = shared.plan(contract)
    rows = shared.live_stage_rows(contract.id)
    graph = records.graph_of(rows)
    paths = _paths_using(plan, records.delivered_paths(graph), disruption.resource_id)
    if not paths:
        return
    name = resource_name(shared.whole, disruption.resource_id)
    cause = f"{name} is out of service ({disruption.reason})"
    ctx.record(
        "disruption_affects",
        {"disruption": disruption.id, "resource": disruption.resource_id, "nodes": paths},
        order.id,
        disruption.actor,
    )
    stage_ids = {r.code: r.id for r in rows}
    graph = _fail_stages(ctx, order, contract, graph, stage_ids, paths, disruption, cause, shared)
    avoid = _sources(plan, paths)
    replan(ctx, order, contract, plan, outermost(paths), avoid, cause, graph=graph, shared=shared)


def restore(command: Restore, ctx: Context) -> None:
    whole = _whole_network(ctx)
    _, operator = _resource(whole, command.resource)
    _may_signal(ctx, command.actor, operator, command.resource)
    disruption = _active(ctx, command.resource)
    if disruption is None:
        raise Refused(f"{command.resource} is not out of service")
    disruption.restored_at = ctx.now
    ctx.session.add(disruption)
    ctx.forget_network()
    name = resource_name(whole, command.resource)
    ctx.record(
        "restored", {"resource": command.resource}, actor=command.actor, origin=command.origin
    )
    alert = BackInService(command.resource, name)
    _alert_watchers(ctx, whole, command.resource, disruption.kind, command.actor, alert)
    replanned = []
    for order in _waiting_orders(ctx):
        ctx.record("resource_restored", {"resource": command.resource}, order.id, command.actor)
        found = reweave_order(ctx, order, f"{name} is back in service")
        replanned.append((order.id, bool(found)))
    noted = RestoreNoted(command.resource, name, tuple(replanned))
    ctx.notify(command.actor, noted, outcome=True)


def _fail_stages(
    ctx: Context, order, contract: Contract, graph, stage_ids, paths, disruption, cause, shared
) -> StageGraph:
    """The stages of the disrupted nodes that were not done fail, asserted by the signaller;
    returns the live stages then. `stage_ids`: each stage's row, by its code; the rows are
    written when `shared` (the re-plans of the unit of work) is settled."""
    failing = [s for s in graph if s.node in paths and s.status != "done"]
    who = disruption.actor or "scis"
    said = [
        Assertion(
            stage.id,
            "failed",
            who,
            ctx.now,
            records.SIGNALLED,
            f"{disruption.id}:{contract.id}:{stage.id}",
            cause,
        )
        for stage in failing
    ]
    # What applying each in turn (core/stages/update.apply) leaves, in one graph: a failure
    # changes its own stage's status only.
    failed = {s.id for s in failing}
    if failed:
        graph = StageGraph(
            replace(s, status=NEW_STATUS["failed"]) if s.id in failed else s for s in graph
        )
    _keep_failures(ctx, order.id, contract, said, disruption.actor, stage_ids, shared)
    if failing:
        causes = root_causes(graph)
        ctx.record(
            "error_analysis",
            {
                "contract": contract.id,
                "root_causes": [c.id for c in causes],
                "nodes": list(affected_nodes(graph, [c.id for c in causes])),
            },
            order.id,
        )
    return graph


def _keep_failures(
    ctx: Context,
    order_id: int,
    contract: Contract,
    said: list[Assertion],
    actor,
    stage_ids,
    shared: Replanning,
) -> None:
    """keep_assertion (core/service/assertions.py) for the failures a disruption asserts on an
    order's stages, in one INSERT: the assertions kept (none twice: a message's assertion kept
    already is left alone, as there), their stages failed (written with the batch's stages,
    when `shared` is settled), each in the history. A failure is never out of order (only a
    stage done before what it waits for is)."""
    if not said:
        return
    rows = [
        {
            "stage_id": stage_ids[a.stage],
            "participant_id": a.by,
            "status": a.status,
            "at": a.at,
            "platform": a.platform,
            "message_id": a.message_id,
            "evidence": a.evidence,
            "out_of_order": False,
        }
        for a in said
    ]
    insert = _INSERT_ASSERTIONS[ctx.session.get_bind().dialect.name]
    with ctx.session.no_autoflush:  # the ORM's changes are flushed with the batch's (adopt)
        kept = set(ctx.session.execute(insert, rows).scalars())
    failed = [a for a in said if stage_ids[a.stage] in kept]
    if not failed:
        return
    shared.stages_failed(contract.id, [stage_ids[a.stage] for a in failed])
    for failure in failed:
        data = {
            "contract": contract.id,
            "stage": failure.stage,
            "status": failure.status,
            "evidence": failure.evidence,
            "out_of_order": False,
        }
        ctx.record("stage_asserted", data, order_id, actor)


# Built once (building a statement costs more CPU than running it): the failures' assertions,
# those kept already left out (INSERT … ON CONFLICT DO NOTHING), returning the stages of the
# new ones.
_ASSERTIONS = AssertionRow.__table__
_INSERT_ASSERTIONS = {
    dialect: insert(_ASSERTIONS)
    .on_conflict_do_nothing(index_elements=["platform", "message_id"])
    .returning(_ASSERTIONS.c.stage_id)
    for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def _sources(plan, paths: list[str]) -> set[str]:
    return {source_label(node_document(node_at(plan, p))["source"]) for p in paths}


def _waiting_orders(ctx: Context) -> list[OrderRow]:
    """Orders no plan could serve, or whose plan is blocked for want of a source."""
    return list(
        ctx.session.exec(
            select(OrderRow)
            .where(OrderRow.status.in_((OrderStatus.UNPLANNABLE, OrderStatus.BLOCKED)))
            .order_by(OrderRow.id)
            .with_for_update()
        )
    )


def _live_contracts(ctx: Context) -> list[Contract]:
    return list(
        ctx.session.exec(
            select(Contract)
            .where(Contract.status.in_(lifecycle.LIVE_CONTRACT))
            .order_by(Contract.id)
        )
    )


def _active(ctx: Context, resource: str) -> Disruption | None:
    return ctx.session.exec(
        select(Disruption).where(
            Disruption.resource_id == resource, Disruption.restored_at.is_(None)
        )
    ).first()


def _whole_network(ctx: Context) -> Network:
    version = records.network_version(ctx.session)
    return ctx.network_at(version) if version else Network()


def _resource(network: Network, resource: str) -> tuple[str, str | None]:
    """(kind, operator) of a facility, offer or participant id."""
    if resource in network.facilities:
        return "facility", network.facilities[resource].operator
    if resource in network.offers:
        return "offer", network.offers[resource].supplier
    if resource in network.participants:
        return "participant", resource
    raise Refused(f"unknown resource {resource!r}: give a facility, offer or participant id")


def _may_signal(ctx: Context, actor: str, operator: str | None, resource: str) -> None:
    records.participant(ctx.session, actor)
    if actor != operator and not records.is_coordinator(ctx.session, actor):
        raise Refused(f"only the operator of {resource} or a coordinator can signal it")


def resource_name(network: Network, resource: str) -> str:
    """What people call a resource: a facility by its name (else whose it is), an offer by its
    item and supplier, a participant by name; the id when the network does not know it."""
    facility = network.facilities.get(resource)
    if facility is not None:
        if facility.name:
            return facility.name
        return f"the facility of {network.participant_name(facility.operator)}"
    offer = network.offers.get(resource)
    if offer is not None:
        supplier = network.participant_name(offer.supplier) if offer.supplier else "nobody"
        return f"{network.item_name(offer.item)} from {supplier}"
    if resource in network.participants:
        return network.participant_name(resource)
    return resource
