"""`scis db …`: bring the database's schema up to date, and say where it stands.

Alembic and SQLAlchemy are imported inside the commands: the rest of `scis` starts without them.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

db_app = typer.Typer(
    help="The database schema: `scis db upgrade` creates or updates it, `scis db current` "
    "shows where it stands.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# No markup: a URL like postgresql://[::1]/scis prints as written, and stays whole for copying.
out = Console(soft_wrap=True, highlight=False, markup=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (sqlite:///file.db, postgresql://…). Default: DATABASE_URL, else "
        "sqlite:///scis.db.",
        show_default=False,
    ),
]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(1)


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
        _fail(f"cannot upgrade {where}: {_first_line(exc)}")
    if before == after:
        out.print(f"{where} is already at {migrate.describe(after)}; nothing to do.")
    elif before is None:
        out.print(f"Created the schema in {where}: now at {migrate.describe(after)}.")
    else:
        out.print(f"Upgraded {where} from {before} to {migrate.describe(after)}.")


@db_app.command()
def current(url: UrlOption = None):
    """Which schema revision the database is at, and whether it is the newest."""
    from core.store import migrate

    url = migrate.normalised(url)
    where = migrate.shown(url)
    try:
        revision = migrate.current(url)
    except Exception as exc:
        _fail(f"cannot read {where}: {_first_line(exc)}")
    head = migrate.head()
    if revision is None:
        out.print(f"{where} has no schema yet; `scis db upgrade` creates it.")
    elif revision == head:
        out.print(f"{where} is at {migrate.describe(revision)}, the newest.")
    else:
        out.print(
            f"{where} is at {migrate.describe(revision)}; the newest is {migrate.describe(head)}: "
            "`scis db upgrade` brings it there."
        )
