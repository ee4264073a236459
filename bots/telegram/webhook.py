"""Receiving updates by webhook: Telegram POSTs each update to TELEGRAM_WEBHOOK_URL with the
secret token given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`; a request without it is
refused, so nobody who merely knows the URL can speak for a user.

PTB's own webhook server needs tornado (the `[webhooks]` extra); this is the same thing on
aiohttp, which the Matrix client already brings.

Several `scis serve` processes may listen on the same port (SO_REUSEPORT: the kernel spreads
new connections between them). An update Telegram delivers again may then reach another
process while the first is still answering it, so each process claims an update in the
database (`webhook:<update_id>`, holding who took it) before it takes it; the loser only says
200, so that Telegram stops retrying.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.engine import Engine
from telegram import Update
from telegram.ext import Application

from bots.telegram.seen import KEEP, PLATFORM, PRUNE_EVERY
from bots.telegram.updates import Updates
from core.store.platform_state import PlatformMemory
from core.store.tables import now

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
BODY_LIMIT = 1 << 20  # an update is a few kilobytes
CLAIM_PREFIX = "webhook:"
# Where the platform has it; elsewhere a second process on the port fails to start, as before.
SHARED_PORT = hasattr(socket, "SO_REUSEPORT")

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


class Claims:
    """Which process took which update, across every process serving the webhook."""

    def __init__(self, engine: Engine):
        self.kept = PlatformMemory(engine, PLATFORM)
        self.me = f"{socket.gethostname()}:{os.getpid()}"
        self._since_prune = 0

    def claim(self, update_id: int) -> bool:
        """Whether this process takes the update: False when another (or this one) already did."""
        if not self.kept.add(f"{CLAIM_PREFIX}{update_id}", self.me):
            return False
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            self.kept.forget_older(CLAIM_PREFIX, now() - KEEP)
        return True


def engine_of(application: Application) -> Engine:
    """The database of the handlers build_application installed (the runner is handed only the
    Application)."""
    for handlers in application.handlers.values():
        for handler in handlers:
            owner = getattr(handler.callback, "__self__", None)
            if isinstance(owner, Updates):
                return owner.engine
    raise ValueError("the application has no SCIS handlers: use build_application")


async def start_webhook(application: Application, webhook: Webhook) -> web.AppRunner:
    """Serves the webhook and tells Telegram about it; cleanup() on the runner stops it."""
    expected = webhook.secret.encode()
    claims = Claims(engine_of(application))

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("webhook request without the right secret token refused")
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        if not await asyncio.to_thread(claims.claim, update.update_id):
            log.info("update %s was taken already; not again by %s", update.update_id, claims.me)
            return web.Response(status=200)
        log.debug("update %s taken by %s", update.update_id, claims.me)
        await application.update_queue.put(update)
        return web.Response(status=200)

    server = web.Application(client_max_size=BODY_LIMIT)
    server.router.add_post(webhook.path, receive)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, webhook.listen, webhook.port, reuse_port=SHARED_PORT or None)
    await site.start()
    await application.bot.set_webhook(
        url=webhook.url, secret_token=webhook.secret, allowed_updates=ALLOWED_UPDATES
    )
    return runner
