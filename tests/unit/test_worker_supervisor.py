"""`scis worker`'s parent process sends a tick now and then: it must not hold a worker's memory
(SCIS, SQLAlchemy, the chat libraries) to do it."""

from __future__ import annotations

import subprocess
import sys


def test_the_supervisor_imports_none_of_scis():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, workers.supervisor; "
            "print(sorted(m for m in ('core', 'bots', 'sqlalchemy', 'sqlmodel', 'telegram') "
            "if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert loaded.strip() == "[]"
