"""Telegram's error answers, for the tests that need them: the emulator answers every token and
has no errors of the Bot API's kind, so a small HTTP server in the test process stands in for
Telegram where a test needs one — a chat that blocked the bot, a rate limit, a revoked token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class TelegramRefuses(BaseHTTPRequestHandler):
    """A request handler that answers as Telegram does when a call fails; quiet (no log lines
    on stderr). Subclasses say which error a request gets, with `refuse`."""

    def refuse(self, error_code: int, description: str, **more) -> None:
        """Telegram's body for a failed call: ok false, the error code and its description, and
        anything `more` (its `parameters`, such as retry_after)."""
        body = {"ok": False, "error_code": error_code, "description": description, **more}
        payload = json.dumps(body).encode()
        self.send_response(error_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args):
        pass


@contextmanager
def serving(handler: type[TelegramRefuses]) -> Iterator[str]:
    """`handler` on a free port of 127.0.0.1, in a thread, until the block ends; its root URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
