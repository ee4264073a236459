"""Where the benchmarks find the project. Importing this module puts on sys.path the project
(core, workers, bots) and the integration tests' harnesses (tests/integration and its matrix/),
so that a benchmark run as a script (`.venv/bin/python benchmarks/X.py`) imports them as the
tests do. A benchmark imports it as `import project_paths`, a plain import: isort keeps those
ahead of the `from` imports of the same section and of the project's own, which need the path.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
INTEGRATION = PROJECT / "tests" / "integration"
# The paper's chair and the seat maker a disruption re-plans to, as the chair story has them.
CHAIR_NETWORK = [
    PROJECT / "examples" / "chair.yaml",
    PROJECT / "tests" / "scenarios" / "seat-maker.yaml",
]

for folder in (PROJECT, INTEGRATION, INTEGRATION / "matrix"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
