"""What the Telegram tests share: a stand-in for the conversation layer, the bot running in a
thread of its own, a sender's pacing that never waits, and PNGs of a chosen size."""

from __future__ import annotations

import asyncio
import struct
import threading
import time
import zlib

from telegram.ext import Application

from bots.conversation.messages import Button, Incoming, Picture, Reply
from bots.telegram import Webhook, serve
from bots.telegram.pacing import Pacing

LONG_COMMAND = "/say 12 " + "a message far longer than Telegram's sixty-four bytes of data"


class StandInConversation:
    """Stands in for the conversation layer (bots/conversation, written separately): records
    what it is asked and answers from a script — text with markup characters, two buttons (one
    whose command is too long for callback data) and, for /stages, a picture."""

    def __init__(self, picture_size: tuple[int, int] = (640, 480)):
        self.heard: list[Incoming] = []
        self.picture_size = picture_size
        self._lock = threading.Lock()

    def answer(self, incoming: Incoming) -> list[Reply]:
        with self._lock:
            self.heard.append(incoming)
        if incoming.text == "/start":
            return [
                Reply(
                    "Welcome <b>Ada</b> & co: pick a plan",
                    buttons=(
                        (Button("Plan 1", "/choose 12 1"), Button("Tell everyone", LONG_COMMAND)),
                    ),
                ),
                Reply("Then /agree 12 when <you> are ready."),
            ]
        if incoming.text == "/stages 12":
            png = png_of_size(*self.picture_size)
            return [Reply("Order 12", picture=Picture(png, "order-12.png", "Stages <of> 12"))]
        return [Reply(f"You said: {incoming.text}")]

    def texts(self) -> list[str]:
        with self._lock:
            return [incoming.text for incoming in self.heard]


class BotThread:
    """`serve(application, …)` on an event loop in a thread, so the test's synchronous emulator
    client never blocks the bot."""

    def __init__(self, application: Application, webhook: Webhook | None = None):
        self.application = application
        self.webhook = webhook
        self.error: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._stop = asyncio.Event()
            await serve(self.application, self._stop, self.webhook, poll_interval=0.05)

        try:
            self._loop.run_until_complete(main())
        except BaseException as exc:  # re-raised in the test's thread
            self.error = exc
        finally:
            self._loop.close()

    def __enter__(self) -> BotThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.application.running:
            if self.error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the bot did not start: {self.error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not start within 10 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=15)
        assert not self._thread.is_alive(), "the bot did not stop"
        if self.error is not None:
            raise self.error


class NoWait(Pacing):
    """The emulator has no flood limits and pacing has tests of its own; waiting a second per
    message to one chat would only make this scenario slow."""

    def __init__(self):
        super().__init__(sleep=lambda _seconds: None)


def png_of_size(width: int, height: int) -> bytes:
    """A real (greyscale, blank) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def text_update(update_id: int, chat_id: int, message_id: int, text: str) -> dict:
    """A message update as the Bot API sends it (to a webhook, or in getUpdates)."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Ada"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Ada"},
            "from": person,
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                if text.startswith("/")
                else {}
            ),
        },
    }
