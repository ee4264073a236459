"""The life of an order, for the state machine of test_order_life_machine.py: the two worlds
(the chair with its seat makers, the hurricane city), a database per example, a chat that keeps
every command before carrying it out (Receive + ApplyInbound, as a bot and a worker do), the
workers' jobs run in-line (or left waiting, as a slow worker leaves them), and the invariants
a–f read from the database after every step.

Nothing here writes to the database except through `Services.handle`; the checks only read.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from chair_world import NETWORK as CHAIR_FILES
from chair_world import Clock
from sqlalchemy import func
from sqlmodel import Session, select

from bots.bootstrap import application
from core.importers import load_network
from core.network.model import Network
from core.service import queries
from core.service.commands import (
    AffectedOrders,
    AnalyseDisruption,
    ApplyInbound,
    FollowUp,
    LoadNetwork,
    Receive,
)
from core.service.lifecycle import live_contract
from core.service.results import Refused, Result
from core.store.database import make_engine
from core.store.tables import (
    Agreement,
    AssertionRow,
    Contract,
    Disruption,
    EventRow,
    InboundMessage,
    IntentMatch,
    IntentRow,
    NetworkVersion,
    Notification,
    OrderLine,
    OrderRow,
    ParticipantRow,
    PlanRow,
    StageRow,
    SubstitutionRow,
)

PROJECT = Path(__file__).resolve().parents[2]
FAR_FUTURE = datetime(9999, 12, 31)

# core/service/lifecycle.OrderStatus, spelled out so that a state added there without thought
# shows up here as a failure of (d).
WAITING = ("weaving", "open", "unplannable", "negotiating", "in_progress", "blocked", "failed")
ENDED = ("completed", "cancelled")
STUCK = ("unplannable", "blocked", "failed")
LIVE_CONTRACT = ("potential", "agreed")


# -- the worlds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    name: str
    files: tuple[Path, ...]
    buyers: tuple[str, ...]
    # (item, smallest, largest quantity) a buyer orders
    items: tuple[tuple[str, int, int], ...]
    # (offerer, item, quantity) a maker or supplier may offer through an intent
    offers: tuple[tuple[str, str, int], ...] = ()

    @functools.cached_property
    def network(self) -> Network:
        """Parsed once per test session (every example loads the same network)."""
        loaded = load_network(list(self.files))
        assert loaded.errors == [], loaded.errors
        return loaded.network


WORLDS = {
    "chair": World(
        "chair",
        tuple(CHAIR_FILES),
        buyers=("dana",),
        items=(("chair", 1, 3), ("seat", 1, 4), ("leg", 4, 8)),
        offers=(("ana", "chair", 2), ("fern", "seat", 4)),
    ),
    "hurricane": World(
        "hurricane",
        (PROJECT / "examples" / "hurricane-city.yaml",),
        buyers=("hospital-santurce", "clinica-loiza"),
        items=(
            ("face-shield", 10, 40),
            ("cloth-mask", 10, 60),
            ("surgical-mask", 20, 100),
            ("tubing-adapter", 4, 40),
            ("vent-splitter", 1, 2),
            ("n95-respirator", 30, 60),  # no plan: the order is stuck from the start
        ),
        offers=(("yaritza", "face-shield", 40), ("carmen", "cloth-mask", 50)),
    ),
}


# -- databases -----------------------------------------------------------------------------


class SqliteDatabases:
    """A copy of the migrated template per example, in memory-backed storage when there is
    some (/dev/shm): a commit there costs no disk flush."""

    def __init__(self, template: Path, fallback_dir: Path):
        self.template = template
        shm = Path("/dev/shm")
        base = shm if shm.is_dir() and os.access(shm, os.W_OK) else fallback_dir
        self.directory = Path(tempfile.mkdtemp(prefix="scis-order-life-", dir=base))
        self.count = 0

    def new(self) -> tuple[str, Callable[[], None]]:
        self.count += 1
        path = self.directory / f"example-{self.count}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class PostgresDatabases:
    """CREATE DATABASE … TEMPLATE per example, dropped when the example ends."""

    def __init__(self, server, template: str):
        self.server, self.template = server, template

    def new(self) -> tuple[str, Callable[[], None]]:
        name = self.server.create_database(prefix="scis_life", template=self.template)
        return self.server.database_url(name), lambda: self.server.drop_database(name)

    def close(self) -> None:
        pass


# -- living --------------------------------------------------------------------------------


class Escaped(AssertionError):
    """(f): an exception other than Refused came out of a handler."""


@dataclass
class Accepted:
    """A chat command that was kept (Receive) and carried out (ApplyInbound)."""

    inbound_id: int
    sender: str
    platform: str
    message_id: str
    command: str
    arguments: dict
    refused: str | None = None  # the refusal, when the command was refused
    # Notification ids written by its transaction and by the jobs it left: (after, up to]
    windows: list[tuple[int, int]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)  # its outcome messages, as read by (c)
    processed: bool = False  # ApplyInbound marked it done with


@dataclass
class Job:
    command: object  # a follow-up command (core.service.commands.FollowUp) or AnalyseDisruption
    token: int  # the command that left it
    origin: Accepted | None


class Life:
    """One example's world: the services over a fresh database, the chat, the workers."""

    def __init__(self, url: str, world: World):
        self.world = world
        self.engine = make_engine(url)
        self.clock = Clock()
        self.services = application(self.engine, self.clock)
        self.jobs: deque[Job] = deque()
        self.accepted: list[Accepted] = []
        self.marks: list[datetime] = []  # the clock before each handled command
        self.log: list[str] = []
        self.violations: list[str] = []  # found while acting (a: done by an owner not agreed)
        self._messages = 0
        self._tokens = 0
        self._seen = 0  # the last outbox message `_told_to_start` read
        self.c_seen = 0  # the last outbox message check_c read
        self.handle(LoadNetwork(None, world.network))

    def close(self) -> None:
        self.engine.dispose()

    # -- handling ----------------------------------------------------------------------------

    def handle(self, command, origin: Accepted | None = None, token: int = 0) -> Result | None:
        """Run one command; None when it was refused. Any other exception is (f)."""
        self.marks.append(self.clock.now)
        before = self._last_notification()
        try:
            result = self.services.handle(command)
        except Refused:
            return None
        except Exception as error:  # noqa: BLE001 — (f) is exactly this
            raise Escaped(
                f"(f) {describe(command)} raised {type(error).__name__}: {error}"
            ) from error
        if origin is not None:
            origin.windows.append((before, self._last_notification()))
        for command in result.jobs:
            self.jobs.append(Job(command, token, origin))
        return result

    def say(self, actor: str, command: str, lag: bool = False, **arguments) -> Accepted | None:
        """`actor` sends `command` from chat: kept, then carried out; its jobs run now unless
        `lag` (a slow worker: they wait for `settle`). None if it could not even be kept."""
        self._messages += 1
        self._tokens += 1
        token = self._tokens
        message_id = f"{self._messages}"
        arguments = {"actor": actor, **arguments}
        kept = self.handle(Receive("telegram", message_id, command, arguments))
        if kept is None:
            self.log.append(f"{actor}: {command} {arguments} — could not be kept")
            return None
        inbound_id, _new = kept.value
        accepted = Accepted(inbound_id, actor, "telegram", message_id, command, arguments)
        self.accepted.append(accepted)
        shown = {k: v for k, v in arguments.items() if k != "actor"}
        try:
            result = self.handle(ApplyInbound(inbound_id), accepted, token)
        except Escaped:
            self.log.append(f"{actor}: {command} {shown} [raised]")
            raise
        row = self.read(lambda s: s.get(InboundMessage, inbound_id))
        outcome = row.outcome if row is not None else None
        if outcome and outcome.startswith("refused"):
            accepted.refused = outcome
        said = outcome or "not processed"
        value = "" if result is None or result.value is None else f" → {result.value!r}"
        self.log.append(f"{actor}: {command} {shown}{value} [{said[:90]}]")
        if not lag:
            self.settle(token)
        self._told_to_start()
        return accepted

    def _told_to_start(self) -> None:
        """(a) Whoever is told a stage of theirs can start has agreed to the order by then."""

        def check(session: Session) -> None:
            told = session.exec(
                select(Notification)
                .where(Notification.id > self._seen, Notification.order_id.is_not(None))
                .order_by(Notification.id)
            ).all()
            for message in told:
                self._seen = max(self._seen, message.id)
                if "can start" not in message.text:
                    continue
                contract = live_contract(session, message.order_id)
                decision = (
                    decisions(session, contract.id).get(message.participant_id)
                    if (contract is not None)
                    else None
                )
                if decision != "agreed":
                    self.violations.append(
                        f"{message.participant_id} was told {message.text[:90]!r} about order "
                        f"{message.order_id} but has {decision or 'not agreed'}"
                    )

        self.read(check)

    def settle(self, token: int | None = None) -> None:
        """Run waiting jobs (those of one command, or all) and the jobs they leave, in order."""
        while True:
            job = next((j for j in self.jobs if token is None or j.token == token), None)
            if job is None:
                if token is None:
                    self._told_to_start()
                return
            self.jobs.remove(job)
            try:
                self._run(job)
            except Escaped:
                self.log.append(f"  worker: {job.command} [raised]")
                raise

    def _run(self, job: Job) -> None:
        """What workers/actors.py does with each follow-up: a disruption fans out to batches
        of affected orders (here one order each, so that the machine may interleave them); the
        others are handled as they are."""
        command = job.command
        if isinstance(command, AffectedOrders):
            affected = self.handle(command, job.origin, job.token)
            for order_id in affected.value if affected is not None else []:
                analysis = AnalyseDisruption(command.disruption_id, (order_id,))
                self.jobs.append(Job(analysis, job.token, job.origin))
            return
        if not isinstance(command, FollowUp | AnalyseDisruption):
            raise AssertionError(f"the test does not know the job {command!r}: teach it")
        self.log.append(f"  worker: {command}")
        self.handle(command, job.origin, job.token)

    # -- reading -----------------------------------------------------------------------------

    def read(self, query):
        with Session(self.engine) as session:
            return query(session)

    def _last_notification(self) -> int:
        return self.read(lambda s: s.exec(select(func.max(Notification.id))).one() or 0)

    def transcript(self) -> str:
        return "what happened:\n  " + "\n  ".join(self.log[-60:])

    def name(self, participant: str | None) -> str:
        network = self.network()
        found = network.participants.get(participant) if participant else None
        return found.name if found else str(participant)

    def network(self) -> Network:
        """The newest network version (an accepted match adds offers to it), disruptions
        aside."""

        def newest(session: Session) -> Network:
            version = session.exec(select(func.max(NetworkVersion.version))).one()
            return self.services.network_at(session, version) if version else Network()

        return self.read(newest)


def describe(command) -> str:
    fields_ = getattr(command, "__dict__", {})
    shown = {k: v for k, v in fields_.items() if k not in ("network", "origin")}
    return f"{type(command).__name__}({shown})"


# -- what the database says ----------------------------------------------------------------


def tree_nodes(tree: list) -> Iterable[tuple[str, dict]]:
    """(path, node) of every node of a stored plan tree."""

    def visit(node: dict, path: str):
        yield path, node
        for position, child in enumerate(node.get("inputs", [])):
            yield from visit(child, f"{path}.{position}")

    for index, line in enumerate(tree or []):
        yield from visit(line, str(index))


def node_party(node: dict, network: Network) -> str | None:
    source = node["source"]
    who = source.get("supplier") or source.get("operator") or source.get("holder")
    if who is None and source.get("kind") == "design":
        facility = network.facilities.get(source.get("facility"))
        who = facility.operator if facility else None
    return who


def tree_participants(tree: list, network: Network) -> set[str]:
    return {who for _, node in tree_nodes(tree) if (who := node_party(node, network))}


def decisions(session: Session, contract_id: int) -> dict[str, str]:
    rows = session.exec(select(Agreement).where(Agreement.contract_id == contract_id))
    return {row.participant_id: row.decision for row in rows}


def live_stages(session: Session, contract_id: int) -> list[StageRow]:
    rows = session.exec(
        select(StageRow).where(StageRow.contract_id == contract_id).order_by(StageRow.id)
    )
    return [r for r in rows if r.status != "superseded"]


def ready(stage: StageRow, by_code: dict[str, StageRow]) -> bool:
    """Pending, with everything it depends on done."""
    return stage.status == "pending" and all(
        by_code.get(code) is not None and by_code[code].status == "done"
        for code in stage.depends_on
    )


def coordinators(session: Session) -> list[str]:
    return sorted(r.id for r in session.exec(select(ParticipantRow)) if "coordinator" in r.roles)


def orders(session: Session) -> list[OrderRow]:
    return list(session.exec(select(OrderRow).order_by(OrderRow.id)))


def plan_tree(session: Session, contract: Contract) -> list:
    return session.get(PlanRow, contract.plan_id).tree


def last_assertion(session: Session, stage_id: int) -> str | None:
    return session.exec(
        select(AssertionRow.status)
        .where(AssertionRow.stage_id == stage_id)
        .order_by(AssertionRow.id.desc())
    ).first()


def order_snapshot(session: Session, order_id: int) -> dict:
    """Everything a refused command must leave as it was (events and outbox aside)."""
    order = session.get(OrderRow, order_id)
    contracts = session.exec(select(Contract).where(Contract.order_id == order_id)).all()
    ids = [c.id for c in contracts]
    stages = session.exec(select(StageRow).where(StageRow.contract_id.in_(ids))).all()
    agreements = session.exec(select(Agreement).where(Agreement.contract_id.in_(ids))).all()
    assertions = session.exec(
        select(func.count(AssertionRow.id)).where(AssertionRow.stage_id.in_([s.id for s in stages]))
    ).one()
    return {
        "order": (order.status, order.reason, order.revision, list(order.excluded)),
        "contracts": sorted((c.id, c.status, c.plan_id) for c in contracts),
        "stages": sorted((s.contract_id, s.code, s.status, s.owner_id) for s in stages),
        "agreements": sorted((a.contract_id, a.participant_id, a.decision) for a in agreements),
        "assertions": assertions,
    }


# -- the invariants --------------------------------------------------------------------------


def check_a(session: Session, life: Life) -> list[str]:
    """(a) Agreement before work. A stage whose inputs are done and whose owner has not agreed
    to the contract cannot start: its owner must have been asked (decision "asked" — sent the
    new frame) and, while the order is negotiating or under way, the order must say that it
    waits for them. No stage is done whose owner had not agreed (checked as it was asserted,
    see `Life.violations`). No one is told a stage "can start now" before they agreed."""
    found = list(life.violations)
    for order in orders(session):
        contract = live_contract(session, order.id)
        if contract is None or contract.status != "agreed":
            continue
        decided = decisions(session, contract.id)
        stages = live_stages(session, contract.id)
        by_code = {s.code: s for s in stages}
        for stage in stages:
            if not stage.owner_id or not ready(stage, by_code):
                continue
            decision = decided.get(stage.owner_id)
            if decision == "agreed":
                continue
            named = stage.owner_id in order.reason or life.name(stage.owner_id) in order.reason
            if decision == "asked" and (named or order.status == "blocked"):
                continue  # waiting for them, and saying so
            if decision == "declined" and order.status == "blocked":
                continue  # their part could not be re-planned: the order waits for a decision
            found.append(
                f"order {order.id} ({order.status}: {order.reason!r}): {stage.code} "
                f"{stage.kind} of {stage.item_id} can start (its inputs are done) but its owner "
                f"{stage.owner_id} has {decision or 'never been asked'}"
                + ("" if decision != "asked" else ", and the order does not say it waits for them")
            )
    return found


def check_b(session: Session, life: Life) -> list[str]:
    """(b) Nothing stranded: every done `receive` of a live contract (superseded ones too)
    whose holder is no longer a participant of the live plan is forwarded (a held source in the
    live tree names holder and stage), or consumed by the holder's own make, or the holder was
    told about the order after the re-plan."""
    found = []
    network = life.network()
    for order in orders(session):
        contract = live_contract(session, order.id)
        if contract is None:
            continue
        tree = plan_tree(session, contract)
        # The buyer is a party of every plan: what they received goes into their `accept`.
        participants = tree_participants(tree, network) | {order.buyer_id}
        held = {
            (node["source"].get("holder"), node["source"].get("stage"))
            for _, node in tree_nodes(tree)
            if node["source"].get("kind") == "held"
        }
        makers = {
            node_party(node, network)
            for _, node in tree_nodes(tree)
            if node["source"].get("kind") == "design"
        }
        rows = session.exec(
            select(StageRow).where(StageRow.contract_id == contract.id, StageRow.kind == "receive")
        ).all()
        for row in rows:
            was_done = row.status == "done" or (
                row.status == "superseded" and last_assertion(session, row.id) == "done"
            )
            holder = row.owner_id
            if not was_done or holder is None or holder in participants:
                continue
            if (holder, row.code) in held or holder in makers:
                continue
            told = session.exec(
                select(Notification.id).where(
                    Notification.participant_id == holder,
                    Notification.order_id == order.id,
                    Notification.created_at >= row.updated_at,
                )
            ).first()
            if told is None:
                found.append(
                    f"order {order.id}: {row.code} receive of {row.quantity} × {row.item_id} is "
                    f"done and held by {holder}, who left the plan; no forward leg uses it and "
                    f"{holder} was not told what to do with it"
                )
    return found


def check_c(session: Session, life: Life) -> list[str]:
    """(c) Every accepted command ends in exactly one outcome message to its sender: a message
    to them whose payload's "outcome" names the command's platform message, or is True and was
    written by the command's transaction or by the jobs it left. (Read incrementally: each step
    looks at the outbox rows written since the last.)"""
    new = session.exec(
        select(Notification).where(Notification.id > life.c_seen).order_by(Notification.id)
    ).all()
    by_tag = {f"{a.platform}:{a.message_id}": a for a in life.accepted}
    for message in new:
        life.c_seen = message.id
        outcome = message.payload.get("outcome")
        if not outcome:
            continue
        if outcome is True:
            owner = next(
                (
                    a
                    for a in life.accepted
                    if any(after < message.id <= upto for after, upto in a.windows)
                ),
                None,
            )
        else:
            owner = by_tag.get(outcome)
        if owner is not None and owner.sender == message.participant_id:
            owner.outcomes.append(f"[{message.kind}] {message.text[:70]!r}")
    found = []
    for accepted in life.accepted:
        if not accepted.processed:
            row = session.get(InboundMessage, accepted.inbound_id)
            accepted.processed = row is not None and row.processed_at is not None
        if not accepted.processed:
            found.append(
                f"{accepted.sender}'s {accepted.command} {accepted.arguments} (inbound "
                f"{accepted.inbound_id}) was kept but never carried out"
            )
        elif len(accepted.outcomes) != 1:
            found.append(
                f"{accepted.sender}'s {accepted.command} {accepted.arguments} "
                f"({accepted.refused or 'done'}) had {len(accepted.outcomes)} outcome messages: "
                + ("; ".join(accepted.outcomes) or "none")
            )
    return found


def check_d(session: Session, life: Life) -> list[str]:
    """(d) Every order is completed, cancelled, or in a named waiting state; a stuck one has a
    reason, and its buyer and a coordinator were told about it after it got stuck."""
    found = []
    told_coordinators = coordinators(session)
    for order in orders(session):
        if order.status in ENDED:
            continue
        if order.status not in WAITING:
            found.append(f"order {order.id} is in no named state: {order.status!r}")
            continue
        if order.status not in STUCK:
            continue
        if not order.reason:
            found.append(f"order {order.id} is {order.status} with no reason given")
        entered = _entered(session, life, order)
        if entered is None:
            found.append(f"order {order.id} is {order.status}; no event says when it got there")
            continue
        told = set(
            session.exec(
                select(Notification.participant_id).where(
                    Notification.order_id == order.id, Notification.created_at > entered
                )
            )
        )
        if order.buyer_id not in told:
            found.append(
                f"order {order.id} is {order.status} ({order.reason!r}) and its buyer "
                f"{order.buyer_id} was not told after it got there"
            )
        if told_coordinators and not told & set(told_coordinators):
            found.append(
                f"order {order.id} is {order.status} ({order.reason!r}) and no coordinator "
                f"({', '.join(told_coordinators)}) was told"
            )
    return found


def _entered(session: Session, life: Life, order: OrderRow) -> datetime | None:
    """When the order entered its present state: the start of the command whose event moved it
    there (the messages of that command count as telling)."""
    moves = session.exec(
        select(EventRow)
        .where(EventRow.order_id == order.id, EventRow.kind == "order_state")
        .order_by(EventRow.id.desc())
    ).all()
    event = next(
        (
            e
            for e in moves
            if e.data.get("to") == order.status and e.data.get("from") != e.data.get("to")
        ),
        None,
    )
    if event is None:
        return None
    return max((mark for mark in life.marks if mark < event.at), default=event.at)


def check_e(session: Session, life: Life) -> list[str]:
    """(e) The history rebuilt from the events alone is the live state."""
    found = []
    for order in orders(session):
        live = queries.order_state(session, order.id)
        rebuilt = queries.history_at(session, order.id, FAR_FUTURE)
        for name in ("status", "contract", "contract_status", "tree", "stages"):
            want, got = getattr(live, name), getattr(rebuilt, name)
            if want != got:
                found.append(
                    f"order {order.id}: {name} is {_short(want)} but the events say {_short(got)}"
                )
    return found


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "…"


CHECKS = {
    "a": check_a,
    "b": check_b,
    "c": check_c,
    "d": check_d,
    "e": check_e,
}


# -- what the rules pick from ------------------------------------------------------------


@dataclass
class OrderView:
    id: int
    buyer: str
    status: str
    per: str | None
    items: list[str]
    contract: Contract | None
    participants: set[str]
    decided: dict[str, str]
    stages: list[StageRow]

    @property
    def awaited(self) -> list[str]:
        if self.contract is None:
            return []
        return sorted(
            p for p in self.participants | {self.buyer} if self.decided.get(p) != "agreed"
        )

    def ready_stages(self) -> list[StageRow]:
        by_code = {s.code: s for s in self.stages}
        return [s for s in self.stages if s.owner_id and ready(s, by_code)]

    def pending_stages(self) -> list[StageRow]:
        return [s for s in self.stages if s.owner_id and s.status == "pending"]


def view_orders(session: Session, network: Network) -> list[OrderView]:
    views = []
    for order in orders(session):
        contract = live_contract(session, order.id)
        lines = session.exec(select(OrderLine.item_id).where(OrderLine.order_id == order.id)).all()
        views.append(
            OrderView(
                order.id,
                order.buyer_id,
                order.status,
                order.per,
                list(lines),
                contract,
                tree_participants(plan_tree(session, contract), network) if contract else set(),
                decisions(session, contract.id) if contract else {},
                live_stages(session, contract.id)
                if contract and contract.status == "agreed"
                else [],
            )
        )
    return views


def resources_in_use(session: Session, network: Network) -> list[tuple[str, str]]:
    """(resource, its operator) of every source of the live plans: offers, facilities, and the
    people who run them."""
    found: dict[str, str] = {}
    for contract in session.exec(
        select(Contract).where(Contract.status.in_(LIVE_CONTRACT)).order_by(Contract.id)
    ):
        for _, node in tree_nodes(plan_tree(session, contract)):
            source = node["source"]
            who = node_party(node, network)
            if source.get("kind") == "offer":
                found.setdefault(source["offer"], who)
            elif source.get("kind") == "design":
                found.setdefault(source["facility"], who)
            if who and source.get("kind") != "held":
                found.setdefault(who, who)
    return sorted(found.items())


def items_in_use(session: Session) -> list[str]:
    """The items of the live plans, in the order they first appear."""
    found: dict[str, None] = {}
    for contract in session.exec(
        select(Contract).where(Contract.status.in_(LIVE_CONTRACT)).order_by(Contract.id)
    ):
        for _, node in tree_nodes(plan_tree(session, contract)):
            found.setdefault(node["item"])
    return list(found)


def active_disruptions(session: Session) -> list[Disruption]:
    return list(
        session.exec(
            select(Disruption).where(Disruption.restored_at.is_(None)).order_by(Disruption.id)
        )
    )


def proposed_substitutions(session: Session) -> list[SubstitutionRow]:
    return list(
        session.exec(
            select(SubstitutionRow)
            .where(SubstitutionRow.status == "proposed")
            .order_by(SubstitutionRow.id)
        )
    )


def any_order(session: Session) -> bool:
    return session.exec(select(OrderRow.id).limit(1)).first() is not None


def newest_order(session: Session, buyer: str) -> int | None:
    return session.exec(
        select(OrderRow.id).where(OrderRow.buyer_id == buyer).order_by(OrderRow.id.desc())
    ).first()


def requester_of(session: Session, match: IntentMatch) -> str:
    return session.get(IntentRow, match.request_id).participant_id


def open_matches(session: Session) -> list[IntentMatch]:
    return list(
        session.exec(
            select(IntentMatch).where(IntentMatch.status == "open").order_by(IntentMatch.id)
        )
    )


# -- timing --------------------------------------------------------------------------------


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)

    def add(self, seconds: float, steps: int) -> None:
        self.seconds.append(seconds)
        self.steps.append(steps)

    def summary(self) -> str:
        if not self.seconds:
            return "no example ran"
        ordered = sorted(self.seconds)
        mean = sum(ordered) / len(ordered)
        median = ordered[len(ordered) // 2]
        return (
            f"{len(ordered)} examples, {sum(self.steps)} steps: mean {mean:.3f} s, median "
            f"{median:.3f} s, max {ordered[-1]:.3f} s per example; total {sum(ordered):.1f} s"
        )


def stopwatch() -> Callable[[], float]:
    started = time.perf_counter()
    return lambda: time.perf_counter() - started
