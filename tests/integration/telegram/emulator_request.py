"""Tests only: PTB's HTTP layer pointed at telegram-test-api, with the emulator's answers made
into what the Bot API would have said, so the real Application runs unchanged against it.

The deviations it mends (telegram_emulator.py lists them): getMe without `is_bot`; message
`date` in milliseconds; callback queries without `chat_instance`; `null` where the Bot API
returns true; errors as HTTP 500 `{"message"}` instead of `{"ok": false, "description"}`.
`calls` lists the Bot API methods the bot used, for tests that must see a call the emulator keeps
no trace of (answerCallbackQuery).
"""

from __future__ import annotations

import json

from telegram.request import HTTPXRequest

TRUE_WHEN_NULL = {
    "answerCallbackQuery",
    "editMessageText",
    "editMessageReplyMarkup",
    "setWebhook",
    "deleteMessage",
}
MILLISECONDS = 10**11  # a `date` above this is not seconds (year 5138)


class EmulatorRequest(HTTPXRequest):
    def __init__(self, calls: list[str] | None = None, **options):
        super().__init__(**options)
        self.calls = calls if calls is not None else []

    async def do_request(self, url: str, method: str, request_data=None, **timeouts):
        code, payload = await super().do_request(url, method, request_data, **timeouts)
        bot_method = url.rsplit("/", 1)[-1]
        self.calls.append(bot_method)
        return adapt(bot_method, code, payload)


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
