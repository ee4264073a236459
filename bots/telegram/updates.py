"""Telegram updates in, the conversation's replies out: a text or command becomes an `Incoming`,
a button press becomes an `Incoming` whose text is the button's command, and a photo (or an
image sent as a file) becomes an `Incoming` carrying the picture, its caption the text."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.engine import Engine
from telegram import Update, User
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bots.conversation.messages import Conversation, Incoming, Photo, Reply
from bots.telegram import buttons
from bots.telegram.replies import send_replies
from bots.telegram.seen import SeenUpdates
from core.service.evidence import MAX_PICTURE_BYTES

PLATFORM = "telegram"
TEXT_LIMIT = 4096  # what Telegram lets a person send; more cannot be a real message
EXPIRED_BUTTON = "That button no longer works; send the command instead (/help lists them)."
NOBODY = (
    "I can only act for a person: please write from your own account, not as a channel or an "
    "anonymous group admin."
)

log = logging.getLogger(__name__)


class Updates:
    """The handlers of one bot, sharing the conversation, the database and the answered ids."""

    def __init__(self, conversation: Conversation, engine: Engine):
        self.conversation = conversation
        self.engine = engine
        self.seen = SeenUpdates(engine)

    def install(self, application: Application) -> None:
        application.add_handler(TypeHandler(Update, self.skip_answered), group=-1)
        application.add_handler(
            MessageHandler(filters.TEXT & filters.UpdateType.MESSAGE, self.on_text)
        )
        application.add_handler(
            MessageHandler(
                (filters.PHOTO | filters.Document.IMAGE) & filters.UpdateType.MESSAGE,
                self.on_photo,
            )
        )
        application.add_handler(CallbackQueryHandler(self.on_button))

    async def skip_answered(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if await asyncio.to_thread(self.seen.seen, update.update_id):
            log.info("update %s was answered already; skipped", update.update_id)
            raise ApplicationHandlerStop

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._on_message(update, context, update.message.text, None)

    async def on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo proves a stage (bots/conversation/photos.py): it is downloaded here, unless
        Telegram says it is larger than SCIS keeps, and its caption is the command."""
        message = update.message
        if message.photo:
            sent, content_type = message.photo[-1], "image/jpeg"  # the largest size; JPEG
        else:
            sent, content_type = message.document, message.document.mime_type or "image/jpeg"
        data = b""
        if message.from_user is not None and (sent.file_size or 0) <= MAX_PICTURE_BYTES:
            data = bytes(await (await context.bot.get_file(sent.file_id)).download_as_bytearray())
        photo = Photo(data, content_type, sent.file_id, sent.file_size)
        await self._on_message(update, context, message.caption or "", photo)

    async def _on_message(self, update, context, text: str, photo: Photo | None) -> None:
        message = update.message
        user = message.from_user
        if user is None or message.sender_chat is not None:
            # A channel's post, or a group admin writing anonymously as the group: no person
            # to act as, and the chat itself is nobody.
            await self._reply(update, context, message.chat_id, [Reply(NOBODY)])
            return
        incoming = Incoming(
            platform=PLATFORM,
            # The person, not the chat: in a group every member is themselves, and the answer
            # still goes to the chat they wrote in. Accounts linked before this (by chat id)
            # came from private chats, whose id is the user's id, so they still speak for them.
            address=str(user.id),
            message_id=f"{message.chat_id}:{message.message_id}",
            text=_without_bot_name(text[:TEXT_LIMIT], context.bot.username),
            display_name=user.full_name,
            handle=_handle(user),
            photo=photo,
        )
        await self._answer(update, context, message.chat_id, incoming)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer()  # stops the button's spinner while the conversation thinks
        # The answer goes where the button is; who pressed it is who acts.
        chat_id = query.message.chat.id if query.message else query.from_user.id
        command = await asyncio.to_thread(buttons.command_of, query.data or "", self.engine)
        if command is None:
            await self._reply(update, context, chat_id, [Reply(EXPIRED_BUTTON)])
            return
        incoming = Incoming(
            platform=PLATFORM,
            address=str(query.from_user.id),
            message_id=f"callback:{query.id}",
            text=command,
            display_name=query.from_user.full_name,
            handle=_handle(query.from_user),
        )
        await self._answer(update, context, chat_id, incoming)

    async def _answer(self, update, context, chat_id: int, incoming: Incoming) -> None:
        # The conversation is synchronous and reaches the database: off the event loop.
        replies = await asyncio.to_thread(self.conversation.answer, incoming)
        await self._reply(update, context, chat_id, replies)

    async def _reply(self, update, context, chat_id: int, replies: list[Reply]) -> None:
        await send_replies(context.bot, chat_id, replies, self.engine)
        await asyncio.to_thread(self.seen.remember, update.update_id)


def _handle(user: User) -> str | None:
    return f"@{user.username}" if user.username else None


def _without_bot_name(text: str, bot_username: str | None) -> str:
    """`/plans@ScisBot 12` → `/plans 12`: in groups Telegram names the bot a command is for."""
    if not text.startswith("/") or not bot_username:
        return text
    head, space, rest = text.partition(" ")
    command, at, name = head.partition("@")
    if at and name.lower() == bot_username.lower():
        return command + space + rest
    return text
