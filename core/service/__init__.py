"""Application commands, one handler per use case, each in one transaction.

`bootstrap()` wires the store and the clock and returns the `Services` every adapter talks to.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

# Importing the handler modules registers them with the bus.
from core.service import (  # noqa: F401
    assertions,
    console,
    coordination,
    disruptions,
    inbound,
    intents,
    orders,
    participants,
    reweaving,
    standing,
    talk,
    valueflows_io,
)
from core.service.bus import Services
from core.service.results import Origin, Outbound, Recorded, Refused, Result
from core.store.database import make_engine
from core.store.tables import now

__all__ = ["Origin", "Outbound", "Recorded", "Refused", "Result", "Services", "bootstrap"]


def bootstrap(database_url: str | None = None, clock: Callable[[], datetime] = now) -> Services:
    """The application over the database at `database_url` (default: DATABASE_URL or SQLite)."""
    return Services(make_engine(database_url), clock)
