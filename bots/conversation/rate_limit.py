"""Per-person rate limit: a token bucket per chat account (20 messages a minute, bursts of 10).

The buckets live in the bot's memory: each bot process limits what reaches it, which is what
protects it; a person moving between processes gains little.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable

PER_MINUTE = 20
BURST = 10
_KEEP = 10_000  # buckets kept before full, idle ones are forgotten


class RateLimiter:
    def __init__(
        self,
        per_minute: float = PER_MINUTE,
        burst: int = BURST,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rate = per_minute / 60.0  # tokens a second
        self.burst = burst
        self.clock = clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key → (tokens, at)
        self._lock = threading.Lock()

    def allow(self, key: Hashable) -> bool:
        """Take a token for one message; False when the person must wait."""
        with self._lock:
            tokens, now = self._refilled(key)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > _KEEP:
                self._forget_idle(now)
            return True

    def wait(self, key: Hashable) -> int:
        """Whole seconds until the next message is allowed."""
        with self._lock:
            tokens, _ = self._refilled(key)
        return max(1, math.ceil((1 - tokens) / self.rate)) if tokens < 1 else 0

    def _refilled(self, key: Hashable) -> tuple[float, float]:
        now = self.clock()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.rate), now

    def _forget_idle(self, now: float) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.burst:
                del self._buckets[key]
