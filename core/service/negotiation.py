"""Negotiation: every party of a plan gets its frame (its part, the others, and the equation),
the parties quote the prices the equation leaves open, and everyone hears what changed."""

from __future__ import annotations

import math
from collections.abc import Callable

from sqlmodel import Session, select

from core.frames import Frame, negotiation_frame
from core.network.model import Network
from core.pricing.equation import Equation, plan_equation
from core.service import lifecycle, records
from core.service.agreement import plan_of
from core.service.bus import Context
from core.service.commands import Agree, Decline, QuotePrice
from core.service.lifecycle import ENDED, Decision
from core.service.notices import Next, View
from core.service.notices.negotiation import FrameSent, PriceRecorded, PriceSet
from core.service.results import Refused
from core.service.risk import plan_outlook, reliability
from core.store.tables import ChatIdentity, Contract, OrderRow, Quote
from core.weave.plan import Plan


def send_frames(
    ctx: Context,
    order: OrderRow,
    plan: Plan,
    contract: Contract,
    only: set[str] | None = None,
    outcome_for: str | None = None,
    outlook: dict | None = None,
    awaited: list[str] | None = None,
    quotes: dict[str, float] | None = None,
    platforms: Callable[[str], tuple[str, ...]] | None = None,
    decided: dict[str, str] | None = None,
) -> None:
    """Each party's frame; the frame of `outcome_for` (the sender of the command) is the
    message that tells them how their command ended. What the caller has read already is not
    read again: the plan's `outlook` as stored, whom the contract is `awaited` by, the order's
    `quotes`, the `platforms` of each reader (reader_platforms), and each party's word on the
    contract (`decided`, lifecycle.decisions)."""
    network = ctx.network()
    frame = _frame(ctx.session, network, order, plan, outlook, quotes)
    if decided is None:
        decided = lifecycle.decisions(ctx.session, contract)
    if awaited is None:
        awaited = lifecycle.awaited(ctx.session, contract, order)
    waiting = _names(network, awaited)
    for party in [order.buyer_id, *records.parties(plan)]:
        if only is not None and party not in only:
            continue
        agreed = decided.get(party) == Decision.AGREED
        notice = FrameSent(
            frame,
            party,
            platforms(party)
            if platforms is not None
            else reader_platforms(ctx.session, network, party, ctx.services.platforms),
            agreed,
            waiting,
            next=_next(order.id, agreed),
        )
        ctx.notify(party, notice, order.id, outcome=party == outcome_for)


def order_frame(services, session: Session, order_id: int, reader: str) -> FrameSent:
    """The reader's whole frame of the plan under way (/terms): every term and contact."""
    order = records.order(session, order_id)
    contract = lifecycle.live_contract(session, order_id)
    if contract is None:
        raise Refused(f"order {order_id} has no plan under way yet")
    row = session.get(records.PlanRow, contract.plan_id)
    plan = records.rebuild_plan(services.network_at(session, row.network_version), row)
    network = services.current_network(session)
    agreed = lifecycle.decisions(session, contract).get(reader) == Decision.AGREED
    party = reader == order.buyer_id or reader in records.parties(plan)
    return FrameSent(
        _frame(session, network, order, plan),
        reader,
        reader_platforms(session, network, reader, services.platforms),
        agreed or not party,  # a coordinator reading has nothing to agree to
        _names(network, lifecycle.awaited(session, contract, order)),
        whole=True,
        next=_next(order.id, agreed or not party, details=False),
    )


def reader_platforms(
    session: Session, network: Network, who: str, preference: tuple[str, ...]
) -> tuple[str, ...]:
    """Where `who` chats, in the delivery preference: their chat accounts, then the platforms
    the network lists for them."""
    accounts = set(
        session.exec(select(ChatIdentity.platform).where(ChatIdentity.participant_id == who))
    )
    participant = network.participants.get(who)
    listed = set(participant.contacts) if participant else set()
    return tuple(p for p in preference if p in accounts) + tuple(
        p for p in preference if p in listed and p not in accounts
    )


def quoted(ctx: Context, order_id: int) -> dict[str, float]:
    return _quotes(ctx.session, order_id)


def quote_price(command: QuotePrice, ctx: Context) -> float:
    order = records.order(ctx.session, command.order_id, lock=True)
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None:
        raise Refused(f"order {order.id} has no plan under way")
    plan = plan_of(ctx, contract)
    network = ctx.network()
    equation = plan_equation(network, plan, quoted(ctx, order.id))
    variable = equation.find(command.variable)
    if variable is None:
        letters = ", ".join(equation.letters[n] for n in equation.form.terms)
        raise Refused(
            f"{command.variable!r} is not in the equation of order {order.id}; its letters are "
            f"{letters}"
        )
    letter = equation.letters[variable.name]
    if variable.setter != command.actor and not records.is_coordinator(ctx.session, command.actor):
        raise Refused(f"{letter} is set by {network.participant_name(variable.setter)}, not by you")
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
    _tell_price(ctx, order, contract, plan, variable.name, command.actor)
    return float(value)


def _tell_price(
    ctx: Context, order: OrderRow, contract: Contract, plan: Plan, variable: str, actor: str
) -> None:
    """One short message to each party: which price changed and what P is now; Agree and
    Decline only for those whose word is still awaited."""
    network = ctx.network()
    frame = _frame(ctx.session, network, order, plan)
    decided = lifecycle.decisions(ctx.session, contract)
    term = frame.term(variable)
    setter = network.participant_name(actor)
    unknowns = tuple(t.letter for t in frame.unknowns)
    for party in [order.buyer_id, *records.parties(plan)]:
        if party == actor:
            continue
        agreed = decided.get(party) == Decision.AGREED
        notice = PriceSet(
            order.id, setter, term, frame.total, unknowns, next=_next(order.id, agreed)
        )
        ctx.notify(party, notice, order.id)
    # A coordinator quoting for someone has no part to agree to.
    party = actor == order.buyer_id or actor in records.parties(plan)
    agreed = decided.get(actor) == Decision.AGREED or not party
    recorded = PriceRecorded(
        order.id, setter, term, frame.total, unknowns, next=_next(order.id, agreed)
    )
    ctx.notify(actor, recorded, order.id, outcome=True)


def _frame(
    session: Session,
    network: Network,
    order: OrderRow,
    plan: Plan,
    outlook: dict | None = None,
    quotes: dict[str, float] | None = None,
) -> Frame:
    if quotes is None:
        quotes = _quotes(session, order.id)
    equation: Equation = plan_equation(network, plan, quotes)
    if outlook is None:
        outlook = plan_outlook(network, reliability(session, network), plan, order.buyer_id)
    return negotiation_frame(
        network,
        order.id,
        order.buyer_id,
        plan,
        equation,
        records.parties(plan),
        order.due,
        outlook,
        ordered=order.created_at,
    )


def _next(order_id: int, agreed: bool, details: bool = True) -> tuple[Next, ...]:
    """Agree and Decline for whoever has not agreed yet; the whole frame one press away."""
    steps = () if agreed else (Next(Agree, (order_id,)), Next(Decline, (order_id,)))
    return steps + ((Next(View.TERMS, (order_id,)),) if details else ())


def _quotes(session: Session, order_id: int) -> dict[str, float]:
    rows = session.exec(select(Quote).where(Quote.order_id == order_id).order_by(Quote.id))
    return {row.variable: row.value for row in rows}


def _names(network: Network, ids: list[str]) -> tuple[str, ...]:
    return tuple(network.participant_name(p) for p in ids)
