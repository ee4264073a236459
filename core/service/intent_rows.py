"""Intents as the store keeps them: a row and the domain's Intent, both ways; a stored match's
offers; the open matches an intent is in, gone stale when it changes; and a short summary."""

from __future__ import annotations

from sqlmodel import select

from core.intents.model import OPEN, Intent, Quantity, Resource
from core.network.model import Location
from core.service.bus import Context
from core.store.tables import IntentMatch, IntentRow


def to_intent(row: IntentRow) -> Intent:
    """The intent a row holds."""
    quantity = Quantity(row.amount, row.unit or "each", row.per) if row.amount else None
    return Intent(
        kind=row.kind,
        participant=row.participant_id,
        resource=Resource(row.resource_kind, row.resource_id, row.resource_known),
        quantity=quantity,
        starts=row.starts,
        ends=row.ends,
        place=place_of(row),
        place_name=row.place_name,
        note=row.note,
        expires=row.expires,
        id=row.id,
        status=row.status,
    )


def write_intent(row: IntentRow, intent: Intent) -> IntentRow:
    """Put an intent into its row (new or existing)."""
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


def place_of(row: IntentRow) -> Location | None:
    """Where the intent is on the map; None when it has no coordinates."""
    if row.place_lat is None or row.place_lon is None:
        return None
    return Location(row.place_lat, row.place_lon, row.place_name)


def offer_ids(match: IntentMatch) -> list[int]:
    """The offers of a stored match, in its order (an offer filling two needs comes twice)."""
    return [int(cover[0]) for cover in match.covers]


def stale_matches(ctx: Context, intent_id: int) -> None:
    """Matches that counted on this intent no longer hold."""
    for match in ctx.session.exec(select(IntentMatch).where(IntentMatch.status == OPEN)):
        if match.request_id == intent_id or intent_id in offer_ids(match):
            match.status = "stale"
            ctx.session.add(match)


def summary(row: IntentRow) -> str:
    """How much of what, in a few words ("200 each face-shield")."""
    intent = to_intent(row)
    amount = f"{intent.quantity} " if intent.quantity else ""
    return f"{amount}{row.resource_id}".strip()
