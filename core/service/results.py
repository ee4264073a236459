"""What a handler gives back: the events it recorded and the messages it queued."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.service.notices import Next


class Refused(ValueError):
    """A command that cannot be carried out; its message is for the person who sent it, and
    names no chat command: what they can do instead is `next` (`Next(View.MATCHES)`), which the
    chat layer words and appends ("— /matches lists yours")."""

    def __init__(self, reason: str, *, next: tuple[Next, ...] = ()):  # noqa: A002 — Notice's
        super().__init__(reason)
        self.next = tuple(next)


@dataclass(frozen=True)
class Origin:
    """The chat message a command came from (history names it; duplicates are applied once).

    `message_id` must be unique within its platform: a Matrix event id is; a Telegram message id
    is unique only within its chat, so its adapter gives `CHAT:MESSAGE`.
    """

    platform: str = "service"
    message_id: str | None = None


@dataclass(frozen=True)
class Recorded:
    kind: str
    data: dict
    order_id: int | None = None
    actor_id: str | None = None


@dataclass(frozen=True)
class Outbound:
    """A message to a participant (never to a platform: delivery picks the platform)."""

    participant_id: str
    kind: str
    text: str
    order_id: int | None = None
    payload: dict = field(default_factory=dict)


@dataclass
class Result:
    events: list[Recorded] = field(default_factory=list)
    messages: list[Outbound] = field(default_factory=list)
    value: Any = None
    # Work left for the workers, as commands (`WeaveOrder(12)`; core.service.commands.FollowUp
    # lists the kinds, workers/actors.py the actor of each). The state says it is due too, so
    # the sweeper finds it again if this list is lost.
    jobs: list = field(default_factory=list)
