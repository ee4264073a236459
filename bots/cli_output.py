"""Where the `scis` commands write: their consoles, and the one line on which a command fails."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# Readings for a person: markup, tables, trees.
out = Console()
# Reports of what was done, without markup: a URL like postgresql://[::1]/scis prints as
# written, and stays whole for copying.
plain = Console(soft_wrap=True, highlight=False, markup=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def fail(message: str) -> NoReturn:
    """End the command: `error: message` on stderr, exit status 1.

    Never wrapped: a file's path makes these long, and a wrapped message is two lines to a
    script reading stderr. Escaped: a message quotes names and paths, never markup.
    """
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(1)


def first_line(exc: Exception) -> str:
    """What went wrong in one line; the driver's own words where SQLAlchemy wraps them."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
