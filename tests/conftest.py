from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT / "examples"
CORPUS = PROJECT.parent / "shared" / "corpus"


@pytest.fixture(autouse=True, scope="session")
def network_cache(tmp_path_factory) -> Path:
    """Networks parsed by the tests, and by the `scis` they start, are cached in the run's own
    folder, not in the user's cache (bots/network_cache.py)."""
    folder = tmp_path_factory.mktemp("network-cache")
    os.environ["SCIS_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture
def corpus() -> Path:
    """The real manifests of ../shared/corpus; tests that need them skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (it sits in ../shared beside the project)")
    return CORPUS
