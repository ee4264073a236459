"""Running a bot: long polling by default, the webhook when TELEGRAM_WEBHOOK_URL is set.

`serve` runs until `stop` is set and leaves the event loop to its caller, so `scis serve` can run
Telegram beside Matrix and the workers; `run` is the whole process for a Telegram-only SCIS.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping

from sqlalchemy.engine import Engine
from telegram.ext import Application

from bots.conversation.messages import Conversation
from bots.telegram.application import build_application
from bots.telegram.sender import hide_token_from_logs
from bots.telegram.webhook import ALLOWED_UPDATES, Webhook, start_webhook, webhook_from_environment

POLL_TIMEOUT_S = 30  # Telegram holds a getUpdates this long when there is nothing to hand out


async def serve(
    application: Application,
    stop: asyncio.Event,
    webhook: Webhook | None = None,
    *,
    poll_interval: float = 0.0,
) -> None:
    async with application:  # initialize (getMe), and shutdown at the end
        runner = None
        if webhook is not None:
            runner = await start_webhook(application, webhook)
        else:
            await application.updater.start_polling(
                poll_interval=poll_interval,
                timeout=POLL_TIMEOUT_S,
                allowed_updates=ALLOWED_UPDATES,
            )
        await application.start()
        try:
            await stop.wait()
        finally:
            if runner is not None:
                await runner.cleanup()
            else:
                await application.updater.stop()
            await application.stop()


def run(conversation: Conversation, engine: Engine, environ: Mapping[str, str] = os.environ):
    """Serves TELEGRAM_TOKEN's bot until SIGINT or SIGTERM."""
    hide_token_from_logs()
    application = build_application(conversation, engine, environ["TELEGRAM_TOKEN"])
    webhook = webhook_from_environment(environ)

    async def until_signalled() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(application, stop, webhook)

    asyncio.run(until_signalled())
