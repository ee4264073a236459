"""How a message leaves SCIS: one `Sender` per platform, chosen by the recipient's identities.

The chat adapters bring the Telegram, Matrix and console senders (bots/platforms.py registers
them); `RecordingSender` writes every message it is given to a file, one JSON line each, for
tests and for trying SCIS without chat. Which sender a message takes is delivery's to choose:
the first of the platforms, in the order Services.platforms gives them, that the recipient has
an identity on and a sender exists for.
"""

from __future__ import annotations

import fcntl
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class RateLimited(Exception):  # noqa: N818 — the platform's own word for it
    """The platform says: wait `retry_after` seconds, then try again (never drop the message)."""

    def __init__(self, retry_after: float):
        super().__init__(f"rate limited; retry after {retry_after:g} s")
        self.retry_after = retry_after


class PermanentFailure(Exception):  # noqa: N818
    """The message can never go this way (bot blocked, chat unknown): recorded, not retried."""


@dataclass(frozen=True)
class Outgoing:
    """One outbox message as a sender sees it. `kind` and `payload` let a platform render it
    natively (buttons for a frame, a relayed `/say` in an order's room)."""

    id: int
    text: str
    kind: str = "message"
    order_id: int | None = None
    payload: dict = field(default_factory=dict)


class Sender(Protocol):
    platform: str

    def send(self, address: str, message: Outgoing) -> None: ...


class RecordingSender:
    """Appends `{"notification", "platform", "address", "text", "at"}` lines to a file (`at`: the
    Unix time it was handed over); safe across processes (an exclusive lock around each write)."""

    def __init__(self, path: str | Path, platform: str):
        self.path = Path(path)
        self.platform = platform

    def send(self, address: str, message: Outgoing) -> None:
        line = json.dumps(
            {
                "notification": message.id,
                "platform": self.platform,
                "address": address,
                "text": message.text,
                "at": time.time(),
            },
            ensure_ascii=False,
        )
        with self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line + "\n")
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def recorded(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
