"""The Telegram emulator as `scis serve` processes see it through TELEGRAM_API_URL: a small
aiohttp proxy in the test process (a thread of its own) that passes each Bot API call on to
telegram-test-api and mends the emulator's answers as emulator_request.adapt does for the bots
the tests build themselves (a separate process cannot be handed a request class). `calls` lists
the Bot API methods called, so a test can wait for every process's setWebhook.

With `hold_s`, a bot's `getUpdates` that finds nothing is held until an update arrives, the
bot's own `timeout` runs out or `hold_s` pass — Telegram's long polling, which the emulator
lacks (it answers at once, and a bot polling without a pause would spin)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from urllib.parse import parse_qs

from aiohttp import ClientSession, web
from database_servers import free_port
from emulator_request import adapt

HOLD_STEP_S = 0.02  # how often a held getUpdates asks the emulator again


class BotApiProxy:
    def __init__(self, emulator_url: str, hold_s: float = 0.0):
        self.emulator_url = emulator_url.rstrip("/")
        self.hold_s = hold_s
        self.port = free_port()
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="bot-api-proxy", daemon=True)

    @property
    def url(self) -> str:
        """TELEGRAM_API_URL's value: the root; `/bot<token>/<method>` follows."""
        return f"http://127.0.0.1:{self.port}"

    def called(self, method: str) -> int:
        with self._lock:
            return self.calls[method]

    def start(self) -> BotApiProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Bot API proxy did not start")
        return self

    def stop(self) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)

    def __enter__(self) -> BotApiProxy:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        async with ClientSession() as upstream:

            async def call(request: web.Request, body: bytes) -> tuple[int, bytes]:
                async with upstream.request(
                    request.method,
                    f"{self.emulator_url}{request.path}",
                    data=body,
                    headers={"Content-Type": request.headers.get("Content-Type", "")},
                ) as answer:
                    return adapt(request.match_info["method"], answer.status, await answer.read())

            async def forward(request: web.Request) -> web.Response:
                method = request.match_info["method"]
                with self._lock:
                    self.calls[method] += 1
                body = await request.read()
                code, payload = await call(request, body)
                deadline = time.monotonic() + min(self.hold_s, poll_timeout(body))
                while (
                    method == "getUpdates"
                    and code == 200
                    and payload.replace(b" ", b"").endswith(b'"result":[]}')
                    and time.monotonic() < deadline
                    and not self._stopping.is_set()
                ):
                    await asyncio.sleep(HOLD_STEP_S)
                    code, payload = await call(request, body)
                return web.Response(status=code, body=payload, content_type="application/json")

            server = web.Application()
            server.router.add_route("*", "/{token}/{method}", forward)
            runner = web.AppRunner(server, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            await self._stopping.wait()
            await runner.cleanup()


def poll_timeout(body: bytes) -> float:
    """A getUpdates' `timeout` (form or JSON, as a bot sends it): how long it may be held."""
    try:
        values = json.loads(body) if body.lstrip().startswith(b"{") else parse_qs(body.decode())
        given = values.get("timeout", 0)
        return float(given[0] if isinstance(given, list) else given)
    except (ValueError, TypeError, AttributeError):
        return 0.0
