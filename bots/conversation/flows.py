"""Multi-step flows: a command that stopped short asks its question, and the person's next plain
message is the rest of it.

The pending step lives in the PlatformState table (platform, "flow:<address>"), so the answer
may reach another bot process than the question did. A step older than FLOW_TIMEOUT is
forgotten: a plain message that much later is a new conversation. `Flow` is one account's
step while one message is answered: it is read from the table at most once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from core.store.platform_state import PlatformMemory

FLOW_TIMEOUT = timedelta(minutes=15)
_MAX_KEY = 300


@dataclass(frozen=True)
class Pending:
    command: str  # the command's name, e.g. "order"
    given: str  # the arguments typed so far, e.g. "12" for `/say 12`


def key(address: str) -> str | None:
    """The PlatformState key of an address, or None for one too long to keep."""
    value = f"flow:{address}"
    return value if len(value) <= _MAX_KEY else None


def pending(engine: Engine, platform: str, address: str, now: datetime) -> Pending | None:
    flow_key = key(address)
    if flow_key is None:
        return None
    kept = PlatformMemory(engine, platform).get(flow_key, newer_than=now - FLOW_TIMEOUT)
    if kept is None:
        return None
    try:
        data = json.loads(kept)
        return Pending(str(data["command"]), str(data.get("given", "")))
    except (ValueError, KeyError, TypeError):
        return None  # not ours to understand: treat as no flow


def begin(engine: Engine, platform: str, address: str, step: Pending, now: datetime) -> bool:
    """Remember the step; False when this address cannot keep one."""
    flow_key = key(address)
    if flow_key is None:
        return False
    value = json.dumps({"command": step.command, "given": step.given})
    PlatformMemory(engine, platform).put(flow_key, value, at=now)
    return True


def clear(engine: Engine, platform: str, address: str) -> bool:
    """Forget the step; True when there was one."""
    flow_key = key(address)
    return flow_key is not None and PlatformMemory(engine, platform).forget(flow_key)


class Flow:
    """The pending step of one account while one message is answered."""

    _UNREAD = object()

    def __init__(self, engine: Engine, platform: str, address: str, clock: Callable[[], datetime]):
        self.engine, self.platform, self.address, self.clock = engine, platform, address, clock
        self._known: Pending | None | object = self._UNREAD

    def pending(self) -> Pending | None:
        if self._known is self._UNREAD:
            self._known = pending(self.engine, self.platform, self.address, self.clock())
        return self._known

    def begin(self, step: Pending) -> bool:
        """Remember the step; False when this address cannot keep one."""
        kept = begin(self.engine, self.platform, self.address, step, self.clock())
        if kept:
            self._known = step
        return kept

    def clear(self) -> bool:
        """Forget the step; True when there was one."""
        self._known = None
        return clear(self.engine, self.platform, self.address)
