"""A network version is stored as a JSON document: to_document → JSON text → from_document must
give back the very same network — same records, same types, same order (the weave's tie-breaks
follow declaration order), down to where each record was read from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields, is_dataclass, replace
from functools import cache
from pathlib import Path

import pytest

from core.importers import load_network
from core.network.model import Item, Network, frozen_mapping
from core.network.snapshot import from_document, to_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KINDS = ("participants", "items", "designs", "facilities", "offers", "transport")


@cache
def _network(*paths: Path) -> Network:
    return load_network(list(paths)).network


def difference(a, b, path: str = "network") -> str | None:
    """Where two values differ, or None. Stricter than ==: types must match (1 ≠ 1.0 ≠ True,
    tuple ≠ list, mappingproxy ≠ dict) and mappings must list their keys in the same order."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r} ≠ {type(b).__name__} {b!r}"
    if is_dataclass(a):
        for f in fields(a):
            found = difference(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
            if found:
                return found
        return None
    if isinstance(a, Mapping):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} ≠ {list(b)}"
        for key in a:
            found = difference(a[key], b[key], f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} entries ≠ {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} ≠ {b!r}"


def assert_round_trip(network: Network) -> dict:
    document = to_document(network)
    # Standard JSON, as PostgreSQL's json type takes it: no NaN or Infinity.
    text = json.dumps(document, allow_nan=False)
    back = from_document(json.loads(text))
    assert difference(network, back) is None
    assert back == network
    # And the document of the copy is the document of the original.
    assert json.dumps(to_document(back), allow_nan=False) == text
    return document


@pytest.mark.parametrize("name", ["chair.yaml", "hurricane-city.yaml"])
def test_an_example_network_survives_the_round_trip_exactly(name):
    network = _network(EXAMPLES / name)
    assert all(getattr(network, kind) for kind in ("participants", "items", "designs", "offers"))
    assert network.substitutes

    document = assert_round_trip(network)

    for kind in KINDS:
        assert [r["id"] for r in document[kind]] == list(getattr(network, kind)), kind


@pytest.mark.corpus
def test_the_whole_corpus_survives_the_round_trip_exactly(corpus):
    network = _network(corpus)
    assert len(network.participants) > 100 and network.designs and network.offers

    assert_round_trip(network)


def test_an_empty_network_survives_the_round_trip():
    assert_round_trip(Network())
    assert from_document({}) == Network()


def test_the_strict_comparison_sees_what_equality_does_not():
    """What makes 'exact' mean exact: == alone would pass all of these."""
    item = Item("leg", "Leg", properties=frozen_mapping({"latex-free": True}))
    as_dict = replace(item, properties={"latex-free": True})
    assert item == as_dict and difference(item, as_dict) is not None
    assert difference((1,), [1]) is not None
    assert difference(1, 1.0) is not None
    assert difference({"a": 1, "b": 2}, {"b": 2, "a": 1}) is not None
    assert difference(Network(), Network()) is None
