"""A network with more plans than a number of 10,000 digits (Python refuses str() past 4,300):
the CLI and a worker weaving an order show the count by its size and keep it exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bots.bootstrap import application
from core.importers import load_network
from core.plan_counts import exact_text, from_exact_text
from core.service.commands import LoadNetwork, PlaceOrder, WeaveOrder
from core.service.plan_pages import plan_page
from core.service.queries import timeline

LEVELS, WIDTH, FACILITIES, OFFERS, READY = 7, 4, 3, 3, 6


def huge_network(folder: Path) -> tuple[Path, int]:
    """Items in 7 levels of 4, each made of all 4 below at any of 3 facilities, the last level
    bought from 3 sellers: 3·c⁴ ways a level, 10,423 digits at the top. The top item is also
    sold ready-made, 6 times and cheapest, so the best plans are short to draw."""
    lines = ["scis: 1", "participants:", "  - {id: dana, name: Dana, roles: [buyer]}"]
    lines += [
        "  - {id: ana, name: Ana, roles: [maker]}",
        "  - {id: bob, name: Bob, roles: [supplier]}",
    ]
    lines += ["items:"] + [f"  - {{id: i{n}-{k}}}" for n in range(LEVELS + 1) for k in range(WIDTH)]
    lines.append("designs:")
    for n in range(LEVELS):
        inputs = ", ".join(f"i{n + 1}-{j}: 1" for j in range(WIDTH))
        lines += [
            f"  - {{id: d{n}-{k}, makes: i{n}-{k}, inputs: {{{inputs}}}, processes: [x]}}"
            for k in range(WIDTH)
        ]
    lines.append("facilities:")
    lines += [f"  - {{id: f{n}, operator: ana, processes: [x]}}" for n in range(FACILITIES)]
    lines.append("offers:")
    lines += [
        f"  - {{id: o{k}-{n}, supplier: bob, item: i{LEVELS}-{k}, price: {n + 1}}}"
        for k in range(WIDTH)
        for n in range(OFFERS)
    ]
    lines += [f"  - {{id: ready-{n}, supplier: bob, item: i0-0, price: 0.5}}" for n in range(READY)]
    path = folder / "huge.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ways = OFFERS
    for _ in range(LEVELS):
        ways = FACILITIES * ways**WIDTH
    return path, READY + ways


def scis(*arguments: str, cache: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bots.cli", *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "SCIS_CACHE_DIR": str(cache)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_cli_shows_a_count_of_10000_digits_by_its_size_and_json_keeps_every_digit(tmp_path):
    path, ways = huge_network(tmp_path)
    digits = len(exact_text(ways))
    assert digits > 10_000
    woven = scis("weave", "-n", str(path), "i0-0", "1", "--top", "1", cache=tmp_path / "cache")
    assert "(10,423 digits) plans in this network" in woven
    listed = json.loads(scis("catalog", "--json", "-n", str(path), cache=tmp_path / "cache"))
    [top] = [entry for entry in listed if entry["item"] == "i0-0"]
    assert from_exact_text(top["plan_count"]) == ways and len(top["plan_count"]) == digits


def test_a_worker_weaving_such_an_order_tells_the_size_and_records_every_digit(engine, tmp_path):
    services = application(engine)
    path, ways = huge_network(tmp_path)
    loaded = load_network([path])
    assert loaded.errors == []
    services.handle(LoadNetwork(None, loaded.network))
    order = services.handle(PlaceOrder("dana", (("i0-0", 1),), weave_now=False)).value
    woven = services.handle(WeaveOrder(order))  # what the worker's actor runs
    assert woven.value == ways
    [told] = [m.text for m in woven.messages if m.participant_id == "dana"]
    assert "(10,423 digits) ways to deliver it" in told
    history = services.read(lambda session: timeline(session, order))
    [recorded] = [e.data["plan_count"] for e in history if e.kind == "order_woven"]
    assert recorded == exact_text(ways) and len(recorded) == 10_423
    # Read back for /plans, from what the event kept.
    page = services.read(lambda session: plan_page(services, session, order))
    assert page.plan_count == ways
