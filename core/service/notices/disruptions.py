"""Notices of supply signals (core/service/disruptions.py). A resource is named as people call
it (`name`) and by its id (`resource`), which is what /restore and /watch take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.service.notices import Notice


@dataclass(frozen=True)
class OutOfService(Notice):
    """To whoever watches the resource or an item it provides."""

    kind: ClassVar[str] = "alert"
    resource: str
    name: str
    reason: str


@dataclass(frozen=True)
class BackInService(Notice):
    kind: ClassVar[str] = "alert"
    resource: str
    name: str


@dataclass(frozen=True)
class DisruptionNoted(Notice):
    """To whoever signalled it: how many live orders used it (they are being re-planned)."""

    kind: ClassVar[str] = "outcome"
    resource: str
    name: str
    affected: int


@dataclass(frozen=True)
class RestoreNoted(Notice):
    """To whoever restored it: the orders that waited, and whether each goes on now."""

    kind: ClassVar[str] = "outcome"
    resource: str
    name: str
    replanned: tuple[tuple[int, bool], ...]  # (order, goes on)


@dataclass(frozen=True)
class Watching(Notice):
    kind: ClassVar[str] = "noted"
    target: str
    name: str
