"""Multi-step flows: a command that stopped short asks its question, and the person's next plain
message is the rest of it.

The pending step lives in the PlatformState table (platform, "flow:<address>"), so the answer
may reach another bot process than the question did. A step older than FLOW_TIMEOUT is
forgotten: a plain message that much later is a new conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.store.tables import PlatformState

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
    with Session(engine) as session:
        row = session.get(PlatformState, (platform, flow_key))
        if row is None or now - row.updated_at > FLOW_TIMEOUT:
            return None
        try:
            data = json.loads(row.value)
            return Pending(str(data["command"]), str(data.get("given", "")))
        except (ValueError, KeyError, TypeError):
            return None  # not ours to understand: treat as no flow


def begin(engine: Engine, platform: str, address: str, step: Pending, now: datetime) -> bool:
    """Remember the step; False when this address cannot keep one."""
    flow_key = key(address)
    if flow_key is None:
        return False
    value = json.dumps({"command": step.command, "given": step.given})
    for _ in (1, 2):
        with Session(engine) as session:
            row = session.get(PlatformState, (platform, flow_key))
            if row is None:
                row = PlatformState(platform=platform, key=flow_key, value=value, updated_at=now)
            else:
                row.value, row.updated_at = value, now
            session.add(row)
            try:
                session.commit()
                return True
            except IntegrityError:  # the same person's other message won the insert
                continue
    return False


def clear(engine: Engine, platform: str, address: str) -> bool:
    """Forget the step; True when there was one."""
    flow_key = key(address)
    if flow_key is None:
        return False
    with Session(engine) as session:
        row = session.get(PlatformState, (platform, flow_key))
        if row is None:
            return False
        session.delete(row)
        session.commit()
        return True
