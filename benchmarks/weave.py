"""Weave benchmark: the paper's literal enumeration against the weave, then the weave at scale.

    python benchmarks/weave.py            # or: make bench

Part 1 runs both on small seeded layered networks, where the literal one still finishes, and
prints their times and ratio (the literal method must build every plan both to count them and
to find the best ten, so one enumeration serves for both). Part 2 runs the weave alone on a
10,000-item network with far more than 10^30 plans, in a fresh process so that its peak memory
is its own, and prints the times against a baseline measured in the same run: one pass that
indexes every source of the network (what any planner must at least read). Part 3 runs the
same network with transport (two or three ways to move every leg between two places: a van, a
truck, the sender's own delivery; core/weave/legs.py) and prints its times against part 2's,
then once more with risks per stage, as orders in chat are ranked. Goals on a 2-core machine:
count + top 10 under 1 s, peak memory under 300 MB, with transport too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from functools import partial

import project_paths  # noqa: F401 — the project on sys.path
from layered_network import layered_network, top_item
from peak_memory import peak_mb

from core.network.model import Location
from core.risk.reliability import Reliability
from core.weave import PRICE, Demand, SupplyIndex, Weave
from core.weave.literal import literal_plans

SMALL = [  # (items, depth, fan-in, alternatives)
    (12, 3, 2, 2),
    (24, 3, 2, 2),
    (30, 4, 2, 2),
    (40, 4, 2, 2),
]
# Legs multiply the plans: the literal enumeration finishes only on the smaller ones.
SMALL_MOVED = [(16, 3, 2, 1), (18, 3, 2, 1), (24, 3, 2, 1)]
LARGE = dict(items=10_000, depth=10, fan_in=3, alternatives=2)
BUYER, DOOR = "buyer", Location(39.5, -76.5)  # the order goes to a door amid the network
GOAL_SECONDS, GOAL_MB = 1.0, 300.0


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def count_plans(network, demand) -> int:
    return Weave(network, demand, buyer=BUYER, deliver_to=DOOR).count()


def best_plans(network, demand, k: int):
    return Weave(network, demand, buyer=BUYER, deliver_to=DOOR).best(k)


def small_networks(transport: bool = False) -> None:
    moved = " with transport" if transport else ""
    print(f"Part 1{moved} — literal enumeration (the oracle) vs the weave, same networks, same run")
    header = (
        f"{'items':>6} {'plans':>10} {'literal s':>10} {'count s':>9} {'top10 s':>9} {'ratio':>9}"
    )
    print(header)
    for items, depth, fan_in, alternatives in SMALL_MOVED if transport else SMALL:
        network = layered_network(
            items, depth, fan_in, alternatives, facilities=4, seed=3, transport=transport
        )
        demand = [Demand(top_item(network), 1)]
        plans, literal_s = timed(
            partial(literal_plans, network, demand, deliver_to=DOOR, buyer=BUYER)
        )
        # Each weave is timed from a fresh start, indexing included, as the literal one is.
        count, count_s = timed(partial(count_plans, network, demand))
        best, best_s = timed(partial(best_plans, network, demand, 10))
        assert count == len(plans), (count, len(plans))
        assert [p.signature() for p in best] == [p.signature() for p in plans[:10]]
        ratio = literal_s / (count_s + best_s)
        times = f"{literal_s:>10.4f} {count_s:>9.4f} {best_s:>9.4f}"
        print(f"{items:>6} {count:>10,} {times} {ratio:>8.0f}×")
    print("ratio = literal time / (weave count + weave top 10); both found the same ten plans.\n")


def large_network(transport: bool, learned: bool = False) -> dict:
    """Run in a child process: its peak RSS is the weave's, not part 1's. `learned`: risks
    per stage (core.risk.reliability, no history: the declared figures), as orders in chat and
    `scis weave` rank plans."""
    sys.set_int_max_str_digits(0)  # the count has more digits than Python prints by default
    network, generate_s = timed(lambda: layered_network(**LARGE, transport=transport))
    index, index_s = timed(lambda: SupplyIndex(network))
    demand = [Demand(top_item(network), 1)]
    ranking = PRICE.with_reliability(Reliability(network)) if learned else PRICE
    weave = Weave(network, demand, ranking=ranking, index=index, buyer=BUYER, deliver_to=DOOR)
    count, count_s = timed(weave.count)
    best, best_s = timed(lambda: weave.best(10))
    return {
        "items": len(network.items),
        "designs": len(network.designs),
        "offers": len(network.offers),
        "sources": sum(len(index.sources(i)) for i in network.items),
        "digits": len(str(count)),
        "generate_s": generate_s,
        "index_s": index_s,
        "count_s": count_s,
        "top10_s": best_s,
        "best_price": best[0].score[1],
        "legs": sum(node.leg is not None for node in best[0].nodes()),
        "peak_mb": peak_mb(),
    }


def run_large(transport: bool, learned: bool = False) -> dict:
    flag = ("--large-transport" if transport else "--large") + ("-learned" if learned else "")
    child = subprocess.run(
        [sys.executable, __file__, flag], capture_output=True, text=True, check=True
    )
    return json.loads(child.stdout)


def report_large() -> dict:
    r = run_large(False)
    weave_s = r["count_s"] + r["top10_s"]
    print("Part 2 — the weave alone on a 10,000-item layered network")
    print(
        f"  {r['items']:,} items, {r['designs']:,} designs, {r['offers']:,} offers, "
        f"{r['sources']:,} sources (offers + design×facility pairs)"
    )
    print(f"  plan count: exact, {r['digits']:,} decimal digits (> 10^30)")
    print(f"  baseline, one indexing pass over the network: {r['index_s']:.3f} s")
    print(f"  exact count:  {r['count_s']:.3f} s  ({r['count_s'] / r['index_s']:.2f}× baseline)")
    print(f"  top 10:       {r['top10_s']:.3f} s  ({r['top10_s'] / r['index_s']:.2f}× baseline)")
    goal = f"{weave_s / GOAL_SECONDS:.2f}× the {GOAL_SECONDS:.0f} s goal"
    print(f"  count + top 10: {weave_s:.3f} s = {goal}")
    print(
        f"  peak memory of the process: {r['peak_mb']:.0f} MB = "
        f"{r['peak_mb'] / GOAL_MB:.2f}× the {GOAL_MB:.0f} MB goal"
    )
    return r


def report_transport(without: dict) -> None:
    r = run_large(True)
    weave_s = r["count_s"] + r["top10_s"]
    before = without["count_s"] + without["top10_s"]
    print("\nPart 3 — the same network with transport: a van, a truck and half the senders'")
    print("  own delivery on every leg between two places (two or three ways each)")
    print(
        f"  plan count: exact, {r['digits']:,} decimal digits "
        f"(without transport {without['digits']:,})"
    )
    print(
        f"  exact count:  {r['count_s']:.3f} s  "
        f"({r['count_s'] / without['count_s']:.1f}× without transport)"
    )
    print(
        f"  top 10:       {r['top10_s']:.3f} s  "
        f"({r['top10_s'] / without['top10_s']:.1f}× without transport)"
    )
    goal = f"{weave_s / GOAL_SECONDS:.2f}× the {GOAL_SECONDS:.0f} s goal"
    print(f"  count + top 10: {weave_s:.3f} s = {weave_s / before:.2f}× without transport = {goal}")
    print(
        f"  the best plan: {r['best_price']:,.2f}, {r['legs']} legs; peak memory "
        f"{r['peak_mb']:.0f} MB = {r['peak_mb'] / GOAL_MB:.2f}× the {GOAL_MB:.0f} MB goal"
    )
    r = run_large(True, learned=True)
    weave_s = r["count_s"] + r["top10_s"]
    print(
        f"  with risks per stage, as orders in chat are ranked: count {r['count_s']:.3f} s + "
        f"top 10 {r['top10_s']:.3f} s = {weave_s:.3f} s = {weave_s / GOAL_SECONDS:.2f}× the "
        f"goal; the best plan {r['best_price']:,.2f}, peak {r['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    if "--large" in sys.argv:
        json.dump(large_network(False), sys.stdout)
    elif "--large-transport" in sys.argv:
        json.dump(large_network(True), sys.stdout)
    elif "--large-transport-learned" in sys.argv:
        json.dump(large_network(True, learned=True), sys.stdout)
    else:
        small_networks()
        small_networks(transport=True)
        report_transport(report_large())
