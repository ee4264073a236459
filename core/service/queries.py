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


# What each kind of event says in a timeline: a template filled from its data, or, where the
# words depend on the data, a function of it.
_SAYS = {
    "order_placed": lambda d: f"ordered {_lines(d)}" + ("; weaving" if d.get("weaving") else ""),
    "order_woven": "woven: {plan_count} plans",
    "plan_chosen": "chose plan {rank}",
    "agreed": "agreed",
    "declined": lambda d: f"declined: {_reason(d)}",
    "contract_agreed": lambda d: f"everyone agreed; {len(d['stages'])} stages",
    "stage_asserted": lambda d: (
        f"{d['stage']} {d['status']}"
        + (" (out of order)" if d.get("out_of_order") else "")
        + (" 📷 photo" if d.get("picture") else "")
    ),
    "error_analysis": lambda d: f"root causes: {', '.join(d['root_causes']) or 'none'}",
    "replanned": "re-planned ({cause})",
    "rewoven": "woven again; {plan_count} plans",
    "quoted": "quoted {variable} = {value:.2f}",
    "completed": "completed",
    "order_state": lambda d: (
        f"now {d['to'].replace('_', ' ')}" + (f": {d['reason']}" if d.get("reason") else "")
    ),
    "contract_state": "contract {to}",
    "blocked": "blocked ({cause})",
    "reweave": lambda d: (
        f"looked for another way ({d['cause']})" + ("" if d.get("nodes") else ": nothing missing")
    ),
    "disruption_affects": "{resource} out of service, its part re-planned",
    "resource_restored": "{resource} back in service",
    "substitution_proposed": "substitute proposed: {by} for {item}",
    "order_cancelled": lambda d: f"cancelled the order: {_reason(d)}",
    "stage_handed": lambda d: f"handed {d['stage']} from {d['from'] or 'nobody'} to {d['to']}",
    "said": "said: {text}",
    "refused": "refused {command}: {reason}",
}


def timeline_text(events: list[EventRow]) -> list[str]:
    """H(D, t) for people: when, who, what, and the evidence they gave."""
    lines = []
    for event in events:
        says = _SAYS.get(event.kind, event.kind.replace("_", " "))
        what = says(event.data) if callable(says) else says.format_map(event.data)
        evidence = event.data.get("evidence")
        told = f" — {evidence}" if evidence else ""
        source = f" [{event.platform} {event.message_id}]" if event.message_id else ""
        lines.append(f"{event.at:%Y-%m-%d %H:%M} {event.actor_id or 'SCIS'}: {what}{told}{source}")
    return lines


def _lines(data: dict) -> str:
    return ", ".join(f"{quantity} × {item}" for item, quantity in data["lines"])


def _reason(data: dict) -> str:
    return data.get("reason") or "no reason given"


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
