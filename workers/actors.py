"""The actors: arguments are ids, and each is idempotent — a redelivered message changes nothing
twice and sends nothing twice, because the state it acts on says whether the work is done."""

from __future__ import annotations

import logging
import os
import traceback
from datetime import datetime
from functools import cache

import dramatiq

from core.service import bootstrap
from core.service.bus import Services, about
from core.service.commands import (
    AffectedOrders,
    AnalyseDisruption,
    ApplyInbound,
    ExpireIntents,
    MatchIntent,
    Receive,
    SyncDependentDemand,
    WeaveOrder,
)
from core.service.inbound import InboundFailed
from core.service.results import Refused, Result
from workers.broker import make_broker
from workers.delivery import deliver_pending
from workers.metrics import WEAVE_SECONDS
from workers.senders import Sender, senders_from_environment
from workers.sweeper import stale_work

dramatiq.set_broker(make_broker())

log = logging.getLogger(__name__)

_configured: dict = {}


def configure(services: Services | None = None, senders: dict[str, Sender] | None = None) -> None:
    """Give the actors their application and senders (tests, `scis serve`); else the
    environment's (DATABASE_URL, SCIS_RECORDING_SENDER) on first use."""
    _configured["services"] = services
    _configured["senders"] = senders


def services() -> Services:
    return _configured.get("services") or _environment_services()


def senders() -> dict[str, Sender]:
    configured = _configured.get("senders")
    return configured if configured is not None else senders_from_environment()


@cache
def _environment_services() -> Services:
    return bootstrap(os.environ.get("DATABASE_URL"))


def deliver_results(result: Result) -> None:
    """After a commit: the work the command left, and each recipient's new messages. A broker
    away for a moment loses none of it: the sweeper finds the pending messages and unfinished
    work in the database."""
    try:
        for name, arguments in result.jobs:
            JOBS[name].send(*arguments)
        for participant in dict.fromkeys(m.participant_id for m in result.messages):
            deliver.send(participant)
    except Exception as problem:
        log.warning("work not queued (%s); the sweeper will hand it out", _named(problem))


@dramatiq.actor(max_retries=20, time_limit=30 * 60 * 1000)
def weave_order(order_id: int) -> None:
    with WEAVE_SECONDS.time():
        woven = services().handle(WeaveOrder(order_id))
    deliver_results(woven)


@dramatiq.actor(max_retries=20)
def apply_inbound(inbound_id: int) -> None:
    """A command that fails is counted in a transaction of its own and tried again later by
    this actor (the sweeper if the broker loses it); after the last try it is a dead letter and
    this job ends normally, so Dramatiq does not retry it either. Only an error in the counting
    itself (the database away) is left to Dramatiq's retries."""
    try:
        applied = services().handle(ApplyInbound(inbound_id))
    except Refused:  # no such kept message: an error of whoever sent the job, Dramatiq's to count
        raise
    except Exception as problem:
        _failed(inbound_id, problem)
        return
    deliver_results(applied)


def _failed(inbound_id: int, problem: Exception) -> None:
    # The frames say where; the exception's text and the SQL parameters (the person's words)
    # are left out of the log.
    log.error(
        "inbound message %s failed with %s; traceback (most recent call last):\n%s",
        inbound_id,
        _named(problem),
        "".join(traceback.format_tb(problem.__traceback__)).rstrip(),
    )
    counted = services().handle(InboundFailed(inbound_id, _named(problem)))
    deliver_results(counted)
    next_try: datetime | None = counted.value
    if next_try is None:
        log.error(
            "inbound message %s is a dead letter; its sender and coordinators are told", inbound_id
        )
        return
    wait = max(0.0, (next_try - services().clock()).total_seconds())
    try:
        apply_inbound.send_with_options(args=(inbound_id,), delay=int(wait * 1000) + 50)
    except Exception as lost:  # the sweeper tries it once its time has come
        log.warning("inbound message %s: next try not queued (%s)", inbound_id, _named(lost))


def _named(problem: BaseException) -> str:
    """The exception's class, and the database driver's beneath SQLAlchemy's (UniqueViolation
    says more than IntegrityError); never its text."""
    cause = getattr(problem, "orig", None)
    name = type(problem).__name__
    return f"{name} ({type(cause).__name__})" if cause is not None else name


@dramatiq.actor(max_retries=20)
def analyse_disruption(disruption_id: int) -> None:
    """Fan out: one message per affected order, so that many workers share a large disruption."""
    for order_id in services().handle(AffectedOrders(disruption_id)).value:
        analyse_disruption_order.send(disruption_id, order_id)


@dramatiq.actor(max_retries=20, time_limit=10 * 60 * 1000)
def analyse_disruption_order(disruption_id: int, order_id: int) -> None:
    deliver_results(services().handle(AnalyseDisruption(disruption_id, order_id)))


@dramatiq.actor(max_retries=20)
def match_intent(intent_id: int) -> None:
    deliver_results(services().handle(MatchIntent(intent_id)))


@dramatiq.actor(max_retries=20)
def sync_dependent_demand(order_id: int) -> None:
    deliver_results(services().handle(SyncDependentDemand(order_id)))


@dramatiq.actor(max_retries=50, min_backoff=500, max_backoff=60_000)
def deliver(participant_id: str) -> None:
    with about(participant=participant_id):  # on every line the delivery logs
        drained = deliver_pending(services(), senders(), participant_id)
    for coordinator in sorted(drained.told):
        deliver.send(coordinator)
    if drained.retry_after is not None:
        deliver.send_with_options(
            args=(participant_id,), delay=int(drained.retry_after * 1000) + 50
        )


@dramatiq.actor(max_retries=3)
def sweep(older_than_seconds: float = 30.0) -> None:
    """Re-enqueue whatever the state says is unfinished and older than a moment: what a lost
    Redis, a killed worker or a crash between commit and enqueue left behind."""
    work = stale_work(services(), older_than_seconds)
    for order_id in work.orders_to_weave:
        weave_order.send(order_id)
    for inbound_id in work.inbound:
        apply_inbound.send(inbound_id)
    for disruption_id in work.disruptions:
        analyse_disruption.send(disruption_id)
    for participant_id in work.recipients:
        deliver.send(participant_id)
    deliver_results(services().handle(ExpireIntents()))


ACTORS = (
    weave_order,
    apply_inbound,
    analyse_disruption,
    analyse_disruption_order,
    match_intent,
    sync_dependent_demand,
    deliver,
    sweep,
)
JOBS = {actor.actor_name: actor for actor in ACTORS}


def bind(broker: dramatiq.Broker) -> None:
    """Move every actor to `broker` (tests and `scis serve` choose theirs after import)."""
    dramatiq.set_broker(broker)
    for actor in ACTORS:
        actor.broker = broker
        broker.declare_actor(actor)


def take_in(platform: str, message_id: str, command: str, arguments: dict) -> int:
    """What a bot does with a command from chat: keep it, then let a worker carry it out. A
    message delivered twice is kept once and carried out once.

    Once kept, the command will be carried out: when the broker cannot take it now, the
    sweeper hands it to a worker later, so this returns normally and the person is told it was
    received (never "try again", which would make it twice). Only a command that was not kept
    raises."""
    inbound_id, new = services().handle(Receive(platform, message_id, command, arguments)).value
    if new:
        try:
            apply_inbound.send(inbound_id)
        except Exception as problem:
            log.warning(
                "inbound message %s kept but not queued (%s); the sweeper will carry it out",
                inbound_id,
                _named(problem),
            )
    return inbound_id
