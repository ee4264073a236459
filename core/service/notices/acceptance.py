"""Notices of an accepted match (core/service/acceptance.py): who accepted it and, when it made
an order, whether that order's plans use the matched offers (core/service/matched.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class MatchAccepted(Notice):
    """To everyone in a match, the one who accepted it included. `by`: the name of who accepted
    it, None to that person. `order_id`: the order it made, if any; `uses`: whether the order's
    plans use the matched offers — "all", "some", "none", or "unplanned" (no plan yet);
    `yours`: that verdict is about the reader's own offers, not all of them."""

    kind: ClassVar[str] = "match"
    match_id: int
    by: str | None = None
    order_id: int | None = None
    uses: str = "none"
    yours: bool = False
