"""The reads: commands answered from the queries, each a function of a `Turn` (the application,
who asks, the values typed) that returns the reply. A read writes nothing — not the database,
not the account's pending step; whether the person may read an order was checked before
(access.py). /help, the read about the declarations themselves, lives with them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from bots.conversation import views
from bots.conversation.messages import Reply
from bots.conversation.turn import Turn
from core.network.model import Network
from core.service import lifecycle, records
from core.service.bus import Services
from core.service.intents import intents_of, matches_of
from core.service.lifecycle import OrderStatus
from core.service.listings import catalog as catalog_of
from core.service.listings import duties, order_list, plan_page, stage_list
from core.service.queries import assess, history_at, stage_picture, timeline, timeline_text
from core.service.results import Refused
from core.service.risk import order_risk, risk_picture

log = logging.getLogger(__name__)


def start(turn: Turn) -> Reply:
    return views.start(turn.person.name if turn.person else None)


def catalog(turn: Turn) -> Reply:
    words = turn.values.get("words", "")
    entries = turn.services.read(lambda session: catalog_of(turn.services, session, words))
    return views.catalog(entries, words)


def plans(turn: Turn) -> Reply:
    order_id, page = turn.values["order_id"], turn.values.get("page", 1)
    try:
        shown = turn.services.read(lambda session: plan_page(session, order_id, page))
    except Refused as refusal:
        return views.reply(f"{refusal}. Usage: /plans ORDER [PAGE]")
    return views.plans(shown, turn.person.id)


def stages(turn: Turn) -> Reply:
    services, order_id = turn.services, turn.values["order_id"]
    listing = _of_order(turn, stage_list)
    if isinstance(listing, Reply):
        return listing
    picture = _picture(
        "stage", order_id, lambda: services.read(lambda s: stage_picture(s, services, order_id))
    )
    try:
        unserved, blocked = services.read(lambda session: _unserved(services, session, order_id))
    except Exception:  # the list still helps without what the network lacks
        log.exception("no assessment of order %s", order_id)
        unserved, blocked = [], False
    return views.stages(listing, picture, unserved, blocked)


def _unserved(services: Services, session: Session, order_id: int) -> tuple[list[str], bool]:
    """The live plan's sources the network can no longer serve (assess, F_A), named; and
    whether the order is blocked for want of them."""
    gaps = assess(services, session, order_id)
    contract = lifecycle.live_contract(session, order_id) if gaps else None
    if contract is None:
        return [], False
    plan = session.get(records.PlanRow, contract.plan_id)
    network = services.network_at(session, plan.network_version)  # it names what is gone now
    named = [_source(network, _node(plan.tree, path)) for path in gaps]
    return named, bool(named) and records.order(session, order_id).status == OrderStatus.BLOCKED


def _node(tree: list[dict], path: str) -> dict:
    first, *rest = (int(part) for part in path.split("."))
    node = tree[first]
    for position in rest:
        node = node["inputs"][position]
    return node


def _source(network: Network, node: dict) -> str:
    item, source = network.item_name(node["item"]), node["source"]
    if source["kind"] == "offer":
        supplier = network.participant_name(source.get("supplier"))
        return f"{item} from {supplier} ({source['offer']})"
    if source["kind"] == "design":
        facility = network.facilities.get(source["facility"])
        named = facility.name if facility is not None and facility.name else None
        return f"{item} made at " + (f"{named} ({facility.id})" if named else source["facility"])
    return item  # held by a party of the order: no network record to lose


def risk(turn: Turn) -> Reply:
    found = _of_order(turn, order_risk)
    if isinstance(found, Reply):
        return found
    return views.risk(found, _picture("risk", found.order_id, lambda: risk_picture(found)))


def _of_order(turn: Turn, query: Callable[[Services, Session, int], Any]) -> Any:
    """What `query` finds about the turn's order, or its refusal, said."""
    services, order_id = turn.services, turn.values["order_id"]
    try:
        return services.read(lambda session: query(services, session, order_id))
    except Refused as refusal:
        return views.reply(_sentence(refusal) + ".")


def _picture(what: str, order_id: int, draw: Callable[[], bytes]) -> bytes | None:
    """The words still help without their picture: a picture that fails is logged, not said."""
    try:
        return draw()
    except Exception:
        log.exception("no %s picture for order %s", what, order_id)
        return None


def intents(turn: Turn) -> Reply:
    services, person = turn.services, turn.person
    return views.intents(services.read(lambda session: intents_of(services, session, person.id)))


def matches(turn: Turn) -> Reply:
    person = turn.person
    return views.matches(turn.services.read(lambda session: matches_of(session, person.id)))


def history(turn: Turn) -> Reply:
    """Every event of the order; with AT, the order as it was then and its events until then."""
    order_id, moment = turn.values["order_id"], turn.values.get("at")
    if moment is None:
        lines = turn.services.read(lambda session: timeline_text(timeline(session, order_id)))
        return views.history(order_id, lines)

    def then(session: Session):
        events = [event for event in timeline(session, order_id) if event.at <= moment.at]
        return history_at(session, order_id, moment.at), timeline_text(events)

    state, lines = turn.services.read(then)
    return views.history_at(order_id, moment.shown, state, lines)


def tasks(turn: Turn) -> Reply:
    services, person = turn.services, turn.person
    return views.tasks(services.read(lambda session: duties(services, session, person.id)))


def orders(turn: Turn) -> Reply:
    services, person, state = turn.services, turn.person, turn.values.get("state")
    try:
        listing = services.read(lambda session: order_list(services, session, person.id, state))
    except Refused as refusal:
        return views.reply(f"{_sentence(refusal)}. Usage: /orders [STATE]")
    return views.orders(listing)


def _sentence(refusal: Refused) -> str:
    said = str(refusal)
    return f"{said[0].upper()}{said[1:]}"
