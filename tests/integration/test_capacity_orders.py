"""Capacity across orders, on SQLite and PostgreSQL (core/service/capacity.py): an agreed
contract reserves what its plan uses of each maker and supplier week by week, the weave of the
next order sees what is left, an order no one maker can take is split over several, and
reservations are released when contracts end or re-plans move them. Two agreements at the same
moment never over-book: on PostgreSQL each resource is locked for the transaction.

Every check reads the reservations in the database."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from order_life import PostgresDatabases, SqliteDatabases
from sqlmodel import Session, select

from bots.bootstrap import application
from core.importers import load_network
from core.network.model import Design, Facility, Item, Network, Offer, Participant
from core.service import capacity, lifecycle, records
from core.service.bus import Services
from core.service.commands import (
    Agree,
    AssertStage,
    CancelOrder,
    ChoosePlan,
    Disrupt,
    LoadNetwork,
    PlaceOrder,
    Restore,
    Reweave,
)
from core.service.lifecycle import ContractStatus, OrderStatus
from core.service.results import Refused
from core.store.database import make_engine
from core.store.tables import Contract, EventRow, OrderRow, ReservationRow
from core.weave.capacity import capacity_of, overbooked, plan_usage, resources
from core.weave.sources import SupplyIndex

PROJECT = Path(__file__).resolve().parents[2]
HURRICANE = PROJECT / "examples" / "hurricane-city.yaml"
MONDAY = datetime(2026, 12, 7, 8, 0)  # every order is agreed this week


class Clock:
    """A second per reading, from Monday morning: all 40 orders fall in one week."""

    def __init__(self, start: datetime = MONDAY):
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(seconds=1)
            return self.now


def hurricane() -> Network:
    loaded = load_network([HURRICANE])
    assert loaded.errors == []
    return loaded.network


def world(engine, network: Network, clock: Clock | None = None) -> Services:
    services = application(engine, clock or Clock())
    services.handle(LoadNetwork(None, network))
    return services


# -- reading what is reserved ------------------------------------------------------------------


def live_reservations(services: Services) -> dict[tuple[str, object], float]:
    def read(session: Session):
        found: dict = defaultdict(float)
        rows = session.exec(select(ReservationRow).where(ReservationRow.released_at.is_(None)))
        for row in rows:
            found[(row.resource, row.week)] += row.quantity
        return dict(found)

    return services.read(read)


def over_capacity(services: Services, network: Network) -> list:
    """(resource, week, reserved, capacity) of every week reserved beyond its capacity."""
    return [
        (resource, week, units, capacity_of(network, resource))
        for (resource, week), units in live_reservations(services).items()
        if capacity_of(network, resource) is not None
        and units > capacity_of(network, resource) + 1e-9
    ]


def contract_of(services: Services, order_id: int) -> Contract:
    return services.read(lambda s: lifecycle.live_contract(s, order_id) or _last(s, order_id))


def _last(session: Session, order_id: int) -> Contract | None:
    return session.exec(
        select(Contract).where(Contract.order_id == order_id).order_by(Contract.id.desc())
    ).first()


def plan_tree(services: Services, order_id: int) -> list:
    contract = contract_of(services, order_id)
    return services.read(lambda s: s.get(records.PlanRow, contract.plan_id).tree)


def plan_tree_offered(services: Services, order_id: int, rank: int = 1) -> list:
    """The tree of plan `rank` of the order's newest batch (before one is chosen)."""

    def read(session):
        rows = records.plans(session, order_id)
        newest = max(r.batch for r in rows)
        return next(r.tree for r in rows if r.batch == newest and r.rank == rank)

    return services.read(read)


def makers(tree: list, item: str) -> list[tuple[str, int]]:
    """(facility, units) of every line of `item` in a stored plan tree."""
    return [
        (line["source"]["facility"], line["quantity"])
        for line in tree
        if line["item"] == item and line["source"]["kind"] == "design"
    ]


def status(services: Services, order_id: int) -> str:
    return services.read(lambda s: s.get(OrderRow, order_id).status)


# -- what people do --------------------------------------------------------------------------


def awaited(services: Services, order_id: int) -> list[str]:
    def read(session: Session):
        contract = lifecycle.live_contract(session, order_id)
        if contract is None:
            return []
        return lifecycle.awaited(session, contract, session.get(OrderRow, order_id))

    return services.read(read)


def order(services: Services, buyer: str, item: str, units: int) -> int:
    """The buyer orders and chooses the best plan; returns the order."""
    placed = services.handle(PlaceOrder(buyer, ((item, units),)))
    if status(services, placed.value) == OrderStatus.OPEN:
        services.handle(ChoosePlan(buyer, placed.value, 1))
    return placed.value


def agree_all_but(services: Services, order_id: int, keep: int = 1) -> list[str]:
    """Every party agrees but the last `keep`; returns those left to agree."""
    waiting = awaited(services, order_id)
    for party in waiting[: len(waiting) - keep]:
        services.handle(Agree(party, order_id))
    return awaited(services, order_id)


def short_party(services: Services, order_id: int, network: Network) -> str:
    """The maker or supplier of the order's plan whose week is full."""

    def read(session: Session):
        contract = lifecycle.live_contract(session, order_id)
        row = session.get(records.PlanRow, contract.plan_id)
        plan = records.rebuild_plan(network, row)
        usage = plan_usage(plan, MONDAY)
        short = overbooked(network, usage, capacity.reserved(session))
        return short[0].use.resource

    resource = services.read(read)
    kind, _, rest = resource.partition(":")
    if kind == "offer":
        return network.offers[rest].supplier
    return network.facilities[rest.partition(":")[0]].operator


def agree_or_replan(services: Services, order_id: int, rounds: int = 12) -> int:
    """The buyer asks for a reweave of an order whose plan no longer fits (everyone agreed, the
    week was full: it waits, blocked) and takes the best plan of what is left; everyone agrees.
    Returns how many times the agreement found the room gone again."""
    refused = 0
    for _ in range(rounds):
        if status(services, order_id) == OrderStatus.BLOCKED:
            services.handle(Reweave("hospital-santurce", order_id))
        if status(services, order_id) == OrderStatus.OPEN:
            services.handle(ChoosePlan("hospital-santurce", order_id, 1))
        for party in awaited(services, order_id):
            services.handle(Agree(party, order_id))
        if status(services, order_id) == OrderStatus.IN_PROGRESS:
            return refused
        assert NO_ROOM in reason_of(services, order_id)
        refused += 1
    raise AssertionError(f"order {order_id} never agreed")


# What an order waits with when everyone agreed but a week no longer has the room.
NO_ROOM = "everyone agreed, but"


def reason_of(services: Services, order_id: int) -> str:
    return services.read(lambda s: records.order(s, order_id).reason or "")


# -- 40 mask orders at once --------------------------------------------------------------------


def test_forty_concurrent_mask_orders_share_the_makers_without_overbooking(engine, capsys):
    """40 orders of cloth masks, placed and agreed at the same moment: together more than any
    maker's week (1,600 of the 1,640 a week the city's sewers make). Each is woven before any
    other is agreed, so all choose the same cheapest maker; their last agreements come
    together, on threads of their own. The maker's week takes what fits; the others are
    refused, the full maker declines, and the order goes to the best makers with room — split
    when no one has enough. No week of any maker or supplier is over-booked."""
    # 40 × 40 = 1,600 of the 1,640 cloth masks the city's sewers make a week.
    network, units = hurricane(), 40
    clock = Clock()
    services = world(engine, network, clock)
    orders = [0] * 40
    last: dict[int, str] = {}
    barrier = threading.Barrier(40)
    outcomes: list = [None] * 40

    def one(k: int) -> None:
        mine = application(engine, clock)  # as 40 bot workers would
        orders[k] = order(mine, "hospital-santurce", "cloth-mask", units)
        (last[k],) = agree_all_but(mine, orders[k])
        barrier.wait()
        mine.handle(Agree(last[k], orders[k]))  # kept, whether the week still has the room
        in_progress = status(mine, orders[k]) == OrderStatus.IN_PROGRESS
        outcomes[k] = "agreed" if in_progress else reason_of(mine, orders[k])

    threads = [threading.Thread(target=one, args=(k,)) for k in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(outcomes), outcomes
    chosen = {tuple(makers(plan_tree(services, o), "cloth-mask")) for o in orders}
    assert len(chosen) == 1  # woven before any was agreed: all alike
    ((maker, _),) = chosen.pop()
    first = [k for k, said in enumerate(outcomes) if said == "agreed"]
    # As many as the maker's week takes (nilda: 90 a week), not one more.
    assert len(first) == network.facilities[maker].capacity["cloth-mask"] // units
    assert all(
        said.startswith(NO_ROOM) and "a week left in the week of" in said
        for said in outcomes
        if said != "agreed"
    )
    assert over_capacity(services, network) == []

    later = [k for k in range(40) if k not in first]
    refused = sum(agree_or_replan(services, orders[k]) for k in later)
    assert [status(services, o) for o in orders] == [OrderStatus.IN_PROGRESS] * 40
    assert over_capacity(services, network) == []
    used: dict[str, int] = defaultdict(int)
    split = 0
    for o in orders:
        shares = makers(plan_tree(services, o), "cloth-mask")
        split += len(shares) > 1
        for facility, made in shares:
            used[facility] += made
    assert sum(used.values()) == 40 * units and len(used) >= 2
    # Each agreed contract holds exactly what its plan uses.
    for o in orders:
        contract = contract_of(services, o)
        held = services.read(lambda s, c=contract: capacity.held(s, c.id))
        assert sum(v for (r, _), v in held.items() if r.endswith(":cloth-mask")) == units
    with capsys.disabled():
        print(
            f"\n40 orders of {units} cloth masks: {len(later)} found the week full at once;"
            f" re-planned, {refused} refused again; {split} split"
        )
        for (resource, week), units in sorted(live_reservations(services).items()):
            cap = capacity_of(network, resource)
            print(f"  {resource:40} week of {week}: {units:7.0f} of {cap or 'unlimited'}")


# -- an order split over makers ----------------------------------------------------------------


def sewing_limited(network: Network) -> Network:
    """Hurricane city where every facility that can sew cloth masks states a week's capacity
    for them: 800 at mf-carolina, 100 anywhere that says nothing."""
    index = SupplyIndex(network)
    sewers = {s.facility.id for s in index.sources("cloth-mask") if hasattr(s, "facility")}
    changed = [
        replace(f, capacity={**f.capacity, "cloth-mask": f.capacity.get("cloth-mask", 100)})
        for f in network.facilities.values()
        if f.id in sewers
    ]
    return network.with_records(facilities=changed)


def test_a_second_order_is_split_across_makers_when_the_first_took_the_room(engine):
    network = sewing_limited(hurricane())
    services = world(engine, network)
    big = order(services, "hospital-santurce", "cloth-mask", 790)
    assert makers(plan_tree(services, big), "cloth-mask") == [("mf-carolina", 790)]
    agree_all_but(services, big, keep=0)
    # 10 left at mf-carolina, at most 120 at anyone else: 200 masks need two makers or more.
    placed = services.handle(PlaceOrder("hospital-santurce", (("cloth-mask", 200),)))
    text = placed.messages[0].text
    assert "split" in text, text
    services.handle(ChoosePlan("hospital-santurce", placed.value, 1))
    shares = makers(plan_tree(services, placed.value), "cloth-mask")
    assert len(shares) >= 2 and sum(units for _, units in shares) == 200
    for facility, units in shares:
        assert f"{units:,} Cloth face mask from " in text
        assert units <= network.facilities[facility].capacity["cloth-mask"]
    agree_all_but(services, placed.value, keep=0)
    assert status(services, placed.value) == OrderStatus.IN_PROGRESS
    assert over_capacity(services, network) == []
    reserved = live_reservations(services)
    for facility, units in shares:
        week_units = [v for (r, _), v in reserved.items() if r == f"facility:{facility}:cloth-mask"]
        assert sum(week_units) >= units


def test_an_order_more_than_every_maker_together_has_no_plan(engine):
    network = sewing_limited(hurricane())
    services = world(engine, network)
    total = sum(
        units
        for key, units in resources(network).items()
        if key.endswith(":cloth-mask") and key.startswith("facility:")
    )
    placed = services.handle(PlaceOrder("hospital-santurce", (("cloth-mask", int(total) + 1),)))
    assert status(services, placed.value) == OrderStatus.UNPLANNABLE


# -- agreement, release, re-plan ---------------------------------------------------------------


def test_an_agreement_that_no_longer_fits_waits_reserves_nothing_and_a_reweave_finds_room(
    engine,
):
    network = hurricane()
    services = world(engine, network)
    first = order(services, "hospital-santurce", "cloth-mask", 50)
    second = order(services, "hospital-santurce", "cloth-mask", 50)
    first_maker = makers(plan_tree(services, first), "cloth-mask")
    assert first_maker == makers(plan_tree(services, second), "cloth-mask")  # woven alike
    agree_all_but(services, first, keep=0)
    (last,) = agree_all_but(services, second)
    told = services.handle(Agree(last, second))
    assert status(services, second) == OrderStatus.BLOCKED
    assert reason_of(services, second).startswith(NO_ROOM)
    assert "has 40 of 90 Cloth face mask a week left" in reason_of(services, second)
    assert any(
        "/reweave" in m.text for m in told.messages if m.participant_id == "hospital-santurce"
    )
    assert services.read(lambda s: capacity.held(s, contract_of(services, second).id)) == {}
    # The buyer asks again: woven over what is left, the full maker is not in plan 1.
    services.handle(Reweave("hospital-santurce", second))
    assert status(services, second) == OrderStatus.OPEN
    assert makers(plan_tree_offered(services, second), "cloth-mask") != first_maker


def every_stage_done(services: Services, order_id: int) -> None:
    """Each stage asserted done by its owner as soon as it can start, to the order's end."""
    for _ in range(200):
        for party in awaited(services, order_id):  # a maker a re-plan brought in agrees first
            services.handle(Agree(party, order_id))
        contract = contract_of(services, order_id)
        graph = services.read(lambda s, c=contract: records.stage_graph(s, c.id))
        ready = [s for s in graph if s.status == "pending" and graph.ready(s.id)]
        if not ready:
            return
        for stage in ready:
            services.handle(AssertStage(stage.owner, order_id, stage.id, "done"))


def test_ending_a_contract_releases_what_it_held(engine):
    network = hurricane()
    services = world(engine, network)
    done, called_off = (order(services, "hospital-santurce", "cloth-mask", 40) for _ in range(2))
    for o in (done, called_off):
        agree_all_but(services, o, keep=0)
    assert len(live_reservations(services)) > 0
    every_stage_done(services, done)
    assert status(services, done) == OrderStatus.COMPLETED
    before = services.read(lambda s: capacity.left(s, network, MONDAY))
    services.handle(CancelOrder("hospital-santurce", called_off, "not needed"))
    assert live_reservations(services) == {}
    # What was left just before the cancellation, read afterwards (a batch's pages weave so).
    ended = contract_of(services, called_off).ended_at
    then = ended - timedelta(seconds=1)
    assert services.read(lambda s: capacity.left_at(s, network, then)) == before
    assert before != services.read(lambda s: capacity.left(s, network, MONDAY))
    for o in (done, called_off):
        contract = contract_of(services, o)
        rows = services.read(
            lambda s, c=contract: s.exec(
                select(ReservationRow).where(ReservationRow.contract_id == c.id)
            ).all()
        )
        assert rows and all(r.released_at is not None for r in rows)


def test_a_disrupted_makers_reservations_move_with_its_orders(engine):
    network = hurricane()
    services = world(engine, network)
    o = order(services, "hospital-santurce", "cloth-mask", 50)
    agree_all_but(services, o, keep=0)
    ((maker, _),) = makers(plan_tree(services, o), "cloth-mask")
    assert f"facility:{maker}:cloth-mask" in {r for r, _ in live_reservations(services)}
    services.handle(Disrupt("marisol", maker, "flooded"))
    ((now_maker, _),) = makers(plan_tree(services, o), "cloth-mask")
    assert now_maker != maker
    held = {r for r, _ in live_reservations(services)}
    assert f"facility:{maker}:cloth-mask" not in held
    assert f"facility:{now_maker}:cloth-mask" in held


# -- at random: orders, agreements, cancellations, completions, disruptions ---------------------


def little_world() -> Network:
    """Three sewers with small weeks (one unlimited, dearest), one fabric offer of 12 a week."""
    return Network.of(
        [
            Participant("buyer", "Buyer", roles=("buyer",)),
            Participant("boss", "Boss", roles=("coordinator",)),
            Participant("ana", "Ana", roles=("maker",)),
            Participant("bo", "Bo", roles=("maker",)),
            Participant("cy", "Cy", roles=("maker",)),
            Participant("fay", "Fay", roles=("supplier",)),
        ],
        [Item("mask", "Mask"), Item("fabric", "Fabric")],
        [
            Design(
                "mask-okh",
                "mask",
                inputs=(("fabric", 1),),
                yield_=10,
                processes=frozenset({"sew"}),
                labor=5.0,
                make_days=0.5,
            )
        ],
        [
            Facility("ana-shop", "ana", processes=frozenset({"sew"}), capacity={"mask": 60}),
            Facility("bo-shop", "bo", processes=frozenset({"sew"}), capacity={"mask": 40}),
            Facility("cy-shop", "cy", processes=frozenset({"sew"})),
        ],
        [Offer("fay-fabric", "fay", "fabric", price=2.0, capacity=12, lead_time_days=1)],
    )


class Reservations(RuleBasedStateMachine):
    """What people do at random; after every step, from the database: no week of any resource
    holds more than its capacity (but what a re-plan had to over-book, which it records), an
    ended contract holds nothing, and an agreed one holds what its plan uses."""

    databases = None  # order_life's SqliteDatabases or PostgresDatabases: one per example

    @initialize()
    def start(self):
        url, self.drop = self.databases.new()
        self.engine = make_engine(url)
        self.network = little_world()
        self.clock = Clock()
        self.services = world(self.engine, self.network, self.clock)
        self.orders: list[int] = []
        self.out: set[str] = set()

    def _open(self) -> list[int]:
        return [o for o in self.orders if status(self.services, o) not in lifecycle.ENDED]

    def teardown(self):
        if getattr(self, "engine", None) is not None:
            self.engine.dispose()
            self.drop()

    @rule(units=st.sampled_from([10, 20, 30, 50, 70, 90]), agreed=st.booleans())
    def place(self, units, agreed):
        placed = self.services.handle(PlaceOrder("buyer", (("mask", units),)))
        self.orders.append(placed.value)
        if agreed:
            self._agree(placed.value)

    @precondition(lambda self: self._open())
    @rule(data=st.data())
    def agree(self, data):
        self._agree(data.draw(st.sampled_from(self._open())))

    def _agree(self, o: int) -> None:
        try:
            if status(self.services, o) == OrderStatus.BLOCKED:
                self.services.handle(Reweave("buyer", o))  # the room went: weave what is left
            if status(self.services, o) == OrderStatus.OPEN:
                self.services.handle(ChoosePlan("buyer", o, 1))
            for party in awaited(self.services, o):
                self.services.handle(Agree(party, o))
        except Refused:
            pass  # a plan the network no longer serves: refused, nothing changed

    @precondition(lambda self: self._open())
    @rule(data=st.data())
    def cancel(self, data):
        o = data.draw(st.sampled_from(self._open()))
        self.services.handle(CancelOrder("buyer", o, "not needed"))

    @precondition(lambda self: self._open())
    @rule(data=st.data())
    def complete(self, data):
        o = data.draw(st.sampled_from(self._open()))
        if status(self.services, o) == OrderStatus.IN_PROGRESS:
            every_stage_done(self.services, o)

    @rule(who=st.sampled_from(["ana-shop", "bo-shop"]))
    def disrupt(self, who):
        if who in self.out:
            self.services.handle(Restore("boss", who))
            self.out.discard(who)
        else:
            self.services.handle(Disrupt("boss", who, "flooded"))
            self.out.add(who)

    @rule()
    def next_week(self):
        self.clock.now += timedelta(days=7)

    @invariant()
    def nothing_over_capacity_that_a_replan_did_not_record(self):
        over = over_capacity(self.services, self.network)
        if not over:
            return
        recorded = self.services.read(
            lambda s: {
                (use[0], use[1])
                for e in s.exec(select(EventRow).where(EventRow.kind == "capacity_overbooked"))
                for use in e.data["uses"]
            }
        )
        for resource, week, _, _ in over:
            assert (resource, week.isoformat()) in recorded, over

    @invariant()
    def ended_contracts_hold_nothing_and_agreed_ones_their_plan(self):
        def read(session: Session):
            for contract in session.exec(select(Contract)):
                held = capacity.held(session, contract.id)
                if contract.status in (ContractStatus.AGREED, ContractStatus.CONTESTED):
                    row = session.get(records.PlanRow, contract.plan_id)
                    plan = records.rebuild_plan(self.network, row)
                    per_resource: dict = defaultdict(float)
                    for use in plan_usage(plan, MONDAY):
                        per_resource[use.resource] += use.quantity
                    mine: dict = defaultdict(float)
                    for (resource, _), units in held.items():
                        mine[resource] += units
                    assert dict(mine) == dict(per_resource), (contract.id, mine, per_resource)
                else:
                    assert held == {}, (contract.id, contract.status, held)

        self.services.read(read)


def _run(databases, examples: int) -> None:
    machine = type("ReservationsRun", (Reservations,), {"databases": databases})
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        databases.close()


def test_reservations_hold_whatever_people_do_sqlite(sqlite_template, tmp_path):
    _run(SqliteDatabases(sqlite_template, tmp_path), 25)


@pytest.mark.postgres
def test_reservations_hold_whatever_people_do_postgresql(postgres_server, postgres_template):
    _run(PostgresDatabases(postgres_server, postgres_template), 8)
