"""The PTB Application of one bot, with SCIS's handlers installed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest

from bots.conversation.messages import Conversation
from bots.telegram.sender import bot_api_url, hide_token_from_logs
from bots.telegram.updates import Updates


def build_application(
    conversation: Conversation,
    engine: Engine,
    token: str,
    *,
    base_url: str | None = None,
    request: Callable[[], BaseRequest] | None = None,
) -> Application:
    """`base_url` (Bot API root, the token follows: "https://api.telegram.org/bot") and
    `request` (a factory: the bot's calls and getUpdates each get their own) are for tests and
    self-hosted Bot API servers; without `base_url`, TELEGRAM_API_URL's (see sender.bot_api_url)."""
    hide_token_from_logs()
    builder = ApplicationBuilder().token(token).base_url(base_url or bot_api_url())
    if request is not None:
        builder = builder.request(request()).get_updates_request(request())
    application = builder.build()
    Updates(conversation, engine).install(application)
    return application
