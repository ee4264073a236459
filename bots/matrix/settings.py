"""Which homeserver and account the bot uses, from the environment (see DESIGN.md, Runtime)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class MatrixNotConfigured(Exception):  # noqa: N818
    """MATRIX_* names a homeserver but not a usable account; the message says what is missing."""


@dataclass(frozen=True)
class MatrixSettings:
    homeserver: str  # https://matrix.example.org
    user: str  # @scis:example.org
    password: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    device_name: str = "SCIS"

    def __post_init__(self):
        if not (self.password or self.access_token):
            raise MatrixNotConfigured(
                "Matrix needs MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN beside MATRIX_USER"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> MatrixSettings | None:
        """None when Matrix is not configured at all (no MATRIX_HOMESERVER)."""
        homeserver = environ.get("MATRIX_HOMESERVER", "").strip()
        if not homeserver:
            return None
        user = environ.get("MATRIX_USER", "").strip()
        if not user:
            raise MatrixNotConfigured("MATRIX_HOMESERVER is set but MATRIX_USER is not")
        return cls(
            homeserver=homeserver.rstrip("/"),
            user=user,
            password=environ.get("MATRIX_PASSWORD") or None,
            access_token=environ.get("MATRIX_ACCESS_TOKEN") or None,
        )
