"""Intents in the service layer: cast, edited, withdrawn and expired; matched by a worker; and
accepted into commitments — an order for a request, a capability or an offer in the network for
an offer — with where each came from kept (the match, the intents, the message).

The network grows from conversation here: an accepted offer of a process becomes that process at
a facility its maker runs (a new one when they run none), an accepted offer of an item becomes a
network offer, and either is a new network version whose note names the match.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time

from sqlmodel import Session, select

from core.intents.grammar import IntentError, describe, parse_intent
from core.intents.matching import Match, Matcher
from core.intents.model import ITEM, OFFER, OPEN, PROCESS, REQUEST, Intent, Quantity, Resource
from core.network.model import Facility, Location, Network, Offer, Participant
from core.service import lifecycle, records
from core.service.bus import Context, bounded, handles
from core.service.commands import (
    AcceptMatch,
    CastIntent,
    EditIntent,
    ExpireIntents,
    LoadNetwork,
    MatchIntent,
    PlaceOrder,
    SyncDependentDemand,
    WithdrawIntent,
)
from core.service.matched import network_offer_id, plans_use_match
from core.service.orders import place_order, plan_of
from core.service.participants import load_network
from core.service.results import Refused, buttons
from core.store.tables import Agreement, IntentMatch, IntentRow, NetworkVersion
from core.weave.sources import Bought

NAMES = {OFFER: "Offer", REQUEST: "Request", "proposal": "Proposal"}


# -- rows and records ------------------------------------------------------------------------


def to_intent(row: IntentRow) -> Intent:
    place = (
        Location(row.place_lat, row.place_lon, row.place_name)
        if row.place_lat is not None and row.place_lon is not None
        else None
    )
    quantity = Quantity(row.amount, row.unit or "each", row.per) if row.amount else None
    return Intent(
        kind=row.kind,
        participant=row.participant_id,
        resource=Resource(row.resource_kind, row.resource_id, row.resource_known),
        quantity=quantity,
        starts=row.starts,
        ends=row.ends,
        place=place,
        place_name=row.place_name,
        note=row.note,
        expires=row.expires,
        id=row.id,
        status=row.status,
    )


def write_intent(row: IntentRow, intent: Intent) -> IntentRow:
    row.kind, row.participant_id = intent.kind, intent.participant
    row.resource_kind, row.resource_id = intent.resource.kind, intent.resource.id
    row.resource_known = intent.resource.known
    quantity = intent.quantity
    row.amount = quantity.amount if quantity else None
    row.unit = quantity.unit if quantity else None
    row.per = quantity.per if quantity else None
    row.starts, row.ends, row.expires = intent.starts, intent.ends, intent.expires
    row.place_lat = intent.place.lat if intent.place else None
    row.place_lon = intent.place.lon if intent.place else None
    row.place_name = intent.place_name
    row.note = intent.note
    return row


def _parse(ctx: Context, kind: str, actor: str, words: str) -> Intent:
    return parsed(ctx.network(), kind, actor, words, ctx.now.date())


def parsed(network: Network, kind: str, actor: str, words: str, today) -> Intent:
    """The intent the words say; where it is, when they do not say, is where the person is."""
    try:
        intent = parse_intent(kind, actor, words, network, today)
    except IntentError as problem:
        raise Refused(str(problem)) from None
    person = network.participants.get(actor)
    if intent.place is None and intent.place_name is None and person and person.location:
        intent = replace(intent, place=person.location, place_name=person.location.place)
    return intent


def described(intent: Intent, network: Network) -> str:
    """The structured form without its leading "Offer: " (the caller names the intent)."""
    return describe(intent, network).split(": ", 1)[-1]


def _owned(ctx: Context, actor: str, intent_id: int) -> IntentRow:
    row = ctx.session.get(IntentRow, intent_id)
    if row is None:
        raise Refused(f"there is no intent {intent_id}; /intents lists yours")
    if row.participant_id != actor:
        raise Refused(f"intent {intent_id} is not yours")
    return row


def _stale_matches(ctx: Context, intent_id: int) -> None:
    """Matches that counted on this intent no longer hold."""
    for match in ctx.session.exec(select(IntentMatch).where(IntentMatch.status == OPEN)):
        if match.request_id == intent_id or intent_id in _offer_ids(match):
            match.status = "stale"
            ctx.session.add(match)


def _offer_ids(match: IntentMatch) -> list[int]:
    return [int(cover[0]) for cover in match.covers]


# -- cast, edit, withdraw, expire -----------------------------------------------------------


@handles(CastIntent)
def cast_intent(command: CastIntent, ctx: Context) -> int:
    records.participant(ctx.session, command.actor)
    words = bounded(command.words, "what you offer or ask for", 500)
    intent = _parse(ctx, command.kind, command.actor, words)
    row = write_intent(IntentRow(words=words, created_at=ctx.now), intent)
    row.provenance = {"platform": command.origin.platform, "message": command.origin.message_id}
    ctx.session.add(row)
    ctx.session.flush()
    ctx.record(
        "intent_cast",
        {"intent": row.id, "kind": row.kind, "words": words},
        actor=command.actor,
        origin=command.origin,
    )
    ctx.outcome(
        command.actor,
        f"{NAMES[row.kind]} {row.id} is out: {described(intent, ctx.network())}. I'll tell you "
        f"when it finds a match; /withdraw {row.id} takes it back.",
        kind="intent",
    )
    ctx.result.jobs.append(("match_intent", (row.id,)))
    return row.id


@handles(EditIntent)
def edit_intent(command: EditIntent, ctx: Context) -> int:
    row = _owned(ctx, command.actor, command.intent_id)
    if row.status != OPEN:
        raise Refused(f"intent {row.id} is {row.status}; cast a new one instead")
    words = bounded(command.words, "what you offer or ask for", 500)
    intent = _parse(ctx, row.kind, command.actor, words)
    write_intent(row, intent).words = words
    ctx.session.add(row)
    _stale_matches(ctx, row.id)
    ctx.record(
        "intent_edited",
        {"intent": row.id, "words": words},
        actor=command.actor,
        origin=command.origin,
    )
    ctx.outcome(
        command.actor,
        f"{NAMES[row.kind]} {row.id} now reads: {describe(intent, ctx.network())}.",
        kind="intent",
    )
    ctx.result.jobs.append(("match_intent", (row.id,)))
    return row.id


@handles(WithdrawIntent)
def withdraw_intent(command: WithdrawIntent, ctx: Context) -> int:
    row = _owned(ctx, command.actor, command.intent_id)
    if row.status != OPEN:
        raise Refused(f"intent {row.id} is {row.status} already")
    row.status = "withdrawn"
    ctx.session.add(row)
    _stale_matches(ctx, row.id)
    ctx.record("intent_withdrawn", {"intent": row.id}, actor=command.actor, origin=command.origin)
    ctx.outcome(command.actor, f"{NAMES[row.kind]} {row.id} is withdrawn.", kind="intent")
    return row.id


@handles(ExpireIntents)
def expire_intents(command: ExpireIntents, ctx: Context) -> list[int]:
    today = ctx.now.date()
    rows = ctx.session.exec(
        select(IntentRow).where(IntentRow.status == OPEN, IntentRow.expires < today)
    ).all()
    for row in rows:
        row.status = "expired"
        ctx.session.add(row)
        _stale_matches(ctx, row.id)
        ctx.record("intent_expired", {"intent": row.id}, actor=row.participant_id)
        ctx.tell(
            row.participant_id,
            "intent",
            f"{NAMES[row.kind]} {row.id} ({row.words}) has expired. Cast it again if it "
            "still holds.",
        )
    return [row.id for row in rows]


# -- matching -------------------------------------------------------------------------------


@handles(MatchIntent)
def match_intent(command: MatchIntent, ctx: Context) -> list[int]:
    """Store and tell the new matches of an open intent; returns their ids."""
    row = ctx.session.get(IntentRow, command.intent_id)
    if row is None or row.status != OPEN:
        return []
    network = ctx.network()
    pool = ctx.session.exec(select(IntentRow).where(IntentRow.status == OPEN)).all()
    rows = {r.id: r for r in pool}
    today = ctx.now.date()
    matcher = Matcher(network, [to_intent(r) for r in pool])
    intent = to_intent(row)
    if intent.provides:
        # The offerer's view names the requests it helps; each is matched whole, so that this
        # offer is gathered with the others that cover the same request.
        requests = {m.request for m in matcher.matches_for(intent, today)}
        candidates = [
            m
            for request in sorted(requests)
            for m in matcher.matches_for(matcher.intent(request), today)
            if row.id in m.offer_ids()
        ]
    else:
        candidates = matcher.matches_for(intent, today)
    found = []
    for match in candidates:
        asker = rows[match.request].participant_id
        if any(rows[c.offer].participant_id == asker for c in match.offers):
            continue  # nobody is matched with themselves
        signature = _signature(match)
        known = ctx.session.exec(
            select(IntentMatch).where(
                IntentMatch.request_id == match.request, IntentMatch.signature == signature
            )
        ).first()
        if known is not None:
            continue
        stored = IntentMatch(
            request_id=match.request,
            signature=signature,
            covers=[[c.offer, c.need, c.share] for c in match.offers],
            covered=match.covered,
            distance_km=match.distance_km,
            score=match.score,
            created_at=ctx.now,
        )
        ctx.session.add(stored)
        ctx.session.flush()
        ctx.record(
            "intents_matched",
            {"match": stored.id, "request": match.request, "offers": _offer_ids(stored)},
        )
        _tell_match(ctx, stored, rows)
        found.append(stored.id)
    return found


def _signature(match: Match) -> str:
    return ";".join(sorted(f"{c.offer}:{c.need}" for c in match.offers))[:500]


def _tell_match(ctx: Context, match: IntentMatch, rows: dict) -> None:
    request = rows[match.request_id]
    asked = _summary(request)
    who = records.participant(ctx.session, request.participant_id).name
    pieces = []
    for offer_id, need, share in match.covers:
        offer = rows[offer_id]
        maker = records.participant(ctx.session, offer.participant_id).name
        pieces.append(f"{maker} ({_summary(offer)}, for {need}, {share:.0%})")
    accept = buttons((f"Accept {match.id}", f"/accept {match.id}"))
    ctx.tell(
        request.participant_id,
        "match",
        f"Match {match.id} for your {request.kind} {request.id} ({asked}): "
        + "; ".join(pieces)
        + f" — {match.covered:.0%} covered. /accept {match.id} takes it up.",
        payload={"match": match.id, "buttons": accept},
    )
    for offer_id in {int(c[0]) for c in match.covers}:
        offer = rows[offer_id]
        ctx.tell(
            offer.participant_id,
            "match",
            f"Match {match.id}: your offer {offer.id} ({_summary(offer)}) can help {who} with "
            f"{request.kind} {request.id} ({asked}). /accept {match.id} commits it.",
            payload={"match": match.id, "buttons": accept},
        )


def _summary(row: IntentRow) -> str:
    intent = to_intent(row)
    amount = f"{intent.quantity} " if intent.quantity else ""
    return f"{amount}{row.resource_id}".strip()


# -- accepting --------------------------------------------------------------------------------


@handles(AcceptMatch)
def accept_match(command: AcceptMatch, ctx: Context) -> dict:
    match = ctx.session.get(IntentMatch, command.match_id)
    if match is None:
        raise Refused(f"there is no match {command.match_id}; /matches lists yours")
    if match.status == "stale":
        raise Refused(f"match {match.id} no longer holds: one of its intents changed or closed")
    request = ctx.session.get(IntentRow, match.request_id)
    offers = [ctx.session.get(IntentRow, i) for i in dict.fromkeys(_offer_ids(match))]
    offerers = {o.participant_id for o in offers}
    if command.actor != request.participant_id and command.actor not in offerers:
        raise Refused(f"match {match.id} is between others; /matches lists yours")
    if command.actor in match.accepted_by:
        raise Refused(f"you have accepted match {match.id} already")
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
            participants=[Participant(who, row.name, tuple(row.roles), _place(offer))]
        )
    intent = to_intent(offer)
    capacity = intent.quantity.per_day() if intent.quantity else None
    if offer.resource_kind == PROCESS:
        runs = [f for f in network.facilities.values() if f.operator == who]
        if runs:
            facility = replace(runs[0], processes=runs[0].processes | {offer.resource_id})
        else:
            facility = Facility(
                f"{who}-workshop", who, frozenset({offer.resource_id}), location=_place(offer)
            )
        return network.with_records(facilities=[facility])
    sold = Offer(network_offer_id(offer), who, offer.resource_id, capacity=capacity)
    return network.with_records(offers=[sold])


def _place(offer: IntentRow) -> Location | None:
    if offer.place_lat is None or offer.place_lon is None:
        return None
    return Location(offer.place_lat, offer.place_lon, offer.place_name)


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
        ctx.tell(who, "match", f"{name} accepted match {match.id}.{_then(order, used, who)}")
    ctx.tell(
        actor,
        "match",
        f"Match {match.id} accepted.{_then(order, used, actor)}"
        if order
        else f"Match {match.id} accepted: your part is in the network now.",
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


def _then(order: int | None, used: dict[str, str], who: str) -> str:
    """What the order does with the matched offers, truthfully, for an offerer (their own
    offers) or the requester (all of them)."""
    if not order:
        return ""
    verdict = used.get(who, used.get("", "none"))
    yours = "it" if who in used else "the matched offers"
    if verdict == "all":
        return f" Order {order} is being planned with {yours}."
    if verdict == "unplanned":
        return f" Order {order} has no plan yet with the network as it is; a coordinator knows."
    if verdict == "some":
        return f" Order {order} has plans with {yours} and plans without; the buyer chooses."
    return (
        f" Order {order} could not be planned with {yours} as the network stands, so its "
        "plans use other sources for now."
    )


# -- dependent demand -------------------------------------------------------------------------


@handles(SyncDependentDemand)
def sync_dependent_demand(command: SyncDependentDemand, ctx: Context) -> list[int]:
    """Open a request for each input of the order's plan that no one has committed to; close
    those that are now committed (their supplier agreed) or no longer needed. Returns the ids
    of the requests it opened."""
    order = records.order(ctx.session, command.order_id)
    wanted = _uncommitted_inputs(ctx, order)
    existing = [
        row
        for row in ctx.session.exec(select(IntentRow).where(IntentRow.status == OPEN))
        if row.provenance.get("dependent_demand_of") == order.id
    ]
    for row in existing:
        if wanted.pop(row.provenance.get("node"), None) is None:
            row.status = "accepted"  # committed to, or no longer part of the plan
            ctx.session.add(row)
            _stale_matches(ctx, row.id)
    opened = []
    for path, (receiver, item, quantity, supplier) in wanted.items():
        row = IntentRow(
            kind=REQUEST,
            participant_id=receiver,
            resource_kind=ITEM,
            resource_id=item,
            amount=float(quantity),
            unit="each",
            ends=order.due.date() if order.due else None,
            expires=order.due.date() if order.due else None,
            words=f"{item} {quantity}",
            provenance={"dependent_demand_of": order.id, "node": path, "supplier": supplier},
            created_at=ctx.now,
        )
        ctx.session.add(row)
        ctx.session.flush()
        ctx.record("dependent_demand", {"intent": row.id, "node": path}, order.id, receiver)
        ctx.result.jobs.append(("match_intent", (row.id,)))
        opened.append(row.id)
    return opened


def _uncommitted_inputs(ctx: Context, order) -> dict[str, tuple[str, str, int, str | None]]:
    """node path → (who receives it, item, quantity, its supplier) for each bought input of the
    live plan whose supplier has not agreed."""
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None or order.status in ("completed", "cancelled"):
        return {}
    agreed = {
        a.participant_id
        for a in ctx.session.exec(select(Agreement).where(Agreement.contract_id == contract.id))
        if a.decision == "agreed"
    }
    nodes = dict(plan_of(ctx, contract).positioned())
    wanted = {}
    for path, node in nodes.items():
        if not isinstance(node.source, Bought) or node.source.offer.supplier in agreed:
            continue
        parent = nodes.get(path.rsplit(".", 1)[0]) if "." in path else None
        receiver = parent.source.facility.operator if parent is not None else order.buyer_id
        wanted[path] = (
            receiver or order.buyer_id,
            node.item,
            node.quantity,
            node.source.offer.supplier,
        )
    return wanted


# -- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentLine:
    id: int
    kind: str
    status: str
    text: str  # the structured form
    matches: int  # open matches it is in


@dataclass(frozen=True)
class MatchLine:
    id: int
    request: int
    mine: str  # "request" or "offer": the reader's side
    covered: float
    status: str
    text: str


def preview(services, session: Session, kind: str, actor: str, words: str) -> str:
    """The intent as it would be cast, in structured form; Refused when it is not understood."""
    network = services.current_network(session)
    return describe(parsed(network, kind, actor, words, services.clock().date()), network)


def intents_of(services, session: Session, participant: str) -> list[IntentLine]:
    network = services.current_network(session)
    rows = session.exec(
        select(IntentRow).where(IntentRow.participant_id == participant).order_by(IntentRow.id)
    ).all()
    open_matches = session.exec(select(IntentMatch).where(IntentMatch.status == OPEN)).all()
    lines = []
    for row in rows:
        count = sum(m.request_id == row.id or row.id in _offer_ids(m) for m in open_matches)
        lines.append(
            IntentLine(row.id, row.kind, row.status, describe(to_intent(row), network), count)
        )
    return lines


def matches_of(session: Session, participant: str) -> list[MatchLine]:
    mine = {
        r.id: r
        for r in session.exec(select(IntentRow).where(IntentRow.participant_id == participant))
    }
    found = []
    for match in session.exec(select(IntentMatch).order_by(IntentMatch.id)):
        offers = _offer_ids(match)
        if match.request_id in mine:
            side = "request"
        elif any(o in mine for o in offers):
            side = "offer"
        else:
            continue
        request = session.get(IntentRow, match.request_id)
        text = f"{_summary(request)} ← " + ", ".join(
            f"{_summary(session.get(IntentRow, o))} ({share:.0%})"
            for o, _need, share in match.covers
        )
        found.append(MatchLine(match.id, match.request_id, side, match.covered, match.status, text))
    return found
