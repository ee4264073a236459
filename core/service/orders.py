"""The life of an order up to agreement: place, weave, choose, agree or decline."""

from __future__ import annotations

import difflib
import logging
from datetime import date, datetime, timedelta

from sqlalchemy.exc import OperationalError

from core.intents.model import PERIODS
from core.intents.resources import close_items, item_named
from core.network.model import Item, Network
from core.plan_counts import exact_text
from core.service import lifecycle, records
from core.service.agreement import (
    answer_buyer,
    decide,
    plan_of,
    refresh_reason,
    startable_stages,
    tell_agreed,
    validate,
)
from core.service.bus import Context, bounded
from core.service.commands import (
    Agree,
    AssertStage,
    CancelOrder,
    ChoosePlan,
    Decline,
    PlaceOrder,
    Register,
    SyncDependentDemand,
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
from core.service.negotiation import send_frames
from core.service.notices import Next, View
from core.service.notices.orders import (
    JoinedUnderWay,
    NoLongerNeeded,
    OrderReceived,
    YouDeclined,
)
from core.service.plan_pages import offered_plan
from core.service.replan import replan_without
from core.service.results import Refused
from core.service.weaving import offer_plans, weave_plans
from core.store.tables import Contract, OrderLine, OrderRow
from core.weave import Demand, WeaveError
from core.weave.plan_document import PlanGap
from core.weave.shortfall import stated_criteria

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


def criterion_of(text: str, known: list[str]) -> str:
    """The known criterion `text` names (case aside), or Refused listing the known ones."""
    by_fold = {k.casefold(): k for k in known}
    if text.casefold() in by_fold:
        return by_fold[text.casefold()]
    shown = text if len(text) <= 30 else text[:27] + "…"
    close = difflib.get_close_matches(text.casefold(), list(by_fold), n=1)
    hint = f" — did you mean +{by_fold[close[0]]}?" if close else ""
    listing = ", ".join(f"+{k}" for k in known) if known else "none in this network"
    raise Refused(f"unknown criterion +{shown}{hint or '.'} Known: {listing}")


def item_of(network: Network, text: str) -> Item:
    """The item `text` names (resources.item_named: plurals, any case, several words), or
    Refused saying which items look like it."""
    item = item_named(network, text)
    if item is not None:
        return item
    shown = text if len(text) <= 40 else text[:37] + "…"
    alike = [f"{i.name} [{i.id}]" for i in close_items(network, text)]
    hint = f" — did you mean {' or '.join(alike)}?" if alike else ""
    raise Refused(f"unknown item {shown!r}{hint}", next=(Next(View.CATALOG),))


def order_checked(command: PlaceOrder, ctx: Context) -> tuple:
    """Every check of an order that reads only: the buyer, the lines (as demands) and the
    criteria it would have, or Refused. What a chat front end tries before it acknowledges
    an order (Services.trial), since placing one would take an order number."""
    buyer = records.participant(ctx.session, command.actor)
    if "buyer" not in buyer.roles and "coordinator" not in buyer.roles:
        raise Refused("only a buyer places orders", next=(Next(Register, ("buyer", "YOUR NAME")),))
    network = ctx.network()
    if not command.lines:
        raise Refused("an order needs an item and a quantity")
    demands = []
    for text, quantity in command.lines:
        item = item_of(network, bounded(text, "item", 200))
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise Refused(f"quantity must be a positive whole number, not {quantity!r}")
        if quantity > MAX_QUANTITY:
            raise Refused(f"quantity must be at most {MAX_QUANTITY:,}")
        demands.append(Demand(item.id, quantity))
    if any(not isinstance(c, str) for c in command.criteria):
        raise Refused("a criterion is a word like latex-free")
    known = stated_criteria(network)
    criteria = [criterion_of(bounded(c, "criterion", 60), known) for c in command.criteria]
    if command.due is not None:
        if not isinstance(command.due, date):  # a datetime is a date too
            raise Refused(f"a due date is a date like 2026-12-20, not {command.due!r}")
        due = command.due.date() if isinstance(command.due, datetime) else command.due
        if (problem := due_problem(due, ctx.now.date())) is not None:
            raise Refused(problem)
    if command.per is not None and command.per not in PERIODS:
        raise Refused(f"a standing order is per {', '.join(PERIODS)}, not per {command.per}")
    return buyer, demands, criteria


def place_order(command: PlaceOrder, ctx: Context, choosing: bool = False) -> int:
    """`choosing`: the caller chooses plan 1 at once when there is one, and the frame that
    follows is the buyer's answer instead of the list of plans."""
    buyer, demands, criteria = order_checked(command, ctx)
    network = ctx.network()
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
        ctx.result.jobs.append(WeaveOrder(order.id))
        ctx.record("order_placed", {**placed, "weaving": True}, order.id, buyer.id, command.origin)
        ctx.notify(buyer.id, OrderReceived(order.id), order.id, outcome=True)
        return order.id
    ctx.record("order_placed", placed, order.id, buyer.id, command.origin)
    count, offered = weave_plans(ctx, order, demands, network)
    ctx.record("order_woven", {"plan_count": exact_text(count), "plans": offered}, order.id)
    if choosing and order.status == OrderStatus.OPEN:
        return order.id
    offer_plans(ctx, order, count, offered, demands, outcome=True)
    return order.id


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
    ctx.record("order_woven", {"plan_count": exact_text(count), "plans": offered}, order.id)
    offer_plans(ctx, order, count, offered, demands)
    return count


def _weave_failure(exc: Exception) -> str:
    """Why, in words a buyer can read; the details are in the log."""
    if isinstance(exc, WeaveError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "the network's designs nest too deeply to plan"
    return "an unexpected error, logged for the operators"


def choose_plan(command: ChoosePlan, ctx: Context) -> int:
    order = _locked(ctx, command.order_id)
    _must_be_buyer(order, command.actor, "chooses a plan")
    if order.status in ENDED:
        raise Refused(f"order {order.id} is {order.status}")
    if lifecycle.live_contract(ctx.session, order.id) is not None:
        raise Refused(
            f"order {order.id} already has a plan under way",
            next=(Next(View.STAGES, (order.id,)),),
        )
    if order.status == OrderStatus.UNPLANNABLE:
        # The plans listed before are gone (a party declined, a source went out of service).
        raise Refused(
            f"order {order.id} has no plan now: {order.reason}. A coordinator has been told",
            next=(Next(CancelOrder, (order.id,)),),
        )
    row = offered_plan(ctx, order.id, command.rank)
    try:
        plan = records.rebuild_plan(ctx.network(), row)
    except PlanGap as gap:
        raise Refused(
            f"plan {command.rank} can no longer be carried out ({gap})",
            next=(Next(View.PLANS, (order.id,)),),
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
    ctx.result.jobs.append(SyncDependentDemand(order.id))
    return contract.id


def agree(command: Agree, ctx: Context) -> str:
    order = _locked(ctx, command.order_id)
    # Someone a re-plan brought into an agreed contract agrees to their new part too.
    contract, plan = _negotiation(ctx, order, command.actor, LIVE_CONTRACT)
    if command.actor == order.buyer_id:  # the buyer agreed by choosing: say what that means
        answer_buyer(ctx, order, contract)
        return contract.status
    if lifecycle.decisions(ctx.session, contract).get(command.actor) == Decision.AGREED:
        raise Refused(f"you agreed to order {order.id} already", next=(Next(View.TASKS),))
    decide(ctx, contract, command.actor, Decision.AGREED)
    ctx.record("agreed", {"contract": contract.id}, order.id, command.actor, command.origin)
    ctx.result.jobs.append(SyncDependentDemand(order.id))
    if contract.status == ContractStatus.AGREED:
        # Someone a re-plan brought in: their stages may start now.
        startable = startable_stages(ctx, contract, command.actor)
        joining = JoinedUnderWay(order.id, tuple(startable))
        ctx.notify(command.actor, joining, order.id, outcome=True)
        refresh_reason(ctx, order, contract)
        return contract.status
    validate(ctx, order, contract, plan, outcome_for=command.actor)
    if contract.status == ContractStatus.POTENTIAL and not ctx.told_outcome(command.actor):
        refresh_reason(ctx, order, contract)
        tell_agreed(ctx, order, contract, command.actor)
    return contract.status


def decline(command: Decline, ctx: Context) -> int:
    order = _locked(ctx, command.order_id)
    if command.actor == order.buyer_id:
        raise Refused(
            "the buyer cancels an order rather than declining it",
            next=(Next(CancelOrder, (order.id,)),),
        )
    contract, plan = _negotiation(ctx, order, command.actor, LIVE_CONTRACT)
    decided = lifecycle.decisions(ctx.session, contract).get(command.actor)
    if contract.status == ContractStatus.AGREED and decided == Decision.AGREED:
        raise Refused(
            f"order {order.id} is under way with your agreement; say which stage you cannot do",
            next=(Next(AssertStage, (order.id, "STAGE", "REASON"), (("status", "failed"),)),),
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
    ctx.notify(command.actor, YouDeclined(order.id), order.id, outcome=True)
    if contract.status == ContractStatus.AGREED:
        # Someone a re-plan brought in turns down their new part: re-plan it without them.
        replan_without(ctx, order, contract, command.actor, reason)
        return 0
    move_contract(contract, ContractStatus.CANCELLED, ctx)
    for party in records.parties(plan):
        if party != command.actor:
            ctx.notify(party, NoLongerNeeded(order.id), order.id)
    network = ctx.network()
    demands = [Demand(line.item_id, line.quantity) for line in records.lines(ctx.session, order.id)]
    count, offered = weave_plans(ctx, order, demands, network)
    ctx.record(
        "rewoven",
        {"without": order.excluded, "plan_count": exact_text(count), "plans": offered},
        order.id,
    )
    who = network.participants.get(command.actor)
    offer_plans(
        ctx, order, count, offered, declined_by=who.name if who else command.actor, reason=reason
    )
    return count


# -- shared checks --------------------------------------------------------------------------


def _locked(ctx: Context, order_id: int) -> OrderRow:
    return records.order(ctx.session, order_id, lock=True)


def _must_be_buyer(order: OrderRow, actor: str, what: str) -> None:
    if actor != order.buyer_id:
        raise Refused(f"only the buyer of order {order.id} {what}")


def _negotiation(ctx: Context, order: OrderRow, actor: str, open_to=("potential",)):
    records.participant(ctx.session, actor)
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None or contract.status not in open_to:
        raise Refused(f"order {order.id} has no plan waiting for agreement")
    if actor not in lifecycle.contract_parties(ctx.session, contract) | {order.buyer_id}:
        raise Refused(f"you have no part in order {order.id}'s plan")
    return contract, plan_of(ctx, contract)
