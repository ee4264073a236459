"""A button's command as Telegram callback data, which may be at most 64 bytes.

A command that fits is the callback data itself, so a press needs no look-up. A longer one is
kept in PlatformState under a digest of itself, and the digest (which cannot be mistaken for a
command: commands start with "/") travels instead; the same command always gets the same key.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Engine

from core.store.platform_state import PlatformMemory

PLATFORM = "telegram"
CALLBACK_DATA_LIMIT = 64  # bytes, Bot API
KEY_PREFIX = "button:"


def callback_data(command: str, engine: Engine) -> str:
    if len(command.encode()) <= CALLBACK_DATA_LIMIT and not command.startswith("#"):
        return command
    digest = "#" + hashlib.sha256(command.encode()).hexdigest()[:40]
    # Already kept, or kept now (by this process or another at the same moment): the same key.
    PlatformMemory(engine, PLATFORM).add(KEY_PREFIX + digest, command)
    return digest


def command_of(data: str, engine: Engine) -> str | None:
    """The command a press carries; None for a key this SCIS never gave out."""
    if not data.startswith("#"):
        return data
    return PlatformMemory(engine, PLATFORM).get(KEY_PREFIX + data)


def keyboard_rows(rows, engine: Engine) -> list[list[dict]]:
    """Rows of (label, command) as the Bot API's inline_keyboard."""
    return [
        [{"text": label, "callback_data": callback_data(cmd, engine)} for label, cmd in row]
        for row in rows
        if row
    ]
