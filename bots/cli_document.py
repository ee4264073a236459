"""How `scis risk`, `scis fragility` and `scis survival` hand out the document each builds: as
JSON on stdout (`--json`) or as a reading on the terminal, and drawn as a PNG (`--plot`).

One document behind both forms means that what a person sees and what a script reads cannot
drift apart.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from bots.cli_output import fail, out


def check_plot(path: Path | None) -> None:
    """Before the work, not after it: a Monte Carlo run should not end in a typo'd folder."""
    if path is not None and not path.parent.is_dir():
        fail(f"{path}: no such folder for the picture")


def publish(
    document: dict,
    as_json: bool,
    plot: Path | None,
    draw: Callable[[dict], bytes],
    read: Callable[[Console, dict], None],
) -> None:
    """Draw the document to `plot` (and say so in it), then print it, as JSON or as a reading."""
    if plot is not None:
        picture = draw(document)
        try:
            plot.write_bytes(picture)
        except OSError as error:
            fail(f"{plot}: cannot write the picture ({error.strerror or error})")
        document["plot"] = str(plot)
    if as_json:
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False, allow_nan=False)
        sys.stdout.write("\n")
    else:
        read(out, document)


def finite(value: float) -> float | None:
    """JSON has no infinity: None stands for it."""
    return value if math.isfinite(value) else None


def percent(share: float) -> str:
    if 0 < share < 0.001:
        return "<0.1 %"
    return f"{share:.1%}".replace("%", " %")
