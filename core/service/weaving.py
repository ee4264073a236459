"""An order's plans: woven over the network, the best stored as a new batch, and offered to the
buyer as a notice (core.service.notices.plans) — each plan named by who makes and supplies
what, who moves it, its price, its risk and when it can arrive — with what the declared
capacities allow, for a standing order. An order due by a date is woven within it: the plans
offered are those that arrive by the end of that day, and the buyer hears how many cannot, or,
when none can, when the soonest plan could arrive."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from core.intents.model import PERIODS
from core.network.model import Network
from core.pricing.equation import plan_equation, remaining_text
from core.risk.reliability import History, Reliability
from core.risk.supply import SupplyModel
from core.service import capacity, records
from core.service.bus import Context
from core.service.lifecycle import OrderStatus, move
from core.service.matched import matched_network
from core.service.notices.plans import (
    Arrives,
    Moved,
    PlanLine,
    PlanPart,
    PlansOffered,
    RateNote,
    RiskiestStage,
    SplitShare,
)
from core.service.records import network_version
from core.service.risk import failure_history, plan_outlook
from core.store.tables import OrderRow, PlanRow
from core.weave import PRICE, Bought, Demand, Plan, Weave
from core.weave.capacity import Candidate, LimitedIndex, resource_of, source_id, split
from core.weave.legs import VEHICLE
from core.weave.plan_document import PlanGap, node_document
from core.weave.ranking import SOONEST
from core.weave.sources import SupplyIndex
from core.weave.timing import MINUTES_PER_DAY, Arrival, plan_arrival

PLANS_OFFERED = 5
NO_PLAN = "no plan can deliver it with the network as it is"


def order_weave(
    session: Session,
    network: Network,
    order: OrderRow,
    demands: list[Demand],
    history: History,
    at: datetime | None = None,
    ranking=PRICE,
    windowed: bool = True,
    limits: Mapping[str, float] | None = None,
    pinned: Mapping[str, str] | None = None,
) -> tuple[Weave, Reliability]:
    """The weave of an order over `network`: without the parties it excluded, with an accepted
    match's offers, ranked by price — equal prices by risk (learned from `history`), then
    distance. An order due by a date, woven `at` a time, keeps only the plans that arrive by
    the end of that day (not `windowed`: every plan). With `limits` (units left per resource,
    core.weave.capacity) a source without enough left is skipped; `pinned` (item → source)
    weaves one chunk of a split line. With it, the reliability of the network it weaves over."""
    network = network.without(participants=order.excluded)
    network = matched_network(session, network, order)  # an accepted match's offers are used
    buyer = network.participants.get(order.buyer_id)
    learned = Reliability(network, history)
    where = buyer.location if buyer else None
    within = due_window(order.due, at) if windowed else None
    index = None if limits is None else LimitedIndex(network, limits, pinned)
    weave = Weave(
        network,
        demands,
        order.criteria,
        ranking.with_reliability(learned),
        where,
        index=index,
        buyer=order.buyer_id,
        within_minutes=within,
    )
    return weave, learned


def due_window(due: date | datetime | None, at: datetime | None) -> int | None:
    """Minutes from `at` to the end of the due day (0 when it is over): how long a plan may
    take. None without a due date, or without the time the weave counts from."""
    if due is None or at is None:
        return None
    end = datetime.combine(_day(due) + timedelta(days=1), time())
    return max(0, int((end - at.replace(tzinfo=None)).total_seconds() // 60))


def described(network: Network, learned: Reliability, plan: Plan, buyer: str) -> dict:
    """A plan as a batch keeps it and an event records it: rank, equation, price, outlook (with
    its arrival: minutes from the weave along its critical path, and how many of the times on
    it nobody gave), tree."""
    equation = plan_equation(network, plan)
    arrival = plan_arrival(plan)
    outlook = plan_outlook(network, learned, plan, buyer)
    outlook |= {"arrival": arrival.minutes, "arrival_unknown": arrival.unknown}
    return {
        "rank": plan.rank,
        "equation": equation.text(),
        "price": equation.price,
        "remaining": remaining_text(equation),
        "unknowns": list(equation.unknowns),
        "outlook": outlook,
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
    """Weave the order over `network`, with what is left of every source's capacity this week,
    and store the best plans as a new batch. An order no single source can take is split
    (core.weave.capacity): one plan is offered, its lines the chunks, and it says over whom
    (its "split": [item, units, by]). Returns the count and the plans offered."""
    limits = capacity.left(ctx.session, network, ctx.now)
    history = failure_history(ctx.session)
    weave, learned = order_weave(
        ctx.session, network, order, demands, history, at=ctx.now, limits=limits
    )
    count = weave.count()
    best = weave.best(PLANS_OFFERED)
    shares: tuple[SplitShare, ...] = ()
    if not best:
        found = split_order(ctx, order, demands, network, history, limits)
        if found is not None:
            count, plan, shares = found
            best = [plan]
    batch = 1 + max((p.batch for p in records.plans(ctx.session, order.id)), default=0)
    version = network_version(ctx.session)
    offered = []
    for plan in best:
        shown = described(weave.network, learned, plan, order.buyer_id)
        if shares:
            shown["split"] = [[s.item, s.quantity, s.by] for s in shares]
        ctx.session.add(stored(order.id, batch, version, shown, ctx.now))
        offered.append(shown)
    if offered:
        move(ctx, order, OrderStatus.OPEN, "waiting for the buyer to choose a plan")
    else:
        # The caller tells the buyer with the plans; the coordinators hear it from `move`.
        why = NO_PLAN
        if order.due is not None and weave.count_unwindowed():
            why = f"no plan can deliver it by {_day(order.due).isoformat()}"
        move(ctx, order, OrderStatus.UNPLANNABLE, why, tell_buyer=False)
    return count, offered


def split_order(
    ctx: Context,
    order: OrderRow,
    demands: list[Demand],
    network: Network,
    history: History,
    limits: Mapping[str, float],
) -> tuple[int, Plan, tuple[SplitShare, ...]] | None:
    """The split rule (core.weave.capacity): each line one source can take is woven whole; a
    line none can take is cut into chunks over its item's sources, cheapest per unit first,
    each chunk woven with its root pinned to its source. The plan is every chunk's best plan
    side by side; its count the product of the chunks' counts. None: no plan even so."""

    def woven(lines: list[Demand], pin: dict[str, str] | None = None, left=limits) -> Weave:
        weave, _ = order_weave(
            ctx.session, network, order, lines, history, at=ctx.now, limits=left, pinned=pin
        )
        return weave

    chunks: list[Weave] = []
    shares: list[SplitShare] = []
    for demand in demands:
        whole = woven([demand])
        if whole.count():
            chunks.append(whole)
            continue
        if not woven([demand], left=None).count():
            return None  # not for want of capacity (a due date no plan makes): no split either
        index = whole.index
        candidates = []
        for source in index.every_source(demand.item, whole.criteria):
            left = min(index.left(demand.item, source), demand.quantity)
            if left < 1:
                continue
            probe = woven([Demand(demand.item, int(left))], {demand.item: source_id(source)})
            first = probe.plan(1)
            if first is not None:  # the price per unit of this source's own best plan
                per_unit = (first.key[0], first.key[1] / int(left))
                resource = resource_of(demand.item, source) or source_id(source)
                candidates.append(
                    Candidate(source_id(source), source.index, left, per_unit, resource)
                )
        cut = split(demand.quantity, candidates)
        if cut is None:
            return None
        for source, units in cut:
            chunk = woven([Demand(demand.item, units)], {demand.item: source})
            if not chunk.count():
                return None
            chunks.append(chunk)
            root = chunk.plan(1).lines[0].source
            who = root.offer.supplier if isinstance(root, Bought) else root.facility.operator
            shares.append(
                SplitShare(network.item_name(demand.item), units, network.participant_name(who))
            )
    if not shares:
        return None
    best = [chunk.plan(1) for chunk in chunks]
    count = 1
    for chunk in chunks:
        count *= chunk.count()
    lines = tuple(line for plan in best for line in plan.lines)
    score = (sum(p.score[0] for p in best), sum(p.score[1] for p in best))
    key = tuple(sum(part) for part in zip(*(p.key for p in best), strict=True))
    return count, Plan(lines=lines, score=score, rank=1, key=key), tuple(shares)


def late_plans(
    ctx: Context, order: OrderRow, demands: list[Demand] | None, count: int
) -> tuple[int, Arrives | None]:
    """For an order due by a date, of which `count` plans make it: how many plans cannot, and,
    when none can, when the soonest plan could arrive (None: no plan at all). The weave's
    window is the due day's end; this weave has none and puts the soonest plan first."""
    if order.due is None:
        return 0, None
    if demands is None:
        lines = records.lines(ctx.session, order.id)
        demands = [Demand(line.item_id, line.quantity) for line in lines]
    weave, _ = order_weave(
        ctx.session,
        ctx.network(),
        order,
        demands,
        failure_history(ctx.session),
        at=ctx.now,
        ranking=SOONEST,
        windowed=False,
        limits=capacity.left(ctx.session, ctx.network(), ctx.now),  # as the plans offered
    )
    every = weave.count()
    soonest = None
    if not count and every:
        soonest = arrives(plan_arrival(weave.plan(1)), ctx.now)
    return max(0, every - count), soonest


def arrives(arrival: Arrival, since: datetime | None) -> Arrives:
    """An arrival in minutes as a person reads it: days, and the day when `since` is known."""
    on = None if since is None else (since + timedelta(minutes=arrival.minutes)).date()
    return Arrives(arrival.minutes / MINUTES_PER_DAY, on, arrival.unknown)


def _day(due: date | datetime) -> date:
    return due.date() if isinstance(due, datetime) else due


# -- the plans in a notice ---------------------------------------------------------------------


def plan_parts(network: Network, tree: list[dict]) -> tuple[PlanPart, ...]:
    """Every node of a stored plan tree, named, top-down, with who moves its goods."""
    parts: list[PlanPart] = []

    def walk(node: dict, depth: int) -> None:
        item, source = network.item_name(node["item"]), node["source"]
        moved = _moved(network, node.get("leg"))
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
                    moved=moved,
                )
            )
        elif source["kind"] == "offer":
            supplier = network.participant_name(source.get("supplier"))
            parts.append(
                PlanPart(item, supplier, "bought", source=source["offer"], depth=depth, moved=moved)
            )
        else:  # held by a party of the order already
            holder = network.participant_name(source.get("holder"))
            held = source.get("stage", "")
            parts.append(PlanPart(item, holder, "held", source=held, depth=depth, moved=moved))
        for child in node.get("inputs", ()):
            walk(child, depth + 1)

    for line in tree:
        walk(line, 0)
    return tuple(parts)


def _moved(network: Network, leg: dict | None) -> Moved | None:
    """Who moves a node's goods, from its stored leg: the vehicle by name, else the party."""
    if not leg:
        return None
    kind = leg.get("kind", "")
    mover = network.participant_name(leg.get("carrier"))
    if kind == VEHICLE:
        vehicle = network.transport.get(leg.get("transport") or "")
        mover = (vehicle.name if vehicle is not None else None) or leg.get("transport") or mover
    return Moved(kind, mover, leg.get("km"))


def plan_line(network: Network, plan: dict, since: datetime | None = None) -> PlanLine:
    """A stored or offered plan (a PlanRow's fields, as `described` gives them) as one line;
    `since`: when it was woven, from which its arrival is a day."""
    outlook = plan.get("outlook") or {}
    top = outlook.get("riskiest")
    arrival = outlook.get("arrival")
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
        arrives=None
        if arrival is None
        else arrives(Arrival(arrival, outlook.get("arrival_unknown", 0)), since),
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
        since=row.created_at,
    )


def rate_notes(network: Network, order: OrderRow, demands: list[Demand]) -> tuple[RateNote, ...]:
    """For a standing order: what the declared capacities make of each line in its period."""
    if order.per is None:
        return ()
    # Capacities are units a week (core/weave/capacity.py): a period of `days` makes days/7 of it.
    weeks = PERIODS[order.per] / 7
    supply = SupplyModel(network)
    return tuple(
        RateNote(network.items[d.item].name, supply.units(d.item) * weeks, d.quantity)
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
    """Tell the buyer the plans just woven (none: that nothing can deliver the order); for an
    order due by a date, how many plans cannot make it, and when none can, the soonest."""
    network = ctx.network()
    too_late, soonest = late_plans(ctx, order, demands, count)
    notice = PlansOffered(
        order_id=order.id,
        count=count,
        plans=tuple(plan_line(network, plan, ctx.now) for plan in offered),
        per=order.per,
        rates=rate_notes(network, order, demands or []),
        declined_by=declined_by,
        reason=reason,
        cause=cause,
        due=None if order.due is None else _day(order.due),
        too_late=too_late,
        soonest=soonest,
        split=tuple(SplitShare(*share) for share in offered[0].get("split", ())) if offered else (),
    )
    ctx.notify(order.buyer_id, notice, order.id, outcome=outcome)
