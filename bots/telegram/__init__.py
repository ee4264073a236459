"""The Telegram front end: a python-telegram-bot 22 Application that hands each message and
button press to the conversation and renders its replies (updates.py, replies.py), long polling
or a webhook (runner.py, webhook.py), and the outbox's sender (sender.py)."""

from bots.telegram.application import build_application
from bots.telegram.runner import serve
from bots.telegram.sender import TelegramSender
from bots.telegram.webhook import Webhook, webhook_from_environment

__all__ = [
    "TelegramSender",
    "Webhook",
    "build_application",
    "serve",
    "webhook_from_environment",
]
