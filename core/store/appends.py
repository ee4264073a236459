"""The event log and the outbox take a transaction's rows in bulk: kept in memory as a handler
records them, and written with one INSERT per table (SQLAlchemy Core: the ORM's objects and
unit of work cost more CPU than the insert itself). They are written before the transaction
commits, and sooner when it would read them: before an ORM query of either table in the same
session, and when an event's id is asked for. A rollback drops the rows not written yet, as it
drops the rest of the transaction's work; handlers that roll back (a refused chat command, a
failed weave's savepoint) start their result afresh too."""

from __future__ import annotations

from sqlalchemy import event, insert
from sqlalchemy.orm import ORMExecuteState, Session

from core.store.tables import EventRow, Notification

_KEY = "scis_appends"
_EVENTS = EventRow.__table__
_WRITE_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)
_WRITE_NOTIFICATIONS = insert(Notification.__table__)
_MAPPERS = frozenset({EventRow.__mapper__, Notification.__mapper__})


class LoggedEvent:
    """An event recorded in this transaction; its id is the database's, so asking for it
    writes the rows recorded until then."""

    __slots__ = ("values", "_appends", "_id")

    def __init__(self, values: dict, appends: Appends):
        self.values = values
        self._appends = appends
        self._id: int | None = None

    @property
    def id(self) -> int:
        if self._id is None:
            self._appends.write()
        if self._id is None:
            raise RuntimeError("the event was rolled back with its transaction")
        return self._id


class Appends:
    """The rows of one session's transaction bound for the event log and the outbox."""

    def __init__(self, session: Session):
        self.session = session
        self.events: list[LoggedEvent] = []
        self.notifications: list[dict] = []
        session.info[_KEY] = self

    def event(self, values: dict) -> LoggedEvent:
        logged = LoggedEvent(values, self)
        self.events.append(logged)
        return logged

    def notification(self, values: dict) -> None:
        self.notifications.append(values)

    def write(self) -> None:
        events, self.events = self.events, []
        if events:
            ids = self.session.execute(_WRITE_EVENTS, _one_or_many([e.values for e in events]))
            for logged, id_ in zip(events, ids.scalars(), strict=True):
                logged._id = id_
        notifications, self.notifications = self.notifications, []
        if notifications:
            self.session.execute(_WRITE_NOTIFICATIONS, _one_or_many(notifications))

    def drop(self) -> None:
        self.events.clear()
        self.notifications.clear()


def _one_or_many(rows: list[dict]) -> dict | list[dict]:
    # One row is a plain INSERT: SQLAlchemy's batching of many rows costs more for one.
    return rows[0] if len(rows) == 1 else rows


def _appends(session: Session) -> Appends | None:
    appends = session.info.get(_KEY)
    if appends is not None and (appends.events or appends.notifications):
        return appends
    return None


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    appends = _appends(session)
    if appends is not None:
        appends.write()


@event.listens_for(Session, "do_orm_execute")
def _before_reading(state: ORMExecuteState) -> None:
    appends = _appends(state.session)
    if appends is not None and state.is_select and not _MAPPERS.isdisjoint(state.all_mappers):
        appends.write()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous) -> None:
    appends = session.info.get(_KEY)
    if appends is not None:
        appends.drop()
