"""Can this SCIS work? The database (reachable, schema at the newest migration), the broker
(Redis answers PING; none configured: in-process) and each configured chat platform (Telegram
knows the token; the Matrix homeserver answers and takes the credentials).

The checks run at once, each in a thread of its own with a deadline: a server that never
answers is reported as such, not waited for. A reason is one line, with no secret in it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bots.logs import redact

if TYPE_CHECKING:
    from bots.matrix.settings import MatrixSettings

TIMEOUT_S = 5.0


class Unhealthy(Exception):
    """A check's one-line finding that something is wrong."""


@dataclass(frozen=True)
class Check:
    name: str  # database, broker, telegram, matrix
    healthy: bool
    detail: str  # what was found, or why it is not healthy


Probe = Callable[[], str]  # returns what it found; raises when it is not healthy


def check_all(
    url: str | None = None,
    environ: Mapping[str, str] = os.environ,
    timeout: float = TIMEOUT_S,
) -> list[Check]:
    """Every check this environment calls for; `url` is the database (default DATABASE_URL)."""
    probes: dict[str, Probe] = {
        "database": lambda: database(url),
        "broker": lambda: broker(environ.get("REDIS_URL"), timeout),
    }
    if environ.get("TELEGRAM_TOKEN"):
        probes["telegram"] = lambda: telegram(environ, timeout)
    if environ.get("MATRIX_HOMESERVER", "").strip():  # as bots.platforms.configured says
        from bots.matrix.settings import MatrixNotConfigured, MatrixSettings

        try:
            settings = MatrixSettings.from_environment(environ)
            probes["matrix"] = lambda: matrix(settings, timeout)
        except MatrixNotConfigured as problem:
            probes["matrix"] = _raises(Unhealthy(str(problem)))
    return run(probes, timeout, environ)


def run(probes: Mapping[str, Probe], timeout: float, environ=os.environ) -> list[Check]:
    findings: dict[str, Check] = {}

    def attempt(name: str, probe: Probe) -> None:
        try:
            findings[name] = Check(name, True, probe())
        except Exception as problem:
            findings[name] = Check(name, False, _one_line(problem))

    # Daemon threads: a probe stuck in a connect cannot hold the process past its deadline.
    threads = {
        name: threading.Thread(target=attempt, args=(name, probe), daemon=True, name=name)
        for name, probe in probes.items()
    }
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + timeout + 0.5  # each probe's own timeouts come first
    checks = []
    for name, thread in threads.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        found = findings.get(name) or Check(name, False, f"no answer within {timeout:g} s")
        checks.append(dataclasses.replace(found, detail=redact(found.detail, environ)))
    return checks


def database(url: str | None) -> str:
    from core.store import migrate

    url = migrate.normalised(url)
    where = migrate.shown(url)
    try:
        revision = migrate.current(url)
    except Exception as problem:
        raise Unhealthy(f"cannot read {where}: {_one_line(problem)}") from None
    head = migrate.head()
    if revision is None:
        raise Unhealthy(f"{where} has no schema yet; `scis db upgrade` creates it")
    if revision != head:
        raise Unhealthy(
            f"{where} is at {migrate.describe(revision)}, the newest is "
            f"{migrate.describe(head)}: `scis db upgrade` brings it there"
        )
    return f"{where} at {migrate.describe(revision)}, the newest"


def broker(redis_url: str | None, timeout: float) -> str:
    if not redis_url:
        return "in-process (no REDIS_URL): `scis serve` runs the workers itself"
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    options = client.connection_pool.connection_kwargs
    where = options.get("path") or f"{options.get('host')}:{options.get('port')}"
    try:
        client.ping()
    except redis.RedisError as problem:
        raise Unhealthy(f"Redis at {where}: {_one_line(problem)}") from None
    finally:
        client.close()
    return f"Redis at {where} answers"


def telegram(environ: Mapping[str, str], timeout: float) -> str:
    """The Bot API's getMe with the token (TELEGRAM_API_URL: another Bot API server)."""
    import httpx

    from bots.telegram.sender import bot_api_url

    api = bot_api_url(environ)
    try:
        response = httpx.get(f"{api}{environ['TELEGRAM_TOKEN']}/getMe", timeout=timeout)
    except httpx.HTTPError as problem:
        raise Unhealthy(f"cannot reach the Bot API: {_one_line(problem)}") from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code == 200 and answer.get("ok"):
        return f"@{(answer.get('result') or {}).get('username')} answers"
    description = answer.get("description") or answer.get("message") or response.reason_phrase
    if response.status_code in (401, 404):  # Telegram's answers to a revoked or malformed token
        raise Unhealthy(f"Telegram refused the token (HTTP {response.status_code} {description})")
    raise Unhealthy(f"Telegram getMe answered HTTP {response.status_code} {description}")


def matrix(settings: MatrixSettings, timeout: float) -> str:
    return asyncio.run(asyncio.wait_for(_matrix(settings, timeout), timeout))


async def _matrix(settings: MatrixSettings, timeout: float) -> str:
    """The homeserver's /versions, then the credentials: a token is asked whoami; a password
    logs in a device of the check's own, logged out again (no device is left behind): never
    one of the olm devices, whose stores the running processes hold. Then whether E2E is on
    and the device ids kept in MATRIX_STORE."""
    import aiohttp

    from bots.matrix.connection import MatrixLoginFailed, connect
    from bots.matrix.devices import e2e_status

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            async with http.get(f"{settings.homeserver}/_matrix/client/versions") as response:
                if response.status != 200:
                    raise Unhealthy(
                        f"{settings.homeserver} answered HTTP {response.status} to "
                        "/_matrix/client/versions: not a Matrix homeserver?"
                    )
                versions = (await response.json(content_type=None)).get("versions") or ["?"]
    except (aiohttp.ClientError, TimeoutError) as problem:
        reason = _one_line(problem) or "no answer"
        raise Unhealthy(f"cannot reach {settings.homeserver}: {reason}") from None
    try:
        client = await connect(
            dataclasses.replace(settings, device_name="SCIS health check"), patient=False
        )
    except MatrixLoginFailed as problem:
        raise Unhealthy(_one_line(problem)) from None
    try:
        if not settings.access_token:
            await client.logout()
    finally:
        await client.close()
    return (
        f"{settings.user} logged in on {settings.homeserver} (Matrix {versions[-1]}); "
        + e2e_status(settings)
    )


def _one_line(problem: BaseException) -> str:
    text = str(getattr(problem, "orig", None) or problem).strip()
    return text.splitlines()[0] if text else type(problem).__name__


def _raises(problem: Exception) -> Probe:
    def probe() -> str:
        raise problem

    return probe
