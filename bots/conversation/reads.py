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
from bots.conversation.history import history_lines, history_page
from bots.conversation.messages import Reply
from bots.conversation.next_steps import refusal_text
from bots.conversation.turn import Turn
from core.network.model import Network
from core.service import lifecycle, records
from core.service.bus import Services
from core.service.intents import intents_of, matches_of
from core.service.lifecycle import OrderStatus
from core.service.listings import catalog as catalog_of
from core.service.listings import (
    duties,
    order_events,
    order_list,
    stage_list,
)
from core.service.negotiation import order_frame
from core.service.plan_pages import plan_page
from core.service.queries import assess, history_at, stage_picture
from core.service.results import Refused
from core.service.risk import order_risk, risk_picture

log = logging.getLogger(__name__)


def start(turn: Turn) -> Reply:
    return views.start(turn.person.name if turn.person else None)


def catalog(turn: Turn) -> Reply:
    """`/catalog [WORDS] [PAGE]`: a number at the end is a page, not a word to look for."""
    words, page = _page(turn.values.get("words", ""))
    entries = turn.services.read(lambda session: catalog_of(turn.services, session, words))
    return views.catalog(entries, words, page)


def order_example(services: Services) -> str:
    """What /order's question offers as an example: the first thing the catalog lists (a
    finished good of the network loaded), by a name a person would type."""
    entries = services.read(lambda session: catalog_of(services, session))
    if not entries:
        return ""
    item = entries[0].item
    name = item.name if len(item.name) <= 24 else item.id
    return f"{name.lower()} 10"


def _page(text: str) -> tuple[str, int]:
    """The words, and the page a last small number asks for (1 without one)."""
    *words, last = text.split() or [""]
    if last.isascii() and last.isdecimal() and 0 < int(last) < 10_000:
        return " ".join(words), int(last)
    return text, 1


def plans(turn: Turn) -> Reply:
    order_id, page = turn.values["order_id"], turn.values.get("page", 1)
    try:
        shown = turn.services.read(
            lambda session: plan_page(turn.services, session, order_id, page)
        )
    except Refused as refusal:
        return views.reply(f"{_sentence(refusal)}. Usage: /plans ORDER [PAGE]")
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


def terms(turn: Turn) -> Reply:
    """The reader's whole frame of the plan under way, as the negotiation notices word it."""
    services, reader = turn.services, turn.person.id
    found = _of_order(
        turn, lambda services, session, order_id: order_frame(services, session, order_id, reader)
    )
    if isinstance(found, Reply):
        return found
    return views.rendered(services.render(found))


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
    """A page of the order's events, newest page first; with AT, the order as it was then and
    its events until then."""
    services, order_id, moment = turn.services, turn.values["order_id"], turn.values.get("at")
    if moment is None or isinstance(moment, int):
        page = moment or 1
        try:
            told = services.read(lambda session: order_events(services, session, order_id))
            shown = history_page(told, page)
        except Refused as refusal:
            return views.reply(f"{_sentence(refusal)}. /history {order_id} shows the newest.")
        return views.history(shown)

    def then(session: Session):
        told = order_events(services, session, order_id, until=moment.at)
        return history_at(session, order_id, moment.at), told

    state, told = turn.services.read(then)
    lines = history_lines(told)
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
    """The refusal and what to do instead, as a sentence."""
    # Here, not at the top: the hint reads the declarations, which name these reads.

    said = refusal_text(refusal)
    return f"{said[0].upper()}{said[1:]}"
