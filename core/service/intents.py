"""Intents in the service layer: cast, edited, withdrawn and expired; matched by a worker (the
matches told to everyone in them); the requests an order's plan opens for inputs no one has
committed to (dependent demand); and the reads of a person's intents and matches. Where each
came from is kept (the message, the order). Accepting a match is acceptance.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel import Session, select

from core.intents.grammar import IntentError, describe, parse_intent
from core.intents.matching import Match, Matcher
from core.intents.model import ITEM, OPEN, REQUEST, Intent
from core.network.model import Network
from core.service import lifecycle, records
from core.service.agreement import plan_of
from core.service.bus import Context, bounded
from core.service.commands import (
    CastIntent,
    EditIntent,
    ExpireIntents,
    MatchIntent,
    SyncDependentDemand,
    WithdrawIntent,
)
from core.service.intent_rows import offer_ids, stale_matches, summary, to_intent, write_intent
from core.service.notices import Next, View
from core.service.notices.intents import (
    Cover,
    IntentEdited,
    IntentExpired,
    IntentOut,
    IntentWithdrawn,
    MatchForOffer,
    MatchForRequest,
)
from core.service.results import Refused
from core.store.tables import Agreement, IntentMatch, IntentRow
from core.weave.sources import Bought


def _parse(ctx: Context, kind: str, actor: str, words: str) -> Intent:
    return parsed(ctx.network(), kind, actor, words, ctx.now.date())


class Unclear(Refused):
    """Words not read as an intent, where an example of one of their kind would help; the chat
    layer, which has the examples, adds one."""


def parsed(network: Network, kind: str, actor: str, words: str, today) -> Intent:
    """The intent the words say; where it is, when they do not say, is where the person is."""
    try:
        intent = parse_intent(kind, actor, words, network, today)
    except IntentError as problem:
        raise (Unclear(str(problem)) if problem.shows_how else Refused(str(problem))) from None
    return placed(intent, network)


def placed(intent: Intent, network: Network) -> Intent:
    """Where an intent is, when it does not say, is where its person is."""
    person = network.participants.get(intent.participant)
    if intent.place is None and intent.place_name is None and person and person.location:
        return replace(intent, place=person.location, place_name=person.location.place)
    return intent


def described(intent: Intent, network: Network) -> str:
    """The structured form without its leading "Offer: " (the caller names the intent)."""
    return describe(intent, network).split(": ", 1)[-1]


def _owned(ctx: Context, actor: str, intent_id: int) -> IntentRow:
    row = ctx.session.get(IntentRow, intent_id)
    if row is None:
        raise Refused(f"there is no intent {intent_id}", next=(Next(View.INTENTS),))
    if row.participant_id != actor:
        raise Refused(f"intent {intent_id} is not yours")
    return row


# -- cast, edit, withdraw, expire -----------------------------------------------------------


def cast_intent(command: CastIntent, ctx: Context) -> int:
    records.participant(ctx.session, command.actor)
    words = bounded(command.words, "what you offer or ask for", 500)
    intent = _parse(ctx, command.kind, command.actor, words)
    row = write_intent(IntentRow(words=words, created_at=ctx.now), intent)
    row.provenance = {"platform": command.origin.platform, "message": command.origin.message_id}
    ctx.session.add(row)
    ctx.session.flush()
    data = {"intent": row.id, "kind": row.kind, "words": words}
    told = IntentOut(row.kind, row.id, described(intent, ctx.network()))
    return _to_match(ctx, command, row, "intent_cast", data, told)


def edit_intent(command: EditIntent, ctx: Context) -> int:
    row = _owned(ctx, command.actor, command.intent_id)
    if row.status != OPEN:
        raise Refused(f"intent {row.id} is {row.status}; cast a new one instead")
    words = bounded(command.words, "what you offer or ask for", 500)
    intent = _parse(ctx, row.kind, command.actor, words)
    write_intent(row, intent).words = words
    ctx.session.add(row)
    stale_matches(ctx, row.id)
    data = {"intent": row.id, "words": words}
    told = IntentEdited(row.kind, row.id, describe(intent, ctx.network()))
    return _to_match(ctx, command, row, "intent_edited", data, told)


def _to_match(ctx: Context, command, row: IntentRow, event: str, data: dict, told) -> int:
    """An intent cast or changed: the history says it, its person is `told`, and a worker looks
    for its matches."""
    ctx.record(event, data, actor=command.actor, origin=command.origin)
    ctx.notify(command.actor, told, outcome=True)
    ctx.result.jobs.append(MatchIntent(row.id))
    return row.id


def withdraw_intent(command: WithdrawIntent, ctx: Context) -> int:
    row = _owned(ctx, command.actor, command.intent_id)
    if row.status != OPEN:
        raise Refused(f"intent {row.id} is {row.status} already")
    row.status = "withdrawn"
    ctx.session.add(row)
    stale_matches(ctx, row.id)
    ctx.record("intent_withdrawn", {"intent": row.id}, actor=command.actor, origin=command.origin)
    ctx.notify(command.actor, IntentWithdrawn(row.kind, row.id), outcome=True)
    return row.id


def expire_intents(command: ExpireIntents, ctx: Context) -> list[int]:
    today = ctx.now.date()
    rows = ctx.session.exec(
        select(IntentRow).where(IntentRow.status == OPEN, IntentRow.expires < today)
    ).all()
    for row in rows:
        row.status = "expired"
        ctx.session.add(row)
        stale_matches(ctx, row.id)
        ctx.record("intent_expired", {"intent": row.id}, actor=row.participant_id)
        ctx.notify(row.participant_id, IntentExpired(row.kind, row.id, row.words))
    return [row.id for row in rows]


# -- matching -------------------------------------------------------------------------------


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
            {"match": stored.id, "request": match.request, "offers": offer_ids(stored)},
        )
        _tell_match(ctx, stored, rows)
        found.append(stored.id)
    return found


def _signature(match: Match) -> str:
    return ";".join(sorted(f"{c.offer}:{c.need}" for c in match.offers))[:500]


def _tell_match(ctx: Context, match: IntentMatch, rows: dict) -> None:
    request = rows[match.request_id]
    asked = summary(request)
    who = records.participant(ctx.session, request.participant_id).name
    covers = tuple(
        Cover(
            records.participant(ctx.session, rows[offer_id].participant_id).name,
            summary(rows[offer_id]),
            need,
            share,
        )
        for offer_id, need, share in match.covers
    )
    found = MatchForRequest(match.id, request.kind, request.id, asked, covers, match.covered)
    ctx.notify(request.participant_id, found)
    for offer_id in {int(c[0]) for c in match.covers}:
        offer = rows[offer_id]
        helps = MatchForOffer(
            match.id, offer.id, summary(offer), who, request.kind, request.id, asked
        )
        ctx.notify(offer.participant_id, helps)


# -- dependent demand -------------------------------------------------------------------------


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
            stale_matches(ctx, row.id)
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
        ctx.result.jobs.append(MatchIntent(row.id))
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
        count = sum(m.request_id == row.id or row.id in offer_ids(m) for m in open_matches)
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
        offers = offer_ids(match)
        if match.request_id in mine:
            side = "request"
        elif any(o in mine for o in offers):
            side = "offer"
        else:
            continue
        request = session.get(IntentRow, match.request_id)
        text = f"{summary(request)} ← " + ", ".join(
            f"{summary(session.get(IntentRow, o))} ({share:.0%})"
            for o, _need, share in match.covers
        )
        found.append(MatchLine(match.id, match.request_id, side, match.covered, match.status, text))
    return found
