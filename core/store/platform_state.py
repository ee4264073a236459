"""What a chat adapter remembers across restarts and processes, in the PlatformState table: one
platform's keys, each read or write in a short transaction of its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.store.database import writing
from core.store.tables import PlatformState, now


class PlatformMemory:
    def __init__(self, engine: Engine, platform: str):
        self.engine, self.platform = engine, platform

    def get(self, key: str, newer_than: datetime | None = None) -> str | None:
        """The value kept under `key`; None when there is none, or it is older than asked."""
        with Session(self.engine) as session:
            row = session.get(PlatformState, (self.platform, key))
            if row is None or (newer_than is not None and row.updated_at < newer_than):
                return None
            return row.value

    def put(self, key: str, value: str, at: datetime | None = None) -> None:
        """Keep `value` under `key`, replacing what was there."""
        for _ in range(2):  # a racing insert of the same key makes the second try an update
            try:
                with Session(writing(self.engine)) as session, session.begin():
                    row = session.get(PlatformState, (self.platform, key))
                    if row is None:
                        row = PlatformState(platform=self.platform, key=key, value=value)
                    row.value, row.updated_at = value, at or now()
                    session.add(row)
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"{self.platform} {key} could not be kept")

    def add(self, key: str, value: str = "") -> bool:
        """Keep `value` under `key` unless something is there already; whether it was added."""
        try:
            with Session(writing(self.engine)) as session, session.begin():
                if session.get(PlatformState, (self.platform, key)) is not None:
                    return False
                session.add(PlatformState(platform=self.platform, key=key, value=value))
            return True
        except IntegrityError:  # another process added it at the same moment
            return False

    def forget(self, key: str) -> bool:
        """Whether there was something to forget."""
        with Session(writing(self.engine)) as session, session.begin():
            row = session.get(PlatformState, (self.platform, key))
            if row is None:
                return False
            session.delete(row)
            return True

    def forget_older(self, prefix: str, than: datetime) -> None:
        with Session(writing(self.engine)) as session, session.begin():
            session.exec(
                delete(PlatformState).where(
                    PlatformState.platform == self.platform,
                    PlatformState.key.startswith(prefix),
                    PlatformState.updated_at < than,
                )
            )

    def key_holding(self, prefix: str, value: str) -> str | None:
        """The first key under `prefix` that holds `value` (a reverse look-up)."""
        with Session(self.engine) as session:
            return session.exec(
                select(PlatformState.key).where(
                    PlatformState.platform == self.platform,
                    PlatformState.key.startswith(prefix),
                    PlatformState.value == value,
                )
            ).first()
