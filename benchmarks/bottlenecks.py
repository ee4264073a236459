"""Bottleneck benchmark: the must-use resources of an item on the 10,000-item network.

    python benchmarks/bottlenecks.py

On the network benchmarks/weave.py uses for its large case (10,000 items, depth 10, fan-in 3,
two designs per item), times the must-use analysis of the finished good (plan count included,
as `Bottlenecks.plans` reports it) and then of every item of the network, against a baseline
measured in the same run: PlanCounter.count, a plain dynamic programme over the same AND-OR
graph. Each is timed from fresh memos on one shared SupplyIndex. Goal on a 2-core machine: the
must-use analysis of one item under 1 s. The supply graph and its separable paths (networkx
max-flow, no goal) are timed last.
"""

from __future__ import annotations

import time

import project_paths  # noqa: F401 — the project on sys.path
from layered_network import layered_network, top_item

from core.risk.bottlenecks import MustUse, separable_paths, supply_graph
from core.weave import PlanCounter, SupplyIndex

LARGE = dict(items=10_000, depth=10, fan_in=3, alternatives=2)  # as in benchmarks/weave.py
GOAL_SECONDS = 1.0
REPEATS = 3  # the best of a few runs: the machine is shared


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def best_of(function):
    runs = [timed(function) for _ in range(REPEATS)]
    return min(runs, key=lambda run: run[1])


def main() -> None:
    network = layered_network(**LARGE)
    index, index_s = timed(lambda: SupplyIndex(network))
    index.recursive_groups  # noqa: B018 — computed once, outside every timing below
    top = top_item(network)

    count, count_s = best_of(lambda: PlanCounter(index).count(top))
    found, must_s = best_of(lambda: MustUse(network, index=index).of_item(top))
    assert found.plans == count

    def every_item():
        must_use = MustUse(network, index=index)
        return [must_use.of_item(i) for i in network.items]

    def count_every_item():
        counter = PlanCounter(index)
        return [counter.count(i) for i in network.items]

    _, count_all_s = best_of(count_every_item)
    everything, must_all_s = best_of(every_item)
    with_bottlenecks = sum(1 for b in everything if b.resources)
    without_plans = sum(1 for b in everything if not b.has_plans)

    must_use = MustUse(network, index=index)
    graph, graph_s = timed(lambda: supply_graph(network, top, must_use=must_use))
    paths, paths_s = timed(lambda: separable_paths(graph, top))

    print("Bottlenecks (must-use resources) on the 10,000-item layered network")
    print(
        f"  {len(network.items):,} items, {len(network.designs):,} designs, "
        f"{len(network.offers):,} offers, {len(network.facilities)} facilities, "
        f"{len(network.participants)} participants; indexing {index_s:.3f} s (not counted)"
    )
    print(f"  plans of {top}: exact, {len(str(count)):,} decimal digits")
    print(f"  baseline, PlanCounter.count({top}):   {count_s:.3f} s")
    print(
        f"  must-use of {top} (count included): {must_s:.3f} s  "
        f"({must_s / count_s:.2f}× baseline, {must_s / GOAL_SECONDS:.2f}× the "
        f"{GOAL_SECONDS:.0f} s goal)"
    )
    print(f"    → {len(found.resources)} resources every plan uses")
    print(f"  baseline, count every item:          {count_all_s:.3f} s")
    print(
        f"  must-use of every item:              {must_all_s:.3f} s  "
        f"({must_all_s / count_all_s:.2f}× baseline)"
    )
    print(
        f"    → {with_bottlenecks:,} items with at least one single point of failure, "
        f"{without_plans:,} without plans"
    )
    print(
        f"  supply graph of {top}: {graph.number_of_nodes():,} nodes, "
        f"{graph.number_of_edges():,} edges, {graph_s:.3f} s"
    )
    print(
        f"  separable paths (networkx max-flow): {paths.count} paths, cut of {len(paths.cut)}, "
        f"{paths_s:.3f} s (no goal)"
    )
    print(f"best of {REPEATS} runs for the timings compared with a baseline")


if __name__ == "__main__":
    main()
