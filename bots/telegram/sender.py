"""The workers' outbox to Telegram: a synchronous Bot API `sendMessage` per message (the
delivery worker is synchronous), paced under Telegram's limits.

The outcome tells the delivery what to do: HTTP 429 names a time to wait (`RateLimited`, the
recipient is parked, nothing dropped); a blocked bot or an unknown chat can never succeed
(`PermanentFailure`, recorded and told to the coordinators); anything else is raised as it is and
the message is tried again.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bots.conversation.messages import outbox_buttons
from bots.telegram.buttons import keyboard_rows
from bots.telegram.formatting import CAPTION_LIMIT, escaped, escaped_chunks
from bots.telegram.pacing import Pacing
from core.service import evidence
from workers.senders import Outgoing, PermanentFailure, RateLimited

BOT_API = "https://api.telegram.org/bot"
TIMEOUT_S = 20
BUTTONS_PER_ROW = 2  # an outbox message's buttons are decisions: Agree | Decline side by side
# 400s that no retry can mend: the address itself is wrong.
UNREACHABLE = ("chat not found", "user not found", "peer_id_invalid", "chat_id is empty")


class TelegramUnavailable(Exception):
    """Telegram answered with an error worth trying again later."""


class TelegramSender:
    platform = "telegram"

    def __init__(
        self,
        token: str,
        engine: Engine,
        *,
        base_url: str | None = None,
        client: httpx.Client | None = None,
        pacing: Pacing | None = None,
    ):
        self._url = f"{base_url or bot_api_url()}{token}/"
        self.engine = engine
        self.client = client or httpx.Client(timeout=TIMEOUT_S)
        self.pacing = pacing or Pacing()
        hide_token_from_logs()

    def send(self, address: str, message: Outgoing) -> None:
        """`message.payload["buttons"]`, `[[label, command], ...]`, become an inline keyboard;
        `message.payload["picture"]`, a kept photo's id, goes as a photo, the text its caption."""
        pairs = [(b.label, b.command) for b in outbox_buttons(message.payload)]
        rows = [pairs[i : i + BUTTONS_PER_ROW] for i in range(0, len(pairs), BUTTONS_PER_ROW)]
        markup = {"inline_keyboard": keyboard_rows(rows, self.engine)} if rows else None
        kept = self._picture(message.payload.get("picture"))
        caption = escaped(message.text).strip()
        if kept is not None and len(caption) <= CAPTION_LIMIT:
            self.pacing.wait(address)
            self._send_photo(address, kept, caption, markup)
            return
        if kept is not None:  # a caption too long for a photo follows it as text
            self.pacing.wait(address)
            self._send_photo(address, kept, "", None)
        chunks = escaped_chunks(message.text)
        for number, chunk in enumerate(chunks, start=1):
            body = {"chat_id": address, "text": chunk, "parse_mode": "HTML"}
            if markup and number == len(chunks):
                body["reply_markup"] = markup
            self.pacing.wait(address)
            self._call("sendMessage", body)

    def _picture(self, picture_id) -> evidence.Kept | None:
        if not isinstance(picture_id, int):
            return None
        with Session(self.engine) as session:
            return evidence.picture(session, picture_id)

    def _send_photo(self, address: str, kept: evidence.Kept, caption: str, markup) -> None:
        body = {"chat_id": address}
        if caption:
            body |= {"caption": caption, "parse_mode": "HTML"}
        if markup:
            body["reply_markup"] = json.dumps(markup)  # a multipart form carries JSON as text
        extension = kept.content_type.rpartition("/")[2] or "jpeg"
        photo = (f"evidence-{kept.id}.{extension}", kept.data, kept.content_type)
        self._call("sendPhoto", body, files={"photo": photo})

    def _call(self, method: str, body: dict, files: dict | None = None) -> dict:
        if files:
            response = self.client.post(self._url + method, data=body, files=files)
        else:
            response = self.client.post(self._url + method, json=body)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code == 200 and answer.get("ok"):
            return answer.get("result") or {}
        description = answer.get("description") or f"HTTP {response.status_code}"
        parameters = answer.get("parameters") or {}
        if response.status_code == 429:
            raise RateLimited(float(parameters.get("retry_after") or 1))
        if response.status_code == 403:  # blocked, kicked, deactivated, never started
            raise PermanentFailure(f"Telegram: {description}")
        if response.status_code == 400 and (
            parameters.get("migrate_to_chat_id")
            or any(reason in description.lower() for reason in UNREACHABLE)
        ):
            raise PermanentFailure(f"Telegram: {description}")
        raise TelegramUnavailable(f"Telegram {method}: {description}")

    def close(self) -> None:
        self.client.close()


def bot_api_url(environ: Mapping[str, str] = os.environ) -> str:
    """Where the Bot API is: TELEGRAM_API_URL names another server's root (a self-hosted
    telegram-bot-api, or an emulator in tests) as `http://host:port`; `/bot<token>/` follows."""
    root = environ.get("TELEGRAM_API_URL", "").strip().rstrip("/")
    return f"{root}/bot" if root else BOT_API


def hide_token_from_logs() -> None:
    """httpx logs every request's URL at INFO, and a Bot API URL carries the bot's token."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
