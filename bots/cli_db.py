"""`scis db …`: bring the database's schema up to date, and say where it stands.

Alembic and SQLAlchemy are imported inside the commands: the rest of `scis` starts without them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bots.cli_options import MARKUP
from bots.cli_output import fail, first_line, plain

db_app = typer.Typer(
    help="The database schema: `scis db upgrade` creates or updates it, `scis db current` "
    "shows where it stands.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=MARKUP,
)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (sqlite:///file.db, postgresql://…). Default: DATABASE_URL, else "
        "sqlite:///scis.db.",
        show_default=False,
    ),
]


@db_app.command()
def upgrade(
    url: UrlOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
):
    """Create or update the schema to the newest revision (safe to run again)."""
    from core.store import migrate

    url = migrate.normalised(url)
    where = migrate.shown(url)
    try:
        before, after = migrate.upgrade(url, revision)
    except Exception as exc:  # unreachable server, unknown revision: one line, no traceback
        fail(f"cannot upgrade {where}: {first_line(exc)}")
    if before == after:
        plain.print(f"{where} is already at {migrate.describe(after)}; nothing to do.")
    elif before is None:
        plain.print(f"Created the schema in {where}: now at {migrate.describe(after)}.")
    else:
        plain.print(f"Upgraded {where} from {before} to {migrate.describe(after)}.")


@db_app.command()
def current(url: UrlOption = None):
    """Which schema revision the database is at, and whether it is the newest."""
    from core.store import migrate

    url = migrate.normalised(url)
    where = migrate.shown(url)
    try:
        revision = migrate.current(url)
    except Exception as exc:
        fail(f"cannot read {where}: {first_line(exc)}")
    head = migrate.head()
    if revision is None:
        plain.print(f"{where} has no schema yet; `scis db upgrade` creates it.")
    elif revision == head:
        plain.print(f"{where} is at {migrate.describe(revision)}, the newest.")
    else:
        plain.print(
            f"{where} is at {migrate.describe(revision)}; the newest is {migrate.describe(head)}: "
            "`scis db upgrade` brings it there."
        )
