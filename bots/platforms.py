"""Which chat platforms this SCIS speaks on, from the environment: their front ends for
`scis serve`, and their senders for whatever delivers the outbox (`scis serve`'s in-process
workers, `scis worker`'s processes).

TELEGRAM_TOKEN → Telegram; MATRIX_HOMESERVER + MATRIX_USER + a password or token → Matrix;
SCIS_RECORDING_SENDER=FILE → every platform's messages recorded to FILE instead (tests, trials).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from sqlalchemy.engine import Engine

from bots.conversation.messages import Conversation
from bots.matrix.settings import MatrixSettings
from workers.senders import Sender, senders_from_environment


def configured(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The chat platforms with settings; MatrixNotConfigured says what a half-set Matrix lacks."""
    platforms = []
    if environ.get("TELEGRAM_TOKEN"):
        platforms.append("telegram")
    if MatrixSettings.from_environment(environ) is not None:
        platforms.append("matrix")
    return platforms


def platform_senders(engine: Engine, environ: Mapping[str, str] = os.environ) -> dict[str, Sender]:
    recording = senders_from_environment(environ)
    if recording:
        return recording
    senders: dict[str, Sender] = {}
    if environ.get("TELEGRAM_TOKEN"):
        from bots.telegram.sender import TelegramSender

        senders["telegram"] = TelegramSender(environ["TELEGRAM_TOKEN"], engine)
    matrix = MatrixSettings.from_environment(environ)
    if matrix is not None:
        from bots.matrix.sender import MatrixSender

        senders["matrix"] = MatrixSender(matrix, engine)
    return senders


async def serve_platforms(
    conversation: Conversation,
    engine: Engine,
    stop: asyncio.Event,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Every configured front end, until `stop` is set; one failing stops the others."""
    jobs = []
    if environ.get("TELEGRAM_TOKEN"):
        from bots.telegram.application import build_application
        from bots.telegram.runner import serve
        from bots.telegram.webhook import webhook_from_environment

        application = build_application(conversation, engine, environ["TELEGRAM_TOKEN"])
        jobs.append(serve(application, stop, webhook_from_environment(environ)))
    matrix = MatrixSettings.from_environment(environ)
    if matrix is not None:
        from bots.matrix.adapter import run_matrix

        jobs.append(run_matrix(conversation, engine, matrix, stop))
    try:
        await asyncio.gather(*jobs)
    finally:
        stop.set()
