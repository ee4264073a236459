"""Schema migrations, configured in code: works from an installed package and any directory.

`upgrade(url)` brings a database to the newest schema (creating every table on an empty one);
`current(url)` says which revision a database is at. The Alembic scripts live in
core/store/migrations and ship with the package.

After changing core.store.tables, `new_revision("what changed")` writes the next migration
script (autogenerate against a scratch SQLite database at head); read it before committing.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, pool
from sqlalchemy.engine import make_url

from core.store.database import database_url, private_sqlite_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Every constraint gets a predictable name, so a later migration can drop or alter it — on
# SQLite too, whose batch mode recreates a table and must name what it leaves out.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def schema_metadata() -> MetaData:
    """The tables of core.store.tables, copied with every constraint named by NAMING_CONVENTION:
    what the migrations build and autogenerate compares against."""
    from sqlmodel import SQLModel

    import core.store.tables  # noqa: F401 -- registers every table on SQLModel.metadata

    named = MetaData(naming_convention=NAMING_CONVENTION)
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(named)
    return named


def normalised(url: str | None = None) -> str:
    """As SQLAlchemy wants it (postgres:// → postgresql+psycopg://); DATABASE_URL when None."""
    return database_url({"DATABASE_URL": url}) if url else database_url()


def shown(url: str) -> str:
    """The URL with its password hidden, fit to print."""
    return make_url(url).render_as_string(hide_password=True)


def config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # The URL goes in attributes, not the ini options, where a '%' in a password would be read
    # as interpolation.
    cfg.attributes["url"] = normalised(url)
    return cfg


def head() -> str | None:
    """The newest revision the scripts know."""
    return ScriptDirectory.from_config(config("sqlite://")).get_current_head()


def describe(revision: str | None) -> str:
    """'0001 (initial)' — a revision with the first line of its message."""
    if revision is None:
        return "none (empty database)"
    script = ScriptDirectory.from_config(config("sqlite://")).get_revision(revision)
    if script is None:
        return f"{revision} (unknown to this version of scis)"
    return f"{revision} ({script.doc})" if script.doc else revision


def current(url: str | None = None) -> str | None:
    """The revision the database is at; None when no migration was ever applied."""
    url = normalised(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            return None  # connecting would create the file: asking must change nothing
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def upgrade(url: str | None = None, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate up to `revision`; returns (revision before, revision after). Idempotent."""
    cfg = config(url)
    ScriptDirectory.from_config(cfg).get_revisions(revision)  # an unknown revision fails here,
    before = current(url)  # before a SQLite file is created for nothing
    if make_url(normalised(url)).get_backend_name() == "sqlite":
        private_sqlite_file(normalised(url))  # the migration would create it world-readable
    command.upgrade(cfg, revision)
    return before, current(url)


def downgrade(url: str | None = None, revision: str = "base") -> tuple[str | None, str | None]:
    """Migrate down to `revision` ('base' drops every table); returns (before, after)."""
    before = current(url)
    command.downgrade(config(url), revision)
    return before, current(url)


def new_revision(message: str, rev_id: str | None = None) -> Path:
    """Write the migration script from the newest revision to core.store.tables as it is now.

    For developers: the diff is taken against a scratch SQLite database at head, so no server
    is needed; the script is formatted with ruff when it is installed. Review it: autogenerate
    misses renames (it sees a drop and an add) and server-side defaults.
    """
    with tempfile.TemporaryDirectory(prefix="scis-revision-") as scratch:
        cfg = config(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        upgrade(cfg.attributes["url"])
        ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
        if ruff:
            hooks = {
                "hooks": "ruff_format",
                "ruff_format.type": "exec",
                "ruff_format.executable": ruff,
                "ruff_format.options": "format REVISION_SCRIPT_FILENAME",
            }
            for key, value in hooks.items():
                cfg.set_section_option("post_write_hooks", key, value)
        script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
    return Path(script.path)
