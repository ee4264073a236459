"""An order's life, lived at random (issue 13, Build point 8).

A hypothesis state machine drives what people and faults do — order, choose, agree, decline,
done, fail (by the stage's owner, and by strangers who must be refused), disrupt, restore,
approve or reject a substitute, reweave, cancel, report use of a standing order, accept a match —
over the chair network (with the seat makers) and the hurricane city. Every chat-like command is
kept and carried out the way a bot and a worker do it (Receive + ApplyInbound, a fresh message
id each); the workers' jobs run in-line, or wait for a later `settle` step when the command came
with a slow worker (`lag`), as /order and /disrupt do in chat.

After every step, from the database (order_life.py):
  a. a stage whose inputs are done has an owner who agreed — or who was asked and is named as
     awaited; no stage is done whose owner had not agreed when it was asserted; a stranger's
     assertion is refused and changes nothing;
  b. nothing is stranded: every done `receive` whose holder left the live plan is forwarded
     (a "held" source of the live tree), used by the holder's own make, or its holder was told;
  c. every accepted command has exactly one outcome message to its sender;
  d. every order is completed, cancelled, or in a named waiting state; a stuck one has a reason
     that its buyer and a coordinator were told;
  e. the history rebuilt from events alone equals the live state (queries.history_at against
     queries.order_state);
  f. no exception but Refused escapes a handler (order_life.Life.handle).

Settings from the environment: SCIS_MACHINE_EXAMPLES (default 30 on SQLite and 10 on
PostgreSQL; under CI=true 300 and 100), SCIS_MACHINE_STEPS (default 6 on SQLite, 4 on
PostgreSQL: every example starts with an order lived up to some stage, so a few steps more
already reach failures, re-plans and their aftermath, and the suite keeps its time),
SCIS_MACHINE_SHRINK=0 (report a failure as found), SCIS_MACHINE_LOG (a file for every
example's transcript), and, to study one failure at a time, SCIS_MACHINE_CHECKS (default
"abcdef": all). Each run prints its timing.
"""

from __future__ import annotations

import os

import pytest
from database_servers import on_ci
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from order_life import (
    CHECKS,
    WORLDS,
    Escaped,
    Life,
    PostgresDatabases,
    SqliteDatabases,
    Timing,
    active_disruptions,
    any_order,
    items_in_use,
    newest_order,
    open_matches,
    order_snapshot,
    proposed_substitutions,
    requester_of,
    resources_in_use,
    stopwatch,
    view_orders,
)

# `make test` runs these beside the rest of the suite, in a process of their own.
pytestmark = pytest.mark.order_life

ENABLED = set(os.environ.get("SCIS_MACHINE_CHECKS", "abcdef"))
STEPS = os.environ.get("SCIS_MACHINE_STEPS")
SHRINK = os.environ.get("SCIS_MACHINE_SHRINK") != "0"
LOG = os.environ.get("SCIS_MACHINE_LOG")  # a file each example's transcript is added to

pick = st.integers(min_value=0, max_value=10_000)  # an index into what is there at that moment
# How the parties of a new plan answer ("all agree" twice: the common case; shrinking seeks it).
AGREEMENTS = [
    "all agree",
    "all agree",
    "one declines",
    "one agrees, then declines",
    "one is silent",
]
# An order lived from its placing to agreement and some progress (see `agreed_order`).
AGREED_ORDER = {
    "buyer": pick,
    "item": pick,
    "quantity": pick,
    "latex_free": st.booleans(),
    "rank": st.integers(1, 3),
    "agreement": st.sampled_from(AGREEMENTS),
    "who": pick,
    "progress": st.integers(0, 16),
}


def examples(on_sqlite: bool) -> int:
    configured = os.environ.get("SCIS_MACHINE_EXAMPLES")
    if configured:
        return int(configured)
    if on_ci():
        return 300 if on_sqlite else 100
    return 30 if on_sqlite else 10


def machine_settings(on_sqlite: bool) -> settings:
    return settings(
        max_examples=examples(on_sqlite),
        stateful_step_count=int(STEPS) if STEPS else (6 if on_sqlite else 4),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        print_blob=True,
        # SCIS_MACHINE_SHRINK=0: report the first failure as found (shrinking a long run of
        # database work can take many minutes).
        phases=[p for p in Phase if p != Phase.shrink or SHRINK],
    )


def choose(options: list, index: int):
    return options[index % len(options)]


class OrderLife(RuleBasedStateMachine):
    databases = None  # set by the test: where each example's fresh database comes from
    timing: Timing | None = None

    def __init__(self):
        super().__init__()
        self.life: Life | None = None
        self._drop = None
        self._elapsed = stopwatch()
        self._steps = 0

    @initialize(world=st.sampled_from(sorted(WORLDS)), **AGREED_ORDER)
    def start(self, world, **first_order):
        """A fresh database with the world's network, and a first order on its way (so that
        every example lives at least one order's life)."""
        url, self._drop = self.databases.new()
        self.life = Life(url, WORLDS[world])
        self.life.log.append(f"world: {world}")
        self.agreed_order(**first_order)

    def teardown(self):
        if self.life is not None:
            if LOG:
                with open(LOG, "a") as log:
                    log.write(self.life.transcript() + "\n\n")
            self.life.close()
        if self._drop is not None:
            self._drop()
        if self.timing is not None:
            self.timing.add(self._elapsed(), self._steps)

    # -- what the world looks like now -------------------------------------------------------

    def orders(self):
        network = self.life.network()
        return self.life.read(lambda s: view_orders(s, network))

    def has_orders(self) -> bool:
        return self.life is not None and self.life.read(any_order)

    def participants(self) -> list[str]:
        return sorted(self.life.network().participants)

    def coordinator(self) -> str:
        return next(
            p.id for p in self.life.network().participants.values() if "coordinator" in p.roles
        )

    def say(self, actor, command, lag=False, **arguments):
        self._steps += 1
        try:
            return self.life.say(actor, command, lag=lag, **arguments)
        except Escaped as escaped:  # (f), with what led to it
            self._escaped(escaped)

    def settle_jobs(self):
        try:
            self.life.settle()
        except Escaped as escaped:
            self._escaped(escaped)
            self.life.jobs.clear()

    def _escaped(self, escaped: Escaped) -> None:
        if "f" in ENABLED:
            raise Escaped(f"{escaped}\n{self.life.transcript()}") from escaped.__cause__
        # Studying other invariants (SCIS_MACHINE_CHECKS without f): note it and go on.
        self.life.log.append(f"  (f ignored) {str(escaped)[:200]}")

    # -- what people do ----------------------------------------------------------------------

    @rule(
        buyer=pick,
        item=pick,
        quantity=pick,
        latex_free=st.booleans(),
        standing=st.booleans(),
        lag=st.booleans(),
    )
    def order(self, buyer, item, quantity, latex_free, standing, lag):
        world = self.life.world
        item_id, low, high = choose(list(world.items), item)
        arguments = {
            "lines": [[item_id, low + quantity % (high - low + 1)]],
            "criteria": ["latex-free"] if latex_free else [],
            "weave_now": not lag,
        }
        if standing:
            arguments["per"] = "week"
        self.say(choose(list(world.buyers), buyer), "PlaceOrder", lag=lag, **arguments)

    @precondition(lambda self: self.life is not None)
    @rule(**AGREED_ORDER)
    def agreed_order(self, buyer, item, quantity, latex_free, rank, agreement, who, progress):
        """The ordinary start of a life, in one step: order, choose a plan, the parties agree
        (or one declines, agrees and then declines, or never answers), and then the first
        `progress` ready stages are done — each its own message, so that deep lives are common
        rather than a lucky draw."""
        world = self.life.world
        item_id, low, high = choose(list(world.items), item)
        buyer_id = choose(list(world.buyers), buyer)
        placed = self.say(
            buyer_id,
            "PlaceOrder",
            lines=[[item_id, low + quantity % (high - low + 1)]],
            criteria=["latex-free"] if latex_free else [],
        )
        order_id = self.life.read(lambda s: newest_order(s, buyer_id))
        if placed is None or placed.refused or order_id is None:
            return
        self.say(buyer_id, "ChoosePlan", order_id=order_id, rank=rank)
        awaited = self._view(order_id).awaited
        odd = choose(awaited, who) if awaited else None
        for party in awaited:
            if party != odd or agreement == "all agree":
                self.say(party, "Agree", order_id=order_id)
        if odd is not None and agreement == "one declines":
            self.say(odd, "Decline", order_id=order_id, reason="no time this month")
        elif odd is not None and agreement == "one agrees, then declines":
            self.say(odd, "Agree", order_id=order_id)
            self.say(odd, "Decline", order_id=order_id, reason="changed my mind")
        self._work(order_id, progress)

    def _view(self, order_id: int):
        return next(v for v in self.orders() if v.id == order_id)

    def _work(self, order_id: int, steps: int) -> None:
        """Owners who agreed do their ready stages; when only an owner who has not agreed has
        one, they try it once (and must be refused)."""
        for _ in range(steps):
            view = self._view(order_id)
            ready = view.ready_stages()
            if not ready:
                return
            agreed = [s for s in ready if view.decided.get(s.owner_id) == "agreed"]
            stage = (agreed or ready)[0]
            self._assert_done(view, stage, stage.owner_id)
            if not agreed:
                return

    @precondition(lambda self: self.life is not None and self.life.jobs)
    @rule()
    def settle(self):
        """The workers catch up with every job left waiting."""
        self.life.log.append("workers settle")
        self.settle_jobs()

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, rank=st.integers(1, 5), stranger=st.booleans())
    def choose_plan(self, order, rank, stranger):
        view = choose(self.orders(), order)
        actor = choose(self.participants(), rank) if stranger else view.buyer
        self.say(actor, "ChoosePlan", order_id=view.id, rank=rank)

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, who=pick, whom=st.sampled_from(["awaited", "awaited", "party", "anyone"]))
    def agree(self, order, who, whom):
        view = choose(self.orders(), order)
        candidates = {
            "awaited": view.awaited,
            "party": sorted(view.participants),
            "anyone": self.participants(),
        }[whom] or self.participants()
        self.say(choose(candidates, who), "Agree", order_id=view.id)

    @precondition(lambda self: self.has_orders())
    @rule(order=pick)
    def everyone_agrees(self, order):
        """Every party the order waits for agrees, one message each."""
        view = choose(self.orders(), order)
        for party in view.awaited:
            self.say(party, "Agree", order_id=view.id)

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, who=pick, anyone=st.booleans())
    def decline(self, order, who, anyone):
        view = choose(self.orders(), order)
        candidates = sorted(view.participants - {view.buyer})
        if anyone or not candidates:
            candidates = self.participants()
        self.say(choose(candidates, who), "Decline", order_id=view.id, reason="too busy")

    def _stage(self, order: int, stage: int, ready_only: bool):
        views = [v for v in self.orders() if v.stages]
        if not views:
            return None, None
        view = choose(views, order)
        stages = view.ready_stages() if ready_only else view.pending_stages()
        stages = stages or view.pending_stages()
        return view, (choose(stages, stage) if stages else None)

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, stage=pick, ready_only=st.booleans(), by_coordinator=st.booleans())
    def done(self, order, stage, ready_only, by_coordinator):
        view, row = self._stage(order, stage, ready_only)
        if row is None:
            return
        actor = self.coordinator() if by_coordinator else row.owner_id
        self._assert_done(view, row, actor)

    def _assert_done(self, view, row, actor):
        agreed_before = view.decided.get(row.owner_id) == "agreed"
        accepted = self.say(actor, "AssertStage", order_id=view.id, stage=row.code, status="done")
        if accepted is None or agreed_before:
            return
        after = self.life.read(
            lambda s: s.get(type(row), row.id).status if s.get(type(row), row.id) else None
        )
        if after == "done" and row.status != "done":
            self.life.violations.append(
                f"order {view.id}: {actor} asserted {row.code} {row.kind} done and it was "
                f"accepted, though its owner {row.owner_id} had "
                f"{view.decided.get(row.owner_id) or 'never agreed'}"
            )

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, steps=st.integers(1, 12))
    def work(self, order, steps):
        """The parties of an order under way do what is ready, one stage (one message) at a
        time."""
        views = [v for v in self.orders() if v.stages]
        if views:
            self._work(choose(views, order).id, steps)

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, stage=pick, ready_only=st.booleans())
    def fail(self, order, stage, ready_only):
        view, row = self._stage(order, stage, ready_only)
        if row is None:
            return
        self.say(
            row.owner_id,
            "AssertStage",
            order_id=view.id,
            stage=row.code,
            status="failed",
            evidence="it broke",
        )

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, stage=pick, who=pick, status=st.sampled_from(["done", "failed"]))
    def stranger_asserts(self, order, stage, who, status):
        """Someone who neither owns the stage nor coordinates asserts it: refused, no change."""
        view, row = self._stage(order, stage, False)
        if row is None:
            return
        network = self.life.network()
        strangers = [
            p
            for p in self.participants()
            if p != row.owner_id and "coordinator" not in network.participants[p].roles
        ]
        actor = choose(strangers, who)
        before = self.life.read(lambda s: order_snapshot(s, view.id))
        accepted = self.say(
            actor,
            "AssertStage",
            order_id=view.id,
            stage=row.code,
            status=status,
            evidence="I say so",
        )
        after = self.life.read(lambda s: order_snapshot(s, view.id))
        if accepted is not None and not accepted.refused:
            self.life.violations.append(
                f"order {view.id}: stranger {actor} asserted {row.code} (owned by "
                f"{row.owner_id}) {status} and it was not refused"
            )
        if before != after:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            self.life.violations.append(
                f"order {view.id}: {actor}'s refused assertion of {row.code} changed {changed}"
            )

    @precondition(lambda self: self.life is not None)
    @rule(
        resource=pick,
        by_coordinator=st.booleans(),
        analyse_now=st.booleans(),
        used=st.sampled_from([True, True, True, False]),
    )
    def disrupt(self, resource, by_coordinator, analyse_now, used):
        network = self.life.network()
        candidates = self.life.read(lambda s: resources_in_use(s, network)) if used else []
        if not candidates:
            candidates = [(o.id, o.supplier) for o in network.offers.values()] + [
                (f.id, f.operator) for f in network.facilities.values()
            ]
        down = {d.resource_id for d in self.life.read(active_disruptions)}
        candidates = [c for c in candidates if c[0] not in down and c[1]]
        if not candidates:
            return
        target, operator = choose(candidates, resource)
        actor = self.coordinator() if by_coordinator else operator
        self.say(
            actor,
            "Disrupt",
            lag=not analyse_now,
            resource=target,
            reason="out of service",
            analyse_now=analyse_now,
        )

    @precondition(lambda self: self.has_orders())
    @rule(item=pick, analyse_now=st.booleans())
    def shortage(self, item, analyse_now):
        """Every source of one item of a live plan goes out of service (a coordinator says so,
        one message per source): what substitutes are for."""
        network = self.life.network()
        items = self.life.read(lambda s: items_in_use(s))
        sources = {
            it: sorted(
                [(o.id, o.supplier) for o in network.offers.values() if o.item == it]
                + [
                    (f.id, f.operator)
                    for d in network.designs.values()
                    if d.makes == it
                    for f in network.facilities.values()
                    if d.processes <= f.processes
                ]
            )
            for it in items
        }
        few = [it for it in items if 0 < len(sources[it]) <= 6]
        if not few:
            return
        down = {d.resource_id for d in self.life.read(active_disruptions)}
        for resource, _operator in dict.fromkeys(sources[choose(few, item)]):
            if resource not in down:
                self.say(
                    self.coordinator(),
                    "Disrupt",
                    lag=not analyse_now,
                    resource=resource,
                    reason="the whole city ran out",
                    analyse_now=analyse_now,
                )

    @precondition(lambda self: self.life is not None and self.life.read(active_disruptions))
    @rule(which=pick, by_coordinator=st.booleans())
    def restore(self, which, by_coordinator):
        disruption = choose(self.life.read(active_disruptions), which)
        network = self.life.network()
        operator = {
            "facility": lambda r: network.facilities[r].operator,
            "offer": lambda r: network.offers[r].supplier,
        }.get(disruption.kind, lambda r: r)(disruption.resource_id)
        actor = self.coordinator() if by_coordinator else operator
        self.say(actor, "Restore", resource=disruption.resource_id)

    @precondition(lambda self: self.life is not None and self.life.read(proposed_substitutions))
    @rule(which=pick, approve=st.booleans())
    def decide_substitution(self, which, approve):
        row = choose(self.life.read(proposed_substitutions), which)
        buyer = next(v.buyer for v in self.orders() if v.id == row.order_id)
        self.say(
            buyer,
            "DecideSubstitution",
            order_id=row.order_id,
            substitution_id=row.id,
            approve=approve,
        )

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, by_coordinator=st.booleans())
    def reweave(self, order, by_coordinator):
        view = choose(self.orders(), order)
        actor = self.coordinator() if by_coordinator else view.buyer
        self.say(actor, "Reweave", order_id=view.id)

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, by_coordinator=st.booleans())
    def cancel(self, order, by_coordinator):
        view = choose(self.orders(), order)
        actor = self.coordinator() if by_coordinator else view.buyer
        self.say(actor, "CancelOrder", order_id=view.id)

    @precondition(lambda self: self.has_orders())
    @rule(order=pick, quantity=st.integers(1, 30))
    def used(self, order, quantity):
        """A point-of-use signal against a standing order (or, refused, against none)."""
        views = self.orders()
        standing = [v for v in views if v.per] or views
        view = choose(standing, order)
        self.say(view.buyer, "ReportUse", item=view.items[0], quantity=quantity)

    @precondition(lambda self: self.life is not None and self.life.world.offers)
    @rule(offer=pick, buyer=pick, share=st.integers(1, 4))
    def intents(self, offer, buyer, share):
        """A maker offers; a buyer requests part of it (the workers match them)."""
        who, item, quantity = choose(list(self.life.world.offers), offer)
        wanted = max(1, quantity * share // 4)
        self.say(who, "CastIntent", kind="offer", words=f"{quantity} {item}")
        self.say(
            choose(list(self.life.world.buyers), buyer),
            "CastIntent",
            kind="request",
            words=f"{wanted} {item}",
        )

    @precondition(lambda self: self.life is not None and self.life.read(open_matches))
    @rule(which=pick)
    def accept_match(self, which):
        match = choose(self.life.read(open_matches), which)
        requester = self.life.read(lambda s: requester_of(s, match))
        self.say(requester, "AcceptMatch", match_id=match.id)

    # -- the invariants ------------------------------------------------------------------------

    def _check(self, letter: str) -> None:
        if self.life is None or letter not in ENABLED:
            return
        found = self.life.read(lambda s: CHECKS[letter](s, self.life))
        assert not found, f"({letter}) " + "\n    ".join(found) + "\n" + self.life.transcript()

    @invariant()
    def a_agreement_before_work(self):
        self._check("a")

    @invariant()
    def b_nothing_stranded(self):
        self._check("b")

    @invariant()
    def c_one_outcome_per_command(self):
        self._check("c")

    @invariant()
    def d_named_waiting_states(self):
        self._check("d")

    @invariant()
    def e_history_is_the_state(self):
        self._check("e")

    # (f) is checked by every step: Life.handle turns any exception but Refused into a failure.


def _run(databases, on_sqlite: bool, capsys) -> None:
    timing = Timing()
    machine = type("OrderLifeRun", (OrderLife,), {"databases": databases, "timing": timing})
    try:
        run_state_machine_as_test(machine, settings=machine_settings(on_sqlite))
    finally:
        databases.close()
        with capsys.disabled():
            print(f"\norder life on {'SQLite' if on_sqlite else 'PostgreSQL'}: {timing.summary()}")


def test_order_life_sqlite(sqlite_template, tmp_path, capsys):
    _run(SqliteDatabases(sqlite_template, tmp_path), True, capsys)


@pytest.mark.postgres
def test_order_life_postgresql(postgres_server, postgres_template, capsys):
    _run(PostgresDatabases(postgres_server, postgres_template), False, capsys)
