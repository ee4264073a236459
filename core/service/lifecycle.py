"""The life of an order and its contracts, in one place: the states, the moves allowed between
them, what each state waits for, and the one rule of who the parties of an order are.

Every handler that changes an order's state goes through `move`: it refuses a move the life of
an order does not allow, records the change as an event (so `/history` and a rebuild from events
see it), and, when the order is stuck, tells its buyer and the network's coordinators why and
what they can do. Every read and every write asks `parties` who may see or act on an order.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Row, and_, bindparam
from sqlmodel import Session, select

from core.service import capacity, records
from core.service.notices.lifecycle import OrderStuck, StuckForCoordinator
from core.store.tables import Agreement, Contract, OrderRow, ParticipantRow, PlanRow, StageRow
from core.weave.legs import VEHICLE


class OrderStatus(StrEnum):
    WEAVING = "weaving"  # waiting for the weave (a worker)
    OPEN = "open"  # plans offered: waiting for the buyer to choose
    UNPLANNABLE = "unplannable"  # no plan: waiting for the network to change
    NEGOTIATING = "negotiating"  # a plan chosen: waiting for its parties to agree
    IN_PROGRESS = "in_progress"  # agreed: waiting for its stages
    BLOCKED = "blocked"  # part of the live plan has no source: waiting for a decision
    FAILED = "failed"  # the weave itself failed: waiting for a coordinator's /reweave or /cancel
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ContractStatus(StrEnum):
    POTENTIAL = "potential"
    AGREED = "agreed"
    COMPLETED = "completed"
    CONTESTED = "contested"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    """A party's word on its part of a contract."""

    ASKED = "asked"  # a re-plan gave them a new part: they have not agreed to it yet
    AGREED = "agreed"
    DECLINED = "declined"


S = OrderStatus
ORDER_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.WEAVING: frozenset({S.OPEN, S.UNPLANNABLE, S.FAILED, S.CANCELLED}),
    S.FAILED: frozenset({S.FAILED, S.OPEN, S.UNPLANNABLE, S.CANCELLED}),
    S.OPEN: frozenset({S.OPEN, S.UNPLANNABLE, S.NEGOTIATING, S.IN_PROGRESS, S.CANCELLED}),
    S.UNPLANNABLE: frozenset({S.OPEN, S.UNPLANNABLE, S.CANCELLED}),
    S.NEGOTIATING: frozenset(
        {S.NEGOTIATING, S.OPEN, S.UNPLANNABLE, S.IN_PROGRESS, S.BLOCKED, S.CANCELLED}
    ),
    S.IN_PROGRESS: frozenset({S.IN_PROGRESS, S.BLOCKED, S.COMPLETED, S.CANCELLED}),
    # A plan blocked before everyone agreed may be given up (a party declines): choose again.
    S.BLOCKED: frozenset(
        {S.BLOCKED, S.OPEN, S.UNPLANNABLE, S.NEGOTIATING, S.IN_PROGRESS, S.COMPLETED, S.CANCELLED}
    ),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}
C = ContractStatus
CONTRACT_MOVES: dict[ContractStatus, frozenset[ContractStatus]] = {
    C.POTENTIAL: frozenset({C.AGREED, C.CANCELLED}),
    C.AGREED: frozenset({C.COMPLETED, C.CANCELLED, C.CONTESTED}),
    C.CONTESTED: frozenset({C.AGREED, C.CANCELLED}),
    C.COMPLETED: frozenset(),
    C.CANCELLED: frozenset(),
}
LIVE_CONTRACT = (C.POTENTIAL, C.AGREED)
ENDED = frozenset({S.COMPLETED, S.CANCELLED})
# States in which the order cannot go on by itself: its buyer and the coordinators are told.
STUCK = frozenset({S.UNPLANNABLE, S.BLOCKED, S.FAILED})

# How each state reads to a person, in /orders and /history.
DESCRIBED = {
    S.WEAVING: "being planned",
    S.OPEN: "waiting for the buyer to choose a plan",
    S.UNPLANNABLE: "no plan can deliver it",
    S.NEGOTIATING: "waiting for its parties to agree",
    S.IN_PROGRESS: "under way",
    S.BLOCKED: "blocked",
    S.FAILED: "planning it failed",
    S.COMPLETED: "completed",
    S.CANCELLED: "cancelled",
}


class IllegalMove(RuntimeError):
    """A handler tried a change the life of an order does not allow: a bug, not bad input."""


def move(
    ctx,
    order: OrderRow,
    to: OrderStatus,
    reason: str = "",
    actor: str | None = None,
    tell_buyer: bool = True,
) -> None:
    """Put the order in state `to`, saying why; stuck states are pushed to the coordinators
    with what they can do, and to the buyer unless the caller tells them itself."""
    now = OrderStatus(order.status)
    if to not in ORDER_MOVES[now]:
        raise IllegalMove(f"order {order.id} cannot go from {now} to {to}")
    changed = now != to or (order.reason or "") != reason
    order.status, order.reason = to.value, reason
    ctx.session.add(order)
    if not changed:
        return
    ctx.record(
        "order_state", {"from": now.value, "to": to.value, "reason": reason}, order.id, actor
    )
    if to in STUCK:
        tell_stuck(ctx, order, to, reason, tell_buyer)


def tell_stuck(
    ctx, order: OrderRow, state: OrderStatus, reason: str, tell_buyer: bool = True
) -> None:
    """The buyer hears why and what happens next; every coordinator hears it with the commands
    that can get the order moving again."""
    what = reason or DESCRIBED[state]
    if tell_buyer:
        ctx.notify(order.buyer_id, OrderStuck(order.id, what), order.id)
    buyer = ctx.session.get(ParticipantRow, order.buyer_id)
    stuck = StuckForCoordinator(order.id, buyer.name if buyer else order.buyer_id, what)
    for coordinator in coordinators(ctx.session):
        if coordinator != order.buyer_id:
            ctx.notify(coordinator, stuck, order.id)


def move_contract(contract: Contract, to: ContractStatus, ctx=None) -> None:
    """Put the contract in state `to`; with `ctx`, the change is an event of its order (every
    handler passes it; history is rebuilt from these)."""
    now = ContractStatus(contract.status)
    if to not in CONTRACT_MOVES[now]:
        raise IllegalMove(f"contract {contract.id} cannot go from {now} to {to}")
    contract.status = to.value
    if ctx is not None:
        if to in (C.COMPLETED, C.CANCELLED):
            contract.ended_at = ctx.now
            capacity.release(ctx, contract)
        ctx.session.add(contract)
        ctx.record(
            "contract_state",
            {"contract": contract.id, "from": now.value, "to": to.value},
            contract.order_id,
        )


# -- who the parties are -------------------------------------------------------------------------


def coordinators(session: Session) -> list[str]:
    rows = session.exec(select(ParticipantRow)).all()
    return sorted(row.id for row in rows if "coordinator" in row.roles)


def plan_participants(tree: list) -> set[str]:
    """Everyone a stored plan tree needs: suppliers, makers, holders forwarding stock, and the
    operators of the vehicles that move the goods."""
    found: set[str] = set()

    def visit(node: dict) -> None:
        source = node["source"]
        who = source.get("supplier") or source.get("operator") or source.get("holder")
        if who:
            found.add(who)
        leg = node.get("leg")
        if leg and leg.get("kind") == VEHICLE and leg.get("carrier"):
            found.add(leg["carrier"])
        for child in node["inputs"]:
            visit(child)

    for line in tree:
        visit(line)
    return found


def live_contract(session: Session, order_id: int) -> Contract | None:
    return session.exec(_LIVE_CONTRACT, params={"order": order_id}).first()


def live_contract_and_stages(session: Session, order_id: int) -> tuple[Row | None, list[Row]]:
    """`live_contract` and the rows `records.live_stage_rows` gives of its stages, read in one
    statement as Core rows, for a handler that reads the contract only (the ORM's object costs
    more CPU than the read; `session.get(Contract, id)` gives it): the contract's
    `contract_id` and `contract_status` (None: no live contract), and its stages."""
    session.flush()  # a Core read is not preceded by the ORM's autoflush
    rows = session.execute(_LIVE_CONTRACT_AND_STAGES, {"order": order_id}).all()
    if not rows:
        return None, []
    return rows[0], records.dependencies_first([r for r in rows if r.id is not None])


def plan_parties(session: Session, order: OrderRow) -> set[str]:
    """The participants of the order's live plan: the chosen one, as re-planned; for an order
    that ended, the plan it ended with."""
    contract = live_contract(session, order.id)
    if contract is None and order.status in ENDED:
        contract = session.exec(
            select(Contract).where(Contract.order_id == order.id).order_by(Contract.id.desc())
        ).first()
    if contract is None:
        return set()
    return contract_parties(session, contract)


def contract_parties(session: Session, contract: Contract) -> set[str]:
    """Everyone the contract needs: the participants of its plan and whoever a coordinator
    handed one of its stages to."""
    owners = session.exec(
        select(StageRow.owner_id).where(
            StageRow.contract_id == contract.id, StageRow.status != "superseded"
        )
    )
    tree = plan_participants(session.get(PlanRow, contract.plan_id).tree)
    return tree | {owner for owner in owners if owner}


def parties(session: Session, order: OrderRow) -> set[str]:
    """The one rule: the buyer, the participants of the live plan, and the coordinators."""
    return {order.buyer_id, *plan_parties(session, order), *coordinators(session)}


def is_party(session: Session, order: OrderRow, participant_id: str | None) -> bool:
    return participant_id is not None and participant_id in parties(session, order)


def decisions(session: Session, contract: Contract) -> dict[str, str]:
    session.flush()  # a Core read is not preceded by the ORM's autoflush
    rows = session.execute(_DECISIONS, {"contract": contract.id})
    return {participant: decision for participant, decision in rows}


# Read by nearly every command on an order (built once: building a statement costs more CPU
# than running it). The decisions are SQLAlchemy Core: the ORM's objects cost more than the read.
_LIVE_CONTRACT = (
    select(Contract)
    .where(Contract.order_id == bindparam("order"), Contract.status.in_(LIVE_CONTRACT))
    .order_by(Contract.id.desc())
    .limit(1)
)
_CONTRACTS, _STAGES = Contract.__table__, StageRow.__table__
_LATEST_LIVE = (
    select(_CONTRACTS.c.id)
    .where(_CONTRACTS.c.order_id == bindparam("order"), _CONTRACTS.c.status.in_(LIVE_CONTRACT))
    .order_by(_CONTRACTS.c.id.desc())
    .limit(1)
    .correlate(None)  # a query of its own, not of the contract row around it
    .scalar_subquery()
)
# The live contract with a row per live stage (one row of NULL stage columns without any).
_LIVE_CONTRACT_AND_STAGES = (
    select(
        _CONTRACTS.c.id.label("contract_id"),
        _CONTRACTS.c.status.label("contract_status"),
        *records.LIVE_STAGE_COLUMNS,
    )
    .select_from(
        _CONTRACTS.outerjoin(
            records.LIVE_STAGES_WITH_DECISIONS,
            and_(_STAGES.c.contract_id == _CONTRACTS.c.id, _STAGES.c.status != "superseded"),
        )
    )
    .where(_CONTRACTS.c.id == _LATEST_LIVE)
    .order_by(_STAGES.c.id)
)
_AGREEMENTS = Agreement.__table__
_DECISIONS = select(_AGREEMENTS.c.participant_id, _AGREEMENTS.c.decision).where(
    _AGREEMENTS.c.contract_id == bindparam("contract")
)


def awaited(session: Session, contract: Contract, order: OrderRow) -> list[str]:
    """The participants of the contract's plan who have not agreed to their part (yet)."""
    decided = decisions(session, contract)
    required = contract_parties(session, contract) | {order.buyer_id}
    return sorted(p for p in required if decided.get(p) != Decision.AGREED)
