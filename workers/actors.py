"""The actors: arguments are ids, and each is idempotent — a redelivered message changes nothing
twice and sends nothing twice, because the state it acts on says whether the work is done."""

from __future__ import annotations

import os
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
from core.service.results import Result
from workers.broker import make_broker
from workers.delivery import deliver_pending
from workers.metrics import WEAVE_SECONDS
from workers.senders import Sender, senders_from_environment
from workers.sweeper import stale_work

dramatiq.set_broker(make_broker())

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
    """After a commit: the work the command left, and each recipient's new messages."""
    for name, arguments in result.jobs:
        JOBS[name].send(*arguments)
    for participant in dict.fromkeys(m.participant_id for m in result.messages):
        deliver.send(participant)


@dramatiq.actor(max_retries=20, time_limit=30 * 60 * 1000)
def weave_order(order_id: int) -> None:
    with WEAVE_SECONDS.time():
        woven = services().handle(WeaveOrder(order_id))
    deliver_results(woven)


@dramatiq.actor(max_retries=20)
def apply_inbound(inbound_id: int) -> None:
    deliver_results(services().handle(ApplyInbound(inbound_id)))


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
    message delivered twice is kept once and carried out once."""
    inbound_id, new = services().handle(Receive(platform, message_id, command, arguments)).value
    if new:
        apply_inbound.send(inbound_id)
    return inbound_id
