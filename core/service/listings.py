"""Read-only lists people ask for in chat: what they owe, an order's plans and stages, the
catalog. Each takes a session (and the Services where it needs a network); the caller checks
that the reader is a party (queries.may_read) before it shows an order."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from core.network.model import Network
from core.plan_counts import from_exact_text
from core.service import lifecycle, records
from core.service.evidence import proved_stages
from core.service.lifecycle import ENDED, STUCK, Decision, OrderStatus
from core.service.results import Refused
from core.stages.progress import progress
from core.store.tables import (
    Agreement,
    Contract,
    EventRow,
    OrderLine,
    OrderRow,
    ParticipantRow,
    PlanRow,
)
from core.weave import CatalogEntry, orderable_catalog
from core.weave.plan_document import PlanGap

_CATALOGS: dict[int, tuple[Network, list[CatalogEntry]]] = {}


# -- what a person owes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    order_id: int
    stage: str
    kind: str
    item: str  # the item's name
    quantity: int
    ready: bool  # everything it depends on is done, and its owner agreed to their part


@dataclass(frozen=True)
class Duties:
    stages: list[Owed]
    to_agree: list[int]  # orders whose plan waits for this person's agreement


def duties(services, session: Session, participant_id: str) -> Duties:
    """The pending stages this person owes in agreed orders, and the plans they have yet to
    agree to, oldest order first."""
    network = services.current_network(session)
    agreed = list(
        session.exec(select(Contract).where(Contract.status == "agreed").order_by(Contract.id))
    )
    owed: list[Owed] = []
    for contract in agreed:
        graph = records.stage_graph(session, contract.id)
        agreed_to = lifecycle.decisions(session, contract).get(participant_id) == Decision.AGREED
        owed.extend(
            Owed(
                contract.order_id,
                s.id,
                s.kind,
                network.item_name(s.item),
                s.quantity,
                graph.ready(s.id) and agreed_to,
            )
            for s in graph
            if s.owner == participant_id and s.status == "pending"
        )
    return Duties(owed, _waiting_for(services, session, participant_id))


def _waiting_for(services, session: Session, participant_id: str) -> list[int]:
    potential = session.exec(
        select(Contract).where(Contract.status == "potential").order_by(Contract.id)
    )
    waiting = []
    for contract in potential:
        decided = session.exec(
            select(Agreement.id).where(
                Agreement.contract_id == contract.id, Agreement.participant_id == participant_id
            )
        ).first()
        if decided is not None:
            continue
        row = session.get(PlanRow, contract.plan_id)
        try:
            plan = records.rebuild_plan(services.network_at(session, row.network_version), row)
        except PlanGap:
            continue
        if participant_id in records.parties(plan):
            waiting.append(contract.order_id)
    return waiting


# -- an order's plans -----------------------------------------------------------------------


def plan_count(session: Session, order_id: int) -> int | None:
    """How many plans the order's newest weave found, as its event recorded."""
    events = session.exec(
        select(EventRow)
        .where(
            EventRow.order_id == order_id,
            EventRow.kind.in_(("order_placed", "order_woven", "rewoven")),
        )
        .order_by(EventRow.id.desc())
    )
    for event in events:
        if "plan_count" in event.data:
            return from_exact_text(event.data["plan_count"])
    return None


# -- an order's stages ----------------------------------------------------------------------


@dataclass(frozen=True)
class StageLine:
    id: str
    kind: str
    item: str  # the item's name
    quantity: int
    owner: str | None
    status: str
    ready: bool  # everything it depends on is done
    agreed: bool  # its owner agreed to their part (a re-plan may have asked them anew)
    owner_name: str = ""  # what people call the owner (the id is what /hand and tests use)
    photo: bool = False  # a photo is among its evidence (core.service.evidence)


@dataclass(frozen=True)
class StageList:
    order_id: int
    contract_status: str
    done: int
    total: int
    percent: int
    stages: list[StageLine]


def stage_list(services, session: Session, order_id: int) -> StageList:
    records.order(session, order_id)
    contract = lifecycle.live_contract(session, order_id) or records.latest_contract(
        session, order_id
    )
    if contract is None:
        raise Refused(f"order {order_id} has no plan yet; its stages come once one is agreed")
    graph = records.stage_graph(session, contract.id)
    if not len(graph):
        raise Refused(
            f"order {order_id} has no stages yet: they are made when every party has agreed"
        )
    network = services.current_network(session)
    share = progress(graph).overall
    decided = lifecycle.decisions(session, contract)
    photographed = proved_stages(session, contract.id)
    lines = [
        StageLine(
            s.id,
            s.kind,
            network.item_name(s.item),
            s.quantity,
            s.owner,
            s.status,
            graph.ready(s.id),
            s.owner is None or decided.get(s.owner) == Decision.AGREED,
            network.participant_name(s.owner) if s.owner else "",
            photo=s.id in photographed,
        )
        for s in graph
    ]
    return StageList(order_id, contract.status, share.done, share.total, share.percent, lines)


# -- orders by state -------------------------------------------------------------------------

S = OrderStatus
# How /orders lists the states: stuck ones first, ended ones last.
LISTED = (
    S.UNPLANNABLE,
    S.BLOCKED,
    S.FAILED,
    S.NEGOTIATING,
    S.OPEN,
    S.WEAVING,
    S.IN_PROGRESS,
    S.COMPLETED,
    S.CANCELLED,
)
WAITING = frozenset({S.WEAVING, S.OPEN, S.NEGOTIATING})  # in the normal course of things
# The words a person may give /orders, and the states each means.
STATE_WORDS: dict[str, frozenset[OrderStatus]] = {
    **{status.value: frozenset({status}) for status in OrderStatus},
    "stuck": STUCK,
    "no_plan": frozenset({S.UNPLANNABLE}),
    "waiting": WAITING,
    "choosing": frozenset({S.OPEN}),
    "agreeing": frozenset({S.NEGOTIATING}),
    "planning": frozenset({S.WEAVING}),
    "open": frozenset(OrderStatus) - ENDED,  # not ended: what still needs something
    "active": frozenset(OrderStatus) - ENDED,
    "live": frozenset(OrderStatus) - ENDED,
    "under_way": frozenset({S.IN_PROGRESS}),
    "underway": frozenset({S.IN_PROGRESS}),
    "progress": frozenset({S.IN_PROGRESS}),
    "running": frozenset({S.IN_PROGRESS}),
    "complete": frozenset({S.COMPLETED}),
    "done": frozenset({S.COMPLETED}),
    "delivered": frozenset({S.COMPLETED}),
    "canceled": frozenset({S.CANCELLED}),
    "ended": ENDED,
    "all": frozenset(OrderStatus),
}
SHOWN_WORDS = "stuck, waiting, under-way, completed, cancelled, open or all"


@dataclass(frozen=True)
class OrderSummary:
    order_id: int
    status: OrderStatus
    reason: str  # why it is in that state (OrderRow.reason)
    lines: list[tuple[int, str]]  # quantity, the item's name
    buyer: str
    buyer_name: str


@dataclass(frozen=True)
class OrderList:
    reader: str
    everyone: bool  # a coordinator reads every order; anyone else those they are a party of
    state: str | None  # the word the reader narrowed the list by
    orders: list[OrderSummary]  # stuck first (LISTED), oldest first within a state


def order_states(word: str | None) -> frozenset[OrderStatus]:
    """The states a person means by `word` (None: every state); Refused when it means none."""
    if word is None or not word.strip():
        return frozenset(OrderStatus)
    key = word.strip().casefold().replace("-", "_").replace(" ", "_")
    found = STATE_WORDS.get(key)
    if found is None:
        raise Refused(f"{word[:30]!r} is not a state of an order; try {SHOWN_WORDS}")
    return found


def order_list(services, session: Session, reader: str, state: str | None = None) -> OrderList:
    """The orders `reader` may see (lifecycle.parties: a coordinator sees them all), in the
    states `state` names."""
    wanted = order_states(state)
    person = session.get(ParticipantRow, reader)
    everyone = person is not None and "coordinator" in person.roles
    rows = [
        row for row in session.exec(select(OrderRow).order_by(OrderRow.id)) if row.status in wanted
    ]
    if not everyone:
        rows = [
            row
            for row in rows
            if row.buyer_id == reader or reader in lifecycle.plan_parties(session, row)
        ]
    network = services.current_network(session)
    ids = [row.id for row in rows]
    lines: dict[int, list[tuple[int, str]]] = {}
    if ids:
        for line in session.exec(
            select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.id)
        ):
            lines.setdefault(line.order_id, []).append(
                (line.quantity, network.item_name(line.item_id))
            )
    names: dict[str, str] = {}
    for buyer in {row.buyer_id for row in rows}:
        found = session.get(ParticipantRow, buyer)
        names[buyer] = found.name if found else buyer
    summaries = [
        OrderSummary(
            row.id,
            OrderStatus(row.status),
            row.reason or "",
            lines.get(row.id, []),
            row.buyer_id,
            names[row.buyer_id],
        )
        for row in rows
    ]
    summaries.sort(key=lambda o: (LISTED.index(o.status), o.order_id))
    return OrderList(reader, everyone, state, summaries)


# -- the catalog ----------------------------------------------------------------------------


def catalog(services, session: Session, words: str = "") -> list[CatalogEntry]:
    """The orderable items whose id, name or aliases contain every word, with their plan
    counts over the network as it is now: what people order first (finished_first)."""
    network = services.current_network(session)
    cached = _CATALOGS.get(id(network))
    if cached is None or cached[0] is not network:
        # Counting is exact and fast, but not free on a large network: once per version.
        if len(_CATALOGS) > 8:
            _CATALOGS.clear()
        cached = (network, finished_first(network, orderable_catalog(network)))
        _CATALOGS[id(network)] = cached
    wanted = [w.casefold() for w in words.split()]
    found = []
    for entry in cached[1]:
        if not entry.orderable:
            continue
        item = entry.item
        text = " ".join([item.id, item.name, *item.aliases]).casefold()
        if all(w in text for w in wanted):
            found.append(entry)
    return found


def finished_first(network: Network, entries: list[CatalogEntry]) -> list[CatalogEntry]:
    """Finished goods first (made by a design, an input of none), then the parts designs make
    and use, then raw materials (made by no design); by name within each."""
    made = {d.makes for d in network.designs.values()}
    used = {item for d in network.designs.values() for item, _ in d.inputs}

    def standing(entry: CatalogEntry) -> tuple:
        item = entry.item.id
        kind = 0 if item in made and item not in used else 1 if item in made else 2
        return kind, entry.item.name.casefold(), item

    return sorted(entries, key=standing)


# -- an order's history ---------------------------------------------------------------------


@dataclass(frozen=True)
class OrderEvents:
    """An order's events, oldest first, with what telling them needs: the names of those who
    did them and the network (bots/conversation/history.py words them)."""

    order_id: int
    events: list[EventRow]
    names: dict[str, str]
    network: Network


def order_events(services, session: Session, order_id: int, until=None) -> OrderEvents:
    """Every event of the order (until `until`, when given)."""
    records.order(session, order_id)
    query = select(EventRow).where(EventRow.order_id == order_id)
    if until is not None:
        query = query.where(EventRow.at <= until)
    events = list(session.exec(query.order_by(EventRow.id)))
    names = {}
    for actor in {e.actor_id for e in events if e.actor_id}:
        row = session.get(ParticipantRow, actor)
        names[actor] = row.name if row is not None and row.name else actor
    return OrderEvents(order_id, events, names, services.current_network(session))
