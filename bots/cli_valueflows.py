"""`scis export valueflows` and `scis import valueflows`: the database's intents and orders as a
Value Flows JSON-LD document for other VF tools, and the intents of such a document cast here.

The service layer and the database are imported inside the commands: the rest of `scis` starts
without them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bots.cli_db import UrlOption
from bots.cli_options import MARKUP
from bots.cli_output import fail, first_line, plain

export_app = typer.Typer(
    help="Write what the database holds in a form other tools read.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=MARKUP,
)
import_app = typer.Typer(
    help="Read what other tools wrote into the database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=MARKUP,
)

DEFAULT_BASE = "https://scis.example/"


def _services(url: str | None):
    """The application over a database that has its schema (else one line saying how to get
    it); a SQLite file that is not there is not created by asking."""
    from bots.bootstrap import application
    from core.store import migrate
    from core.store.database import make_engine

    url = migrate.normalised(url)
    where = migrate.shown(url)
    try:
        revision = migrate.current(url)
    except Exception as exc:  # unreachable server: one line, no traceback
        fail(f"cannot read {where}: {first_line(exc)}")
    if revision is None:
        fail(f"{where} has no schema yet; `scis db upgrade` creates it")
    return application(make_engine(url)), where


# Typer makes a sub-app with one command that command itself; a callback keeps the group, so
# that the words read `scis export valueflows`, with room for other formats beside it.
@export_app.callback()
def _export() -> None:
    """Write what the database holds in a form other tools read."""


@import_app.callback()
def _import() -> None:
    """Read what other tools wrote into the database."""


@export_app.command("valueflows")
def export_valueflows(
    url: UrlOption = None,
    base: Annotated[str, typer.Option(help="The IRI every node's @id starts with.")] = DEFAULT_BASE,
    out_file: Annotated[
        str, typer.Option("--out", help="The file to write; - for standard output.")
    ] = "-",
):
    """The participants, intents and agreed orders (plans, commitments, events) as VF JSON-LD."""
    from core.service.valueflows_io import valueflows_document

    services, where = _services(url)
    try:
        document = services.read(lambda session: valueflows_document(services, session, base))
    except Exception as exc:
        fail(f"cannot read {where}: {first_line(exc)}")
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out_file == "-":
        sys.stdout.write(text)
        return
    try:
        Path(out_file).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out_file}: {exc.strerror or exc}")
    graph = document["@graph"]
    counts = {
        kind: sum(node["@type"] == f"vf:{kind}" for node in graph)
        for kind in ("Intent", "Plan", "Commitment", "EconomicEvent")
    }
    plain.print(
        f"Wrote {out_file}: {_many(counts['Intent'], 'intent')}, "
        f"{_many(counts['Plan'], 'order')} with {_many(counts['Commitment'], 'commitment')} and "
        f"{_many(counts['EconomicEvent'], 'event')}."
    )


def _many(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@import_app.command("valueflows")
def import_valueflows(
    file: Annotated[Path, typer.Argument(help="A VF JSON-LD document.", show_default=False)],
    url: UrlOption = None,
):
    """Cast the open intents of a VF document (offers, requests, proposals), all or none.

    Everyone they name must be a participant already. Each is matched at once.
    """
    from core.service.commands import ImportIntents, MatchIntent
    from core.service.results import Refused

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{file} is not JSON: {exc}")
    if not isinstance(document, dict):
        fail(f"{file} is not a Value Flows document: it is not a JSON object")
    services, where = _services(url)
    try:
        ids = services.handle(ImportIntents(None, document, file.name)).value
    except Refused as refusal:
        fail(f"{file}: {refusal}")
    except Exception as exc:
        fail(f"cannot import into {where}: {first_line(exc)}")
    # No worker is needed to match them: matching is a command like any other, safe to repeat.
    matches = sum(len(services.handle(MatchIntent(i)).value) for i in ids)
    if not ids:
        plain.print(f"Cast 0 intents from {file.name}: none in it is open.")
        return
    shown = ", ".join(str(i) for i in ids)
    found = f"{matches} match{'' if matches == 1 else 'es'} found"
    plain.print(f"Cast {_many(len(ids), 'intent')} from {file.name}: {shown}; {found}.")
