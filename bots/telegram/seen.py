"""Which updates were already answered, so an update Telegram delivers again (a webhook retried
after a timeout, polling resumed after a crash) is not answered twice.

An update is remembered after its replies went out, not when it arrives: a crash in between
answers it again rather than never (at least once; the conversation's effects are keyed by
message id). Updates are handled one at a time, so nothing runs between the look and the mark.
The ids live in PlatformState, kept a week (Telegram keeps an unfetched update for a day), with a
bounded set in memory in front of the database.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta

from sqlalchemy.engine import Engine

from core.store.platform_state import PlatformMemory
from core.store.tables import now

PLATFORM = "telegram"
KEY_PREFIX = "update:"
KEEP = timedelta(days=7)
PRUNE_EVERY = 1000  # remembered updates between two prunings of the old ones
MEMORY = 10_000


class SeenUpdates:
    def __init__(self, engine: Engine):
        self.kept = PlatformMemory(engine, PLATFORM)
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._since_prune = 0

    def seen(self, update_id: int) -> bool:
        if update_id in self._recent:
            return True
        found = self.kept.get(f"{KEY_PREFIX}{update_id}") is not None
        if found:
            self._remember_in_memory(update_id)
        return found

    def remember(self, update_id: int) -> None:
        self._remember_in_memory(update_id)
        # Already there means another instance answered it too: nothing more to record.
        self.kept.add(f"{KEY_PREFIX}{update_id}")
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            self.prune()

    def prune(self) -> None:
        self.kept.forget_older(KEY_PREFIX, now() - KEEP)

    def _remember_in_memory(self, update_id: int) -> None:
        self._recent[update_id] = None
        self._recent.move_to_end(update_id)
        while len(self._recent) > MEMORY:
            self._recent.popitem(last=False)
