"""Contracts: the plan a contract carries out, each party's word on it, whom it waits for, and
F_V — agreed when every required party agreed and Assess finds no gap, and then its stages."""

from __future__ import annotations

from sqlmodel import select

from core.service import capacity, lifecycle, records
from core.service.bus import Context
from core.service.commands import Agree, Decline, Reweave
from core.service.lifecycle import ContractStatus, Decision, OrderStatus, move, move_contract
from core.service.notices import Next, View
from core.service.notices.agreement import (
    AgreedButBlocked,
    AgreedByChoosing,
    AgreementBlocked,
    AgreementNoted,
    AllAgreed,
    PartyAgreed,
)
from core.service.records import stage_documents
from core.stages.plan import plan_stages
from core.stages.schedule import end_of_day, schedule
from core.store.tables import Agreement, Contract, OrderRow, PlanRow, StageRow
from core.weave.plan import Plan


def plan_of(ctx: Context, contract: Contract) -> Plan:
    """The plan the contract carries out, over the network it was woven on."""
    row = ctx.session.get(PlanRow, contract.plan_id)
    return records.rebuild_plan(ctx.network_at(row.network_version), row)


def plan_tree(ctx: Context, contract: Contract) -> list:
    """The contract's plan as stored: its tree of node documents."""
    return ctx.session.get(PlanRow, contract.plan_id).tree


def decide(
    ctx: Context, contract: Contract, participant_id: str, decision: Decision, reason: str = ""
) -> None:
    """A party's word on its part: one row per party and contract, changed as they change it
    (the events keep every word)."""
    row = ctx.session.exec(
        select(Agreement).where(
            Agreement.contract_id == contract.id, Agreement.participant_id == participant_id
        )
    ).first() or Agreement(contract_id=contract.id, participant_id=participant_id)
    row.decision, row.reason, row.at = decision.value, reason, ctx.now
    ctx.session.add(row)
    ctx.session.flush()


def refresh_reason(
    ctx: Context, order: OrderRow, contract: Contract, awaited: list[str] | None = None
) -> str:
    """Say whom a negotiating or running order waits for; returns it. `awaited`: whom, when
    the caller has read it already."""
    if awaited is None:
        awaited = lifecycle.awaited(ctx.session, contract, order)
    network = ctx.network()
    names = [network.participant_name(p) for p in awaited]
    if awaited:
        reason = f"waiting for {', '.join(names)} to agree"
    else:
        reason = "under way" if contract.status == ContractStatus.AGREED else "agreed"
    if order.status in (OrderStatus.NEGOTIATING, OrderStatus.IN_PROGRESS):
        move(ctx, order, OrderStatus(order.status), reason)
    return reason


def startable_stages(ctx: Context, contract: Contract, participant_id: str) -> list[str]:
    """The stages of this person that can start now: pending, their inputs done."""
    graph = records.stage_graph(ctx.session, contract.id)
    return [s.id for s in graph if s.owner == participant_id and graph.ready(s.id)]


def validate(
    ctx: Context, order: OrderRow, contract: Contract, plan: Plan, outcome_for: str | None = None
) -> None:
    """F_V: agreed when every required party agreed and Assess finds no gap; then stages.
    `outcome_for`: the sender of the command, whose message from here says how it ended."""
    if lifecycle.awaited(ctx.session, contract, order):
        return
    missing = records.gaps(ctx.network(), ctx.session.get(PlanRow, contract.plan_id))
    # Reserved under a lock as it is checked: two agreements never take the same room.
    short = None if missing else capacity.reserve(ctx, contract, plan)
    if missing or short:
        reason = (
            f"everyone agreed, but {short}"
            if short
            else "everyone agreed, but part of the plan is no longer available"
        )
        move(ctx, order, OrderStatus.BLOCKED, reason, tell_buyer=False)
        blocked = AgreedButBlocked(order.id, reason, next=(Next(Reweave, (order.id,)),))
        ctx.notify(order.buyer_id, blocked, order.id, outcome=outcome_for == order.buyer_id)
        if outcome_for not in (None, order.buyer_id):
            ctx.notify(outcome_for, AgreementBlocked(order.id, reason), order.id, outcome=True)
        return
    graph = plan_stages(ctx.network(), plan, order.buyer_id)
    # Each stage is due when the order's due date needs it, or else when the plan's times say
    # it can be done at the earliest (core/stages/schedule.py); the sweeper tells who is late.
    due = schedule(plan, graph, ctx.now, end_of_day(order.due)).due
    for stage in graph:
        row = records.write_stage(StageRow(contract_id=contract.id), stage, ctx.now)
        row.due_at = due.get(stage.id)
        ctx.session.add(row)
    move_contract(contract, ContractStatus.AGREED, ctx)
    contract.agreed_at = ctx.now
    ctx.session.add(contract)
    ctx.record(
        "contract_agreed", {"contract": contract.id, "stages": stage_documents(graph)}, order.id
    )
    move(ctx, order, OrderStatus.IN_PROGRESS, "under way")
    for party in sorted(lifecycle.plan_participants(plan_tree(ctx, contract)) | {order.buyer_id}):
        mine = tuple(s.id for s in graph if s.owner == party)
        notice = AllAgreed(order.id, mine, next=(Next(View.STAGES, (order.id,)),))
        ctx.notify(party, notice, order.id, outcome=party == outcome_for)
    if outcome_for is not None and not ctx.told_outcome(outcome_for):
        notice = AllAgreed(order.id, (), next=(Next(View.STAGES, (order.id,)),))
        ctx.notify(outcome_for, notice, order.id, outcome=True)


def tell_agreed(ctx: Context, order: OrderRow, contract: Contract, who: str) -> None:
    """`who` agreed and the order still waits: they hear it is noted and whom it waits for, and
    the buyer, who waits on everyone, hears who agreed. The other parties wait only on their own
    word: they hear when everyone has agreed (validate), not each step — with five
    parties that would be four messages each for nothing they must do."""
    network = ctx.network()
    awaited = lifecycle.awaited(ctx.session, contract, order)
    names = tuple(network.participant_name(p) for p in awaited)
    ctx.notify(who, AgreementNoted(order.id, names), order.id, outcome=True)
    for party in sorted({order.buyer_id} - {who}):
        asked = party in awaited
        rest = tuple(network.participant_name(p) for p in awaited if p != party)
        steps = (Next(Agree, (order.id,)), Next(Decline, (order.id,))) if asked else ()
        notice = PartyAgreed(order.id, network.participant_name(who), rest, asked, next=steps)
        ctx.notify(party, notice, order.id)


def answer_buyer(ctx: Context, order: OrderRow, contract: Contract) -> None:
    """The buyer's own /agree: choosing the plan was their word; say whom the order waits for."""
    network = ctx.network()
    awaited = lifecycle.awaited(ctx.session, contract, order)
    names = tuple(network.participant_name(p) for p in awaited if p != order.buyer_id)
    notice = AgreedByChoosing(order.id, names, next=(Next(View.TERMS, (order.id,)),))
    ctx.notify(order.buyer_id, notice, order.id, outcome=True)
