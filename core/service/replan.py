"""Reweave: re-plan the broken sub-trees of a live plan over the network as it is now.

Each affected node is woven again on its own (same item and quantity, the order's criteria,
delivered where the old one was), without the sources that failed. The new sub-plans are
spliced into the tree and the result adopted (adopting.py): stages the new plan still uses
keep their status and their short ids, so what people typed stays valid; new stages get new ids;
parties who join get frames, parties no longer needed are released. When a node cannot be
re-planned, the order is blocked and its substitutes are proposed to the buyer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from sqlmodel import select

from core.network.model import Network, frozen_mapping
from core.service import records
from core.service.adopting import adopt
from core.service.agreement import plan_of
from core.service.bus import Context
from core.service.lifecycle import OrderStatus, move
from core.service.notices.replanning import (
    Choice,
    NothingReplaces,
    SubstitutesProposed,
    WaitsForDecision,
)
from core.service.plan_paths import node_at, parent_place, parent_receiver, provider, splice
from core.service.replanning import Replanning
from core.stages.graph import StageGraph
from core.store.tables import Contract, OrderRow, SubstitutionRow
from core.weave import PRICE, Demand, SupplyIndex, Weave
from core.weave.plan import Plan, PlanNode, outermost
from core.weave.sources import HELD, held_offer, holder_delivery, is_held


@dataclass(frozen=True)
class Held:
    """Goods a party of the order made or received for it: `stage` put them with `holder`."""

    stage: str
    holder: str
    item: str
    quantity: int


def _in_transit(stages: dict, receive) -> tuple[str, str] | None:
    """(stage, holder) of a leg whose goods are on their way: dropped at the receiver's (a
    done `deliver`: the receiver holds them) or picked up (whoever picked them up has them)."""
    deliver, pickup = stages.get("deliver"), stages.get("pickup")
    if deliver is not None and deliver.status == "done" and receive is not None and receive.owner:
        return deliver.id, receive.owner
    if pickup is not None and pickup.status == "done" and pickup.owner:
        return pickup.id, pickup.owner
    return None


def held_under(graph: StageGraph, plan: Plan, path: str) -> list[Held]:
    """The stock in the sub-tree at `path`: goods received (a done `receive`) or made and
    checked (a done `inspect`) and not yet passed on, and stock a forward leg has not moved yet."""
    found: list[Held] = []

    def visit(node: PlanNode, at: str) -> None:
        stages = {s.kind: s for s in graph.for_node(at)}
        receive, inspect = stages.get("receive"), stages.get("inspect")
        if receive is not None and receive.status == "done" and receive.owner:
            found.append(Held(receive.id, receive.owner, node.item, node.quantity))
            return
        moving = _in_transit(stages, receive)
        if moving is not None:
            found.append(Held(*moving, node.item, node.quantity))
            return
        if inspect is not None and inspect.status == "done" and inspect.owner:
            found.append(Held(inspect.id, inspect.owner, node.item, node.quantity))
            return
        confirm = stages.get("confirm")
        if receive is None and confirm is not None and confirm.status == "done" and confirm.owner:
            # Sold where it is used: nothing moves it, the supplier holds it for the order.
            found.append(Held(confirm.id, confirm.owner, node.item, node.quantity))
            return
        if is_held(node.source) and node.source.offer.supplier:
            # Still where it was: its forward leg has not delivered it.
            offer = node.source.offer
            stage = offer.id.removeprefix(HELD)
            found.append(Held(stage, offer.supplier, node.item, int(offer.capacity or 0)))
            return
        for position, child in enumerate(node.inputs):
            visit(child, f"{at}.{position}")

    visit(node_at(plan, path), path)
    return found


def with_held(
    network: Network, held: list[Held], criteria, movers: Network | None = None
) -> Network:
    """The network with the held stock as offers from its holders; each sent on as its holder
    delivers in `movers` (the whole network, out of service or not)."""
    if not held:
        return network
    offers = dict(network.offers)
    for stock in held:
        terms = holder_delivery(movers or network, stock.holder)
        offer = held_offer(
            stock.stage, stock.holder, stock.item, stock.quantity, criteria, delivery=terms
        )
        offers[offer.id] = offer
    return replace(network, offers=frozen_mapping(offers))


def _weave_node(
    network,
    item,
    quantity,
    criteria,
    place,
    receiver,
    held: list[Held],
    movers=None,
    index: SupplyIndex | None = None,
) -> PlanNode | None:
    """The best sub-plan for the node, delivered to `receiver` at `place`, using held stock
    where it covers what is needed; `index` is the network's, for when nothing held is used."""
    usable = list(held)
    for _ in range(len(held) + 1):
        offered = with_held(network, usable, criteria, movers)
        weave = Weave(
            offered,
            [Demand(item, quantity)],
            criteria,
            PRICE,
            place,
            index=index if offered is network else None,
            buyer=receiver,
        )
        best = weave.best(1)
        if not best:
            return None
        short = [
            n.source.offer.id.removeprefix(HELD)
            for n in best[0].lines[0].walk()
            if is_held(n.source) and n.quantity > (n.source.offer.capacity or 0)
        ]
        if not short:
            return best[0].lines[0]
        usable = [h for h in usable if h.stage not in short]  # too little held: buy it instead
    return None


def replan(
    ctx: Context,
    order: OrderRow,
    contract: Contract,
    plan: Plan,
    paths: list[str],
    avoid: set[str],
    cause: str,
    substitute: dict[str, str] | None = None,
    graph: StageGraph | None = None,
    shared: Replanning | None = None,
) -> Plan | None:
    """Re-plan `paths` of the contract's plan; returns the new plan, or None if some node found
    no plan (the order is then blocked: substitutes have been proposed to the buyer or the
    coordinators told, and the plan is left as it was). What was delivered is not re-planned;
    what parties hold for the order is used where it is. `graph` is the contract's live stages
    when the caller has read them; `shared` what the re-plans of this unit of work share."""
    alone = shared is None
    shared = shared or Replanning(ctx)
    if graph is None:
        graph = records.stage_graph(ctx.session, contract.id)
    delivered = records.delivered_paths(graph)
    paths = [p for p in paths if not records.within(p, delivered)]
    if not paths:
        return plan
    network, index = shared.usable(order, avoid)
    buyer = network.participants.get(order.buyer_id)
    buyer_place = buyer.location if buyer else None
    woven: dict[str, PlanNode] = {}
    stuck = []

    def weave_at(at: str, item: str) -> PlanNode | None:
        held = [
            h
            for h in held_under(graph, plan, at)
            if h.holder not in shared.down and h.holder not in order.excluded
        ]
        place = parent_place(network, plan, at, buyer_place)
        receiver = parent_receiver(plan, at, order.buyer_id)
        quantity = node_at(plan, at).quantity
        # Orders alike (the same part, place, buyer, criteria and stock held, over the same
        # network) share one weave: a disruption re-plans many such at once.
        key = (
            frozenset(order.excluded),
            frozenset(avoid),
            item,
            quantity,
            frozenset(order.criteria),
            place,
            receiver,
            tuple(held),
        )
        return shared.sub_plan(
            key,
            lambda: _weave_node(
                network, item, quantity, order.criteria, place, receiver, held, shared.whole, index
            ),
        )

    for path in paths:
        old = node_at(plan, path)
        node = weave_at(path, (substitute or {}).get(path, old.item))
        at = path
        # Nothing makes or sells the part any more: the part above it may be made another way
        # (a headband printed instead of cut from the sheet that failed), up to what was
        # delivered already. A substitute is for the very part named, so it does not climb.
        while node is None and substitute is None and "." in at:
            at = at.rsplit(".", 1)[0]
            if records.within(at, delivered):
                break
            node = weave_at(at, node_at(plan, at).item)
        if node is None:
            stuck.append((path, old))
            continue
        woven[at] = node
    if stuck:
        _block(ctx, order, network, plan, stuck, cause)
        return None
    new_plan = plan
    for at in outermost(woven):  # a part re-planned whole takes in what was re-planned below it
        spliced = partial(splice, new_plan, at, woven[at])
        new_plan = shared.alike(("splice", at), (new_plan, woven[at]), spliced)
    adopt(ctx, order, contract, plan, new_plan, cause, shared)
    if alone:
        shared.settle()
    return new_plan


def replan_without(ctx: Context, order: OrderRow, contract: Contract, who: str, reason: str):
    """Re-plan the part of someone who turned it down (already in `order.excluded`)."""
    plan = plan_of(ctx, contract)
    paths = [path for path, node in plan.positioned() if provider(node) == who]
    name = ctx.network().participant_name(who)
    cause = f"{name} declined their part" + (f" ({reason})" if reason else "")
    return replan(ctx, order, contract, plan, outermost(paths), set(), cause)


def _block(ctx: Context, order: OrderRow, network: Network, plan: Plan, stuck, cause) -> None:
    """Some node has no source left: propose substitutes where they would work, else wait for
    the network; the buyer, the coordinators and the plan's other parties are told."""
    proposed: list[SubstitutionRow] = []
    names = []
    for path, node in stuck:
        names.append(network.item_name(node.item))
        proposed += _propose_substitutes(ctx, order, network, plan, path)
    what = " and ".join(dict.fromkeys(names))
    if proposed:
        reason = f"no source of {what} is left; waiting for the buyer to decide on a substitute"
        choices = tuple(choice_of(network, r) for r in proposed)
        move(ctx, order, OrderStatus.BLOCKED, reason, tell_buyer=False)
        ctx.notify(order.buyer_id, SubstitutesProposed(order.id, cause, what, choices), order.id)
    else:
        reason = f"no source of {what} is left and nothing can replace it for now"
        move(ctx, order, OrderStatus.BLOCKED, reason, tell_buyer=False)
        ctx.notify(order.buyer_id, NothingReplaces(order.id, cause, what), order.id)
    ctx.record("blocked", {"cause": cause, "nodes": [p for p, _ in stuck]}, order.id)
    for party in sorted(set(records.work_of(plan)) - {order.buyer_id}):
        ctx.notify(party, WaitsForDecision(order.id, cause), order.id)


def _propose_substitutes(
    ctx: Context, order: OrderRow, network: Network, plan: Plan, path: str
) -> list[SubstitutionRow]:
    """Declared substitutes of the stuck item or of any item above it in the tree — at the
    nearest level where one meets the order's criteria and can be planned now."""
    already = {
        (s.item_id, s.by_item_id, s.node)
        for s in ctx.session.exec(
            select(SubstitutionRow).where(SubstitutionRow.order_id == order.id)
        )
    }
    at = path
    while True:
        node = node_at(plan, at)
        workable = [
            s.by
            for s in network.substitutes
            if s.item == node.item
            and s.by in network.items
            and Weave(network, [Demand(s.by, node.quantity)], order.criteria).count() > 0
        ]
        if workable:
            rows = []
            for by in workable:
                if (node.item, by, at) in already:
                    continue
                row = SubstitutionRow(
                    order_id=order.id,
                    item_id=node.item,
                    by_item_id=by,
                    node=at,
                    proposed_at=ctx.now,
                )
                ctx.session.add(row)
                ctx.session.flush()
                rows.append(row)
                ctx.record(
                    "substitution_proposed",
                    {"substitution": row.id, "item": node.item, "by": by, "node": at},
                    order.id,
                )
            return rows
        if "." not in at:
            return []
        at = at.rsplit(".", 1)[0]


def choice_of(network: Network, row: SubstitutionRow) -> Choice:
    """A proposed substitution as the buyer decides on it."""
    return Choice(row.id, network.item_name(row.by_item_id), network.item_name(row.item_id))
