"""An order's history in words, a page at a time: each event as a person says it ("12-05 14:30
Ana's Woodshop: s3 done — glued"), with names, the requests the order sent out for its parts
read as one line. Core gives the events (core.service.listings.order_events); /history shows
them (reads.history, views.history)."""

from __future__ import annotations

from dataclasses import dataclass

from core.network.model import Network
from core.plan_counts import from_exact_text, how_many
from core.service.disruptions import resource_name
from core.service.listings import OrderEvents
from core.service.results import Refused
from core.store.tables import EventRow

HISTORY_PER_PAGE = 10
# What a refused command was asking for, in a person's words.
_ASKED = {
    "AssertStage": "mark a stage",
    "ChoosePlan": "choose a plan",
    "QuotePrice": "set a price",
    "Agree": "agree",
    "Decline": "decline",
    "HandStage": "hand a stage over",
    "CancelOrder": "cancel the order",
    "DecideSubstitution": "decide on a substitute",
    "ProposeSubstitution": "propose a substitute",
    "Reweave": "re-plan the order",
    "Say": "talk to the parties",
    "ReadOrder": "read the order",
}


@dataclass(frozen=True)
class HistoryPage:
    order_id: int
    page: int  # 1: the newest events
    pages: int
    events: int  # how many lines there are in all
    lines: list[str]  # oldest first within the page


def history_page(told: OrderEvents, page: int = 1) -> HistoryPage:
    """One page of what happened, newest page first (its lines oldest first, so that they read
    as a story); Refused past the last page."""
    lines = history_lines(told)
    pages = max(1, -(-len(lines) // HISTORY_PER_PAGE))
    if not 0 < page <= pages:
        plural = "s" if pages > 1 else ""
        raise Refused(f"order {told.order_id} has {pages} page{plural} of history")
    end = len(lines) - (page - 1) * HISTORY_PER_PAGE
    shown = lines[max(0, end - HISTORY_PER_PAGE) : end]
    return HistoryPage(told.order_id, page, pages, len(lines), shown)


def history_lines(told: OrderEvents) -> list[str]:
    events, names = told.events, told.names
    lines: list[str] = []
    folded = 0
    for at, event in enumerate(events):
        if event.kind == "dependent_demand":
            folded += 1
            after = events[at + 1] if at + 1 < len(events) else None
            if after is not None and after.kind == "dependent_demand":
                continue
            what = "a part" if folded == 1 else f"{folded} parts"
            said = f"asked the network for {what} its makers need"
            folded = 0
        else:
            said = _said(told.network, names, event)
        who = names.get(event.actor_id, event.actor_id) if event.actor_id else "SCIS"
        lines.append(f"{event.at:%m-%d %H:%M} {who}: {said}")
    return lines


def _said(network: Network, names: dict[str, str], event: EventRow) -> str:
    data, kind = event.data, event.kind
    name = network.item_name
    if kind == "order_placed":
        return "ordered " + ", ".join(f"{q} × {name(i)}" for i, q in data.get("lines", []))
    if kind in ("order_woven", "rewoven"):
        count = from_exact_text(data.get("plan_count") or "0")
        again = " again" if kind == "rewoven" else ""
        return f"found{again} {how_many(count)} way{'s' if count != 1 else ''} to deliver it"
    if kind == "plan_chosen":
        return f"chose plan {data.get('rank')}"
    if kind == "agreed":
        return "agreed to their part"
    if kind == "declined":
        return f"declined their part: {data.get('reason') or 'no reason given'}"
    if kind == "contract_agreed":
        return f"everyone agreed; {len(data.get('stages', []))} stages to do"
    if kind == "stage_asserted":
        status = {"reset": "set back to pending"}.get(data.get("status"), data.get("status"))
        evidence = f" — {data['evidence']}" if data.get("evidence") else ""
        late = " (before the stages it waits for)" if data.get("out_of_order") else ""
        photo = " 📷 photo" if data.get("picture") else ""  # the evidence includes a photo
        return f"{data.get('stage')} {status}{late}{evidence}{photo}"
    if kind == "error_analysis":
        causes = ", ".join(data.get("root_causes", []))
        return f"traced the failure to {causes}" if causes else "found no cause to trace"
    if kind == "order_state":
        reason = f": {data['reason']}" if data.get("reason") else ""
        return f"the order is now {str(data.get('to', '')).replace('_', ' ')}{reason}"
    if kind == "contract_state":
        state = {"potential": "waiting for agreement"}.get(data.get("to"), data.get("to"))
        return f"the plan is now {state}"
    if kind == "quoted":
        value = float(data.get("value", 0))
        return f"set {_price_of(network, str(data.get('variable')))} to {value:,.2f}"
    if kind in ("replanned", "blocked", "reweave"):
        verb = {"replanned": "re-planned", "blocked": "blocked", "reweave": "looked again"}[kind]
        return f"{verb}: {data.get('cause', 'no cause given')}"
    if kind in ("disruption_affects", "resource_restored"):
        state = "is out of service" if kind == "disruption_affects" else "is back in service"
        return f"{resource_name(network, data.get('resource', ''))} {state}"
    if kind == "substitution_proposed":
        return f"proposed {name(data.get('by', ''))} instead of {name(data.get('item', ''))}"
    if kind == "order_cancelled":
        return f"cancelled the order: {data.get('reason') or 'no reason given'}"
    if kind == "stage_handed":
        old, new = data.get("from"), data.get("to")
        return f"handed {data.get('stage')} from {names.get(old, old or 'nobody')} to " + (
            names.get(new, new) or "someone"
        )
    if kind == "said":
        return f"said: {data.get('text', '')}"
    if kind == "completed":
        return "the order is complete"
    if kind == "refused":
        asked = _ASKED.get(data.get("command", ""), "do something")
        return f"asked to {asked}, but {data.get('reason', 'it was refused')}"
    return kind.replace("_", " ")


def _price_of(network: Network, variable: str) -> str:
    """A price variable as a person knows it: "p[pc-visors]" → "the price of Face-shield
    visor", "K[shield@mf-santurce]" → "the labour for Face shield"; else as it is."""
    kind, _, source = variable.rstrip("]").partition("[")
    if kind == "p" and source in network.offers:
        return f"the price of {network.item_name(network.offers[source].item)}"
    design = _design_of_labour(network, source)
    if kind == "K" and design is not None:
        return f"the labour for {network.item_name(design.makes)}"
    return f"the price {variable}"


def _design_of_labour(network: Network, source: str):
    """The design of a labour variable's `design@facility`: either id may hold "@" itself (a
    design's version), so every split is tried against the network."""
    for at, character in enumerate(source):
        if character == "@" and source[:at] in network.designs:
            if source[at + 1 :] in network.facilities:
                return network.designs[source[:at]]
    return None
