"""The actors: arguments are ids, and each is idempotent — a redelivered message changes nothing
twice and sends nothing twice, because the state it acts on says whether the work is done.

`Actors` declares them on one broker, for one application and its senders; the composition root
(bots/bootstrap.py) builds it once per process. Nothing here is configured at import.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from datetime import datetime

import dramatiq

from core.service.bus import Services, about
from core.service.commands import (
    FROM_CHAT,
    AffectedOrders,
    AnalyseDisruption,
    ApplyInbound,
    ExpireIntents,
    FollowUp,
    MatchIntent,
    Receive,
    SyncDependentDemand,
    WeaveOrder,
)
from core.service.inbound import InboundFailed
from core.service.lateness import TellLateStages
from core.service.results import Refused, Result
from workers.delivery import Drained, FirstClaims, deliver_pending
from workers.metrics import WEAVE_SECONDS
from workers.senders import Sender
from workers.sweeper import stale_work

log = logging.getLogger(__name__)

# Orders one disruption message analyses together: large enough to share the network's reads,
# small enough that two workers share a large disruption and a retry redoes little.
DISRUPTION_BATCH = 20


class Actors:
    """SCIS's Dramatiq actors on `broker`, acting on `services` and sending with `senders` (the
    outbox's, by platform: a dict the caller may fill later, as `scis serve` does once its chat
    front ends are up)."""

    def __init__(
        self,
        broker: dramatiq.Broker,
        services: Services,
        senders: dict[str, Sender],
        disruption_batch: int = DISRUPTION_BATCH,
    ):
        if disruption_batch < 1:
            raise ValueError("a disruption batch holds at least one order")
        self.broker = broker
        self.services = services
        self.senders = senders
        self.disruption_batch = disruption_batch
        actor = self._declare
        self.weave_order = actor(self._weave_order, "weave_order", time_limit=30 * 60 * 1000)
        self.apply_inbound = actor(self._apply_inbound, "apply_inbound")
        self.analyse_disruption = actor(self._analyse_disruption, "analyse_disruption")
        self.analyse_disruption_orders = actor(
            self._analyse_disruption_orders, "analyse_disruption_orders", time_limit=10 * 60 * 1000
        )
        self.match_intent = actor(self._match_intent, "match_intent")
        self.sync_dependent_demand = actor(self._sync_dependent_demand, "sync_dependent_demand")
        self.deliver = actor(
            self._deliver, "deliver", max_retries=50, min_backoff=500, max_backoff=60_000
        )
        self.sweep = actor(self._sweep, "sweep", max_retries=3)
        # The work a command leaves (Result.jobs), by its type: the one link from core's
        # follow-up commands to the actors that carry them out.
        self.follow_ups: Mapping[type[FollowUp], dramatiq.Actor] = {
            WeaveOrder: self.weave_order,
            AffectedOrders: self.analyse_disruption,
            MatchIntent: self.match_intent,
            SyncDependentDemand: self.sync_dependent_demand,
        }

    def _declare(self, function: Callable, name: str, **options) -> dramatiq.Actor:
        options.setdefault("max_retries", 20)
        return dramatiq.actor(function, actor_name=name, broker=self.broker, **options)

    # -- the way in and the way on --------------------------------------------------------------

    def take_in(self, platform: str, message_id: str, command: type, arguments: dict) -> int:
        """What a bot does with a command from chat: keep it, then let a worker carry it out. A
        message delivered twice is kept once and carried out once.

        Once kept, the command will be carried out: when the broker cannot take it now, the
        sweeper hands it to a worker later, so this returns normally and the person is told it
        was received (never "try again", which would make it twice). Only a command that was
        not kept raises."""
        if FROM_CHAT.get(command.__name__) is not command:
            raise TypeError(f"{command.__name__} is not a command a chat message may carry")
        kept = self.services.handle(Receive(platform, message_id, command.__name__, arguments))
        inbound_id, new = kept.value
        if new:
            try:
                self.apply_inbound.send(inbound_id)
            except Exception as problem:
                log.warning(
                    "inbound message %s kept but not queued (%s); the sweeper will carry it out",
                    inbound_id,
                    _named(problem),
                )
        return inbound_id

    def deliver_results(self, result: Result) -> None:
        """After a commit: the work the command left, and each recipient's new messages. A
        broker away for a moment loses none of it: the sweeper finds the pending messages and
        unfinished work in the database."""
        try:
            for job in result.jobs:
                self.follow_ups[type(job)].send(**asdict(job))
            for participant in _recipients(result):
                self.deliver.send(participant)
        except Exception as problem:
            log.warning("work not queued (%s); the sweeper will hand it out", _named(problem))

    def deliver_here(self, result: Result, claims: FirstClaims) -> None:
        """After a chat command's commit: the work it left is queued, and its messages (the
        answer its sender waits for first) are delivered by this worker at once, from the first
        message of each recipient, claimed in the command's transaction (`claims`): what a
        `deliver` job would do, without the round trip through the broker that one job per
        recipient costs, nor the transaction its first claim takes. A recipient whose drain
        ends in an error is handed to the `deliver` actor, which tries again with its back-off;
        nothing is lost, and the claim protocol of the drain is the same, so a crash still
        repeats at most the one message in flight."""
        self.deliver_results(replace(result, messages=[]))
        for participant in claims.recipients():
            try:
                with about(participant=participant):
                    drained = claims.deliver(participant)
                self._after_drain(participant, drained)
            except Exception as problem:  # the deliver actor's retries take it from here
                log.warning(
                    "delivery to %s failed (%s); handed to the deliver actor",
                    participant,
                    _named(problem),
                )
                try:
                    self.deliver.send(participant)
                except Exception as lost:  # the sweeper finds the pending messages
                    log.warning("delivery to %s not queued (%s)", participant, _named(lost))

    # -- the actors -----------------------------------------------------------------------------

    def _weave_order(self, order_id: int) -> None:
        with WEAVE_SECONDS.time():
            woven = self.services.handle(WeaveOrder(order_id))
        self.deliver_results(woven)

    def _apply_inbound(self, inbound_id: int) -> None:
        """A command that fails is counted in a transaction of its own and tried again later by
        this actor (the sweeper if the broker loses it); after the last try it is a dead letter
        and this job ends normally, so Dramatiq does not retry it either. Only an error in the
        counting itself (the database away) is left to Dramatiq's retries."""
        claims = FirstClaims(self.services, self.senders)
        try:
            applied = self.services.handle(ApplyInbound(inbound_id), before_commit=claims)
        except Refused:  # no such kept message: an error of whoever sent the job
            raise
        except Exception as problem:
            self._failed(inbound_id, problem)
            return
        self.deliver_here(applied, claims)

    def _failed(self, inbound_id: int, problem: Exception) -> None:
        # The frames say where; the exception's text and the SQL parameters (the person's
        # words) are left out of the log.
        log.error(
            "inbound message %s failed with %s; traceback (most recent call last):\n%s",
            inbound_id,
            _named(problem),
            "".join(traceback.format_tb(problem.__traceback__)).rstrip(),
        )
        counted = self.services.handle(InboundFailed(inbound_id, _named(problem)))
        self.deliver_results(counted)
        next_try: datetime | None = counted.value
        if next_try is None:
            log.error(
                "inbound message %s is a dead letter; its sender and coordinators are told",
                inbound_id,
            )
            return
        wait = max(0.0, (next_try - self.services.clock()).total_seconds())
        try:
            self.apply_inbound.send_with_options(args=(inbound_id,), delay=int(wait * 1000) + 50)
        except Exception as lost:  # the sweeper tries it once its time has come
            log.warning("inbound message %s: next try not queued (%s)", inbound_id, _named(lost))

    def _analyse_disruption(self, disruption_id: int) -> None:
        """Fan out: one message per batch of affected orders, so that many workers share a large
        disruption while each batch reads the network and what else the orders share once."""
        affected = self.services.handle(AffectedOrders(disruption_id)).value
        for start in range(0, len(affected), self.disruption_batch):
            batch = affected[start : start + self.disruption_batch]
            self.analyse_disruption_orders.send(disruption_id, batch)

    def _analyse_disruption_orders(self, disruption_id: int, order_ids: list[int]) -> None:
        """A batch that fails is sent again as one message per order, so that an order that
        cannot be analysed holds up none of the others; that order alone is then retried. The
        batch's orders handled meanwhile are skipped (AnalyseDisruption is once per order)."""
        try:
            analysed = self.services.handle(AnalyseDisruption(disruption_id, tuple(order_ids)))
        except Exception as problem:
            if len(order_ids) == 1:
                raise
            log.warning(
                "disruption %s: a batch of %d orders failed (%s); analysing them one by one",
                disruption_id,
                len(order_ids),
                _named(problem),
            )
            for order_id in order_ids:
                self.analyse_disruption_orders.send(disruption_id, [order_id])
            return
        self.deliver_results(analysed)

    def _match_intent(self, intent_id: int) -> None:
        self.deliver_results(self.services.handle(MatchIntent(intent_id)))

    def _sync_dependent_demand(self, order_id: int) -> None:
        self.deliver_results(self.services.handle(SyncDependentDemand(order_id)))

    def _deliver(self, participant_id: str) -> None:
        with about(participant=participant_id):  # on every line the delivery logs
            drained = deliver_pending(self.services, self.senders, participant_id)
        self._after_drain(participant_id, drained)

    def _after_drain(self, participant_id: str, drained: Drained) -> None:
        """The coordinators told of a failure get their messages; a recipient a rate limit
        parked is tried again when the platform said."""
        for coordinator in sorted(drained.told):
            self.deliver.send(coordinator)
        if drained.retry_after is not None:
            self.deliver.send_with_options(
                args=(participant_id,), delay=int(drained.retry_after * 1000) + 50
            )

    def _sweep(self, older_than_seconds: float = 30.0) -> None:
        """Re-enqueue whatever the state says is unfinished and older than a moment: what a lost
        Redis, a killed worker or a crash between commit and enqueue left behind. Then the
        clock's own work: intents that expired, stages that became late."""
        work = stale_work(self.services, older_than_seconds)
        for order_id in work.orders_to_weave:
            self.weave_order.send(order_id)
        for inbound_id in work.inbound:
            self.apply_inbound.send(inbound_id)
        for disruption_id in work.disruptions:
            self.analyse_disruption.send(disruption_id)
        for participant_id in work.recipients:
            self.deliver.send(participant_id)
        self.deliver_results(self.services.handle(ExpireIntents()))
        if work.late_stages:  # told once each, even when two sweepers find the same ones
            self.deliver_results(self.services.handle(TellLateStages()))


def _recipients(result: Result) -> list[str]:
    """Whom the result's messages go to, each once, in the order they were told."""
    return list(dict.fromkeys(m.participant_id for m in result.messages))


def _named(problem: BaseException) -> str:
    """The exception's class, and the database driver's beneath SQLAlchemy's (UniqueViolation
    says more than IntegrityError); never its text."""
    cause = getattr(problem, "orig", None)
    name = type(problem).__name__
    return f"{name} ({type(cause).__name__})" if cause is not None else name
