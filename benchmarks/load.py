"""Loading a large network from YAML: the 10,000-item benchmark network, written in the native
format, read by a bare libyaml parse (the floor), by SCIS's load (libyaml with lines, checks and
the model; the cache written), and by SCIS's load again (from the cache). Each in a fresh child
process, so that every figure includes imports and the peak memory is the process's own.

Goals (issue 19): the load within 1.5× the bare parse, the cached load well under a second,
and < 300 MB peak end to end.

    python benchmarks/load.py [--items 10000] [--rounds 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import project_paths  # noqa: F401  (puts the project on sys.path)
import yaml
from layered_network import layered_network
from peak_memory import peak_mb

from core.network.model import KEYED_RECORDS, Delivery, Location, Network

# Fields of the model that the native format does not write: where a record came from, and what
# only importers of published manifests leave unknown.
NOT_WRITTEN = {"origin", "inputs_known", "processes_known"}


def native_document(network: Network) -> dict:
    """`network` as a `scis: 1` document (ARCHITECTURE.md, The network format)."""
    document: dict = {"scis": 1}
    for kind in KEYED_RECORDS:
        records = getattr(network, kind).values()
        if records:
            document[kind] = [_native(record) for record in records]
    if network.substitutes:
        document["substitutes"] = [{"item": s.item, "by": s.by} for s in network.substitutes]
    return document


def _native(record) -> dict:
    written = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if f.name in NOT_WRITTEN or value is None or value == f.default or value in ((), {}):
            continue
        if isinstance(value, Location | Delivery):
            value = {k.name: getattr(value, k.name) for k in fields(value)}
            value = {k: v for k, v in value.items() if v is not None}
        elif isinstance(value, frozenset):
            value = sorted(value)
        elif f.name == "inputs":
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif hasattr(value, "items"):
            value = dict(value)
        written["yield" if f.name == "yield_" else f.name] = value
    return written


def write_network(path: Path, items: int) -> int:
    network = layered_network(items=items, depth=10, fan_in=3, alternatives=2)
    text = yaml.dump(native_document(network), Dumper=yaml.CSafeDumper, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def child(kind: str, path: Path) -> dict:
    """One measurement, in this (fresh) process."""
    started = time.perf_counter()
    cpu = time.process_time()
    if kind == "bare":
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    else:
        from bots.network_cache import load_network_cached

        result = load_network_cached([path])
        assert not result.errors and result.network.items, result.errors[:3]
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "peak_mb": peak_mb(),
    }


def measure(kind: str, path: Path, cache: Path) -> dict:
    env = {**os.environ, "SCIS_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="write the network here and keep it")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(options.child[0], Path(options.child[1]))))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = options.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "benchmarks-net.yaml"
        size = write_network(path, options.items)
        cache = Path(scratch) / "cache"
        print(f"{options.items:,}-item layered network: {path} ({size / 1e6:.1f} MB of YAML)")
        # Rounds side by side, each figure the least of its rounds: others' work on the machine
        # only ever adds time.
        runs = {"bare": [], "first": [], "again": []}
        for _ in range(options.rounds):
            runs["bare"].append(measure("bare", path, cache))
            shutil.rmtree(cache, ignore_errors=True)
            runs["first"].append(measure("load", path, cache))
            runs["again"].append(measure("load", path, cache))
        bare, first, again = (
            {key: min(run[key] for run in runs[kind]) for key in runs[kind][0]}
            for kind in ("bare", "first", "again")
        )
    rows = [
        ("bare libyaml parse (the floor)", bare),
        ("scis load (cache written)", first),
        ("scis load again (cached)", again),
    ]
    print(f"{'':34} {'wall s':>7} {'cpu s':>7} {'× floor':>8} {'peak MB':>8}")
    for name, row in rows:
        ratio = row["cpu"] / bare["cpu"]
        print(
            f"{name:34} {row['seconds']:7.2f} {row['cpu']:7.2f} {ratio:7.2f}× {row['peak_mb']:8.0f}"
        )
    peak = max(first["peak_mb"], again["peak_mb"])
    print(
        f"goals: load ≤ 1.5× the floor: {first['cpu'] / bare['cpu']:.2f}× "
        f"({'met' if first['cpu'] <= 1.5 * bare['cpu'] else 'NOT met'}); cached < 1 s: "
        f"{again['cpu']:.2f} s of CPU ({'met' if again['cpu'] < 1 else 'NOT met'}); "
        f"peak < 300 MB: {peak:.0f} MB ({'met' if peak < 300 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
