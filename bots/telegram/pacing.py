"""Staying under Telegram's flood limits before it has to say 429: about 30 messages a second
over all chats, about one a second in one chat (short bursts pass), 20 a minute in a group.

Each sender thread reserves its slot under a lock and sleeps outside it (the generic cell rate
algorithm: per key, the time at which the next send would be on schedule).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

OVERALL_INTERVAL_S = 1 / 30
CHAT_INTERVAL_S = 1.0
GROUP_INTERVAL_S = 3.0
CHAT_BURST = 3
OVERALL_BURST = 30
OVERALL = "*"
FORGET_AFTER = 10_000  # chats remembered before those back on schedule are dropped


class Pacing:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.clock, self.sleep = clock, sleep
        self._due: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, chat_id: str) -> float:
        """Sleeps until a message to `chat_id` may go; returns how long it slept."""
        group = chat_id.startswith("-")  # group and channel ids are negative
        with self._lock:
            now = self.clock()
            delay = max(
                self._reserve(OVERALL, OVERALL_INTERVAL_S, OVERALL_BURST, now),
                self._reserve(
                    chat_id, GROUP_INTERVAL_S if group else CHAT_INTERVAL_S, CHAT_BURST, now
                ),
            )
            if len(self._due) > FORGET_AFTER:
                self._due = {key: due for key, due in self._due.items() if due > now}
        if delay > 0:
            self.sleep(delay)
        return delay

    def _reserve(self, key: str, interval: float, burst: int, now: float) -> float:
        due = max(self._due.get(key, now), now)
        self._due[key] = due + interval
        return max(0.0, due - now - (burst - 1) * interval)
