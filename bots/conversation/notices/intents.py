"""Offers, requests, proposals and their matches in words."""

from __future__ import annotations

from bots.conversation.next_steps import buttons, command_text
from core.service.commands import AcceptMatch, WithdrawIntent
from core.service.notices import Next, Rendered
from core.service.notices.intents import (
    IntentEdited,
    IntentExpired,
    IntentOut,
    IntentWithdrawn,
    MatchForOffer,
    MatchForRequest,
)

NAMES = {"offer": "Offer", "request": "Request", "proposal": "Proposal"}


def _named(kind: str, intent_id: int) -> str:
    return f"{NAMES.get(kind, kind.capitalize())} {intent_id}"


def intent_out(notice: IntentOut) -> Rendered:
    where = f", imported from {notice.source}" if notice.source else ""
    withdraw = command_text(Next(WithdrawIntent, (notice.intent_id,)))
    text = (
        f"{_named(notice.intent_kind, notice.intent_id)} is out{where}: {notice.description}. "
        f"I'll tell you when it finds a match; {withdraw} takes it back."
    )
    return Rendered(text, notice.kind)


def intent_edited(notice: IntentEdited) -> Rendered:
    text = f"{_named(notice.intent_kind, notice.intent_id)} now reads: {notice.description}."
    return Rendered(text, notice.kind)


def intent_withdrawn(notice: IntentWithdrawn) -> Rendered:
    return Rendered(f"{_named(notice.intent_kind, notice.intent_id)} is withdrawn.", notice.kind)


def intent_expired(notice: IntentExpired) -> Rendered:
    text = (
        f"{_named(notice.intent_kind, notice.intent_id)} ({notice.words}) has expired. Cast it "
        "again if it still holds."
    )
    return Rendered(text, notice.kind)


def _accept(match_id: int) -> tuple[str, list[list[str]]]:
    step = Next(AcceptMatch, (match_id,))
    return command_text(step), buttons((f"Accept {match_id}", step))


def match_for_request(notice: MatchForRequest) -> Rendered:
    typed, pressed = _accept(notice.match_id)
    pieces = "; ".join(
        f"{c.maker} ({c.offered}, for {c.need}, {c.share:.0%})" for c in notice.covers
    )
    text = (
        f"Match {notice.match_id} for your {notice.request_kind} {notice.request_id} "
        f"({notice.asked}): {pieces} — {notice.covered:.0%} covered. {typed} takes it up."
    )
    return Rendered(text, notice.kind, {"match": notice.match_id, "buttons": pressed})


def match_for_offer(notice: MatchForOffer) -> Rendered:
    typed, pressed = _accept(notice.match_id)
    text = (
        f"Match {notice.match_id}: your offer {notice.offer_id} ({notice.offered}) can help "
        f"{notice.asker} with {notice.request_kind} {notice.request_id} ({notice.asked}). "
        f"{typed} commits it."
    )
    return Rendered(text, notice.kind, {"match": notice.match_id, "buttons": pressed})


RENDERERS = {
    IntentOut: intent_out,
    IntentEdited: intent_edited,
    IntentWithdrawn: intent_withdrawn,
    IntentExpired: intent_expired,
    MatchForRequest: match_for_request,
    MatchForOffer: match_for_offer,
}
