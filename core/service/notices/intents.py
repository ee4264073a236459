"""Notices of offers, requests and proposals (core/service/intents.py, valueflows_io.py) and
of the matches found between them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class IntentOut(Notice):
    """To its person: an intent is out (`source`: the file it was imported from, if any;
    `description`: how SCIS read it)."""

    kind: ClassVar[str] = "intent"
    intent_kind: str  # offer, request, proposal
    intent_id: int
    description: str
    source: str | None = None


@dataclass(frozen=True)
class IntentEdited(Notice):
    kind: ClassVar[str] = "intent"
    intent_kind: str
    intent_id: int
    description: str  # the whole structured form, "Offer: …"


@dataclass(frozen=True)
class IntentWithdrawn(Notice):
    kind: ClassVar[str] = "intent"
    intent_kind: str
    intent_id: int


@dataclass(frozen=True)
class IntentExpired(Notice):
    kind: ClassVar[str] = "intent"
    intent_kind: str
    intent_id: int
    words: str  # as the person typed them


@dataclass(frozen=True)
class Cover:
    """One offer's part of a match: whose (`maker`, a name), what (`offered`), for what need,
    and its share."""

    maker: str
    offered: str
    need: str
    share: float


@dataclass(frozen=True)
class MatchForRequest(Notice):
    """To whoever asked: offers that cover their request (`next`: accept the match)."""

    kind: ClassVar[str] = "match"
    match_id: int
    request_kind: str
    request_id: int
    asked: str
    covers: tuple[Cover, ...]
    covered: float


@dataclass(frozen=True)
class MatchForOffer(Notice):
    """To an offerer: their offer can help someone (`asker`, a name)."""

    kind: ClassVar[str] = "match"
    match_id: int
    offer_id: int
    offered: str
    asker: str
    request_kind: str
    request_id: int
    asked: str
