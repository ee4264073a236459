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
    return insert_new_values(session, table, values, *unique)


def insert_new_values(session: Session, table: Table, values: dict, *unique: str) -> int | None:
    """`insert_new` of a row given as its columns' values (every column without a database
    default; the id left out): for the hot path, where building the model object to read the
    values back off it costs more CPU than the insert."""
    statement = _statement(session.get_bind().dialect.name, table, unique)
    return session.execute(statement, values).scalar_one_or_none()


@cache
def _statement(dialect: str, table: Table, unique: tuple[str, ...]) -> Insert:
    # Built once: building a statement costs more CPU than running it.
    insert = _INSERT[dialect]
    return insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)
