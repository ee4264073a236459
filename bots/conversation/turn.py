"""Who is speaking, and what a read or a step of the conversation is given for one message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bots.conversation.messages import Incoming
from core.service.bus import Services
from core.service.participants import who_is
from core.store.tables import ParticipantRow


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    roles: list[str]


@dataclass(frozen=True)
class Turn:
    """What a read is given: the application to query, who asks (None: an account that has not
    joined), and the values they typed. Nothing in it submits a change."""

    services: Services
    person: Person | None
    values: Mapping[str, Any] = field(default_factory=dict)


# A step's way to hand a change of this message to `submit`: (command class, JSON arguments).
Submitting = Callable[[type, dict], int]


def who_speaks(services: Services, incoming: Incoming) -> Person | None:
    """The participant this chat account speaks for, or None."""

    def read(session: Session) -> Person | None:
        participant_id = who_is(session, incoming.platform, incoming.address)
        row = session.get(ParticipantRow, participant_id) if participant_id else None
        return Person(row.id, row.name, list(row.roles)) if row else None

    return services.read(read)
