"""Running a bot: long polling by default, the webhook when TELEGRAM_WEBHOOK_URL is set.

`serve` runs until `stop` is set and leaves the event loop to its caller, so `scis serve` can run
Telegram beside Matrix and the workers.
"""

from __future__ import annotations

import asyncio

from telegram.ext import Application

from bots.telegram.webhook import ALLOWED_UPDATES, Webhook, start_webhook

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
