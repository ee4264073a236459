"""Tests only: PTB's HTTP layer pointed at telegram-test-api, with the emulator's answers made
into what the Bot API would have said, so the real Application runs unchanged against it.

The deviations it mends (telegram_emulator.py lists them): getMe without `is_bot`; message
`date` in milliseconds; callback queries without `chat_instance`; `null` where the Bot API
returns true; errors as HTTP 500 `{"message"}` instead of `{"ok": false, "description"}`; no
sendPhoto or sendDocument at all, so those are answered here as Telegram would (the message they
made) and kept in `pictures` (chat id, method, caption) instead of reaching the emulator.
`calls` lists the Bot API methods the bot used, for tests that must see a call the emulator keeps
no trace of (answerCallbackQuery).
"""

from __future__ import annotations

import itertools
import json
import time

from telegram.request import HTTPXRequest

TRUE_WHEN_NULL = {
    "answerCallbackQuery",
    "editMessageText",
    "editMessageReplyMarkup",
    "setWebhook",
    "deleteMessage",
}
MILLISECONDS = 10**11  # a `date` above this is not seconds (year 5138)
PICTURE_METHODS = {"sendPhoto", "sendDocument"}
_picture_ids = itertools.count(10**9)  # far above the emulator's own message ids


class EmulatorRequest(HTTPXRequest):
    def __init__(
        self,
        calls: list[str] | None = None,
        pictures: list[tuple[int, str, str]] | None = None,
        **options,
    ):
        super().__init__(**options)
        self.calls = calls if calls is not None else []
        self.pictures = pictures if pictures is not None else []

    async def do_request(self, url: str, method: str, request_data=None, **timeouts):
        bot_method = url.rsplit("/", 1)[-1]
        self.calls.append(bot_method)
        if bot_method in PICTURE_METHODS and request_data is not None:
            return picture_sent(bot_method, request_data.parameters, self.pictures)
        code, payload = await super().do_request(url, method, request_data, **timeouts)
        return adapt(bot_method, code, payload)


def picture_sent(bot_method: str, parameters: dict, pictures: list) -> tuple[int, bytes]:
    """What Telegram answers to a photo or document sent: the message it became."""
    chat_id = int(parameters["chat_id"])
    caption = str(parameters.get("caption") or "")
    pictures.append((chat_id, bot_method, caption))
    number = next(_picture_ids)
    media = (
        {
            "photo": [
                {"file_id": f"p{number}", "file_unique_id": f"p{number}", "width": 1, "height": 1}
            ]
        }
        if bot_method == "sendPhoto"
        else {"document": {"file_id": f"d{number}", "file_unique_id": f"d{number}"}}
    )
    message = {
        "message_id": number,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        **({"caption": caption} if caption else {}),
        **media,
    }
    return 200, json.dumps({"ok": True, "result": message}).encode()


def adapt(bot_method: str, code: int, payload: bytes) -> tuple[int, bytes]:
    try:
        answer = json.loads(payload)
    except ValueError:
        return code, payload
    if code != 200:
        description = answer.get("message") or answer.get("description") or f"HTTP {code}"
        error = {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
        return 400, json.dumps(error).encode()
    result = answer.get("result")
    if bot_method == "getMe" and isinstance(result, dict):
        result.setdefault("is_bot", True)
    if result is None and bot_method in TRUE_WHEN_NULL:
        result = True
    if bot_method == "getUpdates" and isinstance(result, list):
        for update in result:
            query = update.get("callback_query")
            if query is not None and "chat_instance" not in query:
                chat = (query.get("message") or {}).get("chat") or query["from"]
                query["chat_instance"] = str(chat["id"])
    answer["result"] = _dates_in_seconds(result)
    return 200, json.dumps(answer).encode()


def _dates_in_seconds(value):
    if isinstance(value, dict):
        return {
            key: (
                item // 1000
                if key == "date" and isinstance(item, int) and item > MILLISECONDS
                else _dates_in_seconds(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_dates_in_seconds(item) for item in value]
    return value
