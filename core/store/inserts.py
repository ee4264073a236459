"""Inserting a row that a unique constraint may find kept already, in one statement: no SELECT
before it and no savepoint around it (INSERT … ON CONFLICT DO NOTHING RETURNING, which
PostgreSQL and SQLite both have)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_new(session: Session, row: SQLModel, *unique: str) -> int | None:
    """Inserts `row` (its defaults filled in, its id left to the database) unless a row with
    the same values of the `unique` columns is kept: the new row's id, or None. A twin that
    another transaction inserted and has not committed yet makes this wait for its end."""
    table = type(row).__table__
    values = {
        column.name: getattr(row, column.name)
        for column in table.columns
        if not column.primary_key or getattr(row, column.name) is not None
    }
    statement = _statement(session.get_bind().dialect.name, table, unique)
    return session.execute(statement, values).scalar_one_or_none()


@cache
def _statement(dialect: str, table: Table, unique: tuple[str, ...]) -> Insert:
    # Built once: building a statement costs more CPU than running it.
    insert = _INSERT[dialect]
    return insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)
