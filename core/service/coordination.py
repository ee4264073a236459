"""What a buyer or a coordinator does to an order that cannot go on as it is: call it off, or
give one of its stages to someone else.

Cancelling ends the live contract and the order (core/service/lifecycle.py), and releases
every party of the plan, telling each what to do with what it made or received for the order.
Handing a stage changes its owner; the new owner learns what they owe, the old one that they
are released from it.
"""

from __future__ import annotations

from sqlmodel import Session, select

from core.network.model import Network
from core.service import lifecycle, records
from core.service.bus import Context, bounded
from core.service.commands import CancelOrder, HandStage, SyncDependentDemand
from core.service.lifecycle import ENDED, STUCK, ContractStatus, Decision, OrderStatus
from core.service.notices.coordination import (
    CancelDone,
    Cancelled,
    Handed,
    HandedAway,
    HandedYou,
    Holdings,
    StageWork,
    StuckCancelled,
)
from core.service.results import Refused
from core.stages.graph import Stage, StageError, StageGraph
from core.store.tables import ParticipantRow, StageRow

# -- cancel ------------------------------------------------------------------------------------


def cancel_order(command: CancelOrder, ctx: Context) -> list[str]:
    """Returns the participants told (besides the sender)."""
    order = records.order(ctx.session, command.order_id, lock=True)
    records.participant(ctx.session, command.actor)
    coordinator = records.is_coordinator(ctx.session, command.actor)
    if command.actor != order.buyer_id and not coordinator:
        raise Refused(f"only the buyer of order {order.id} or a coordinator cancels it")
    if order.status == OrderStatus.CANCELLED:
        raise Refused(f"order {order.id} is cancelled already")
    if order.status in ENDED:
        raise Refused(f"order {order.id} is {order.status}; it can no longer be cancelled")
    reason = bounded(command.reason, "reason", 400)
    network = ctx.network()
    was_stuck = OrderStatus(order.status) in STUCK
    contract = lifecycle.live_contract(ctx.session, order.id)
    released: set[str] = set()
    held: dict[str, list[str]] = {}
    if contract is not None:
        graph = records.stage_graph(ctx.session, contract.id)
        tree = ctx.session.get(records.PlanRow, contract.plan_id).tree
        released = lifecycle.plan_participants(tree) | {s.owner for s in graph if s.owner}
        held = holdings(graph, network, order.buyer_id)
        lifecycle.move_contract(contract, ContractStatus.CANCELLED, ctx)
    by = _name(ctx.session, command.actor)
    if command.actor != order.buyer_id:
        by += " (coordinator)"
    said = f"cancelled by {by}" + (f": {reason}" if reason else "")
    ctx.record(
        "order_cancelled",
        {
            "reason": reason,
            "contract": contract.id if contract is not None else None,
            "holders": {who: items for who, items in sorted(held.items())},
        },
        order.id,
        command.actor,
        command.origin,
    )
    lifecycle.move(ctx, order, OrderStatus.CANCELLED, said, command.actor)
    order.revision += 1
    ctx.result.jobs.append(SyncDependentDemand(order.id))  # its requests close

    told = sorted((released | {order.buyer_id}) - {command.actor})
    holders = _holdings(ctx.session, held)
    for party in told:
        to_buyer = party == order.buyer_id
        yours = tuple(held.get(party, ())) if not to_buyer else ()
        words = Cancelled(order.id, said, to_buyer, holders, yours)
        ctx.notify(party, words, order.id)
    if was_stuck:  # the coordinators were asked to act on it: it needs nothing more
        for other in lifecycle.coordinators(ctx.session):
            if other not in told and other != command.actor:
                ctx.notify(other, StuckCancelled(order.id, said), order.id)
    released_count = len([p for p in told if p != order.buyer_id])
    by_buyer = command.actor == order.buyer_id
    done = CancelDone(order.id, released_count, not by_buyer, by_buyer, holders)
    ctx.notify(command.actor, done, order.id, outcome=True)
    return told


def holdings(graph: StageGraph, network: Network, buyer: str) -> dict[str, list[str]]:
    """Who holds what was made or received for the order, besides the buyer: for each plan
    node, its goods are where its furthest done stage left them — with the receiver once
    shipped or received, else with the maker once made; goods that went into a parent's
    finished make are the parent's."""
    by_node: dict[str, dict[str, Stage]] = {}
    for stage in graph:
        by_node.setdefault(stage.node, {})[stage.kind] = stage

    def done(node: str, kind: str) -> bool:
        stage = by_node.get(node, {}).get(kind)
        return stage is not None and stage.status == "done"

    held: dict[str, list[str]] = {}
    for node, stages in by_node.items():
        if "." in node and done(node.rsplit(".", 1)[0], "make"):
            continue  # went into what the parent made
        if done(node, "receive") or done(node, "ship"):
            holder = stages["receive"].owner if "receive" in stages else None
        elif done(node, "make") or done(node, "inspect"):
            holder = (stages.get("make") or stages["inspect"]).owner
        else:
            continue
        if holder and holder != buyer:
            sample = next(iter(stages.values()))
            held.setdefault(holder, []).append(
                f"{sample.quantity} × {network.item_name(sample.item)}"
            )
    return held


# -- hand a stage to another owner -------------------------------------------------------------


def hand_stage(command: HandStage, ctx: Context) -> str:
    """Returns the stage's id (s7)."""
    order = records.order(ctx.session, command.order_id, lock=True)
    if not records.is_coordinator(ctx.session, command.actor):
        raise Refused(f"only a coordinator hands a stage of order {order.id} to another owner")
    if order.status in ENDED:
        raise Refused(f"order {order.id} is {order.status}")
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None or contract.status != ContractStatus.AGREED:
        raise Refused(f"order {order.id} has no agreed plan with stages yet")
    graph = records.stage_graph(ctx.session, contract.id)
    try:
        stage = graph.resolve(bounded(command.stage, "stage", 20))
    except StageError as unknown:
        raise Refused(f"order {order.id} has {unknown}") from unknown
    new = ctx.session.get(ParticipantRow, bounded(command.to, "participant", 120))
    if new is None:
        raise Refused(f"unknown participant {command.to!r}; give a participant's id, like ana")
    if stage.status == "done":
        raise Refused(f"{stage.id} of order {order.id} is done; only a stage not done is handed")
    if stage.kind == "accept":
        raise Refused(f"{stage.id} is the buyer's acceptance of order {order.id}; it stays theirs")
    if stage.owner == new.id:
        raise Refused(f"{stage.id} of order {order.id} is {new.name}'s already")
    row = ctx.session.exec(
        select(StageRow).where(StageRow.contract_id == contract.id, StageRow.code == stage.id)
    ).one()
    previous = row.owner_id
    row.owner_id, row.updated_at = new.id, ctx.now
    ctx.session.add(row)
    order.revision += 1
    ctx.session.add(order)
    ctx.record(
        "stage_handed",
        {"contract": contract.id, "stage": stage.id, "from": previous, "to": new.id},
        order.id,
        command.actor,
        command.origin,
    )
    network = ctx.network()
    work = StageWork(stage.id, stage.kind, stage.quantity, network.item_name(stage.item))
    agreed = lifecycle.decisions(ctx.session, contract).get(new.id) == Decision.AGREED
    coordinator = _name(ctx.session, command.actor)
    if new.id != command.actor:
        state = "failed" if stage.status == "failed" else "waiting"
        if state == "waiting" and graph.ready(stage.id):
            state = "ready"
        ctx.notify(new.id, HandedYou(order.id, coordinator, work, agreed, state), order.id)
    if previous and previous not in (command.actor, new.id):
        ctx.notify(previous, HandedAway(order.id, coordinator, work, new.name), order.id)
    was = _name(ctx.session, previous) if previous else None
    asked = not (agreed or new.id == command.actor)
    ctx.notify(command.actor, Handed(order.id, work, new.name, was, asked), order.id, outcome=True)
    return stage.id


# -- names -------------------------------------------------------------------------------------


def _name(session: Session, participant_id: str | None) -> str:
    found = session.get(ParticipantRow, participant_id) if participant_id else None
    return found.name if found else str(participant_id)


def _holdings(session: Session, held: dict[str, list[str]]) -> Holdings:
    """Who keeps what, by name, in the order of their ids."""
    return tuple((_name(session, who), tuple(held[who])) for who in sorted(held))
