"""An order's plans: woven over the network, the best stored as a new batch, and offered to the
buyer as a notice (core.service.notices.plans) — each plan named by who makes and supplies
what, its price and its risk — with what the declared capacities allow, for a standing order."""

from __future__ import annotations

from sqlmodel import Session

from core.intents.model import PERIODS
from core.network.model import Network
from core.pricing.equation import plan_equation, remaining_text
from core.risk.reliability import History, Reliability
from core.risk.supply import SupplyModel
from core.service import records
from core.service.bus import Context
from core.service.lifecycle import OrderStatus, move
from core.service.matched import matched_network
from core.service.notices.plans import PlanLine, PlanPart, PlansOffered, RateNote, RiskiestStage
from core.service.records import network_version
from core.service.risk import failure_history, plan_outlook
from core.store.tables import OrderRow, PlanRow
from core.weave import PRICE, Demand, Plan, Weave
from core.weave.plan_document import PlanGap, node_document
from core.weave.sources import SupplyIndex

PLANS_OFFERED = 5
NO_PLAN = "no plan can deliver it with the network as it is"


def order_weave(
    session: Session, network: Network, order: OrderRow, demands: list[Demand], history: History
) -> tuple[Weave, Reliability]:
    """The weave of an order over `network`: without the parties it excluded, with an accepted
    match's offers, ranked by price — equal prices by risk (learned from `history`), then
    distance. With it, the reliability of the network it weaves over."""
    network = network.without(participants=order.excluded)
    network = matched_network(session, network, order)  # an accepted match's offers are used
    buyer = network.participants.get(order.buyer_id)
    learned = Reliability(network, history)
    where = buyer.location if buyer else None
    weave = Weave(network, demands, order.criteria, PRICE.with_reliability(learned), where)
    return weave, learned


def described(network: Network, learned: Reliability, plan: Plan, buyer: str) -> dict:
    """A plan as a batch keeps it and an event records it: rank, equation, price, outlook, tree."""
    equation = plan_equation(network, plan)
    return {
        "rank": plan.rank,
        "equation": equation.text(),
        "price": equation.price,
        "remaining": remaining_text(equation),
        "unknowns": list(equation.unknowns),
        "outlook": plan_outlook(network, learned, plan, buyer),
        "tree": [node_document(line) for line in plan.lines],
    }


def stored(order_id: int, batch: int, version: int, plan: dict, at) -> PlanRow:
    return PlanRow(
        order_id=order_id,
        batch=batch,
        rank=plan["rank"],
        network_version=version,
        tree=plan["tree"],
        equation=plan["equation"],
        price=plan["price"],
        unknowns=plan["unknowns"],
        outlook=plan["outlook"],
        created_at=at,
    )


def weave_plans(ctx: Context, order: OrderRow, demands: list[Demand], network: Network):
    """Weave the order over `network` and store the best plans as a new batch."""
    weave, learned = order_weave(ctx.session, network, order, demands, failure_history(ctx.session))
    count = weave.count()
    batch = 1 + max((p.batch for p in records.plans(ctx.session, order.id)), default=0)
    version = network_version(ctx.session)
    offered = []
    for plan in weave.best(PLANS_OFFERED):
        shown = described(weave.network, learned, plan, order.buyer_id)
        ctx.session.add(stored(order.id, batch, version, shown, ctx.now))
        offered.append(shown)
    if offered:
        move(ctx, order, OrderStatus.OPEN, "waiting for the buyer to choose a plan")
    else:
        # The caller tells the buyer with the plans; the coordinators hear it from `move`.
        move(ctx, order, OrderStatus.UNPLANNABLE, NO_PLAN, tell_buyer=False)
    return count, offered


# -- the plans in a notice ---------------------------------------------------------------------


def plan_parts(network: Network, tree: list[dict]) -> tuple[PlanPart, ...]:
    """Every node of a stored plan tree, named, top-down."""
    parts: list[PlanPart] = []

    def walk(node: dict, depth: int) -> None:
        item, source = network.item_name(node["item"]), node["source"]
        if source["kind"] == "design":
            facility = network.facilities.get(source["facility"])
            design = network.designs.get(source["design"])
            parts.append(
                PlanPart(
                    item,
                    network.participant_name(source.get("operator")),
                    "made",
                    place=(facility.name or None) if facility is not None else None,
                    design=(design.name or None) if design is not None else None,
                    source=f"{source['design']}@{source['facility']}",
                    depth=depth,
                )
            )
        elif source["kind"] == "offer":
            supplier = network.participant_name(source.get("supplier"))
            parts.append(PlanPart(item, supplier, "bought", source=source["offer"], depth=depth))
        else:  # held by a party of the order already
            holder = network.participant_name(source.get("holder"))
            held = source.get("stage", "")
            parts.append(PlanPart(item, holder, "held", source=held, depth=depth))
        for child in node.get("inputs", ()):
            walk(child, depth + 1)

    for line in tree:
        walk(line, 0)
    return tuple(parts)


def plan_line(network: Network, plan: dict) -> PlanLine:
    """A stored or offered plan (a PlanRow's fields, as `described` gives them) as one line."""
    outlook = plan.get("outlook") or {}
    top = outlook.get("riskiest")
    return PlanLine(
        rank=plan["rank"],
        price=plan["price"],
        equation=plan["equation"],
        remaining=plan.get("remaining", ""),
        unknowns=tuple(plan.get("unknowns") or ()),
        parts=plan_parts(network, plan["tree"]),
        failure=outlook.get("failure"),
        riskiest=RiskiestStage(top["kind"], top["item"], top["owner"], top["failure"])
        if top
        else None,
        local_share=outlook.get("local_mass"),
        radius_km=outlook.get("radius_km"),
    )


def row_line(network: Network, row: PlanRow, index: SupplyIndex | None = None) -> PlanLine:
    """`index`: the network's, when the caller words several rows of one batch."""
    try:  # what the price comes to so far is not stored: it is the equation over the plan
        plan = records.rebuild_plan(network, row, index)
        remaining = remaining_text(plan_equation(network, plan))
    except PlanGap:  # a source the network no longer has: the equation alone
        remaining = ""
    return plan_line(
        network,
        {
            "rank": row.rank,
            "price": row.price,
            "remaining": remaining,
            "equation": row.equation,
            "unknowns": row.unknowns,
            "outlook": row.outlook,
            "tree": row.tree,
        },
    )


def rate_notes(network: Network, order: OrderRow, demands: list[Demand]) -> tuple[RateNote, ...]:
    """For a standing order: what the declared capacities make of each line in its period."""
    if order.per is None:
        return ()
    days = PERIODS[order.per]
    supply = SupplyModel(network)
    return tuple(
        RateNote(network.items[d.item].name, supply.units(d.item) * days, d.quantity)
        for d in demands
    )


def offer_plans(
    ctx: Context,
    order: OrderRow,
    count: int,
    offered: list[dict],
    demands: list[Demand] | None = None,
    *,
    outcome: bool = False,
    declined_by: str | None = None,
    reason: str = "",
    cause: str = "",
) -> None:
    """Tell the buyer the plans just woven (none: that nothing can deliver the order)."""
    network = ctx.network()
    notice = PlansOffered(
        order_id=order.id,
        count=count,
        plans=tuple(plan_line(network, plan) for plan in offered),
        per=order.per,
        rates=rate_notes(network, order, demands or []),
        declined_by=declined_by,
        reason=reason,
        cause=cause,
    )
    ctx.notify(order.buyer_id, notice, order.id, outcome=outcome)
