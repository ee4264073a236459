"""One transaction per use case: everything a handler writes is committed together or not at all."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.store.database import writing


class UnitOfWork:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.session: Session | None = None

    def __enter__(self) -> UnitOfWork:
        self.session = Session(writing(self.engine), expire_on_commit=False)
        self.session.begin()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is not None:
                self.session.rollback()
        finally:
            self.session.close()
            self.session = None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
