"""Which homeserver and account the bot uses, which of its rooms this process answers, and where
its end-to-end encryption keys live, from the environment (README: Run it for a community)."""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_STORE = "matrix-store"  # beside ./scis.db: /var/lib/scis under systemd and compose


class MatrixNotConfigured(Exception):  # noqa: N818
    """MATRIX_* names a homeserver but not a usable account; the message says what is missing."""


@dataclass(frozen=True)
class Shard:
    """The rooms one of `count` processes answers, all logged in as the same bot: those whose
    room id's CRC-32 modulo `count` is `index` (CRC-32, not hash(), which differs between
    processes). Every room, its invite included, belongs to exactly one shard."""

    index: int = 0
    count: int = 1

    def __post_init__(self):
        if not (self.count >= 1 and 0 <= self.index < self.count):
            raise MatrixNotConfigured(
                f"MATRIX_SHARD {self} names no shard: it is i/N with 0 <= i < N, as 0/2 and 1/2"
            )

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise MatrixNotConfigured(
                f"MATRIX_SHARD {text!r} is not i/N (this process's number, from 0, and how many "
                "processes share the bot's rooms)"
            ) from None
        return cls(index, count)

    @property
    def whole(self) -> bool:
        return self.count == 1

    def owns(self, room_id: str) -> bool:
        return self.whole or zlib.crc32(room_id.encode()) % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


ALL_ROOMS = Shard()  # one process answers every room


@dataclass(frozen=True)
class MatrixSettings:
    homeserver: str  # https://matrix.example.org
    user: str  # @scis:example.org
    password: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    device_name: str = "SCIS"
    shard: Shard = ALL_ROOMS
    # Where each process keeps its olm device (bots/matrix/devices.py); None: no end-to-end
    # encryption, and an encrypted room is told that SCIS cannot read it.
    store: Path | None = None

    def __post_init__(self):
        if not (self.password or self.access_token):
            raise MatrixNotConfigured(
                "Matrix needs MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN beside MATRIX_USER"
            )
        if self.store is not None and not self.password:
            raise MatrixNotConfigured(
                "end-to-end encryption needs MATRIX_PASSWORD: each process logs in a device of "
                "its own once (an access token is one device); or set MATRIX_E2E=off"
            )

    @property
    def e2e(self) -> bool:
        return self.store is not None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> MatrixSettings | None:
        """None when Matrix is not configured at all (no MATRIX_HOMESERVER). MATRIX_SHARD=i/N
        when N processes share the bot's rooms: this one answers shard i (default 0/1, all).
        End-to-end encryption is on with a password (MATRIX_E2E=off turns it off), its devices
        kept in MATRIX_STORE (default ./matrix-store); an access token alone means no E2E."""
        homeserver = environ.get("MATRIX_HOMESERVER", "").strip()
        if not homeserver:
            return None
        user = environ.get("MATRIX_USER", "").strip()
        if not user:
            raise MatrixNotConfigured("MATRIX_HOMESERVER is set but MATRIX_USER is not")
        password = environ.get("MATRIX_PASSWORD") or None
        e2e = environ.get("MATRIX_E2E", "on").strip().lower()
        if e2e not in ("on", "off"):
            raise MatrixNotConfigured(f"MATRIX_E2E is {e2e!r}: on (the default) or off")
        store = environ.get("MATRIX_STORE", "").strip() or DEFAULT_STORE
        return cls(
            homeserver=homeserver.rstrip("/"),
            user=user,
            password=password,
            access_token=environ.get("MATRIX_ACCESS_TOKEN") or None,
            shard=Shard.parse(environ.get("MATRIX_SHARD", "").strip() or "0/1"),
            store=Path(store) if e2e == "on" and password else None,
        )
