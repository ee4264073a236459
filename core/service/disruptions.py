"""Supply signals: a resource goes out of service or comes back; substitutions are decided."""

from __future__ import annotations

from sqlmodel import select

from core.network.model import Network
from core.service import records
from core.service.bus import Context, bounded, handles
from core.service.commands import Disrupt, Restore
from core.service.orders import plan_of
from core.service.replan import node_at, replan, uses
from core.service.results import Refused
from core.service.reweaving import reweave_order
from core.stages.progress import affected_nodes, root_causes
from core.stages.update import Assertion, apply
from core.store.tables import (
    AssertionRow,
    Contract,
    Disruption,
    OrderRow,
    StageRow,
    SubstitutionRow,
)
from core.weave.plan_document import node_document, source_label


@handles(Disrupt)
def disrupt(command: Disrupt, ctx: Context) -> list[int]:
    """Every live order using the resource is error-analysed and re-planned; returns them."""
    whole = _whole_network(ctx)
    kind, operator = _resource(whole, command.resource)
    _may_signal(ctx, command.actor, operator, command.resource)
    reason = bounded(command.reason, "reason", 500)
    if not reason:
        raise Refused(f"say what happened: /disrupt {command.resource} REASON")
    if _active(ctx, command.resource) is not None:
        raise Refused(f"{command.resource} is already out of service; /restore it when it is back")
    ctx.session.add(
        Disruption(
            kind=kind, resource_id=command.resource, reason=reason, actor=command.actor, at=ctx.now
        )
    )
    ctx.session.flush()
    ctx.forget_network()
    ctx.record(
        "disrupted",
        {"kind": kind, "resource": command.resource, "reason": reason},
        actor=command.actor,
        origin=command.origin,
    )
    affected = []
    for contract in _live_contracts(ctx):
        plan = plan_of(ctx, contract)
        paths = [path for path, node in _nodes(plan) if uses(node, command.resource)]
        if not paths:
            continue
        order = records.order(ctx.session, contract.order_id, lock=True)
        affected.append(order.id)
        cause = f"{_name(whole, command.resource)} is out of service ({reason})"
        _fail_stages(ctx, order, contract, paths, command, cause)
        replan(ctx, order, contract, plan, _outermost(paths), _sources(plan, paths), cause)
    return affected


@handles(Restore)
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
    ctx.record(
        "restored", {"resource": command.resource}, actor=command.actor, origin=command.origin
    )
    for order in _waiting_orders(ctx):
        reweave_order(ctx, order, f"{_name(whole, command.resource)} is back in service")


def _fail_stages(ctx: Context, order, contract: Contract, paths: list[str], command, cause) -> None:
    """The stages of the disrupted nodes that were not done fail, asserted by the signaller."""
    graph = records.stage_graph(ctx.session, contract.id)
    failing = [s for s in graph if s.node in paths and s.status != "done"]
    for stage in failing:
        graph = apply(
            graph,
            Assertion(
                stage.id,
                "failed",
                command.actor,
                ctx.now,
                command.origin.platform,
                command.origin.message_id,
                cause,
            ),
        ).graph
        row = ctx.session.exec(
            select(StageRow).where(StageRow.contract_id == contract.id, StageRow.code == stage.id)
        ).one()
        row.status, row.updated_at = "failed", ctx.now
        ctx.session.add(row)
        ctx.session.add(
            AssertionRow(
                stage_id=row.id,
                participant_id=command.actor,
                status="failed",
                at=ctx.now,
                platform="disruption",
                message_id=f"disruption:{contract.id}:{stage.id}:{ctx.now.isoformat()}",
                evidence=cause,
            )
        )
        ctx.record(
            "stage_asserted",
            {
                "contract": contract.id,
                "stage": stage.id,
                "status": "failed",
                "evidence": cause,
                "out_of_order": False,
            },
            order.id,
            command.actor,
        )
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


def _nodes(plan):
    for line_index, line in enumerate(plan.lines):
        yield from _walk(line, str(line_index))


def _walk(node, path):
    yield path, node
    for position, child in enumerate(node.inputs):
        yield from _walk(child, f"{path}.{position}")


def _outermost(paths: list[str]) -> list[str]:
    kept: list[str] = []
    for path in sorted(paths, key=lambda p: [int(x) for x in p.split(".")]):
        if not any(path.startswith(top + ".") for top in kept):
            kept.append(path)
    return kept


def _sources(plan, paths: list[str]) -> set[str]:
    return {source_label(node_document(node_at(plan, p))["source"]) for p in paths}


def _waiting_orders(ctx: Context) -> list[OrderRow]:
    """Orders no plan could serve, or whose plan waits for a substitution decision."""
    blocked = select(SubstitutionRow.order_id).where(SubstitutionRow.status == "proposed")
    return list(
        ctx.session.exec(
            select(OrderRow)
            .where((OrderRow.status == "unplannable") | OrderRow.id.in_(blocked))
            .order_by(OrderRow.id)
            .with_for_update()
        )
    )


def _live_contracts(ctx: Context) -> list[Contract]:
    return list(
        ctx.session.exec(
            select(Contract).where(Contract.status.in_(records.LIVE)).order_by(Contract.id)
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


def _name(network: Network, resource: str) -> str:
    for table in (network.facilities, network.offers, network.participants):
        record = table.get(resource)
        if record is not None:
            return getattr(record, "name", None) or resource
    return resource
