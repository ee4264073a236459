"""Read-only use cases: assess (F_A), error analysis (F_E), history H(D, t), the stage picture;
progress (F_Q) is listings.stage_list's.

Only the parties of an order (and coordinators) read it: the caller asks `may_read` first.
`order_state` reads the tables; `history_at` rebuilds the same state from the event log alone,
as it was at any past time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from core.service import lifecycle, records
from core.service.results import Refused
from core.stages.progress import root_causes
from core.store.tables import Agreement, EventRow


@dataclass
class OrderState:
    """What a dynamic supply chain is at one moment."""

    status: str = "open"
    contract: int | None = None
    contract_status: str | None = None
    tree: list | None = None
    agreements: dict[str, str] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)  # live stage id → status


def may_read(services, session: Session, actor: str, order_id: int) -> None:
    """The one rule (lifecycle.parties): the buyer, the live plan's parties, coordinators."""
    if not lifecycle.is_party(session, records.order(session, order_id), actor):
        raise Refused(f"order {order_id} is only shown to its parties")


def stage_picture(session: Session, services, order_id: int) -> bytes:
    """The order's stage graph as a PNG."""
    from core.stages.render import render_png  # matplotlib loads only when a picture is asked

    contract = lifecycle.live_contract(session, order_id) or records.latest_contract(
        session, order_id
    )
    if contract is None:
        raise Refused(f"order {order_id} has no stages yet")
    network = services.network_at(session, records.network_version(session))
    return render_png(records.stage_graph(session, contract.id), network, f"Order {order_id}")


def order_state(session: Session, order_id: int) -> OrderState:
    order = records.order(session, order_id)
    state = OrderState(status=order.status)
    contract = records.latest_contract(session, order_id)
    if contract is None:
        return state
    state.contract, state.contract_status = contract.id, contract.status
    state.tree = session.get(records.PlanRow, contract.plan_id).tree
    agreements = session.exec(select(Agreement).where(Agreement.contract_id == contract.id))
    state.agreements = {a.participant_id: a.decision for a in agreements}
    state.stages = {s.id: s.status for s in records.stage_graph(session, contract.id)}
    return state


def history_at(session: Session, order_id: int, at: datetime) -> OrderState:
    """H(D, t): the order's state at `at`, rebuilt from its events only."""
    records.order(session, order_id)
    state = OrderState()
    events = session.exec(
        select(EventRow)
        .where(EventRow.order_id == order_id, EventRow.at <= at)
        .order_by(EventRow.id)
    )
    for event in events:
        _fold(state, event)
    return state


def timeline(session: Session, order_id: int) -> list[EventRow]:
    """Every event of the order, in order: who did what, when, from which message."""
    records.order(session, order_id)
    return list(
        session.exec(select(EventRow).where(EventRow.order_id == order_id).order_by(EventRow.id))
    )


def error_analysis(session: Session, order_id: int) -> list[str]:
    contract = records.latest_contract(session, order_id)
    if contract is None:
        return []
    return [s.id for s in root_causes(records.stage_graph(session, contract.id))]


def assess(services, session: Session, order_id: int) -> list[str]:
    """F_A: where the live plan's sources are missing from the network as it is now (the paths
    of their nodes), leaving out what was delivered already: it is in hand, and nothing
    re-plans it."""
    contract = lifecycle.live_contract(session, order_id)
    if contract is None:
        return []
    row = session.get(records.PlanRow, contract.plan_id)
    delivered = records.live_delivered(session, contract)
    return records.gaps(services.current_network(session), row, delivered)


def _fold(state: OrderState, event: EventRow) -> None:
    data, kind = event.data, event.kind
    if kind == "order_state":
        state.status = data["to"]
    elif kind == "order_placed" and data.get("weaving"):
        state.status = "weaving"
    elif kind == "contract_state" and data["contract"] == state.contract:
        state.contract_status = data["to"]
    elif kind == "plan_chosen":
        state.contract, state.contract_status = data["contract"], "potential"
        state.tree = data["tree"]
        state.agreements, state.stages = {event.actor_id: "agreed"}, {}
    elif kind in ("agreed", "declined"):
        state.agreements[event.actor_id] = kind
    elif kind == "contract_agreed":
        state.stages = {s["id"]: s["status"] for s in data["stages"]}
    elif kind == "stage_asserted":
        state.stages[data["stage"]] = {"reset": "pending"}.get(data["status"], data["status"])
    elif kind == "stage_handed":
        pass  # who owns a stage is not part of the state compared here
    elif kind == "replanned":
        state.tree = data["tree"]
        for party in data.get("asked", ()):
            state.agreements[party] = "asked"
        if data.get("stages") is not None:
            state.stages = {s["id"]: s["status"] for s in data["stages"]}
