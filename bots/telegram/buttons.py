"""A button's command as Telegram callback data, which may be at most 64 bytes.

A command that fits is the callback data itself, so a press needs no look-up. A longer one is
kept in PlatformState under a digest of itself, and the digest (which cannot be mistaken for a
command: commands start with "/") travels instead; the same command always gets the same key.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.store.database import writing
from core.store.tables import PlatformState

PLATFORM = "telegram"
CALLBACK_DATA_LIMIT = 64  # bytes, Bot API
KEY_PREFIX = "button:"


def callback_data(command: str, engine: Engine) -> str:
    if len(command.encode()) <= CALLBACK_DATA_LIMIT and not command.startswith("#"):
        return command
    digest = "#" + hashlib.sha256(command.encode()).hexdigest()[:40]
    key = KEY_PREFIX + digest
    with Session(engine) as session:
        if session.get(PlatformState, (PLATFORM, key)) is not None:
            return digest
    try:
        with Session(writing(engine)) as session, session.begin():
            session.add(PlatformState(platform=PLATFORM, key=key, value=command))
    except IntegrityError:
        pass  # another process kept the same command under the same key at the same moment
    return digest


def command_of(data: str, engine: Engine) -> str | None:
    """The command a press carries; None for a key this SCIS never gave out."""
    if not data.startswith("#"):
        return data
    with Session(engine) as session:
        kept = session.get(PlatformState, (PLATFORM, KEY_PREFIX + data))
        return kept.value if kept is not None else None


def keyboard_rows(rows, engine: Engine) -> list[list[dict]]:
    """Rows of (label, command) as the Bot API's inline_keyboard."""
    return [
        [{"text": label, "callback_data": callback_data(cmd, engine)} for label, cmd in row]
        for row in rows
        if row
    ]
