from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT / "examples"
CORPUS = PROJECT.parent / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    """The real manifests of ../shared/corpus; tests that need them skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (it sits in ../shared beside the project)")
    return CORPUS
