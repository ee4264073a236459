"""Where the `scis` commands write: their consoles, and the one line on which a command fails."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# Readings for a person: markup, tables, trees. On a terminal rich wraps them to its width;
# piped or redirected, a line stays one line (soft wrap) whatever its length, so an id or a
# path is never cut at 80 columns for a pager or a script.
out = Console()
out.soft_wrap = not out.is_terminal
# Reports of what was done, without markup: a URL like postgresql://[::1]/scis prints as
# written, and stays whole for copying.
plain = Console(soft_wrap=True, highlight=False, markup=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def fail(message: str, status: int = 1) -> NoReturn:
    """End the command: `error: message` on stderr, exit status 1 (2 for a wrong usage).

    Every error of `scis` goes through here, Typer's own (an unknown option, a missing
    argument) too: one style, whichever layer found the mistake.

    Never wrapped: a file's path makes these long, and a wrapped message is two lines to a
    script reading stderr. Escaped: a message quotes names and paths, never markup.
    """
    say_error(message)
    raise typer.Exit(status)


def say_error(message: str) -> None:
    """One `error: …` line on stderr, for a command that has more than one to say."""
    err.print(f"[bold red]error:[/] {escape(message)}")


def usage_error(exc: typer.TyperException) -> int:
    """Say a mistake Typer found (an unknown option, a missing argument, a value out of range)
    in the one error style, with where to read more; the exit status to end with."""
    message = exc.format_message()
    context = getattr(exc, "ctx", None)
    if context is not None and exc.exit_code == 2:
        message = f"{message.rstrip('.')}; `{context.command_path} --help` shows how"
    say_error(message)
    return exc.exit_code


def first_line(exc: Exception) -> str:
    """What went wrong in one line; the driver's own words where SQLAlchemy wraps them."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
