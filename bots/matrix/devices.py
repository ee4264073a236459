"""The bot's olm devices, for end-to-end encrypted rooms: one per process, kept across restarts.

A person's client encrypts each room key to every device of the bot's account it knows, so a
device's olm account, sessions and room keys must outlive its process: a new device at every
start could read nothing that was sent to the old one. Each process that talks on Matrix takes
a *slot* in MATRIX_STORE (`MatrixSettings.store`, by default ./matrix-store beside ./scis.db):

    <store>/<slot>/login.json   the device id with its access token (mode 600)
    <store>/<slot>/*.db         nio's SqliteStore: olm account, sessions, room keys, trust
    <store>/<slot>/lock         held (flock) for as long as a process uses the slot

The sync loop of `scis serve` takes `serve` (`serve-i-of-N` for MATRIX_SHARD=i/N), and it must be
free; each process with a `MatrixSender` (every `scis worker` process, and `scis serve` when it
runs the workers itself) takes the first free `sender-K`. So two processes never open the same
store, and as many sender devices exist as senders ever ran side by side. The password logs a
slot's device in once; afterwards its kept token restores the same device. A slot whose token
the homeserver refuses (a coordinator logged that device out) starts over: a new device, an
empty store. Each machine needs a MATRIX_STORE of its own: flock over a network file system is
not to be trusted.

Trust is on first use: room keys go to every device of the room's members (nio's
`ignore_unverified_devices`); there is no interactive verification. A device is blocked by
signing it out on the homeserver: the device lists change, nio drops the room keys shared with
that person's devices, and the next message shares new ones without it (README: Devices, for a
coordinator).
"""

from __future__ import annotations

import fcntl
import functools
import inspect
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MegolmEvent,
    WhoamiResponse,
)
from nio.store import SqliteStore

from bots.matrix.settings import MatrixNotConfigured, MatrixSettings, Shard

log = logging.getLogger(__name__)

LOGIN = "login.json"
LOCK = "lock"
MAX_SENDERS = 64  # more sender processes on one machine than this is a leak, not a deployment
UNKNOWN_TOKEN = ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN")


class SerialStore(SqliteStore):
    """nio's SqliteStore, one call at a time in the process. Its table models are module-wide,
    and each call binds them to its store's file for the call's duration: two stores used from
    two threads at once (the adapter's loop and a sender's, in one `scis serve`) would read and
    write each other's files. The calls are short, local SQLite work."""


def _one_at_a_time(method):
    @functools.wraps(method)
    def serialised(*args, **kwargs):
        with _STORES:
            return method(*args, **kwargs)

    return serialised


_STORES = threading.RLock()
for _name, _method in inspect.getmembers(SqliteStore, inspect.isfunction):
    if not _name.startswith("__") or _name == "__post_init__":
        setattr(SerialStore, _name, _one_at_a_time(_method))


class MatrixLoginFailed(Exception):  # noqa: N818
    """The homeserver refused the bot's credentials; the message says why (never the secret)."""


def serve_slot(shard: Shard) -> str:
    return "serve" if shard.whole else f"serve-{shard.index}-of-{shard.count}"


@dataclass
class Slot:
    """One process's device: its directory, locked by this process until `release`."""

    name: str
    path: Path
    _lock: IO

    def saved_login(self) -> dict | None:
        try:
            return json.loads((self.path / LOGIN).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def save_login(self, user_id: str, device_id: str, access_token: str) -> None:
        login = {"user_id": user_id, "device_id": device_id, "access_token": access_token}
        partial = self.path / f"{LOGIN}.new"
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(login, f)
        partial.replace(self.path / LOGIN)

    def forget(self) -> None:
        """The device is gone: its login and keys are of no use to a new one."""
        for stale in [self.path / LOGIN, *self.path.glob("*.db")]:
            stale.unlink(missing_ok=True)

    def release(self) -> None:
        self._lock.close()  # closing the file lets the lock go


def take(store: Path, name: str) -> Slot | None:
    """The slot, locked for this process; None when another process holds it."""
    path = store / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle = (path / LOCK).open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return Slot(name, path, handle)


def take_serve_slot(store: Path, shard: Shard) -> Slot:
    slot = take(store, serve_slot(shard))
    if slot is None:
        raise MatrixNotConfigured(
            f"another process answers Matrix shard {shard} with the device in "
            f"{store / serve_slot(shard)}: one `scis serve` per shard and MATRIX_STORE"
        )
    return slot


def take_sender_slot(store: Path) -> Slot:
    for number in range(1, MAX_SENDERS + 1):
        slot = take(store, f"sender-{number}")
        if slot is not None:
            return slot
    raise MatrixNotConfigured(f"all {MAX_SENDERS} sender devices in {store} are in use")


def devices_in(store: Path) -> dict[str, str]:
    """Slot name → device id, of the devices kept in the store (read only: no lock taken)."""
    found = {}
    for login in sorted(store.glob(f"*/{LOGIN}")):
        try:
            found[login.parent.name] = json.loads(login.read_text())["device_id"]
        except (OSError, ValueError, KeyError):
            continue
    return found


def e2e_status(settings: MatrixSettings) -> str:
    """One line for `scis health`: whether E2E is on, and the devices kept in the store."""
    if not settings.e2e:
        return "E2E off (MATRIX_E2E=off, or no MATRIX_PASSWORD to log devices in)"
    kept = devices_in(settings.store)
    if not kept:
        return f"E2E on, no device yet in {settings.store} (the first start logs one in)"
    return "E2E on, devices " + ", ".join(f"{slot} {device}" for slot, device in kept.items())


async def log_in(settings: MatrixSettings, slot: Slot, config: AsyncClientConfig) -> AsyncClient:
    """A client on the slot's device, its keys loaded: the kept one, or a new one by password."""
    saved = slot.saved_login()
    if saved is not None and saved.get("user_id") == settings.user:
        client = _client(settings, slot, config, saved["device_id"])
        client.access_token = saved["access_token"]
        answer = await client.whoami()
        if isinstance(answer, WhoamiResponse) and answer.device_id == saved["device_id"]:
            client.restore_login(settings.user, saved["device_id"], saved["access_token"])
            return client
        await client.close()
        if getattr(answer, "status_code", None) not in UNKNOWN_TOKEN:
            raise MatrixLoginFailed(f"the device kept in {slot.path} was not accepted: {answer}")
        log.warning("the Matrix device %s was logged out; logging in a new one", saved["device_id"])
    slot.forget()
    client = _client(settings, slot, config, None)
    answer = await client.login(
        settings.password, device_name=f"{settings.device_name} {slot.name}"
    )
    if not isinstance(answer, LoginResponse):
        await client.close()
        raise MatrixLoginFailed(f"{settings.user} could not log in: {answer}")
    slot.save_login(answer.user_id, answer.device_id, answer.access_token)
    log.info("Matrix device %s logged in for %s", answer.device_id, slot.name)
    return client


def _client(settings, slot: Slot, config, device_id: str | None) -> AsyncClient:
    return AsyncClient(
        settings.homeserver,
        settings.user,
        device_id=device_id or "",
        store_path=str(slot.path),
        config=config,
    )


async def keep_keys(client: AsyncClient) -> None:
    """What a sync leaves to do for encryption: one-time keys uploaded, the devices of changed
    members queried, olm sessions claimed, key shares sent. Nothing without E2E. A failure is
    logged: the next sync tries again."""
    if client.olm is None:
        return
    steps = []
    if client.should_upload_keys:
        steps.append(client.keys_upload())
    if client.should_query_keys:
        steps.append(client.keys_query())
    if client.should_claim_keys:
        steps.append(client.keys_claim(client.get_users_for_key_claiming()))
    for step in steps:
        answer = await step
        if getattr(answer, "status_code", None):
            log.warning("Matrix key upkeep: %s", answer)
    await client.send_to_device_messages()


async def ask_for_key(client: AsyncClient, event: MegolmEvent) -> None:
    """Asks the sender's devices for the room key of an event the bot could not read (clients
    share a key again with a device they shared it with before, or that they trust)."""
    request = event.as_key_request(event.sender, client.device_id)
    answer = await client.to_device(request)
    if getattr(answer, "status_code", None):
        log.warning("could not ask %s for a room key: %s", event.sender, answer)


def is_encrypted(client: AsyncClient, room_id: str) -> bool:
    """Whether what the bot posts in the room must be encrypted (E2E on, room encrypted)."""
    room = client.rooms.get(room_id)
    return client.olm is not None and room is not None and room.encrypted
