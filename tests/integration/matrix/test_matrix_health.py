"""`scis health`'s Matrix check against the real Synapse: the homeserver answers, the password
logs in (and the check leaves no device behind), the access token is the bot's (and still works
after the check); a wrong password or a homeserver that is not there fail in one line."""

from __future__ import annotations

import asyncio

from database_servers import free_port
from nio import AsyncClient, DevicesResponse, WhoamiResponse

from bots.health import check_all


def matrix_check(environ: dict, sqlite_template):
    checks = {c.name: c for c in check_all(f"sqlite:///{sqlite_template}", environ, timeout=10)}
    return checks["matrix"]


def settings_of(synapse, bot, **secret) -> dict:
    return {"MATRIX_HOMESERVER": synapse.url, "MATRIX_USER": bot.user_id, **secret}


async def devices(synapse, bot) -> list[str]:
    client = AsyncClient(synapse.url, bot.user_id)
    client.restore_login(bot.user_id, bot.device_id, bot.access_token)
    try:
        answer = await client.devices()
        assert isinstance(answer, DevicesResponse), answer
        return sorted(device.id for device in answer.devices)
    finally:
        await client.close()


async def test_the_password_logs_in_and_no_device_is_left_behind(synapse, bot, sqlite_template):
    before = await devices(synapse, bot)
    environ = settings_of(synapse, bot, MATRIX_PASSWORD=bot.password)
    matrix = await asyncio.to_thread(matrix_check, environ, sqlite_template)
    assert matrix.healthy, matrix
    assert matrix.detail.startswith(f"{bot.user_id} logged in on {synapse.url} (Matrix v1.")
    assert await devices(synapse, bot) == before


async def test_the_access_token_is_the_bots_and_still_works_afterwards(
    synapse, bot, sqlite_template
):
    environ = settings_of(synapse, bot, MATRIX_ACCESS_TOKEN=bot.access_token)
    matrix = await asyncio.to_thread(matrix_check, environ, sqlite_template)
    assert matrix.healthy, matrix
    client = AsyncClient(synapse.url, bot.user_id)
    client.access_token = bot.access_token
    try:
        assert isinstance(await client.whoami(), WhoamiResponse)
    finally:
        await client.close()


def test_a_wrong_password_fails_without_the_password(synapse, bot, sqlite_template):
    wrong = "not-the-right-passphrase"
    matrix = matrix_check(settings_of(synapse, bot, MATRIX_PASSWORD=wrong), sqlite_template)
    assert not matrix.healthy
    assert "could not log in" in matrix.detail and "\n" not in matrix.detail
    assert wrong not in matrix.detail


def test_a_homeserver_that_is_not_there_fails(bot, sqlite_template):
    homeserver = f"http://127.0.0.1:{free_port()}"
    environ = {"MATRIX_HOMESERVER": homeserver, "MATRIX_USER": bot.user_id}
    environ["MATRIX_PASSWORD"] = bot.password
    matrix = matrix_check(environ, sqlite_template)
    assert not matrix.healthy
    assert matrix.detail.startswith(f"cannot reach {homeserver}: ")


def test_a_half_configured_matrix_is_unhealthy(synapse, sqlite_template):
    matrix = matrix_check({"MATRIX_HOMESERVER": synapse.url}, sqlite_template)
    assert not matrix.healthy
    assert "MATRIX_USER" in matrix.detail
