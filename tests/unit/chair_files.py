"""The paper's chair as the unit tests read it: examples/chair.yaml, alone or with the seat
makers of tests/scenarios/seat-maker.yaml (to whom a disruption of Hal's shop re-plans)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from core.importers import load_network
from core.network.model import Network

PROJECT = Path(__file__).resolve().parents[2]
CHAIR = PROJECT / "examples" / "chair.yaml"
SEAT_MAKER = PROJECT / "tests" / "scenarios" / "seat-maker.yaml"


@cache
def chair_network(*paths: Path) -> Network:
    """The network of `paths`, the chair's alone when none are given, loaded without an error;
    once for each set of paths (a Network cannot change)."""
    loaded = load_network(list(paths or (CHAIR,)))
    assert loaded.errors == []
    return loaded.network
