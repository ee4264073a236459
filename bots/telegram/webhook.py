"""Receiving updates by webhook: Telegram POSTs each update to TELEGRAM_WEBHOOK_URL with the
secret token given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`; a request without it is
refused, so nobody who merely knows the URL can speak for a user.

PTB's own webhook server needs tornado (the `[webhooks]` extra); this is the same thing on
aiohttp, which the Matrix client already brings.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
BODY_LIMIT = 1 << 20  # an update is a few kilobytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Webhook:
    url: str  # the public https URL Telegram posts to; its path is the one served
    secret: str = ""  # 1-256 of A-Z a-z 0-9 _ -
    listen: str = "0.0.0.0"
    port: int = 8443

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    def __repr__(self) -> str:  # the secret stays out of logs
        return f"Webhook(url={self.url!r}, listen={self.listen!r}, port={self.port})"


def webhook_from_environment(environ: Mapping[str, str] = os.environ) -> Webhook | None:
    """TELEGRAM_WEBHOOK_URL switches from long polling to the webhook; TELEGRAM_WEBHOOK_SECRET
    (else a new one at every start), TELEGRAM_WEBHOOK_LISTEN and TELEGRAM_WEBHOOK_PORT."""
    url = environ.get("TELEGRAM_WEBHOOK_URL", "").strip()
    if not url:
        return None
    return Webhook(
        url=url,
        secret=environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or secrets.token_urlsafe(32),
        listen=environ.get("TELEGRAM_WEBHOOK_LISTEN", "0.0.0.0"),
        port=int(environ.get("TELEGRAM_WEBHOOK_PORT", "8443")),
    )


async def start_webhook(application: Application, webhook: Webhook) -> web.AppRunner:
    """Serves the webhook and tells Telegram about it; cleanup() on the runner stops it."""
    expected = webhook.secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("webhook request without the right secret token refused")
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        await application.update_queue.put(update)
        return web.Response(status=200)

    server = web.Application(client_max_size=BODY_LIMIT)
    server.router.add_post(webhook.path, receive)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, webhook.listen, webhook.port).start()
    await application.bot.set_webhook(
        url=webhook.url, secret_token=webhook.secret, allowed_updates=ALLOWED_UPDATES
    )
    return runner
