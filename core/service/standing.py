"""Standing orders and use signals: the paper's indefinite dynamic supply chains.

A standing order (`/order masks 200/week`) is planned and priced per period, and checked
against what the network's declared capacities can make in a period (S_p of core/risk/supply.py,
capacities read per day). A use signal (`/used masks 50`) is a kanban card: it orders again what
was used, through the person's standing order of that item, with the same best plan chosen so
that the frames — and the dependent requests for inputs nobody has committed to — travel
upstream at once.

The replenishment keeps the standing order's chosen plan (its live or latest contract's): the
same source at every node, quantities recomputed for what was used (n·⌈q/yield⌉ under a design).
Only when one of those sources no longer stands (gone from the network, out of service, or a
party that declined the standing order) is the order woven afresh, and the buyer is told which
source changed.
"""

from __future__ import annotations

from dataclasses import asdict, replace

from sqlmodel import select

from core.network.model import Network
from core.pricing.equation import plan_equation
from core.service import lifecycle, records
from core.service.bus import Context
from core.service.commands import ChoosePlan, PlaceOrder, ReportUse
from core.service.lifecycle import OrderStatus, move
from core.service.notices import Next
from core.service.notices.standing import GoneSource, ReplenishedAsBefore, ReplenishedElsewhere
from core.service.orders import MAX_QUANTITY, choose_plan, item_of, place_order
from core.service.results import Refused
from core.service.risk import plan_outlook, reliability
from core.service.weaving import plan_line
from core.store.tables import OrderLine, OrderRow, PlanRow
from core.weave.legs import Stop
from core.weave.plan import Plan, PlanNode
from core.weave.plan_document import (
    PlanGap,
    buyer_stop,
    facility_stop,
    node_document,
    node_from_document,
    node_leg_options,
)
from core.weave.sources import Bought, SupplyIndex


def use_checked(command: ReportUse, ctx: Context) -> tuple:
    """Every check of a reported use that reads only: the item, the quantity and the standing
    order that brings it, or Refused. What a chat front end tries before it acknowledges a
    use (Services.trial), since carrying it out would take an order number."""
    item = item_of(ctx.network(), command.item)
    quantity = command.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity:
        raise Refused(f"quantity must be a positive whole number, not {quantity!r}")
    if quantity > MAX_QUANTITY:
        raise Refused(f"quantity must be at most {MAX_QUANTITY:,}")
    standing = _standing_order(ctx, command.actor, item.id)
    if standing is None:
        raise Refused(
            f"you have no standing order of {item.name}",
            next=(Next(PlaceOrder, (item.id, "N/week")),),
        )
    return item, quantity, standing


def report_use(command: ReportUse, ctx: Context) -> int:
    """Returns the replenishment order."""
    item, quantity, standing = use_checked(command, ctx)
    ctx.record(
        "used",
        {"item": item.id, "quantity": quantity},
        standing.id,
        command.actor,
        command.origin,
    )
    kept, changed = _standing_plan(ctx, standing, item.id, quantity)
    if kept is not None:
        order_id = _replenish(ctx, command, standing, kept)
    else:
        order_id = place_order(
            PlaceOrder(
                command.actor,
                ((item.id, quantity),),
                criteria=tuple(standing.criteria),
                origin=command.origin,
                provenance={"used": quantity, "standing": standing.id},
            ),
            ctx,
            choosing=True,
        )
        if changed:
            ctx.record(
                "standing_source_changed",
                {"standing": standing.id, "source": asdict(changed)},
                order_id,
            )
            told = ReplenishedElsewhere(order_id, standing.id, quantity, item.name, changed)
            ctx.notify(command.actor, told, order_id)
    if records.order(ctx.session, order_id).status == "open":
        choose_plan(ChoosePlan(command.actor, order_id, 1), ctx)
    return order_id


def _standing_order(ctx: Context, buyer: str, item_id: str) -> OrderRow | None:
    """The buyer's newest standing order with a line of the item, not cancelled."""
    rows = ctx.session.exec(
        select(OrderRow)
        .where(OrderRow.buyer_id == buyer, OrderRow.per.is_not(None))
        .where(OrderRow.status != "cancelled")
        .order_by(OrderRow.id.desc())
    )
    for row in rows:
        lines = ctx.session.exec(select(OrderLine).where(OrderLine.order_id == row.id))
        if any(line.item_id == item_id for line in lines):
            return row
    return None


# -- the standing order's plan, kept ----------------------------------------------------------


def _standing_plan(
    ctx: Context, standing: OrderRow, item_id: str, quantity: int
) -> tuple[PlanNode | None, GoneSource | None]:
    """The standing order's chosen plan of the item for `quantity`, every source as chosen;
    else None and, when a chosen source no longer stands, which one."""
    contract = lifecycle.live_contract(ctx.session, standing.id) or records.latest_contract(
        ctx.session, standing.id
    )
    if contract is None:
        return None, None  # never chosen: the weave's best, as for any order
    row = ctx.session.get(PlanRow, contract.plan_id)
    line = next((line for line in row.tree if line["item"] == item_id), None)
    if line is None:
        return None, None
    then = ctx.network_at(row.network_version)
    network = ctx.network()
    index = SupplyIndex(network)
    gone = _first_gone(network, index, line, set(standing.excluded))
    if gone is not None:
        return None, _gone_source(ctx, then, gone, set(standing.excluded))
    buyer = buyer_stop(network, standing.buyer_id)
    node = node_from_document(network, index, line, buyer)
    try:
        return _scaled(network, node, quantity, buyer), None
    except PlanGap as gap:
        item = network.items.get(item_id)
        return None, GoneSource(
            item.name if item else item_id, "", "made", "changed", detail=str(gap)
        )


def _first_gone(network: Network, index: SupplyIndex, document: dict, excluded: set[str]):
    """The first node of the plan (tree order) whose source no longer stands, or None."""
    described = document["source"]
    if described["kind"] == "held":
        return document  # stock held for the standing order is not there for a new one
    if _provider(described) in excluded:
        return document
    try:
        node_from_document(network, index, {**document, "inputs": []})
    except PlanGap:
        return document
    for child in document["inputs"]:
        gone = _first_gone(network, index, child, excluded)
        if gone is not None:
            return gone
    return None


def _provider(described: dict) -> str | None:
    return described.get("supplier") or described.get("operator") or described.get("holder")


def _gone_source(ctx: Context, then: Network, document: dict, excluded) -> GoneSource:
    """The source of `document` (a node of the plan, read in the network it was chosen in), and
    why it no longer stands."""
    described = document["source"]
    item = then.items.get(document["item"])
    what = item.name if item else document["item"]
    who = _provider(described)
    person = then.participants.get(who) if who else None
    name = person.name if person else (who or "nobody")
    if described["kind"] == "held":
        return GoneSource(what, name, "held", "used up")
    if described["kind"] == "offer":
        source = GoneSource(what, name, "bought", "", offer=described["offer"])
    else:
        facility = then.facilities.get(described["facility"])
        place = facility.name if facility is not None and facility.name else None
        source = GoneSource(what, name, "made", "", place=place)
    if who in excluded:
        return replace(source, why="declined")
    newest = ctx.network_at(records.network_version(ctx.session))
    kept = SupplyIndex(newest)
    try:
        node_from_document(newest, kept, {**document, "inputs": []})
    except PlanGap:
        return replace(source, why="gone")
    return replace(source, why="out of service")


def _scaled(network: Network, node: PlanNode, quantity: int, destination: Stop) -> PlanNode:
    """The same sources and movers for `quantity`: under a design, n·⌈quantity/yield⌉ of each
    input; each leg chosen again for the new mass (its trips and price change with it)."""
    leg = node.leg
    if leg is not None:
        options = node_leg_options(network, node.item, quantity, node.source, destination)
        leg = next((o for o in options if o is not None and o.id == leg.id), None)
        if leg is None:
            raise PlanGap(f"{node.item}: {node.leg.id} no longer moves {quantity:,} of it")
    if isinstance(node.source, Bought):
        return replace(node, quantity=quantity, inputs=(), leg=leg)
    design = node.source.design
    if len(design.inputs) != len(node.inputs):
        raise PlanGap(f"{node.item}: the plan's inputs are not those of {design.id}")
    batches = -(-quantity // design.yield_)
    here = facility_stop(network, node.source)
    inputs = tuple(
        _scaled(network, child, n * batches, here)
        for (_, n), child in zip(design.inputs, node.inputs, strict=True)
    )
    return replace(node, quantity=quantity, inputs=inputs, leg=leg)


def _replenish(ctx: Context, command: ReportUse, standing: OrderRow, node: PlanNode) -> int:
    """A new order for what was used, with the kept plan as its plan 1."""
    network = ctx.network()
    order = OrderRow(
        buyer_id=command.actor,
        criteria=list(standing.criteria),
        provenance={"used": node.quantity, "standing": standing.id},
        created_at=ctx.now,
    )
    ctx.session.add(order)
    ctx.session.flush()
    ctx.session.add(OrderLine(order_id=order.id, item_id=node.item, quantity=node.quantity))
    ctx.record(
        "order_placed",
        {
            "lines": [[node.item, node.quantity]],
            "criteria": list(standing.criteria),
            "provenance": dict(order.provenance),
        },
        order.id,
        command.actor,
        command.origin,
    )
    plan = Plan(lines=(node,), score=(0, 0.0), rank=1)
    equation = plan_equation(network, plan)
    outlook = plan_outlook(network, reliability(ctx.session, network), plan, order.buyer_id)
    tree = [node_document(node)]
    ctx.session.add(
        PlanRow(
            order_id=order.id,
            batch=1,
            rank=1,
            network_version=records.network_version(ctx.session),
            tree=tree,
            equation=equation.text(),
            price=equation.price,
            unknowns=equation.unknowns,
            outlook=outlook,
            created_at=ctx.now,
        )
    )
    offered = [
        {
            "rank": 1,
            "equation": equation.text(),
            "price": equation.price,
            "outlook": outlook,
            "tree": tree,
        }
    ]
    ctx.record(
        "order_woven",
        {"plan_count": "1", "plans": offered, "kept_from": standing.id},
        order.id,
    )
    move(ctx, order, OrderStatus.OPEN, "waiting for the buyer to choose a plan")
    kept = plan_line(network, {**offered[0], "unknowns": list(equation.unknowns)})
    item = network.items[node.item].name
    told = ReplenishedAsBefore(order.id, standing.id, node.quantity, item, kept)
    ctx.notify(command.actor, told, order.id)
    return order.id
