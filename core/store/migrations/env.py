"""Alembic's environment. Run through core.store.migrate (or `scis db …`), which builds the
configuration in code: the URL travels in `config.attributes["url"]`, or an open connection in
`config.attributes["connection"]`.

The target is SQLModel.metadata (every table of core.store.tables), copied with named
constraints (core.store.migrate.NAMING_CONVENTION). SQLite gets batch mode, since it alters a
table only by copying it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from core.store.database import database_url
from core.store.migrate import schema_metadata

config = context.config
target_metadata = schema_metadata()


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    return url or database_url()


def _options(dialect_name: str) -> dict:
    return {
        "target_metadata": target_metadata,
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
    }


def run_migrations_offline() -> None:
    """`--sql` mode: write the SQL instead of running it."""
    url = _url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_options(url.split(":", 1)[0].split("+", 1)[0]),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # A plain engine, not make_engine's: batch mode on SQLite copies tables, which foreign-key
    # enforcement and BEGIN IMMEDIATE would get in the way of.
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
