"""A disruption's orders analysed in batches: each order once, each party told once per order,
and a batch that fails loses none of its orders (workers/actors.py sends them one by one)."""

from __future__ import annotations

from collections import Counter

import pytest
from chair_world import agreed_order, chair_services
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import event
from sqlmodel import select

from core.service import capacity, disruptions, lifecycle, records
from core.service.commands import AffectedOrders, AnalyseDisruption, Disrupt
from core.service.results import Refused
from core.store.tables import DisruptionEffect
from workers.actors import Actors


@pytest.fixture
def services(engine):
    return chair_services(engine)


def flooded(services) -> tuple[int, list[int]]:
    """Three agreed orders; Hal's shop, which makes their seats, floods: (disruption, orders)."""
    orders = [agreed_order(services, chairs=1) for _ in range(3)]
    disruption = services.handle(Disrupt("hal", "hal-shop", "flooded", analyse_now=False)).value
    assert services.handle(AffectedOrders(disruption)).value == orders
    return disruption, orders


def held_by(session, order: int) -> dict:
    return capacity.held(session, lifecycle.live_contract(session, order).id)


def effects(services, disruption: int) -> list[int]:
    return services.read(
        lambda s: sorted(
            s.exec(
                select(DisruptionEffect.order_id).where(
                    DisruptionEffect.disruption_id == disruption
                )
            )
        )
    )


def test_a_batch_replans_each_order_and_tells_each_party_once_per_order(services):
    disruption, orders = flooded(services)
    batch = services.handle(AnalyseDisruption(disruption, tuple(reversed(orders))))
    assert batch.value == orders
    replanned = [e.order_id for e in batch.events if e.kind == "replanned"]
    assert sorted(replanned) == orders
    told = Counter((m.order_id, m.participant_id) for m in batch.messages)
    for order in orders:
        assert told[(order, "dana")] == 1  # the buyer: how the order goes on
        assert told[(order, "hal")] == 1  # released, his shop flooded
    assert set(told.values()) == {1}
    assert effects(services, disruption) == orders
    for order in orders:  # each holds capacity for its new plan, none of the flooded shop's
        held = services.read(lambda s, order=order: held_by(s, order))
        assert held and not any("hal-shop" in resource for resource, _ in held)
    assert services.handle(AffectedOrders(disruption)).value == []  # all done


def test_a_batch_handled_again_replans_nothing_twice(services):
    disruption, orders = flooded(services)
    services.handle(AnalyseDisruption(disruption, (orders[0],)))
    again = services.handle(AnalyseDisruption(disruption, tuple(orders)))
    assert again.value == orders[1:]  # the first was handled already
    assert [e.order_id for e in again.events if e.kind == "replanned"] == orders[1:]
    assert all(m.order_id != orders[0] for m in again.messages)
    redelivered = services.handle(AnalyseDisruption(disruption, tuple(orders)))
    assert redelivered.value == [] and not redelivered.messages
    assert not [e for e in redelivered.events if e.kind == "replanned"]
    assert effects(services, disruption) == orders


def test_a_batch_names_known_orders(services):
    disruption, orders = flooded(services)
    for wrong, said in (((), "name the orders"), ((orders[0], 99_999), "unknown order 99999")):
        with pytest.raises(Refused, match=said):
            services.handle(AnalyseDisruption(disruption, wrong))
    assert effects(services, disruption) == []  # the refused batch changed nothing


def test_a_failed_batch_is_sent_again_order_by_order_and_the_others_go_on(services, monkeypatch):
    disruption, orders = flooded(services)
    broken = orders[1]
    analyse = disruptions._analyse

    def fails_for_one(ctx, disruption_row, order, shared):
        if order.id == broken:
            raise RuntimeError("a bug in one order's analysis")
        analyse(ctx, disruption_row, order, shared)

    monkeypatch.setattr(disruptions, "_analyse", fails_for_one)
    broker = StubBroker()
    actors = Actors(broker, services, {}, disruption_batch=3)
    actors._analyse_disruption(disruption)
    assert sent(broker) == [(disruption, orders)]  # one batch
    actors._analyse_disruption_orders(disruption, orders)  # fails: nothing of it is kept
    assert effects(services, disruption) == []
    singles = sent(broker)
    assert singles == [(disruption, [order]) for order in orders]
    for _, single in singles:
        if single == [broken]:
            with pytest.raises(RuntimeError):  # Dramatiq retries this one alone
                actors._analyse_disruption_orders(disruption, single)
        else:
            actors._analyse_disruption_orders(disruption, single)
    assert effects(services, disruption) == [orders[0], orders[2]]


def queued(broker: StubBroker) -> list[Message]:
    """The messages queued since the last look."""
    queue = broker.queues["default"]
    found = []
    while not queue.empty():
        found.append(Message.decode(queue.get_nowait()))
    return found


def sent(broker: StubBroker) -> list[tuple]:
    """The analyses queued since the last look, as (disruption, orders)."""
    return [tuple(m.args) for m in queued(broker) if m.actor_name == "analyse_disruption_orders"]


def test_the_sweeper_sends_what_a_lost_batch_left_unanalysed(services):
    disruption, orders = flooded(services)
    services.handle(AnalyseDisruption(disruption, (orders[0],)))  # the other batch was lost
    broker = StubBroker()
    actors = Actors(broker, services, {}, disruption_batch=2)
    actors._sweep(older_than_seconds=0.0)
    (swept,) = [m for m in queued(broker) if m.actor_name == "analyse_disruption"]
    actors._analyse_disruption(*swept.args)
    assert sent(broker) == [(disruption, orders[1:])]
    actors._analyse_disruption_orders(disruption, orders[1:])
    assert effects(services, disruption) == orders


class Statements:
    """The statements reaching the database through `engine` while on, by their first words."""

    def __init__(self, engine):
        self.engine = engine
        self.seen: list[str] = []

    def _statement(self, _conn, _cursor, statement, _parameters, _context, _many):
        if not statement.startswith("BEGIN"):
            self.seen.append(" ".join(statement.split()[:4]))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *_):
        event.remove(self.engine, "before_cursor_execute", self._statement)

    def count(self, start: str) -> int:
        return sum(1 for s in self.seen if s.startswith(start))

    def not_appended(self) -> int:
        """How many, leaving out the event log's and the outbox's."""
        return sum(1 for s in self.seen if not s.startswith(APPENDED))


APPENDED = ("INSERT INTO event", "INSERT INTO notification")


def first_and_the_rest(services, engine) -> tuple[Statements, Statements, tuple[int, ...]]:
    """The statements of a flood's first order re-planned alone, then of the rest at once;
    and the orders."""
    disruption, orders = flooded(services)
    with Statements(engine) as one:
        services.handle(AnalyseDisruption(disruption, (orders[0],)))
    with Statements(engine) as two:
        services.handle(AnalyseDisruption(disruption, tuple(orders[1:])))
    return one, two, tuple(orders)


def test_a_batch_reads_what_its_orders_share_once_and_each_order_in_a_few_statements(
    services, engine
):
    """A disruption re-plans its orders in batches: what they share (the reliability learned,
    their contracts and plans, the reservations moved) is read and written once per batch,
    and each order costs a bounded number of statements more, however many there are."""
    one, two, _ = first_and_the_rest(services, engine)
    for batch in (one, two):
        assert batch.count("SELECT stage.owner_id, stage.kind, sum") == 1  # reliability learned
        assert batch.count("SELECT contract.id") == 1  # the orders' live contracts
        assert batch.count("SELECT quote.id") == 1
        assert batch.count("SELECT substitution.id") == 1
        assert batch.count("SELECT chat_identity.platform") == 1  # the same seat maker asked
        assert batch.count("INSERT INTO disruption_effect") == 1
        assert batch.count("UPDATE reservation") == 1  # the old plans' holds released at once
        assert batch.count("INSERT INTO reservation") == 1  # and the new ones held
    # Two orders cost the statements of one, once more; the event log and the outbox are
    # written in bulk whatever the batch (core/store/appends.py).
    per_order = two.not_appended() - one.not_appended()
    assert per_order <= 15, two.seen


def test_a_batch_reads_and_writes_its_orders_stages_and_words_once_and_each_order_in_two(
    services, engine
):
    """The stages and the parties' words a batch's re-plans read and change are read once for
    all its orders and written once when the batch settles; each order costs its new plan and
    its failures' assertions (their contracts and orders are written together, mostly)."""
    one, two, orders = first_and_the_rest(services, engine)
    for batch in (one, two):
        assert batch.count("SELECT stage.id") == 1  # every stage row of the batch's contracts
        assert batch.count("SELECT agreement.contract_id") == 1  # every party's word on them
        assert batch.count("SELECT agreement") == 1  # and none read again, order by order
        assert batch.count("UPDATE stage SET status") == 2  # failed, then retired
        assert batch.count("INSERT INTO stage") == 1
        assert batch.count("INSERT INTO agreement") == 1
    assert two.count("INSERT INTO assertion") == 2
    # Its new plan and its failures, and its contract's new plan unless a read of the batch
    # had the ORM write what it holds (the first to tell a party a frame reads where they chat).
    assert two.not_appended() - one.not_appended() <= 3, two.seen
    # Whom each order waits for was told from what the batch changed, before it was written:
    # it is what the rows written say.
    network = services.read(services.current_network)
    for order in orders:
        reason, awaited = services.read(lambda s, order=order: waiting_for(s, order))
        names = ", ".join(network.participant_name(p) for p in awaited)
        assert reason == (f"waiting for {names} to agree" if awaited else "under way")


def waiting_for(session, order_id: int) -> tuple[str, list[str]]:
    order = records.order(session, order_id)
    contract = lifecycle.live_contract(session, order_id)
    return order.reason, lifecycle.awaited(session, contract, order)
