"""`scis health`: whether this SCIS can work, for a person and for a supervisor (exit status)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bots.cli_db import UrlOption


def health(
    url: UrlOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object: healthy, and each check.")
    ] = False,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds each check may take.")] = 5.0,
):
    """Check the database, the broker and each configured chat platform: one line each; exit
    status 0 when all are healthy, 1 when any is not."""
    from bots.health import check_all

    checks = check_all(url, timeout=timeout)
    healthy = all(check.healthy for check in checks)
    if as_json:
        document = {
            "healthy": healthy,
            "checks": [{"name": c.name, "healthy": c.healthy, "detail": c.detail} for c in checks],
        }
        typer.echo(json.dumps(document, ensure_ascii=False))
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            verdict = "ok" if check.healthy else "FAILED"
            typer.echo(f"{check.name:<{width}}  {verdict:<6}  {check.detail}")
    raise typer.Exit(0 if healthy else 1)
