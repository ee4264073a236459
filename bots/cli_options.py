"""Options several `scis` commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

NetworkOption = Annotated[
    list[Path],
    typer.Option(
        "--network",
        "-n",
        help="A scis YAML network, or any manifest or folder the importers read. Repeatable.",
    ),
]
