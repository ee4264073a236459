"""Fragility benchmark: Monte Carlo samples per second for B(Y, P, W) over a 10-product network.

    python benchmarks/fragility.py

A sample is one joint demand draw over all ten products, weighed by every W_p. The vectorised
estimator (core.risk.fragility) runs end to end through the public API — S_p(Y) by linear
programs, then the draws — and is compared with a baseline measured in the same run: a plain
Python loop over samples drawing each demand with numpy's scalar calls and weighing it with a
scalar W, on fewer samples. Both estimate the same B, so their intervals must overlap.
Goal on a 2-core machine: ≥ 1,000,000 samples/s.
"""

from __future__ import annotations

import math
import time

import numpy as np
import project_paths  # noqa: F401 — the project on sys.path

from core.network.model import Design, Facility, Item, Network, Offer, Participant
from core.risk.fragility import fragility, rank_additions
from core.risk.supply import SupplyModel

GOAL = 1_000_000
SAMPLES = 4_000_000
BASELINE_SAMPLES = 20_000

# product → (demand spec, weight spec); a mix of what a user would declare.
PRODUCTS = {
    "ventilator": ({"distribution": "lognorm", "s": 0.8, "scale": 40},
                   {"kind": "shortage", "value_per_unit": 50_000, "cap": 100_000}),
    "mask": ({"distribution": "lognorm", "s": 0.5, "scale": 3000}, {"kind": "mask"}),
    "gown": ({"distribution": "lognorm", "s": 0.4, "scale": 500},
             {"kind": "shortage", "value_per_unit": 20}),
    "glove": ({"distribution": "gamma", "a": 4, "scale": 1000},
              {"kind": "relative_shortage", "value": 3}),
    "oximeter": ({"distribution": "gamma", "a": 2, "scale": 30},
                 {"kind": "shortage", "value_per_unit": 400, "cap": 200}),
    "face-shield": ({"distribution": "poisson", "mu": 800},
                    {"kind": "shortage", "value_per_unit": 8}),
    "swab": ({"distribution": "poisson", "mu": 5000}, {"kind": "relative_shortage", "value": 2}),
    "sanitizer": ({"distribution": "uniform", "loc": 100, "scale": 900},
                  {"kind": "shortage", "value_per_unit": 4}),
    "cot": ({"distribution": "norm", "loc": 60, "scale": 25},
            {"kind": "shortage", "value_per_unit": 150}),
    "thermometer": ({"samples": [20, 35, 35, 50, 80, 120, 40, 60]},
                    {"kind": "shortage", "value_per_unit": 30}),
}  # fmt: skip


def network() -> Network:
    """Each product sold by one offer and made at one microfactory from a shared material."""
    items = [Item("stock", "Stock")] + [Item(p, p) for p in PRODUCTS]
    offers = [Offer("stock-offer", "s", "stock", capacity=2_000)]
    designs, facilities = [], []
    for k, product in enumerate(PRODUCTS):
        offers.append(Offer(f"{product}-offer", "s", product, capacity=20 * (k + 1)))
        designs.append(Design(f"{product}-okh", product, inputs=(("stock", 1),), yield_=2,
                              processes=frozenset({f"p{k}"})))  # fmt: skip
        facilities.append(Facility(f"{product}-lab", "s", frozenset({f"p{k}"}),
                                   capacity={product: 15 * (k + 2)}))  # fmt: skip
    return Network.of([Participant("s", "S")], items, designs, facilities, offers)


def products() -> dict:
    return {p: {"demand": d, "weight": w} for p, (d, w) in PRODUCTS.items()}


def scalar_loss(weight: dict, d: float, s: float) -> float:
    kind = weight["kind"]
    if kind in ("mask", "relative_shortage"):
        return weight.get("value", 5.0) * (max(d - s, 0) / d if d > 0 else 0.0)
    wanted = min(d, weight["cap"]) if "cap" in weight else d
    return weight["value_per_unit"] * max(wanted - s, 0.0)


def scalar_draw(rng: np.random.Generator, demand: dict) -> float:
    if "samples" in demand:
        values = demand["samples"]
        return float(values[rng.integers(len(values))])
    name = demand["distribution"]
    if name == "lognorm":
        return rng.lognormal(math.log(demand["scale"]), demand["s"])
    if name == "gamma":
        return rng.gamma(demand["a"], demand["scale"])
    if name == "poisson":
        return float(rng.poisson(demand["mu"]))
    if name == "uniform":
        return rng.uniform(demand["loc"], demand["loc"] + demand["scale"])
    value = -1.0
    while value < 0:
        value = rng.normal(demand["loc"], demand["scale"])
    return value


def baseline(supply: dict, samples: int) -> tuple[float, float]:
    """The plain loop: mean and standard error of the summed loss."""
    rng = np.random.default_rng(0)
    totals = []
    for _ in range(samples):
        total = 0.0
        for product, (demand, weight) in PRODUCTS.items():
            total += scalar_loss(weight, scalar_draw(rng, demand), supply[product])
        totals.append(total)
    return float(np.mean(totals)), float(np.std(totals, ddof=1) / math.sqrt(samples))


def main() -> None:
    net, spec = network(), products()
    start = time.perf_counter()
    model = SupplyModel(net)
    supply = model.units_of(PRODUCTS)
    lp_s = time.perf_counter() - start
    fragility(net, spec, samples=10_000)  # warm up imports and caches outside the timing

    start = time.perf_counter()
    result = fragility(net, spec, samples=SAMPLES, seed=1)
    fast_s = time.perf_counter() - start
    start = time.perf_counter()
    loop_mean, loop_error = baseline(supply, BASELINE_SAMPLES)
    loop_s = time.perf_counter() - start

    fast_rate, loop_rate = SAMPLES / fast_s, BASELINE_SAMPLES / loop_s
    print(f"10 products; S_p(Y) by 10 linear programs in {lp_s * 1000:.0f} ms: {supply}")
    print(f"{'method':<34} {'samples':>10} {'seconds':>8} {'samples/s':>12} {'B ± 1.96·se':>26}")
    print(f"{'plain Python loop (baseline)':<34} {BASELINE_SAMPLES:>10,} {loop_s:>8.2f} "
          f"{loop_rate:>12,.0f} {loop_mean:>14,.0f} ± {1.96 * loop_error:>9,.0f}")  # fmt: skip
    half = result.high - result.estimate
    print(f"{'vectorised fragility() end to end':<34} {SAMPLES:>10,} {fast_s:>8.2f} "
          f"{fast_rate:>12,.0f} {result.estimate:>14,.0f} ± {half:>9,.0f}")  # fmt: skip
    print(f"ratio {fast_rate / loop_rate:,.0f}×; goal ≥ {GOAL:,} samples/s: "
          f"{'met' if fast_rate >= GOAL else 'NOT met'}")  # fmt: skip
    gap = abs(result.estimate - loop_mean)
    assert gap < 4 * math.hypot(result.standard_error, loop_error), (result.estimate, loop_mean)

    candidates = [
        Facility(f"new-lab-{k}", None, frozenset({f"p{k}"}), capacity={p: 100.0})
        for k, p in enumerate(PRODUCTS)
    ]
    start = time.perf_counter()
    ranked = rank_additions(net, spec, candidates=candidates, samples=1_000_000, seed=1)
    rank_s = time.perf_counter() - start
    print(f"\nrank_additions: 10 new microfactories, 1,000,000 common draws, {rank_s:.2f} s")
    for a in ranked.ranked[:3]:
        print(f"  {a.id:<12} B falls by {a.reduction:>12,.0f} ± {a.high - a.reduction:,.0f}")


if __name__ == "__main__":
    main()
