"""Capacity across orders: an agreed contract reserves what its plan uses of each resource, week
by week (the rules: core.weave.capacity); the weave of a new order sees what is left.

Reservations are made when a contract is agreed (`reserve`, from `lifecycle.move_contract`) and
released when it completes or is cancelled (`release`, the same hook), and when a re-plan gives
the contract another plan (`replanned`: the old plan's released, the new plan's reserved). Two
agreements at the same moment must not both take the last units: on PostgreSQL each resource
with a capacity is locked for the transaction (`pg_advisory_xact_lock`, in a fixed order, so two
agreements never wait on each other in a circle) before what is left is read; on SQLite every
writing transaction is serialised already (BEGIN IMMEDIATE). A resource without one is never
short: its reservations are written without a lock or a read.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, insert, text, update
from sqlmodel import Session, select

from core.network.model import Network
from core.service import records
from core.service.bus import Context
from core.store.tables import Contract, PlanRow, ReservationRow
from core.weave.capacity import (
    Overbooked,
    Use,
    capacity_of,
    left_now,
    overbooked,
    plan_usage,
)
from core.weave.plan import Plan


def reserved(
    session: Session, resources: Iterable[str] | None = None
) -> dict[tuple[str, date], float]:
    """Live reservations, summed per (resource, week); only of `resources` when given."""
    query = (
        select(ReservationRow.resource, ReservationRow.week, func.sum(ReservationRow.quantity))
        .where(ReservationRow.released_at.is_(None))
        .group_by(ReservationRow.resource, ReservationRow.week)
    )
    if resources is not None:
        query = query.where(ReservationRow.resource.in_(sorted(set(resources))))
    return {(r, w): float(q) for r, w, q in session.exec(query)}


def left(session: Session, network: Network, now: datetime) -> dict[str, float]:
    """What is left of every limited resource for an order woven now (units a week)."""
    return left_now(network, reserved(session), now)


def left_at(session: Session, network: Network, when: datetime) -> dict[str, float]:
    """What was left at `when`, from the reservations live then: a weave made again as it was
    (a batch's pages) sees what its first weave saw."""
    rows = session.exec(
        select(ReservationRow).where(
            ReservationRow.created_at <= when,
            (ReservationRow.released_at.is_(None)) | (ReservationRow.released_at > when),
        )
    )
    then: dict[tuple[str, date], float] = defaultdict(float)
    for row in rows:
        then[(row.resource, row.week)] += row.quantity
    return left_now(network, then, when)


def reserve(
    ctx: Context, contract: Contract, plan: Plan | None = None, anyway: bool = False
) -> str | None:
    """Reserve what the contract's plan uses, counted from now (its agreement). When what is
    left is not enough, reserve nothing and say which resource is short (the agreement then
    waits for another plan: core/service/agreement.py) — or, `anyway`, reserve it all the same
    and record the over-booking (`capacity_overbooked`)."""
    usage = plan_usage(plan or _plan(ctx, contract), ctx.now)
    taken = _taken(ctx, usage)
    short = overbooked(ctx.network(), usage, taken)
    if short and not anyway:
        return _shortage(ctx.network(), short[0])
    _hold(ctx, [(contract, usage, short)])
    return None


def _taken(ctx: Context, usage: Iterable[Use]) -> dict[tuple[str, date], float]:
    """What is reserved of the limited resources among `usage`, each locked until the
    transaction ends."""
    limited = _limited(ctx.network(), usage)
    _lock(ctx.session, limited)
    return reserved(ctx.session, limited) if limited else {}


def _limited(network: Network, usage: Iterable[Use]) -> set[str]:
    """The resources of `usage` with a capacity: only those can be short, so only those are
    locked and read (a plan of unlimited ones reserves without waiting for anyone)."""
    return {u.resource for u in usage if capacity_of(network, u.resource) is not None}


def _hold(ctx: Context, holds: list[tuple[Contract, tuple[Use, ...], list[Overbooked]]]) -> None:
    """Reserve each contract's uses, recording those that did not fit (`short`), in one
    INSERT (SQLAlchemy Core: the ORM's objects cost more than the insert)."""
    rows = []
    for contract, usage, short in holds:
        if short:
            ctx.record(
                "capacity_overbooked",
                {
                    "contract": contract.id,
                    "uses": [
                        [s.use.resource, s.use.week.isoformat(), s.use.quantity] for s in short
                    ],
                },
                contract.order_id,
            )
        rows += [
            {
                "contract_id": contract.id,
                "plan_id": contract.plan_id,
                "resource": use.resource,
                "week": use.week,
                "quantity": use.quantity,
                "created_at": ctx.now,
                "released_at": None,
            }
            for use in usage
        ]
    if rows:
        ctx.session.flush()  # the contracts' new plans are rows before they are referred to
        ctx.session.execute(insert(ReservationRow.__table__), rows)


def release(ctx: Context, contract: Contract) -> int:
    """The contract holds nothing from now; returns how many reservations it released."""
    released = ctx.session.execute(
        update(ReservationRow)
        .where(ReservationRow.contract_id == contract.id, ReservationRow.released_at.is_(None))
        .values(released_at=ctx.now)
    )
    return released.rowcount


def replanned(ctx: Context, moves: list[tuple[Contract, Plan]]) -> None:
    """Re-plans gave agreed contracts new plans: what each old one held is released and the new
    one reserved, counted from now. A re-plan is never refused for capacity (the order is under
    way and its broken part must go on): what does not fit is reserved all the same, recorded
    as an over-booking of the order, and the weave of later orders sees the resource full. The
    limited resources of all of them are locked at once, in one order: a batch of re-plans
    never waits in a circle with another, and holds the locks only from here to its commit. The
    old plans' reservations are released together, and each new plan is checked against what
    is reserved without them, with the plans checked before it."""
    if not moves:
        return
    network = ctx.network()
    last = {contract.id: (contract, plan) for contract, plan in moves}  # a contract moves once
    usage = [(contract, plan_usage(plan, ctx.now)) for contract, plan in last.values()]
    limited = _limited(network, (u for _, uses in usage for u in uses))
    _lock(ctx.session, limited)
    ctx.session.execute(
        update(ReservationRow)
        .where(ReservationRow.contract_id.in_(list(last)), ReservationRow.released_at.is_(None))
        .values(released_at=ctx.now)
    )
    taken = reserved(ctx.session, limited) if limited else {}
    holds = []
    for contract, uses in usage:
        holds.append((contract, uses, overbooked(network, uses, taken)))
        for use in uses:
            if use.resource in limited:
                week = (use.resource, use.week)
                taken[week] = taken.get(week, 0.0) + use.quantity
    _hold(ctx, holds)


def _plan(ctx: Context, contract: Contract) -> Plan:
    row = ctx.session.get(PlanRow, contract.plan_id)
    return records.rebuild_plan(ctx.network_at(row.network_version), row)


def _lock(session: Session, resources: Iterable[str]) -> None:
    """Hold each resource until the transaction ends (PostgreSQL), in sorted order: one
    statement, which takes the locks in the order of the array it is given."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = [
        int.from_bytes(hashlib.sha256(resource.encode()).digest()[:8], "big", signed=True)
        for resource in sorted(set(resources))
    ]
    if keys:
        session.execute(_LOCK_EACH, {"keys": keys})


_LOCK_EACH = text(
    "SELECT count(pg_advisory_xact_lock(key)) FROM unnest(CAST(:keys AS bigint[])) AS key"
)


def _shortage(network: Network, short: Overbooked) -> str:
    use = short.use
    kind, _, rest = use.resource.partition(":")
    if kind == "offer":
        offer = network.offers[rest]
        who, item = network.participant_name(offer.supplier), network.item_name(offer.item)
    else:
        facility_id, _, item_id = rest.partition(":")
        facility = network.facilities[facility_id]
        who = facility.name or network.participant_name(facility.operator)
        item = network.item_name(item_id)
    free = max(0, int(short.capacity - short.reserved))
    return (
        f"{who} has {free} of {int(short.capacity)} {item} a week left in the week of "
        f"{use.week.isoformat()}, and this plan needs {use.quantity}"
    )


def held(session: Session, contract_id: int) -> dict[tuple[str, date], float]:
    """What a contract holds now, per (resource, week): for reading and the tests."""
    found: dict[tuple[str, date], float] = defaultdict(float)
    rows = session.exec(
        select(ReservationRow).where(
            ReservationRow.contract_id == contract_id, ReservationRow.released_at.is_(None)
        )
    )
    for row in rows:
        found[(row.resource, row.week)] += row.quantity
    return dict(found)
