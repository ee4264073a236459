"""How the end-to-end tests run `scis`: the console script beside this Python, else on PATH,
else the module."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def scis_command() -> list[str]:
    script = Path(sys.executable).with_name("scis")
    if script.exists():
        return [str(script)]
    found = shutil.which("scis")
    return [found] if found else [sys.executable, "-m", "bots.cli"]
