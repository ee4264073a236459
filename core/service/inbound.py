"""Commands from chat, kept before they are carried out.

A bot `Receive`s a message (a second delivery of the same platform message finds the first and
changes nothing), hands the id to a worker, and the worker `ApplyInbound`s it: the command runs
in the worker's transaction and the message is marked processed in the same commit, so a worker
killed half-way leaves it unprocessed for the next one, and a redelivered job does nothing.

A command that fails with an error (not a refusal) is `InboundFailed`: tried again later each
time, and after `TRIES` tries a dead letter, done with for good, its sender and the coordinators
told. Only the error's class is kept: its text may quote what the person typed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam, sql
from sqlmodel import select

from core.service.bus import Context
from core.service.commands import FROM_CHAT, ApplyInbound, Receive
from core.service.notices.inbound import CarriedOut, CommandRefused, DeadLetter, NotCarriedOut
from core.service.results import Origin, Refused
from core.store.inserts import insert_new_values
from core.store.tables import InboundMessage, ParticipantRow

log = logging.getLogger(__name__)

# A command that keeps failing is tried this many times in all, waiting FIRST_WAIT, then twice
# as long each time (5 s, 10 s, 20 s, 40 s: a lock or a connection lost for a moment is over
# by then, a bug is not).
TRIES = 5
FIRST_WAIT = timedelta(seconds=5)


@dataclass(frozen=True)
class InboundFailed:
    """A kept command's try ended in an error; its transaction is rolled back already."""

    inbound_id: int
    error: str  # the exception's class name, never its text


def wait_after(attempts: int) -> timedelta:
    return FIRST_WAIT * 2 ** (attempts - 1)


def receive(command: Receive, ctx: Context) -> tuple[int, bool]:
    """(inbound id, whether it is new)."""
    if command.command not in FROM_CHAT:
        raise Refused(f"unknown command {command.command!r}")
    row = {
        "platform": command.platform,
        "message_id": command.message_id,
        "command": command.command,
        "arguments": command.arguments,
        "received_at": ctx.now,
        "processed_at": None,
        "outcome": None,
        "attempts": 0,
        "next_try_at": None,
        "failed_at": None,
    }
    kept = insert_new_values(ctx.session, _INBOUND, row, "platform", "message_id")
    if kept is not None:
        return kept, True
    existing = ctx.session.exec(
        select(InboundMessage.id).where(
            InboundMessage.platform == command.platform,
            InboundMessage.message_id == command.message_id,
        )
    ).one()
    return existing, False


def apply_inbound(command: ApplyInbound, ctx: Context):
    row = _taken(ctx, command.inbound_id)
    if row is None:
        return None
    inner = rebuild(row)
    try:
        value = ctx.services.dispatch(inner, ctx)
    except Refused as refusal:
        # The refused command's own changes go, with the transaction (which held only the
        # message's lock: no savepoint on the common path); the message is still done with, in
        # the next one, and the person is told why in one line.
        ctx.session.rollback()
        ctx.result.messages.clear()
        ctx.result.events.clear()
        ctx.result.jobs.clear()
        row = _taken(ctx, command.inbound_id)
        if row is None:
            return None  # another worker was quicker with it meanwhile
        actor = getattr(inner, "actor", None)
        ctx.record(
            "refused",
            {"command": row.command, "reason": str(refusal)},
            getattr(inner, "order_id", None),
            actor,
            inner_origin(row),
        )
        if actor:
            told = CommandRefused(str(refusal), next=refusal.next)
            ctx.notify(actor, told, getattr(inner, "order_id", None), outcome=True)
        ctx.session.execute(_OUTCOME, {"inbound": row.id, "said": f"refused: {refusal}"[:1000]})
        return None
    actor = getattr(inner, "actor", None)
    if actor and not ctx.told_outcome(actor):
        # Every accepted command ends in one message to its sender; a handler that forgot to
        # say how it ended is a bug, but the person still hears that it was carried out.
        log.warning("%s ended without an outcome message to its sender", row.command)
        ctx.notify(actor, CarriedOut(row.command), getattr(inner, "order_id", None), outcome=True)
    return value


def inbound_failed(command: InboundFailed, ctx: Context) -> datetime | None:
    """Counts the failed try: when to try again, or None when the message is done with (a dead
    letter now, or done before)."""
    row = _waiting(ctx, command.inbound_id)
    if row is None:
        return None
    row.attempts += 1
    ctx.session.add(row)
    if row.attempts < TRIES:
        row.next_try_at = ctx.now + wait_after(row.attempts)
        return row.next_try_at
    row.processed_at = row.failed_at = ctx.now
    row.next_try_at = None
    row.outcome = f"failed: {command.error}"[:1000]
    arguments = row.arguments if isinstance(row.arguments, dict) else {}
    actor = arguments.get("actor") if isinstance(arguments.get("actor"), str) else None
    order_id = arguments.get("order_id") if isinstance(arguments.get("order_id"), int) else None
    sender = ctx.session.get(ParticipantRow, actor) if actor else None
    coordinators = [
        p.id
        for p in ctx.session.exec(select(ParticipantRow).order_by(ParticipantRow.id))
        if "coordinator" in p.roles and p.id != actor
    ]
    ctx.record(
        "dead_letter",
        {"inbound": row.id, "command": row.command, "error": command.error, "tries": row.attempts},
        order_id,
        actor,
        inner_origin(row),
    )
    if sender is not None:
        given_up = NotCarriedOut(row.command, order_id, coordinators_told=bool(coordinators))
        ctx.notify(sender.id, given_up, order_id, outcome=True)
    # The command's name and order, never the person's words.
    dead = DeadLetter(row.command, order_id, actor, row.attempts, command.error, row.id)
    for coordinator in coordinators:
        ctx.notify(coordinator, dead, order_id)
    return None


# Built once: building a statement costs more CPU than running it.
_WAITING = select(InboundMessage).where(InboundMessage.id == bindparam("inbound")).with_for_update()
# What carrying a message out reads and writes of its row, in SQLAlchemy Core (the ORM's object
# and its flush at commit cost more CPU than the statements): one UPDATE marks it done and
# returns what it carries, taking its row lock until commit as `_waiting` does; a command that
# fails rolls the mark back with the rest, and a refused one says so in `outcome` afterwards.
_INBOUND = InboundMessage.__table__
_TAKE = (
    sql.update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("inbound"), _INBOUND.c.processed_at.is_(None))
    .values(processed_at=bindparam("at"), outcome="done")
    .returning(
        _INBOUND.c.id,
        _INBOUND.c.platform,
        _INBOUND.c.message_id,
        _INBOUND.c.command,
        _INBOUND.c.arguments,
    )
)
_KEPT = sql.select(_INBOUND.c.id).where(_INBOUND.c.id == bindparam("inbound"))
_OUTCOME = (
    sql.update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("inbound"))
    .values(outcome=bindparam("said"))
)


def _taken(ctx: Context, inbound_id: int) -> Row | None:
    """The kept message, marked done in this transaction and locked until its commit; None
    when it is done with already (another worker was quicker)."""
    row = ctx.session.execute(_TAKE, {"inbound": inbound_id, "at": ctx.now}).first()
    if row is None and ctx.session.execute(_KEPT, {"inbound": inbound_id}).first() is None:
        raise Refused(f"unknown inbound message {inbound_id}")
    return row


def _waiting(ctx: Context, inbound_id: int) -> InboundMessage | None:
    """The kept message, locked until commit so that one worker at a time deals with it; None
    when it is done with already."""
    row = ctx.session.exec(_WAITING, params={"inbound": inbound_id}).first()
    if row is None:
        raise Refused(f"unknown inbound message {inbound_id}")
    return row if row.processed_at is None else None


def rebuild(row: InboundMessage | Row):
    """The command a stored message carries, with its origin."""
    cls = FROM_CHAT[row.command]
    arguments = dict(row.arguments)
    names = {f.name for f in fields(cls)}
    if "origin" in names:
        arguments["origin"] = inner_origin(row)
    if "lines" in arguments:
        arguments["lines"] = tuple((item, quantity) for item, quantity in arguments["lines"])
    if "criteria" in arguments:
        arguments["criteria"] = tuple(arguments["criteria"])
    if arguments.get("due"):
        arguments["due"] = datetime.fromisoformat(arguments["due"])
    unknown = set(arguments) - names
    if unknown:
        raise Refused(f"{row.command} takes no {', '.join(sorted(unknown))}")
    return cls(**arguments)


def inner_origin(row: InboundMessage | Row) -> Origin:
    return Origin(row.platform, row.message_id)
