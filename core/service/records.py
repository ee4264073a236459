"""Reading the store in the terms handlers think in, refusing clearly when something is unknown."""

from __future__ import annotations

from sqlalchemy import Row, and_, bindparam
from sqlmodel import Session, select

from core.network.model import Network
from core.service.results import Refused
from core.stages.graph import Stage, StageGraph
from core.store.tables import (
    Agreement,
    AssertionRow,
    Contract,
    NetworkVersion,
    OrderLine,
    OrderRow,
    ParticipantRow,
    PlanRow,
    StageRow,
)
from core.weave.legs import VEHICLE, Stop
from core.weave.plan import Plan
from core.weave.plan_document import PlanGap, node_from_document
from core.weave.sources import Bought, SupplyIndex, is_held


def participant(session: Session, participant_id: str | None) -> ParticipantRow:
    row = session.get(ParticipantRow, participant_id) if participant_id else None
    return known_participant(row, participant_id)


def known_participant(row: ParticipantRow | None, participant_id: str | None) -> ParticipantRow:
    """The participant's row, read; refused when there is none."""
    if row is None:
        raise Refused(f"unknown participant {participant_id!r}")
    return row


def is_coordinator(session: Session, participant_id: str | None) -> bool:
    row = session.get(ParticipantRow, participant_id) if participant_id else None
    return row is not None and "coordinator" in row.roles


# Read by nearly every command (built once: building a statement costs more CPU than running it).
_ORDER = select(OrderRow).where(OrderRow.id == bindparam("order"))
_ORDER_LOCKED = _ORDER.with_for_update()
_STAGES = (
    select(StageRow).where(StageRow.contract_id == bindparam("contract")).order_by(StageRow.id)
)
_STAGE_TABLE = StageRow.__table__
_AGREEMENTS = Agreement.__table__
# What the stage graph is built of, with each stage's row id and its owner's word on the
# contract: the other columns (when it was changed, due, told late) are read by none of the
# commands that read these rows, and every column costs CPU on every row.
LIVE_STAGE_COLUMNS = (
    _STAGE_TABLE.c.id,
    _STAGE_TABLE.c.code,
    _STAGE_TABLE.c.kind,
    _STAGE_TABLE.c.item_id,
    _STAGE_TABLE.c.quantity,
    _STAGE_TABLE.c.owner_id,
    _STAGE_TABLE.c.node,
    _STAGE_TABLE.c.source,
    _STAGE_TABLE.c.depends_on,
    _STAGE_TABLE.c.status,
    _AGREEMENTS.c.decision.label("owner_decision"),
)
# The join that gives each live stage its owner's decision, for `LIVE_STAGE_COLUMNS`.
LIVE_STAGES_WITH_DECISIONS = _STAGE_TABLE.outerjoin(
    _AGREEMENTS,
    and_(
        _AGREEMENTS.c.contract_id == _STAGE_TABLE.c.contract_id,
        _AGREEMENTS.c.participant_id == _STAGE_TABLE.c.owner_id,
    ),
)
_LIVE_STAGES = (
    select(*LIVE_STAGE_COLUMNS)
    .select_from(LIVE_STAGES_WITH_DECISIONS)
    .where(
        _STAGE_TABLE.c.contract_id == bindparam("contract"), _STAGE_TABLE.c.status != "superseded"
    )
    .order_by(_STAGE_TABLE.c.id)
)


def order(session: Session, order_id: int, lock: bool = False) -> OrderRow:
    """The order; with `lock`, its row stays locked until commit, so that handlers changing
    one order run one after the other and none of their updates is lost."""
    _known_id(order_id)
    row = session.exec(_ORDER_LOCKED if lock else _ORDER, params={"order": order_id}).first()
    if row is None:
        raise Refused(f"unknown order {order_id!r}")
    return row


# What an assertion reads of its order and of the person asserting, in one statement and in
# SQLAlchemy Core (the ORM's two objects cost more CPU than the read).
_ORDERS, _PEOPLE = OrderRow.__table__, ParticipantRow.__table__
_ORDER_ROW_LOCKED_AND_ACTOR = (
    select(
        _ORDERS.c.id,
        _ORDERS.c.buyer_id,
        _PEOPLE.c.id.label("actor_id"),
        _PEOPLE.c.name.label("actor_name"),
        _PEOPLE.c.roles.label("actor_roles"),
    )
    .select_from(_ORDERS.outerjoin(_PEOPLE, _PEOPLE.c.id == bindparam("actor")))
    .where(_ORDERS.c.id == bindparam("order"))
    .with_for_update(of=_ORDERS)
)


def locked_order_row(session: Session, order_id: int, actor: str | None) -> Row:
    """`order(session, order_id, lock=True)` and the participant `actor`, as one Core row: the
    order's `id` and `buyer_id`, and the participant's `actor_id`, `actor_name` and
    `actor_roles` (None when there is none). For a handler that changes the order itself,
    `session.get(OrderRow, id)` gives its object (the lock is held already)."""
    _known_id(order_id)
    row = session.execute(_ORDER_ROW_LOCKED_AND_ACTOR, {"order": order_id, "actor": actor}).first()
    if row is None:
        raise Refused(f"unknown order {order_id!r}")
    return row


def _known_id(order_id) -> None:
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise Refused(f"unknown order {order_id!r}")


def lines(session: Session, order_id: int) -> list[OrderLine]:
    return list(
        session.exec(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id))
    )


def latest_contract(session: Session, order_id: int) -> Contract | None:
    return session.exec(
        select(Contract).where(Contract.order_id == order_id).order_by(Contract.id.desc())
    ).first()


def plans(session: Session, order_id: int) -> list[PlanRow]:
    return list(
        session.exec(select(PlanRow).where(PlanRow.order_id == order_id).order_by(PlanRow.id))
    )


def rebuild_plan(network: Network, row: PlanRow, index: SupplyIndex | None = None) -> Plan:
    """The stored plan over `network`; raises PlanGap when the network lost one of its sources."""
    return rebuild_tree(network, row.tree, row.rank, index)


def rebuild_tree(
    network: Network, tree: list[dict], rank: int = 1, index: SupplyIndex | None = None
) -> Plan:
    index = index or SupplyIndex(network)
    lines = tuple(node_from_document(network, index, line) for line in tree)
    return Plan(lines=lines, score=(0, 0.0), rank=rank)


def stage_rows(session: Session, contract_id: int) -> list[StageRow]:
    return list(session.exec(_STAGES, params={"contract": contract_id}))


# The platform of the assertions a disruption makes when it fails the stages of what it took out
# of service: told apart from a person's word (core/service/disruptions.py).
SIGNALLED = "disruption"


def failed_by_people(session: Session, contract_id: int, codes: set[str]) -> set[str]:
    """Of the stages `codes` of the contract, those whose latest failure a person asserted. A
    stage failed by a disruption failed because its resource was out of service: the network
    leaves that resource out while it is, and may use it again once it is back."""
    rows = session.exec(
        select(StageRow.code, AssertionRow.platform)
        .join(AssertionRow, AssertionRow.stage_id == StageRow.id)
        .where(StageRow.contract_id == contract_id, AssertionRow.status == "failed")
        .order_by(AssertionRow.id)
    ).all()
    latest = dict(rows)  # code → the platform of its latest failure
    return {code for code in codes if latest.get(code) != SIGNALLED}


def stage_graph(session: Session, contract_id: int) -> StageGraph:
    """The live stages of a contract (superseded ones left out), dependencies first."""
    return graph_of(live_stage_rows(session, contract_id))


def live_stage_rows(session: Session, contract_id: int) -> list[Row]:
    """The rows of a contract's live stages (superseded ones left out), dependencies first, as
    read (SQLAlchemy Core: the ORM's objects cost more than the read itself), what this
    transaction changed included: the columns `graph_of` reads and the row's `id`, each with
    its owner's word on the contract, `owner_decision` (a lifecycle.Decision, None when they
    were never asked), read with it."""
    session.flush()  # a Core read is not preceded by the ORM's autoflush
    rows = session.execute(_LIVE_STAGES, {"contract": contract_id}).all()
    return dependencies_first(rows)


def graph_of(rows: list[Row]) -> StageGraph:
    """The stage graph of `live_stage_rows`, for a handler that writes some of those rows."""
    return StageGraph(
        Stage(
            id=r.code,
            kind=r.kind,
            item=r.item_id,
            quantity=r.quantity,
            owner=r.owner_id,
            node=r.node,
            source=r.source,
            depends_on=tuple(r.depends_on),
            status=r.status,
        )
        for r in rows
    )


def write_stage(row: StageRow, stage: Stage, at) -> StageRow:
    """Put a stage of the domain into its row (new or existing)."""
    row.code, row.kind, row.item_id, row.quantity = stage.id, stage.kind, stage.item, stage.quantity
    row.owner_id, row.node, row.source = stage.owner, stage.node, stage.source
    row.depends_on, row.status, row.updated_at = list(stage.depends_on), stage.status, at
    return row


def gaps(network: Network, row: PlanRow, delivered: frozenset[str] = frozenset()) -> list[str]:
    """Assess F_A: the outermost nodes of a stored plan whose source `network` lacks, leaving
    out what was delivered already (a source that goes afterwards takes nothing back)."""
    index = SupplyIndex(network)
    found: list[str] = []

    def visit(node: dict, path: str) -> None:
        if path in delivered:  # visited top-down: what lies under it is skipped too
            return
        try:
            node_from_document(network, index, {**node, "inputs": []})
        except PlanGap:
            found.append(path)
            return
        for position, child in enumerate(node["inputs"]):
            visit(child, f"{path}.{position}")

    for line_index, line in enumerate(row.tree):
        visit(line, str(line_index))
    return found


def delivered_paths(graph: StageGraph) -> frozenset[str]:
    """Plan nodes whose goods have arrived where they are used: the node's last stage is done
    (its `receive`; for goods used where they are made or sold, which travel nowhere, its
    `inspect` or `confirm`); everything under them went into those goods (`within`)."""
    last: dict[str, object] = {}
    for stage in graph:  # in dependency order: a node's last stage comes last
        if stage.kind != "accept":
            last[stage.node] = stage
    return frozenset(node for node, stage in last.items() if stage.status == "done")


def within(path: str, nodes: frozenset[str]) -> bool:
    """Whether the node at `path` is one of `nodes` or lies under one."""
    return any(path == node or path.startswith(node + ".") for node in nodes)


def live_delivered(session: Session, contract: Contract) -> frozenset[str]:
    return delivered_paths(stage_graph(session, contract.id))


def dependencies_first(rows: list[Row]) -> list[Row]:
    """Stage rows in an order their graph takes: each after the stages it depends on."""
    # A re-plan adds stages after older ones that now depend on them; order by dependency,
    # keeping insertion order among equals.
    by_code = {r.code: r for r in rows}
    placed: set[str] = set()
    ordered: list[Row] = []

    def place(row: Row) -> None:
        if row.code in placed:
            return
        placed.add(row.code)
        for code in row.depends_on:
            if code in by_code:
                place(by_code[code])
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered


def parties(plan: Plan) -> dict[str, set[str]]:
    """Every participant a plan needs, with the roles they play in it (buyer excluded). The
    operator of a vehicle that carries a leg is a party too, a "transporter": it gets a frame,
    agrees and owns its stages. A delivery's sender and a pick-up's receiver are parties
    already, by what they supply, make or order."""
    found: dict[str, set[str]] = {}
    for node in plan.nodes():
        if is_held(node.source):
            who, role = node.source.offer.supplier, "sends on stock"
        elif isinstance(node.source, Bought):
            who, role = node.source.offer.supplier, "supplier"
        else:
            who, role = node.source.facility.operator, "maker"
        if who:
            found.setdefault(who, set()).add(role)
        leg = node.leg
        if leg is not None and leg.kind == VEHICLE and leg.carrier:
            found.setdefault(leg.carrier, set()).add("transporter")
    return found


def work_of(plan: Plan) -> dict[str, set[tuple]]:
    """What each participant provides in a plan: (position, item, quantity, source) per node,
    and a transporter's carrying of a node's goods from one place to another. Carrying the
    same goods from another place, or in another vehicle, is other work: the transporter
    agrees to it again."""
    work: dict[str, set[tuple]] = {}
    for path, node in plan.positioned():
        source = node.source
        if isinstance(source, Bought):
            who, label = source.offer.supplier, f"offer:{source.offer.id}"
        else:
            who = source.facility.operator
            label = f"design:{source.design.id}@{source.facility.id}"
        if who:
            work.setdefault(who, set()).add((path, node.item, node.quantity, label))
        leg = node.leg
        if leg is not None and leg.kind == VEHICLE and leg.carrier:
            carried = f"{leg.id}:{_stop_key(leg.origin)}>{_stop_key(leg.destination)}"
            work.setdefault(leg.carrier, set()).add((path, node.item, node.quantity, carried))
    return work


def _stop_key(stop: Stop) -> str:
    """A leg's end as one label: its facility, else the party there."""
    return f"facility:{stop.facility}" if stop.facility else f"participant:{stop.participant}"


def network_version(session: Session) -> int:
    latest = session.exec(
        select(NetworkVersion.version).order_by(NetworkVersion.version.desc()).limit(1)
    ).first()
    return latest or 0


def stage_documents(graph) -> list[dict]:
    return [
        {
            "id": s.id,
            "kind": s.kind,
            "item": s.item,
            "quantity": s.quantity,
            "owner": s.owner,
            "node": s.node,
            "source": s.source,
            "depends_on": list(s.depends_on),
            "status": s.status,
        }
        for s in graph
    ]
