"""Logging the bot in: with end-to-end encryption, on the device kept in its slot
(bots/matrix/devices.py); without, by password (a new device each start) or access token."""

from __future__ import annotations

from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bots.matrix.devices import MatrixLoginFailed, SerialStore, Slot, log_in
from bots.matrix.settings import MatrixSettings

__all__ = ["MatrixLoginFailed", "client_config", "connect"]


def client_config(patient: bool, e2e: bool = False) -> AsyncClientConfig:
    """A 429 comes back to us at once (max_limit_exceeded=0): the sender must hand the wait to
    the outbox, and the adapter waits itself. `patient` clients (the sync loop) retry a dead
    connection for ever with backoff; impatient ones (the sender) give up so that the worker
    retries the whole delivery later."""
    return AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=None if patient else 1,
        max_timeout_retry_wait_time=30,
        request_timeout=60 if patient else 20,
        encryption_enabled=e2e,
        store=SerialStore,
        store_sync_tokens=False,  # next_batch lives in the PlatformState table instead
    )


async def connect(
    settings: MatrixSettings, patient: bool = True, slot: Slot | None = None
) -> AsyncClient:
    """A logged-in client, encrypting on the slot's device when given one; raises
    MatrixLoginFailed."""
    if slot is not None:
        return await log_in(settings, slot, client_config(patient, e2e=True))
    client = AsyncClient(settings.homeserver, settings.user, config=client_config(patient))
    try:
        if settings.access_token:
            client.access_token = settings.access_token
            answer = await client.whoami()
            if not isinstance(answer, WhoamiResponse):
                raise MatrixLoginFailed(f"the access token was refused: {answer}")
            if answer.user_id != settings.user:
                raise MatrixLoginFailed(
                    f"the access token is {answer.user_id}'s, not MATRIX_USER {settings.user}'s"
                )
            client.restore_login(answer.user_id, answer.device_id or "", settings.access_token)
        else:
            answer = await client.login(settings.password, device_name=settings.device_name)
            if not isinstance(answer, LoginResponse):
                raise MatrixLoginFailed(f"{settings.user} could not log in: {answer}")
    except BaseException:
        await client.close()
        raise
    return client
