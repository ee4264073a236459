"""Options several `scis` commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# Help reads as written: paragraphs reflowed to the terminal, never broken where a docstring's
# source line ends. Every Typer of `scis` takes it.
MARKUP = "markdown"
NetworkOption = Annotated[
    list[Path],
    typer.Option(
        "--network",
        "-n",
        help="A scis YAML network, or any manifest or folder the importers read. Repeatable.",
    ),
]
ScenarioOption = Annotated[
    Path,
    typer.Option(
        "--scenario",
        "-s",
        help="A scis-risk YAML or JSON file: demand, losses, rates, stock, recovery times.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]
PlotOption = Annotated[
    Path | None, typer.Option("--plot", help="Also draw it, as a PNG written to this file.")
]
