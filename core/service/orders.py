"""The life of an order up to agreement: place, weave, choose, agree or decline, quote, complete."""

from __future__ import annotations

import difflib
import logging
import math
from datetime import date, datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlmodel import select

from core.frames import how_many, short_equation
from core.intents.model import PERIODS
from core.network.model import Network
from core.pricing.equation import plan_equation
from core.risk.supply import SupplyModel
from core.service import lifecycle, records
from core.service.bus import Context, bounded, handles
from core.service.commands import (
    Agree,
    ChoosePlan,
    Complete,
    Decline,
    PlaceOrder,
    QuotePrice,
    WeaveOrder,
)
from core.service.lifecycle import (
    ENDED,
    LIVE_CONTRACT,
    ContractStatus,
    Decision,
    OrderStatus,
    move,
    move_contract,
)
from core.service.negotiation import quoted, send_frames
from core.service.records import network_version, stage_documents
from core.service.results import Refused, buttons
from core.service.risk import outlook_text, plan_outlook, reliability
from core.stages.plan import plan_stages
from core.store.tables import (
    Agreement,
    Contract,
    OrderLine,
    OrderRow,
    PlanRow,
    Quote,
    StageRow,
)
from core.weave import PRICE, Demand, Weave, WeaveError
from core.weave.plan import Plan
from core.weave.plan_document import PlanGap, node_document

PLANS_OFFERED = 5
MAX_QUANTITY = 1_000_000
DUE_YEARS = 5  # an order due further ahead is a typo (9999-12-31), not a plan


def due_problem(due: date, today: date) -> str | None:
    """Why a due date cannot be an order's, or None. A day of slack before today: somewhere on
    Earth it is still yesterday."""
    if due < today - timedelta(days=1):
        return f"the due date {due.isoformat()} has passed; give a date from {today} on"
    latest = today + timedelta(days=365 * DUE_YEARS + 1)
    if due > latest:
        return (
            f"the due date {due.isoformat()} is more than {DUE_YEARS} years away; "
            f"give a date by {latest}"
        )
    return None


def known_criteria(network: Network) -> list[str]:
    """The criteria an order may ask for: the yes/no properties the network's items, designs and
    offers state (a criterion nothing states would silently filter every plan away)."""
    stating = (*network.items.values(), *network.designs.values(), *network.offers.values())
    return sorted({k for r in stating for k, v in r.properties.items() if isinstance(v, bool)})


def criterion_of(text: str, known: list[str]) -> str:
    """The known criterion `text` names (case aside), or Refused listing the known ones."""
    by_fold = {k.casefold(): k for k in known}
    if text.casefold() in by_fold:
        return by_fold[text.casefold()]
    shown = text if len(text) <= 30 else text[:27] + "…"
    close = difflib.get_close_matches(text.casefold(), list(by_fold), n=1)
    hint = f" — perhaps +{by_fold[close[0]]}" if close else ""
    listing = ", ".join(f"+{k}" for k in known) if known else "none in this network"
    raise Refused(f"unknown criterion {shown!r} (known: {listing}){hint}")


@handles(PlaceOrder)
def place_order(command: PlaceOrder, ctx: Context, choosing: bool = False) -> int:
    """`choosing`: the caller chooses plan 1 at once when there is one, and the frame that
    follows is the buyer's answer instead of the list of plans."""
    buyer = records.participant(ctx.session, command.actor)
    if "buyer" not in buyer.roles and "coordinator" not in buyer.roles:
        raise Refused("only a buyer places orders (/register buyer YOUR NAME)")
    network = ctx.network()
    if not command.lines:
        raise Refused("an order needs an item and a quantity")
    demands = []
    for text, quantity in command.lines:
        item = network.find_item(bounded(text, "item", 200))
        if item is None:
            raise Refused(f"unknown item {text!r}; /catalog lists what can be ordered")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise Refused(f"quantity must be a positive whole number, not {quantity!r}")
        if quantity > MAX_QUANTITY:
            raise Refused(f"quantity must be at most {MAX_QUANTITY:,}")
        demands.append(Demand(item.id, quantity))
    if any(not isinstance(c, str) for c in command.criteria):
        raise Refused("a criterion is a word like latex-free")
    known = known_criteria(network)
    criteria = [criterion_of(bounded(c, "criterion", 60), known) for c in command.criteria]
    if command.due is not None:
        if not isinstance(command.due, date):  # a datetime is a date too
            raise Refused(f"a due date is a date like 2026-12-20, not {command.due!r}")
        due = command.due.date() if isinstance(command.due, datetime) else command.due
        if (problem := due_problem(due, ctx.now.date())) is not None:
            raise Refused(problem)
    if command.per is not None and command.per not in PERIODS:
        raise Refused(f"a standing order is per {', '.join(PERIODS)}, not per {command.per}")
    order = OrderRow(
        buyer_id=buyer.id,
        criteria=criteria,
        due=command.due,
        per=command.per,
        provenance=dict(command.provenance),
        created_at=ctx.now,
    )
    ctx.session.add(order)
    ctx.session.flush()
    for demand in demands:
        ctx.session.add(OrderLine(order_id=order.id, item_id=demand.item, quantity=demand.quantity))
    placed = {"lines": [[d.item, d.quantity] for d in demands], "criteria": criteria}
    if command.per is not None:
        placed["per"] = command.per
    if command.provenance:
        placed["provenance"] = dict(command.provenance)
    if not command.weave_now:
        order.status = OrderStatus.WEAVING
        ctx.result.jobs.append(("weave_order", (order.id,)))
        ctx.record("order_placed", {**placed, "weaving": True}, order.id, buyer.id, command.origin)
        ctx.outcome(
            buyer.id,
            f"Order {order.id} received. Weaving every way the "
            "network can deliver it; the best plans follow in a moment.",
            order.id,
            kind="received",
        )
        return order.id
    ctx.record("order_placed", placed, order.id, buyer.id, command.origin)
    count, offered = weave_plans(ctx, order, demands, network)
    ctx.record("order_woven", {"plan_count": str(count), "plans": offered}, order.id)
    if choosing and order.status == OrderStatus.OPEN:
        return order.id
    ctx.outcome(
        buyer.id,
        plans_text(network, order.id, count, offered, standing_note(network, order, demands)),
        order.id,
        plans_payload(order.id, offered),
        kind="plans",
    )
    return order.id


@handles(WeaveOrder)
def weave_order(command: WeaveOrder, ctx: Context) -> int | None:
    """Returns how many plans there are; None when the order was woven already."""
    order = records.order(ctx.session, command.order_id, lock=True)
    if order.status != OrderStatus.WEAVING:
        return None
    # A weave that fails fails again when retried (the network is what it is): the order goes
    # to FAILED, so that it does not wait "being planned" for ever, and people are told.
    savepoint = ctx.session.begin_nested()
    try:
        network = ctx.network()
        lines = records.lines(ctx.session, order.id)
        demands = [Demand(line.item_id, line.quantity) for line in lines]
        count, offered = weave_plans(ctx, order, demands, network)
    except OperationalError:
        raise  # the database away for a moment: the worker tries again
    except Exception as exc:
        savepoint.rollback()
        logging.getLogger(__name__).exception("weaving order %s failed", order.id)
        ctx.result.messages.clear()
        ctx.result.events.clear()
        ctx.result.jobs.clear()
        reason = f"planning it failed: {_weave_failure(exc)}"
        ctx.record("weave_failed", {"error": type(exc).__name__, "reason": reason}, order.id)
        move(ctx, order, OrderStatus.FAILED, reason)  # tells the buyer and the coordinators
        return None
    savepoint.commit()
    ctx.record("order_woven", {"plan_count": str(count), "plans": offered}, order.id)
    ctx.tell(
        order.buyer_id,
        "plans",
        plans_text(network, order.id, count, offered, standing_note(network, order, demands)),
        order.id,
        plans_payload(order.id, offered),
    )
    return count


def _weave_failure(exc: Exception) -> str:
    """Why, in words a buyer can read; the details are in the log."""
    if isinstance(exc, WeaveError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "the network's designs nest too deeply to plan"
    return "an unexpected error, logged for the operators"


def weave_plans(ctx: Context, order: OrderRow, demands: list[Demand], network: Network):
    """Weave the order over `network` and store the best plans as a new batch."""
    network = network.without(participants=order.excluded)
    from core.service.matched import matched_network  # an accepted match's offers are used

    network = matched_network(ctx.session, network, order)
    buyer = network.participants.get(order.buyer_id)
    weave = Weave(network, demands, order.criteria, PRICE, buyer.location if buyer else None)
    count = weave.count()
    batch = 1 + max((p.batch for p in records.plans(ctx.session, order.id)), default=0)
    version = network_version(ctx.session)
    learned = reliability(ctx.session, network)
    offered = []
    for plan in weave.best(PLANS_OFFERED):
        equation = plan_equation(network, plan)
        outlook = plan_outlook(network, learned, plan, order.buyer_id)
        ctx.session.add(
            PlanRow(
                order_id=order.id,
                batch=batch,
                rank=plan.rank,
                network_version=version,
                tree=[node_document(line) for line in plan.lines],
                equation=equation.text(),
                price=equation.price,
                unknowns=equation.unknowns,
                outlook=outlook,
                created_at=ctx.now,
            )
        )
        offered.append(
            {
                "rank": plan.rank,
                "equation": equation.text(),
                "price": equation.price,
                "outlook": outlook,
                "tree": [node_document(line) for line in plan.lines],
            }
        )
    if offered:
        move(ctx, order, OrderStatus.OPEN, "waiting for the buyer to choose a plan")
    else:
        # The caller tells the buyer with the plans; the coordinators hear it from `move`.
        move(ctx, order, OrderStatus.UNPLANNABLE, NO_PLAN, tell_buyer=False)
    return count, offered


NO_PLAN = "no plan can deliver it with the network as it is"


def rate_note(network: Network, item_id: str, quantity: int, per: str) -> str:
    """What the declared capacities allow in a period, against the rate asked."""
    days = PERIODS[per]
    can = SupplyModel(network).units(item_id) * days
    name = network.items[item_id].name
    if can >= quantity:
        return f"Declared capacities make up to {can:,.0f} {name} a {per}: enough."
    return (
        f"Declared capacities make only {can:,.0f} {name} a {per} of the {quantity:,} asked: "
        "more makers or suppliers are needed (/request tells the network)."
    )


def standing_note(network: Network, order: OrderRow, demands: list[Demand]) -> str:
    """For a standing order: per period, and what capacities allow; else nothing."""
    if order.per is None:
        return ""
    notes = [rate_note(network, d.item, d.quantity, order.per) for d in demands]
    return f"Prices are per {order.per}. " + " ".join(notes)


def plans_text(
    network: Network, order_id: int, count: int, offered: list[dict], note: str = ""
) -> str:
    if not offered:
        return (
            f"Order {order_id}: no plan can deliver it with the network as it is. "
            f"A coordinator has been told and can re-plan it; /cancel {order_id} if you no "
            "longer need it."
        )
    lines = [f"Order {order_id}: {how_many(count)} ways to deliver it. The best:"]
    for plan in offered:
        price = "price not known yet" if plan["price"] is None else f"{plan['price']:,.2f}"
        outlook = outlook_text(plan.get("outlook"))
        equation = short_equation(plan["equation"]) + (f" · {outlook}" if outlook else "")
        lines.append(f"  {plan['rank']}. {price} — {equation}")
    if note:
        lines.append(note)
    lines.append(f"/choose {order_id} N picks one; every party then gets its frame.")
    return "\n".join(lines)


def plans_payload(order_id: int, offered: list[dict]) -> dict:
    """The offered plans, with a button to choose each."""
    choices = buttons(
        *((f"Choose {p['rank']}", f"/choose {order_id} {p['rank']}") for p in offered)
    )
    return {"plans": offered, "buttons": choices}


def offered_plan(ctx: Context, order_id: int, rank: int) -> PlanRow:
    row = ctx.session.exec(
        select(PlanRow)
        .where(PlanRow.order_id == order_id, PlanRow.rank == rank)
        .order_by(PlanRow.batch.desc())
    ).first()
    newest = max((p.batch for p in records.plans(ctx.session, order_id)), default=0)
    if row is None or row.batch != newest:
        raise Refused(f"order {order_id} has no plan {rank}; /plans {order_id} lists them")
    return row


@handles(ChoosePlan)
def choose_plan(command: ChoosePlan, ctx: Context) -> int:
    order = _locked(ctx, command.order_id)
    _must_be_buyer(ctx, order, command.actor, "chooses a plan")
    if order.status in ENDED:
        raise Refused(f"order {order.id} is {order.status}")
    if lifecycle.live_contract(ctx.session, order.id) is not None:
        raise Refused(f"order {order.id} already has a plan under way; /stages {order.id} shows it")
    if order.status == OrderStatus.UNPLANNABLE:
        # The plans listed before are gone (a party declined, a source went out of service).
        raise Refused(
            f"order {order.id} has no plan now: {order.reason}. A coordinator has been "
            f"told; /cancel {order.id} if you no longer need it"
        )
    row = offered_plan(ctx, order.id, command.rank)
    try:
        plan = records.rebuild_plan(ctx.network(), row)
    except PlanGap as gap:
        raise Refused(
            f"plan {command.rank} can no longer be carried out ({gap}); "
            f"/plans {order.id} after a re-plan"
        ) from gap
    contract = Contract(order_id=order.id, plan_id=row.id, created_at=ctx.now)
    ctx.session.add(contract)
    ctx.session.flush()
    decide(ctx, contract, order.buyer_id, Decision.AGREED)
    order.revision += 1
    ctx.record(
        "plan_chosen",
        {"contract": contract.id, "plan": row.id, "rank": row.rank, "tree": row.tree},
        order.id,
        command.actor,
        command.origin,
    )
    move(ctx, order, OrderStatus.NEGOTIATING, "waiting for its parties to agree")
    refresh_reason(ctx, order, contract)
    send_frames(ctx, order, plan, contract, outcome_for=command.actor)
    validate(ctx, order, contract, plan)
    ctx.result.jobs.append(("sync_dependent_demand", (order.id,)))
    return contract.id


@handles(Agree)
def agree(command: Agree, ctx: Context) -> str:
    order = _locked(ctx, command.order_id)
    # Someone a re-plan brought into an agreed contract agrees to their new part too.
    contract, plan = _negotiation(ctx, order, command.actor, LIVE_CONTRACT)
    if _decision(ctx, contract, command.actor) == Decision.AGREED:
        raise Refused(f"you agreed to order {order.id} already; /tasks shows what you owe")
    decide(ctx, contract, command.actor, Decision.AGREED)
    ctx.record("agreed", {"contract": contract.id}, order.id, command.actor, command.origin)
    ctx.result.jobs.append(("sync_dependent_demand", (order.id,)))
    if contract.status == ContractStatus.AGREED:
        # Someone a re-plan brought in: their stages may start now.
        startable = startable_stages(ctx, contract, command.actor)
        now = f" You can start {', '.join(startable)} now." if startable else ""
        ctx.outcome(
            command.actor,
            f"Thanks — noted. Order {order.id} goes on with you.{now} "
            f"/stages {order.id} shows your part.",
            order.id,
            kind="noted",
        )
        refresh_reason(ctx, order, contract)
        return contract.status
    validate(ctx, order, contract, plan, outcome_for=command.actor)
    if contract.status == ContractStatus.POTENTIAL and not ctx.told_outcome(command.actor):
        waiting = refresh_reason(ctx, order, contract)
        ctx.outcome(
            command.actor,
            f"Thanks — noted. Order {order.id} is {waiting}; you will be told when it starts.",
            order.id,
            kind="noted",
        )
    return contract.status


def validate(
    ctx: Context, order: OrderRow, contract: Contract, plan: Plan, outcome_for: str | None = None
) -> None:
    """F_V: agreed when every required party agreed and Assess finds no gap; then stages.
    `outcome_for`: the sender of the command, whose message from here says how it ended."""
    if lifecycle.awaited(ctx.session, contract, order):
        return
    missing = records.gaps(ctx.network(), ctx.session.get(PlanRow, contract.plan_id))
    if missing:
        reason = "everyone agreed, but part of the plan is no longer available"
        move(ctx, order, OrderStatus.BLOCKED, reason, tell_buyer=False)
        ctx.tell(
            order.buyer_id,
            "blocked",
            f"Order {order.id}: {reason}. /reweave {order.id} finds another way; "
            "a coordinator has been told.",
            order.id,
            {"buttons": buttons(("Find another way", f"/reweave {order.id}"))},
            outcome=outcome_for == order.buyer_id,
        )
        if outcome_for not in (None, order.buyer_id):
            ctx.outcome(
                outcome_for,
                f"Thanks — noted. Order {order.id} is blocked: {reason}; you will hear how it "
                "goes on.",
                order.id,
                kind="noted",
            )
        return
    graph = plan_stages(ctx.network(), plan, order.buyer_id)
    for stage in graph:
        ctx.session.add(records.write_stage(StageRow(contract_id=contract.id), stage, ctx.now))
    move_contract(contract, ContractStatus.AGREED, ctx)
    contract.agreed_at = ctx.now
    ctx.session.add(contract)
    ctx.record(
        "contract_agreed", {"contract": contract.id, "stages": stage_documents(graph)}, order.id
    )
    move(ctx, order, OrderStatus.IN_PROGRESS, "under way")
    for party in sorted(lifecycle.plan_participants(_tree(ctx, contract)) | {order.buyer_id}):
        mine = [s.id for s in graph if s.owner == party]
        todo = (
            f" Your stages: {', '.join(mine)}; /done {order.id} STAGE when each is done."
            if mine
            else ""
        )
        ctx.tell(
            party,
            "agreed",
            f"Order {order.id} is agreed by everyone.{todo} /stages {order.id} shows them all.",
            order.id,
            outcome=party == outcome_for,
        )
    if outcome_for is not None and not ctx.told_outcome(outcome_for):
        ctx.outcome(outcome_for, f"Order {order.id} is agreed by everyone.", order.id)


@handles(Decline)
def decline(command: Decline, ctx: Context) -> int:
    order = _locked(ctx, command.order_id)
    if command.actor == order.buyer_id:
        raise Refused(f"the buyer cancels with /cancel {order.id}, not by declining")
    contract, plan = _negotiation(ctx, order, command.actor, LIVE_CONTRACT)
    decided = _decision(ctx, contract, command.actor)
    if contract.status == ContractStatus.AGREED and decided == Decision.AGREED:
        raise Refused(
            f"order {order.id} is under way with your agreement; /fail {order.id} STAGE REASON "
            "if you cannot do a stage"
        )
    reason = bounded(command.reason, "reason", 500)
    decide(ctx, contract, command.actor, Decision.DECLINED, reason)
    order.excluded = sorted({*order.excluded, command.actor})
    order.revision += 1
    ctx.record(
        "declined",
        {"contract": contract.id, "reason": reason},
        order.id,
        command.actor,
        command.origin,
    )
    ctx.outcome(
        command.actor,
        f"Noted: you declined order {order.id}. Thank you — nothing more is expected of you; "
        "the buyer is told.",
        order.id,
        kind="noted",
    )
    if contract.status == ContractStatus.AGREED:
        # Someone a re-plan brought in turns down their new part: re-plan it without them.
        from core.service.replan import replan_without

        replan_without(ctx, order, contract, command.actor, reason)
        return 0
    move_contract(contract, ContractStatus.CANCELLED, ctx)
    for party in records.parties(plan):
        if party != command.actor:
            ctx.tell(
                party,
                "released",
                f"Order {order.id}: the plan changed and no longer needs "
                "you for now. Thank you; nothing more is expected of you.",
                order.id,
            )
    network = ctx.network()
    demands = [Demand(line.item_id, line.quantity) for line in records.lines(ctx.session, order.id)]
    count, offered = weave_plans(ctx, order, demands, network)
    ctx.record(
        "rewoven", {"without": order.excluded, "plan_count": str(count), "plans": offered}, order.id
    )
    who = network.participants.get(command.actor)
    ctx.tell(
        order.buyer_id,
        "plans",
        f"{who.name if who else command.actor} declined order {order.id}"
        f"{': ' + reason if reason else ''}. " + plans_text(network, order.id, count, offered),
        order.id,
        plans_payload(order.id, offered),
    )
    return count


@handles(QuotePrice)
def quote_price(command: QuotePrice, ctx: Context) -> float:
    order = _locked(ctx, command.order_id)
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None:
        raise Refused(f"order {order.id} has no plan under way")
    plan = plan_of(ctx, contract)
    equation = plan_equation(ctx.network(), plan, quoted(ctx, order.id))
    variable = equation.variables.get(command.variable)
    if variable is None:
        by_letter = {v: k for k, v in equation.letters.items()}
        variable = equation.variables.get(by_letter.get(command.variable, ""))
    if variable is None:
        raise Refused(
            f"{command.variable!r} is not in the equation of order {order.id}: {equation.text()}"
        )
    if variable.setter != command.actor and not records.is_coordinator(ctx.session, command.actor):
        raise Refused(f"{variable.name} is set by {variable.setter}, not by you")
    if order.status in ENDED:
        raise Refused(f"order {order.id} is {order.status}")
    value = command.value
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise Refused(f"a price is a number ≥ 0, not {value!r}")
    ctx.session.add(
        Quote(
            order_id=order.id,
            variable=variable.name,
            value=float(value),
            participant_id=command.actor,
            at=ctx.now,
        )
    )
    ctx.session.flush()
    ctx.record(
        "quoted",
        {"variable": variable.name, "value": float(value)},
        order.id,
        command.actor,
        command.origin,
    )
    send_frames(ctx, order, plan, contract, outcome_for=command.actor)
    if not ctx.told_outcome(command.actor):
        ctx.outcome(
            command.actor,
            f"Order {order.id}: {variable.name} = {value:,.2f} recorded; every party has the "
            "updated price.",
            order.id,
            kind="noted",
        )
    return float(value)


@handles(Complete)
def complete(command: Complete, ctx: Context) -> None:
    order = _locked(ctx, command.order_id)
    _must_be_buyer(ctx, order, command.actor, "completes an order", coordinator_too=True)
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None or contract.status != ContractStatus.AGREED:
        raise Refused(f"order {order.id} has no agreed plan to complete")
    finish(ctx, order, contract, command.actor)


def finish(ctx: Context, order: OrderRow, contract: Contract, actor: str | None) -> None:
    move_contract(contract, ContractStatus.COMPLETED, ctx)
    ctx.record("completed", {"contract": contract.id}, order.id, actor)
    move(ctx, order, OrderStatus.COMPLETED, "delivered and accepted", actor)
    for party in sorted({order.buyer_id, *lifecycle.plan_participants(_tree(ctx, contract))}):
        if party == actor and ctx.told_outcome(actor):
            continue  # the answer to their own command said it already
        text = f"Order {order.id} is complete. Thank you all!"
        ctx.tell(party, "completed", text, order.id, outcome=party == actor)


# -- shared checks --------------------------------------------------------------------------


def _locked(ctx: Context, order_id: int) -> OrderRow:
    return records.order(ctx.session, order_id, lock=True)


def _must_be_buyer(ctx, order, actor, what, coordinator_too=False) -> None:
    if actor == order.buyer_id:
        return
    if coordinator_too and records.is_coordinator(ctx.session, actor):
        return
    raise Refused(f"only the buyer of order {order.id} {what}")


def _negotiation(ctx: Context, order: OrderRow, actor: str, open_to=("potential",)):
    records.participant(ctx.session, actor)
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None or contract.status not in open_to:
        raise Refused(f"order {order.id} has no plan waiting for agreement")
    if actor not in lifecycle.contract_parties(ctx.session, contract) | {order.buyer_id}:
        raise Refused(f"you have no part in order {order.id}'s plan")
    return contract, plan_of(ctx, contract)


def _tree(ctx: Context, contract: Contract) -> list:
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


def refresh_reason(ctx: Context, order: OrderRow, contract: Contract) -> str:
    """Say whom a negotiating or running order waits for; returns it."""
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


def plan_of(ctx: Context, contract: Contract) -> Plan:
    row = ctx.session.get(PlanRow, contract.plan_id)
    return records.rebuild_plan(ctx.network_at(row.network_version), row)


def _agreements(ctx: Context, contract: Contract) -> list[Agreement]:
    return list(ctx.session.exec(select(Agreement).where(Agreement.contract_id == contract.id)))


def _decision(ctx: Context, contract: Contract, participant_id: str) -> str | None:
    for agreement in _agreements(ctx, contract):
        if agreement.participant_id == participant_id:
            return agreement.decision
    return None
