"""The `telegram-test-api` emulator (npm), started by the tests as a child process of their own.

The package is installed by `make test` into tests/telegram_emulator/node_modules (`npm ci`);
tests/telegram_emulator/serve.js starts it on a free port of 127.0.0.1. The emulator speaks the
Bot API to the bot (`/bot<token>/<method>`) and a small API of its own to play the user:
`/sendMessage`, `/sendCommand`, `/sendCallback` (an update for the bot), `/getUpdates` (the bot's
unread messages to one chat, as the bot sent them) and `/getUpdatesHistory` (everything for one
token). Everything is namespaced by bot token, so each test takes a token of its own.

Its deviations from the Bot API (emulator_request.py adapts them):
getMe lacks `is_bot`; the `date` of the bot's messages is in milliseconds; callback queries lack
`chat_instance`; edit and answer methods return `null`; errors are HTTP 500 `{"message"}`; there
is no sendPhoto or sendDocument.

Without node, npm's package or a working start, `emulator_or_skip` skips with the reason — except
under `CI=true`, where it fails instead.
"""

from __future__ import annotations

import atexit
import html
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
from database_servers import free_port, skip_unless_ci
from local_servers import start_logged, stop_process, tail, wait_for_answer

PROJECT = Path(__file__).resolve().parents[2]
EMULATOR_DIRECTORY = PROJECT / "tests" / "telegram_emulator"
SCRIPT = EMULATOR_DIRECTORY / "serve.js"
PACKAGE = EMULATOR_DIRECTORY / "node_modules" / "telegram-test-api" / "package.json"
START_TIMEOUT_S = 15
STORE_TIMEOUT_S = 600  # the emulator forgets unread messages after this; longer than a session

_tokens = itertools.count(1)


class EmulatorUnavailable(Exception):
    """The emulator could not be started; the message says why."""


class TelegramEmulator:
    """`node serve.js` on 127.0.0.1:`port`, in a process group of its own that `stop` ends."""

    def __init__(self, node: Path, port: int | None = None):
        self.node = node
        self.port = port or free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="scis-telegram-"))
        self.log_path = self.directory / "emulator.log"
        self.process: subprocess.Popen | None = None
        self.http = httpx.Client(base_url=self.url, timeout=5)
        atexit.register(self.stop)  # in case the session ends without its finaliser

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bot_api_url(self) -> str:
        """PTB's base_url and TelegramSender's: the token follows."""
        return f"{self.url}/bot"

    def start(self) -> TelegramEmulator:
        self.process = start_logged(
            [str(self.node), str(SCRIPT), str(self.port), str(STORE_TIMEOUT_S)],
            self.log_path,
            cwd=EMULATOR_DIRECTORY,
            start_new_session=True,
        )
        why = wait_for_answer(
            self.process,
            lambda: self.http.post("/getUpdatesHistory", json={"token": "probe"}).is_success,
            START_TIMEOUT_S,
            0.05,
            (httpx.TransportError,),
        )
        if why is not None:
            tail = self.log_tail()  # read before stop() takes the directory away
            self.stop()
            raise EmulatorUnavailable(f"telegram-test-api {why} (port {self.port}): {tail}")
        return self

    def stop(self) -> None:
        self.http.close()
        if self.process is not None:
            stop_process(self.process, grace=5, group=True)
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, chars: int = 2000) -> str:
        return tail(self.log_path, chars=chars)

    def new_token(self, name: str = "bot") -> str:
        """A bot token no other test uses: the emulator keeps each token's messages apart."""
        return f"{100000 + next(_tokens)}:scis-test-{name}"

    def user(self, token: str, chat_id: int = 4242, first_name: str = "Ada") -> EmulatedUser:
        return EmulatedUser(self, token, chat_id, first_name)

    def history(self, token: str) -> list[dict]:
        """Everything stored for the token, user and bot messages, oldest first."""
        return self._post("/getUpdatesHistory", {"token": token})

    def _post(self, path: str, body: dict):
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()["result"]

    def __repr__(self) -> str:
        pid = self.process.pid if self.process else None
        return f"TelegramEmulator(port={self.port}, pid={pid})"


class EmulatedUser:
    """A person in a private chat with the bot (chat id = user id), through the client API."""

    def __init__(self, emulator: TelegramEmulator, token: str, chat_id: int, first_name: str):
        self.emulator, self.token, self.chat_id, self.first_name = (
            emulator,
            token,
            chat_id,
            first_name,
        )
        self.received: list[dict] = []  # every message `unread` has handed out, oldest first
        self._taken: set[int] = set()  # indexes in `received` that `gets` has matched already

    def _common(self) -> dict:
        person = {"id": self.chat_id, "first_name": self.first_name, "is_bot": False}
        return {
            "botToken": self.token,
            "date": int(time.time()),
            "from": person,
            "chat": {"id": self.chat_id, "first_name": self.first_name, "type": "private"},
        }

    def says(self, text: str) -> None:
        body = self._common() | {"text": text}
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            body["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
            self.emulator._post("/sendCommand", body)
        else:
            self.emulator._post("/sendMessage", body)

    def presses(self, bot_message: dict, callback_data: str) -> None:
        """Presses a button under one of the bot's messages (as `bot_messages` returns them)."""
        common = self._common()
        message = {
            "message_id": bot_message["messageId"],
            "date": common["date"],
            "chat": common["chat"],
            "text": bot_message["message"].get("text", ""),
        }
        self.emulator._post(
            "/sendCallback",
            {
                "botToken": self.token,
                "date": common["date"],
                "from": common["from"],
                "message": message,
                "data": callback_data,
            },
        )

    def unread(self) -> list[dict]:
        """The bot's messages to this chat not read yet: `{"message": <the bot's request>,
        "messageId", ...}`, the request as the bot sent it (text, parse_mode, reply_markup)."""
        fresh = self.emulator._post("/getUpdates", {"token": self.token, "chatId": self.chat_id})
        self.received += fresh
        return fresh

    def gets(self, fragment: str, timeout: float = 10) -> dict:
        """The oldest message from the bot not matched before whose text, as the person reads it
        (HTML entities rendered), contains `fragment`; waits up to `timeout` for it. The bot's
        replies and the outbox's messages come by different ways, so their order between them
        is not fixed: this matches by content, and each message only once."""
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self.received):
                if index not in self._taken and fragment in shown_text(message):
                    self._taken.add(index)
                    return message
            if time.monotonic() > deadline:
                texts = [shown_text(m) for m in self.received]
                raise AssertionError(
                    f"chat {self.chat_id} got no message with {fragment!r} in {timeout}s; "
                    f"it got {texts}"
                )
            self.unread()
            time.sleep(0.05)

    def everything(self) -> list[str]:
        """Every text the bot sent this chat so far, as the person reads it."""
        self.unread()
        return [shown_text(m) for m in self.received]

    def receives(self, count: int, timeout: float = 10) -> list[dict]:
        """Waits for `count` messages from the bot (exactly: an extra one arriving within a
        short grace period fails the test, so a reply sent twice cannot pass)."""
        received: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(received) < count:
            if time.monotonic() > deadline:
                texts = [m["message"].get("text") for m in received]
                raise AssertionError(f"expected {count} bot messages in {timeout}s, got {texts}")
            received += self.unread()
            time.sleep(0.05)
        time.sleep(0.3)
        received += self.unread()
        assert len(received) == count, [m["message"].get("text") for m in received]
        return received


def shown_text(bot_message: dict) -> str:
    """A bot message's text as Telegram shows it: parse_mode HTML's entities rendered."""
    text = bot_message["message"].get("text") or bot_message["message"].get("caption") or ""
    return html.unescape(text)


def start_emulator(environ: Mapping[str, str] = os.environ) -> TelegramEmulator:
    node = shutil.which("node", path=environ.get("PATH"))
    if node is None:
        raise EmulatorUnavailable("no Telegram emulator: node is not on PATH (install Node.js)")
    if not PACKAGE.exists():
        npm = shutil.which("npm", path=environ.get("PATH"))
        hint = "run `make test`" if npm else "npm is not on PATH either"
        raise EmulatorUnavailable(
            f"no Telegram emulator: {PACKAGE.parent} is missing ({hint}, or "
            f"`npm ci --prefix {EMULATOR_DIRECTORY.relative_to(PROJECT)}`)"
        )
    emulator = TelegramEmulator(Path(node))
    try:
        return emulator.start()
    except OSError as exc:
        emulator.stop()
        raise EmulatorUnavailable(f"could not start telegram-test-api: {exc}") from exc


def emulator_or_skip(environ: Mapping[str, str] = os.environ) -> TelegramEmulator:
    """start_emulator, turned into a skip — or, under CI=true, into a failure."""
    try:
        return start_emulator(environ)
    except EmulatorUnavailable as exc:
        skip_unless_ci(exc, "the Telegram emulator", environ=environ)
