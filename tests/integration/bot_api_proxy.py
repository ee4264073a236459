"""The Telegram emulator as `scis serve` processes see it through TELEGRAM_API_URL: a small
aiohttp proxy in the test process (a thread of its own) that passes each Bot API call on to
telegram-test-api and mends the emulator's answers as emulator_request.adapt does for the bots
the tests build themselves (a separate process cannot be handed a request class). `calls` lists
the Bot API methods called, so a test can wait for every process's setWebhook."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from aiohttp import ClientSession, web
from database_servers import free_port
from emulator_request import adapt


class BotApiProxy:
    def __init__(self, emulator_url: str):
        self.emulator_url = emulator_url.rstrip("/")
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

            async def forward(request: web.Request) -> web.Response:
                method = request.match_info["method"]
                with self._lock:
                    self.calls[method] += 1
                async with upstream.request(
                    request.method,
                    f"{self.emulator_url}{request.path}",
                    data=await request.read(),
                    headers={"Content-Type": request.headers.get("Content-Type", "")},
                ) as answer:
                    code, payload = adapt(method, answer.status, await answer.read())
                return web.Response(status=code, body=payload, content_type="application/json")

            server = web.Application()
            server.router.add_route("*", "/{token}/{method}", forward)
            runner = web.AppRunner(server, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            await self._stopping.wait()
            await runner.cleanup()
