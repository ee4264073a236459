"""A match accepted: the offers of whoever accepts join the network (an offer of an item as a
network offer, an offer of a process as that process at a facility its maker runs — one new
network version whose note names the match); when the requester accepts, the match and the
request close and a request for a known item becomes an order. Everyone in the match is told,
truthfully, whether that order's plans use the matched offers (core/service/matched.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

from sqlmodel import select

from core.intents.model import ITEM, OPEN, PROCESS, REQUEST
from core.network.model import Facility, Network, Offer, Participant
from core.service import records
from core.service.bus import Context
from core.service.commands import AcceptMatch, LoadNetwork, PlaceOrder
from core.service.intent_rows import offer_ids, place_of, to_intent
from core.service.matched import network_offer_id, plans_use_match
from core.service.notices import Next, View
from core.service.notices.acceptance import MatchAccepted
from core.service.orders import place_order
from core.service.participants import load_network
from core.service.results import Refused
from core.store.tables import IntentMatch, IntentRow, NetworkVersion


def match_checked(command: AcceptMatch, ctx: Context) -> tuple:
    """Every check of accepting a match that reads only: the match, its request and offers, or
    Refused. What a chat front end tries before it acknowledges an acceptance
    (Services.trial), since accepting may place an order, which takes a number."""
    match = ctx.session.get(IntentMatch, command.match_id)
    if match is None:
        raise Refused(f"there is no match {command.match_id}", next=(Next(View.MATCHES),))
    if match.status == "stale":
        raise Refused(f"match {match.id} no longer holds: one of its intents changed or closed")
    request = ctx.session.get(IntentRow, match.request_id)
    offers = [ctx.session.get(IntentRow, i) for i in dict.fromkeys(offer_ids(match))]
    offerers = {o.participant_id for o in offers}
    if command.actor != request.participant_id and command.actor not in offerers:
        raise Refused(f"match {match.id} is between others", next=(Next(View.MATCHES),))
    if command.actor in match.accepted_by:
        raise Refused(f"you have accepted match {match.id} already")
    return match, request, offers


def accept_match(command: AcceptMatch, ctx: Context) -> dict:
    match, request, offers = match_checked(command, ctx)
    mine = (
        offers
        if command.actor == request.participant_id
        else [o for o in offers if o.participant_id == command.actor]
    )
    grown = _commit_offers(ctx, [o for o in mine if o.status == OPEN], match)
    match.accepted_by = [*match.accepted_by, command.actor]
    commitment = dict(match.commitment)
    if grown is not None:
        commitment.setdefault("network_versions", []).append(grown)
    if command.actor == request.participant_id:
        match.status = "accepted"
        request.status = "accepted"
        ctx.session.add(request)
        if request.kind == REQUEST and request.resource_kind == ITEM and request.resource_known:
            commitment["order"] = _order_for(ctx, request, match, command)
    match.commitment = commitment
    ctx.session.add(match)
    ctx.record(
        "match_accepted",
        {"match": match.id, **commitment},
        commitment.get("order"),
        command.actor,
        command.origin,
    )
    _tell_accepted(ctx, match, request, offers, command.actor)
    return commitment


def _commit_offers(ctx: Context, offers: list[IntentRow], match: IntentMatch) -> int | None:
    """The offers join the network (one new version); returns it, or None when none joined."""
    if not offers:
        return None
    version = records.network_version(ctx.session)
    network = ctx.services.network_at(ctx.session, version)
    for offer in offers:
        network = _with_offer(ctx, network, offer)
        offer.status = "accepted"
        offer.provenance = {**offer.provenance, "match": match.id}
        ctx.session.add(offer)
    ids = ", ".join(str(o.id) for o in offers)
    load_network(LoadNetwork(None, network, note=f"offers {ids} accepted (match {match.id})"), ctx)
    ctx.forget_network()
    ctx.session.flush()
    return ctx.session.exec(
        select(NetworkVersion.version).order_by(NetworkVersion.version.desc())
    ).first()


def _with_offer(ctx: Context, network: Network, offer: IntentRow) -> Network:
    who = offer.participant_id
    if who not in network.participants:
        row = records.participant(ctx.session, who)
        network = network.with_records(
            participants=[Participant(who, row.name, tuple(row.roles), place_of(offer))]
        )
    intent = to_intent(offer)
    capacity = intent.quantity.per_day() if intent.quantity else None
    if offer.resource_kind == PROCESS:
        runs = [f for f in network.facilities.values() if f.operator == who]
        if runs:
            # A place that says it runs a process has stated what it can do.
            processes = runs[0].processes | {offer.resource_id}
            facility = replace(runs[0], processes=processes, processes_known=True)
        else:
            facility = Facility(
                f"{who}-workshop", who, frozenset({offer.resource_id}), location=place_of(offer)
            )
        return network.with_records(facilities=[facility])
    sold = Offer(network_offer_id(offer), who, offer.resource_id, capacity=capacity)
    return network.with_records(offers=[sold])


def _order_for(ctx: Context, request: IntentRow, match: IntentMatch, command) -> int:
    quantity = max(1, round(request.amount or 1))
    due = datetime.combine(request.ends, time()) if request.ends is not None else None
    placed = PlaceOrder(
        request.participant_id,
        ((request.resource_id, quantity),),
        due=due,
        origin=command.origin,
        per=request.per,
        provenance={"match": match.id, "request": request.id},
    )
    return place_order(placed, ctx)


def _tell_accepted(ctx, match: IntentMatch, request: IntentRow, offers, actor: str) -> None:
    name = records.participant(ctx.session, actor).name
    everyone = {request.participant_id, *(o.participant_id for o in offers)} - {actor}
    order = match.commitment.get("order")
    used = _used(ctx, order)
    for who in everyone:
        ctx.notify(who, _accepted(match, order, used, who, by=name))
    # The accepter's outcome, unless the order it made already answered them (its plans).
    ctx.notify(actor, _accepted(match, order, used, actor), outcome=not ctx.told_outcome(actor))


def _accepted(match, order: int | None, used: dict[str, str], who: str, by=None) -> MatchAccepted:
    """What the order does with the matched offers, truthfully, for an offerer (their own
    offers) or the requester (all of them)."""
    return MatchAccepted(
        match.id,
        by=by,
        order_id=order,
        uses=used.get(who, used.get("", "none")),
        yours=who in used,
    )


def _used(ctx: Context, order_id: int | None) -> dict[str, str]:
    """For an order born from the match: each offerer → whether its plans use their offers
    ("all", "some" or "none"; see core/service/matched.py)."""
    if not order_id:
        return {}
    order = records.order(ctx.session, order_id)
    verdicts = plans_use_match(ctx.session, ctx.network(), order)
    by_person: dict[str, list[str]] = {}
    for intent_id, verdict in verdicts.items():
        by_person.setdefault(ctx.session.get(IntentRow, intent_id).participant_id, []).append(
            verdict
        )
    return {who: _least(found) for who, found in by_person.items()} | {
        "": _least(list(verdicts.values()))
    }


def _least(verdicts: list[str]) -> str:
    for verdict in ("unplanned", "none", "some"):
        if verdict in verdicts:
            return verdict
    return "all" if verdicts else "none"
