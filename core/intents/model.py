"""Intents (Value Flows): something a participant wants to provide (an offer), to receive (a
request), or to do with others (a proposal) — cast in chat, matched, and turned into
commitments when accepted.

"An Intent is something you want to provide (an offer), receive (a request), or do
collaboratively (a proposal) … Intents might find mates." (Bob Haugen, seeds/
supply-chain-signals-mutual-coordination.txt.) A proposal is matched like a request — it looks
for what others offer — but gathers several collaborators instead of being filled once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.network.model import Location

OFFER, REQUEST, PROPOSAL = "offer", "request", "proposal"
KINDS = (OFFER, REQUEST, PROPOSAL)
ITEM, PROCESS = "item", "process"
OPEN, WITHDRAWN, EXPIRED, ACCEPTED = "open", "withdrawn", "expired", "accepted"
STATUSES = (OPEN, WITHDRAWN, EXPIRED, ACCEPTED)
PERIODS = {"day": 1.0, "week": 7.0, "month": 30.0}  # days in each period a rate may be per


@dataclass(frozen=True)
class Quantity:
    """`amount` of `unit` ("each", "h", "kg", …), in all or, with `per`, per day/week/month."""

    amount: float
    unit: str = "each"
    per: str | None = None

    def __post_init__(self):
        if not self.amount > 0:
            raise ValueError(f"a quantity must be more than 0, not {self.amount:g}")
        if self.per is not None and self.per not in PERIODS:
            raise ValueError(f"a rate is per {', '.join(PERIODS)}, not per {self.per}")

    @property
    def is_rate(self) -> bool:
        return self.per is not None

    def per_day(self) -> float:
        """A rate in units a day; a plain amount is returned as it is."""
        return self.amount / PERIODS[self.per] if self.per else self.amount

    def __str__(self) -> str:
        unit = "" if self.unit == "each" else f" {self.unit}"
        return f"{self.amount:g}{unit}" + (f"/{self.per}" if self.per else "")


@dataclass(frozen=True)
class Resource:
    """What an intent is about: an item of the network, or a process (what a facility can do).

    `id` is the network's id when `known`; otherwise the words the person used, kept so that a
    coordinator can add the item or process to the network later.
    """

    kind: str  # ITEM or PROCESS
    id: str
    known: bool = True

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True)
class Intent:
    """An intent as cast. `starts`/`ends` bound when it holds ("by DATE" sets `ends`); `place`
    is where (its words in `place_name`); `expires` is when it stops being matched."""

    kind: str
    participant: str
    resource: Resource
    quantity: Quantity | None = None
    starts: date | None = None
    ends: date | None = None
    place: Location | None = None
    place_name: str | None = None
    note: str = ""
    expires: date | None = None
    id: int | None = None
    status: str = OPEN

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"an intent is an {', a '.join(KINDS)}, not {self.kind!r}")
        if self.status not in STATUSES:
            raise ValueError(f"unknown intent status {self.status!r}")
        if self.starts and self.ends and self.ends < self.starts:
            raise ValueError(f"it ends ({self.ends}) before it starts ({self.starts})")

    @property
    def provides(self) -> bool:
        return self.kind == OFFER

    def holds_on(self, day: date) -> bool:
        """Open and not expired on `day`."""
        return self.status == OPEN and (self.expires is None or day <= self.expires)
