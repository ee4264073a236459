"""A network as plain JSON-able data and back, exactly: how a network version is stored."""

from __future__ import annotations

from dataclasses import fields, replace

from core.network.model import (
    KEYED_RECORDS,
    Delivery,
    Location,
    Network,
    Origin,
    Substitute,
    frozen_mapping,
)


def to_document(network: Network) -> dict:
    document = {
        kind: [_plain(r) for r in getattr(network, kind).values()] for kind in KEYED_RECORDS
    }
    document["substitutes"] = [_plain(s) for s in network.substitutes]
    if network.unknown_processes_match_any:
        document["assume"] = {"unknown-processes": "any"}
    return document


def from_document(document: dict) -> Network:
    records = {
        kind: [_record(cls, data) for data in document.get(kind, [])]
        for kind, cls in KEYED_RECORDS.items()
    }
    substitutes = [_record(Substitute, data) for data in document.get("substitutes", [])]
    network = Network.of(**records, substitutes=substitutes)
    if document.get("assume", {}).get("unknown-processes") == "any":
        network = replace(network, unknown_processes_match_any=True)
    return network


def _plain(record) -> dict:
    data = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, Location | Origin | Delivery):
            value = {k.name: getattr(value, k.name) for k in fields(value)}
        elif isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        elif hasattr(value, "items"):
            value = dict(value)
        data[f.name] = value
    return data


def _record(cls, data: dict):
    values = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "location" and value is not None:
            value = Location(**value)
        elif f.name in ("delivery", "pickup") and value is not None:
            value = Delivery(**value)
        elif f.name == "origin":
            value = Origin(**value)
        elif f.name == "processes":
            value = frozenset(value)
        elif f.name == "inputs":
            value = tuple((item, quantity) for item, quantity in value)
        elif f.name in ("roles", "aliases"):
            value = tuple(value)
        elif isinstance(value, dict):
            value = frozen_mapping(value)
        values[f.name] = value
    return cls(**values)
