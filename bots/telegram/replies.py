"""Rendering the conversation's replies with PTB's Bot: escaped HTML, buttons as an inline
keyboard, a picture as a photo or, when too wide to stay readable, as a document."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.engine import Engine
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction, ParseMode
from telegram.error import RetryAfter, TelegramError

from bots.conversation.messages import Reply
from bots.telegram import buttons
from bots.telegram.formatting import CAPTION_LIMIT, escaped, escaped_chunks, fits_as_photo

log = logging.getLogger(__name__)

PATIENCE = 3  # times a reply waits out Telegram's flood control before giving up


async def send_replies(bot: Bot, chat_id: int, replies: list[Reply], engine: Engine) -> None:
    for reply in replies:
        await send_reply(bot, chat_id, reply, engine)
    if any(reply.working for reply in replies):
        await show_working(bot, chat_id)


async def show_working(bot: Bot, chat_id: int) -> None:
    """Telegram's "typing…" while a worker carries the change out (it lasts 5 s or until the
    bot's next message). Only a courtesy: a chat that refuses it loses nothing."""
    try:
        await bot.send_chat_action(chat_id, ChatAction.TYPING)
    except TelegramError as error:
        log.debug("no typing indicator in chat %s: %s", chat_id, error)


async def send_reply(bot: Bot, chat_id: int, reply: Reply, engine: Engine) -> None:
    keyboard = await _keyboard(reply, engine)
    picture = reply.picture
    await _send_text(bot, chat_id, reply.text, keyboard if picture is None else None)
    if picture is None:
        return
    caption = escaped(picture.caption).strip()
    in_caption = len(caption) <= CAPTION_LIMIT  # else the caption follows as text
    media = {
        "caption": caption if in_caption and caption else None,
        "parse_mode": ParseMode.HTML,
        "filename": picture.filename,
        "reply_markup": keyboard if in_caption else None,
    }
    if fits_as_photo(picture.png):
        await _patiently(bot.send_photo, chat_id, picture.png, **media)
    else:
        await _patiently(bot.send_document, chat_id, picture.png, **media)
    if not in_caption:
        await _send_text(bot, chat_id, picture.caption, keyboard)


async def _send_text(bot: Bot, chat_id: int, text: str, keyboard) -> None:
    chunks = escaped_chunks(text)
    for number, chunk in enumerate(chunks, start=1):
        await _patiently(
            bot.send_message,
            chat_id,
            chunk,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard if number == len(chunks) else None,
        )


async def _keyboard(reply: Reply, engine: Engine) -> InlineKeyboardMarkup | None:
    rows = [[(b.label, b.command) for b in row] for row in reply.buttons]
    if not any(rows):
        return None
    # A long command is kept in the database: off the event loop.
    data = await asyncio.to_thread(buttons.keyboard_rows, rows, engine)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(**button) for button in row] for row in data]
    )


async def _patiently(method, *args, **kwargs):
    for attempt in range(PATIENCE + 1):
        try:
            return await method(*args, **kwargs)
        except RetryAfter as limit:
            if attempt == PATIENCE:
                raise
            wait = limit.retry_after
            await asyncio.sleep(wait.total_seconds() if isinstance(wait, timedelta) else wait)
