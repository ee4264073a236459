"""What the Matrix front end must not forget across restarts, in the PlatformState table:
the sync position (`next_batch`, or `next_batch:i/N` for shard i of N), each order's room
(`order_room:<id>`), each person's direct room (`dm:<user>`) and the relays already posted
(`said:<id>`)."""

from __future__ import annotations

import logging
import queue
import threading
import time

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from bots.matrix.settings import Shard
from core.store.platform_state import PlatformMemory

PLATFORM = "matrix"
NEXT_BATCH = "next_batch"
log = logging.getLogger(__name__)


def sync_position_key(shard: Shard) -> str:
    """Each shard answers its rooms from a position of its own: one shard's restart must neither
    replay what another answered since nor skip what was said in its rooms while it was away.
    One process for all rooms keeps the key it always had."""
    return NEXT_BATCH if shard.whole else f"{NEXT_BATCH}:{shard}"


class Memory(PlatformMemory):
    """Matrix's keys, each read or written in its own short transaction."""

    def __init__(self, engine: Engine):
        super().__init__(engine, PLATFORM)


class DeferredMemory(Memory):
    """For the sender, which runs inside the delivery's transaction: on SQLite that transaction
    holds the database's write lock while it sends, so a write of ours would wait for the lock
    our own caller holds. Puts are kept in this process at once (so reads see them) and written
    by a thread of their own as soon as the lock is free. A crash in between forgets them; the
    worst that does is one more direct room, or a relay posted twice."""

    ATTEMPTS = 20

    def __init__(self, engine: Engine):
        super().__init__(engine)
        self._pending: dict[str, str] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write, name="matrix-memory", daemon=True)
        self._writer.start()

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._pending:
                return self._pending[key]
        return super().get(key)

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self._pending[key] = value
        self._queue.put((key, value))

    def flush(self, timeout: float = 30) -> None:
        """Waits until every put has reached the database."""
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._pending:
            raise TimeoutError(f"PlatformState writes still pending: {sorted(self._pending)}")

    def close(self) -> None:
        self._queue.put(None)
        self._writer.join(timeout=30)

    def _write(self) -> None:
        while (item := self._queue.get()) is not None:
            key, value = item
            for attempt in range(self.ATTEMPTS):
                try:
                    Memory.put(self, key, value)
                    break
                except (OperationalError, IntegrityError) as exc:  # locked; a racing insert
                    log.warning("PlatformState %s not written yet (%s); retrying", key, exc)
                    time.sleep(min(0.1 * 2**attempt, 5))
            else:
                log.error("PlatformState %s could not be written; it is kept in memory only", key)
                continue
            with self._lock:
                if self._pending.get(key) == value:
                    del self._pending[key]
