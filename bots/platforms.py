"""The chat platforms SCIS speaks on, registered once: each one's name, what an address is
there, how its settings are read from the environment, and how its sender (for the outbox) and
its front end (for `scis serve`) are made. The order of `PLATFORMS` is the delivery preference:
a message goes out on the first platform its recipient has an identity on and a sender for.

Core learns the names only, as data (`Services(platforms=…)`, given by bots/bootstrap.py);
workers get the senders. Adding a platform is one entry here (ARCHITECTURE.md says what else).

TELEGRAM_TOKEN → Telegram; MATRIX_HOMESERVER + MATRIX_USER + a password or token → Matrix; the
terminal is there when `scis serve` runs with neither. SCIS_RECORDING_SENDER=FILE records every
platform's messages to FILE instead of sending them (tests, trials).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from bots.conversation.messages import Conversation
from bots.matrix.settings import MatrixSettings
from workers.senders import RecordingSender, Sender

# (conversation, engine, settings, stop) → runs the front end until `stop` is set
FrontEnd = Callable[[Conversation, Engine, Any, asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class Platform:
    name: str
    address: str  # what identifies a person there, for people and for docs
    settings: Callable[[Mapping[str, str]], Any]  # from the environment; None: not configured
    sender: Callable[[Any, Engine], Sender] | None = None
    front_end: FrontEnd | None = None


def _telegram_settings(environ: Mapping[str, str]) -> str | None:
    return environ.get("TELEGRAM_TOKEN") or None


def _telegram_sender(token: str, engine: Engine) -> Sender:
    from bots.telegram.sender import TelegramSender  # python-telegram-bot loads when used

    return TelegramSender(token, engine)


async def _telegram_front_end(conversation, engine, token: str, stop) -> None:
    from bots.telegram.application import build_application
    from bots.telegram.runner import serve
    from bots.telegram.webhook import webhook_from_environment

    application = build_application(conversation, engine, token)
    await serve(application, stop, webhook_from_environment())


def _matrix_sender(settings: MatrixSettings, engine: Engine) -> Sender:
    from bots.matrix.sender import MatrixSender  # matrix-nio loads when used

    return MatrixSender(settings, engine)


async def _matrix_front_end(conversation, engine, settings: MatrixSettings, stop) -> None:
    from bots.matrix.adapter import run_matrix

    await run_matrix(conversation, engine, settings, stop)


PLATFORMS: tuple[Platform, ...] = (
    Platform(
        "telegram",
        "a Telegram user id (digits)",
        _telegram_settings,
        _telegram_sender,
        _telegram_front_end,
    ),
    Platform(
        "matrix",
        "a Matrix user id (@name:server)",
        MatrixSettings.from_environment,
        _matrix_sender,
        _matrix_front_end,
    ),
    # The terminal of `scis serve`: its sender and front end need the terminal itself, so
    # cli_serve.py makes them; a console address is a participant id.
    Platform("console", "a participant id", lambda environ: None),
)
PLATFORM_NAMES: tuple[str, ...] = tuple(p.name for p in PLATFORMS)


def configured(environ: Mapping[str, str] = os.environ) -> list[Platform]:
    """The chat platforms with settings; MatrixNotConfigured says what a half-set Matrix lacks."""
    return [p for p in PLATFORMS if p.settings(environ) is not None]


def platform_senders(engine: Engine, environ: Mapping[str, str] = os.environ) -> dict[str, Sender]:
    """The outbox's senders, by platform: the configured platforms', or with
    SCIS_RECORDING_SENDER one recording sender per platform."""
    recording = environ.get("SCIS_RECORDING_SENDER")
    if recording:
        return {name: RecordingSender(recording, name) for name in PLATFORM_NAMES}
    return {
        p.name: p.sender(p.settings(environ), engine)
        for p in configured(environ)
        if p.sender is not None
    }


async def serve_platforms(
    conversation: Conversation,
    engine: Engine,
    stop: asyncio.Event,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Every configured front end, until `stop` is set; one failing stops the others."""
    jobs = [
        p.front_end(conversation, engine, p.settings(environ), stop)
        for p in configured(environ)
        if p.front_end is not None
    ]
    try:
        await asyncio.gather(*jobs)
    finally:
        stop.set()
