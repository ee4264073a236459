"""The paper's fragility B(Y, P, W) = Σ_p E[W_p(D_p, S_p(Y))], by vectorised Monte Carlo.

S_p(Y) is deterministic (core.risk.supply), so only demand is drawn: one sample is one joint
draw of every product's demand, and B is the mean over samples of the summed losses, with a
normal-approximation confidence interval from the standard error.

Common random numbers: each product draws from its own generator, seeded by (seed, product id),
so the same seed gives the same demands for a product whatever the other products or the supply
— comparing two sets of suppliers then measures the supply, not the luck of the draw. The
ranking of additions ("where would one more microfactory help most") scores every candidate on
the very same draws as the baseline in a single pass and reports the paired difference: with W
decreasing in S (the paper's condition) and S_p monotone in Y, every sample's reduction is
≥ 0, which is the paper's Conjecture 1 holding draw by draw.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import scipy.stats

from core.network.model import Facility, Network, Offer
from core.risk.demand import ProductRisk, parse_products
from core.risk.supply import MissingCapacity, Suppliers, SupplyModel

CHUNK = 1 << 15  # samples drawn at once: large enough to amortise calls, small enough for cache


@dataclass(frozen=True)
class Fragility:
    """An estimate of B(Y): its standard error and confidence interval, the number of samples,
    each product's contribution E[W_p] (they sum to the estimate) and the S_p(Y) used."""

    estimate: float
    standard_error: float
    low: float
    high: float
    samples: int
    confidence: float
    by_product: Mapping[str, float]
    supply: Mapping[str, float]


@dataclass(frozen=True)
class Addition:
    """What adding one offer or facility to Y does: B(Y) − B(Y ∪ {record}) on the same draws."""

    record: Offer | Facility
    reduction: float
    standard_error: float
    low: float
    high: float
    fragility: Fragility  # B(Y ∪ {record})

    @property
    def kind(self) -> str:
        return "offer" if isinstance(self.record, Offer) else "facility"

    @property
    def id(self) -> str:
        return self.record.id


@dataclass(frozen=True)
class Additions:
    baseline: Fragility
    ranked: tuple[Addition, ...]  # largest reduction first


def fragility(
    network: Network,
    products: Mapping | Iterable[ProductRisk],
    suppliers: Suppliers | None = None,
    *,
    samples: int = 100_000,
    seed: int = 0,
    confidence: float = 0.95,
    missing_capacity: MissingCapacity = 0.0,
) -> Fragility:
    """B(Y, P, W) for Y = `suppliers` (default: every offer and facility of the network)."""
    risks = _risks(network, products)
    model = SupplyModel(network, missing_capacity)
    suppliers = _checked(network, suppliers)
    supply = np.array([model.units(r.product, suppliers) for r in risks])
    baseline, _ = _monte_carlo(risks, supply, [], samples, seed, confidence)
    return baseline


def rank_additions(
    network: Network,
    products: Mapping | Iterable[ProductRisk],
    suppliers: Suppliers | None = None,
    candidates: Iterable[Offer | Facility | str] | None = None,
    *,
    samples: int = 100_000,
    seed: int = 0,
    confidence: float = 0.95,
    missing_capacity: MissingCapacity = 0.0,
) -> Additions:
    """How much B falls when one candidate joins Y, best first.

    Candidates default to the network's offers and facilities outside Y. Given explicitly, they
    are ids of such records, or records — possibly new ones, e.g. a microfactory someone might
    open — which are scored as if added to the network.
    """
    risks = _risks(network, products)
    suppliers = _checked(network, suppliers)
    network, chosen = _candidates(network, suppliers, candidates)
    model = SupplyModel(network, missing_capacity)
    supply = np.array([model.units(r.product, suppliers) for r in risks])
    variants = []
    for record in chosen:
        wider = suppliers.adding(record)
        changes = {}
        for k, risk in enumerate(risks):
            if model.could_contribute(risk.product, record):
                units = model.units(risk.product, wider)
                if units != supply[k]:
                    changes[k] = units
        variants.append(changes)
    baseline, results = _monte_carlo(risks, supply, variants, samples, seed, confidence)
    additions = [
        Addition(record, reduction, error, low, high, widened)
        for record, (reduction, error, low, high, widened) in zip(chosen, results, strict=True)
    ]
    additions.sort(key=lambda a: (-a.reduction, a.kind, a.id))
    return Additions(baseline, tuple(additions))


# ── Monte Carlo ───────────────────────────────────────────────────────────────────────────────


class _Running:
    """Count, mean and sum of squared deviations of a stream, merged chunk by chunk (Chan et
    al.): a naive Σx² over a million losses of $10^9 would lose the variance to rounding."""

    def __init__(self):
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        m = values.size
        mean = float(values.mean())
        m2 = float(np.square(values - mean).sum())
        total = self.count + m
        delta = mean - self.mean
        self.mean += delta * m / total
        self.m2 += m2 + delta * delta * self.count * m / total
        self.count = total

    def standard_error(self) -> float:
        if self.count < 2:
            return 0.0
        return math.sqrt(max(self.m2, 0.0) / (self.count - 1) / self.count)


def _monte_carlo(
    risks: Sequence[ProductRisk],
    supply: np.ndarray,
    variants: Sequence[Mapping[int, float]],
    samples: int,
    seed: int,
    confidence: float,
) -> tuple[Fragility, list[tuple]]:
    """B at `supply`, and for each variant (product index → other supply) the paired reduction
    and B at the varied supply, all from one stream of demand draws."""
    if not isinstance(samples, int | np.integer) or isinstance(samples, bool) or samples < 2:
        raise ValueError(f"samples: expected an integer ≥ 2, got {samples!r}")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected an integer ≥ 0, got {seed!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a number in (0, 1), got {confidence!r}")
    z = float(scipy.stats.norm.ppf(0.5 + confidence / 2))
    rngs = [np.random.default_rng([int(seed), zlib.crc32(r.product.encode())]) for r in risks]
    varied = {k for changes in variants for k in changes}
    base, product_sums = _Running(), np.zeros(len(risks))
    reductions = [_Running() for _ in variants]
    widened = [_Running() for _ in variants]
    variant_sums = [dict.fromkeys(changes, 0.0) for changes in variants]
    done = 0
    while done < samples:
        size = min(CHUNK, samples - done)
        total = np.zeros(size)
        demands, losses = {}, {}
        for k, risk in enumerate(risks):
            demand = risk.demand.draw(rngs[k], size)
            loss = _weigh(risk, demand, supply[k])
            total += loss
            product_sums[k] += loss.sum()
            if k in varied:
                demands[k], losses[k] = demand, loss
        base.add(total)
        for v, changes in enumerate(variants):
            reduction = np.zeros(size)
            for k, units in changes.items():
                loss = _weigh(risks[k], demands[k], units)
                reduction += losses[k] - loss
                variant_sums[v][k] += loss.sum()
            reductions[v].add(reduction)
            widened[v].add(total - reduction)
        done += size
    by_product = product_sums / samples
    _finite(risks, by_product)
    baseline = _fragility(base, z, confidence, risks, by_product, supply)
    results = []
    for v, changes in enumerate(variants):
        means = by_product.copy()
        units = supply.copy()
        for k, value in changes.items():
            means[k] = variant_sums[v][k] / samples
            units[k] = value
        _finite(risks, means)
        error = reductions[v].standard_error()
        mean = reductions[v].mean
        results.append(
            (
                mean,
                error,
                mean - z * error,
                mean + z * error,
                _fragility(widened[v], z, confidence, risks, means, units),
            )
        )
    return baseline, results


def _weigh(risk: ProductRisk, demand: np.ndarray, supply: float) -> np.ndarray:
    try:
        loss = np.asarray(risk.weight(demand, float(supply)), dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{risk.product}: weight failed on an array of demands ({error}); W must be "
            "vectorised over numpy arrays"
        ) from error
    if loss.shape != demand.shape:
        raise ValueError(
            f"{risk.product}: weight returned shape {loss.shape} for {demand.shape} demands; "
            "W must return one loss per demand"
        )
    return loss


def _finite(risks: Sequence[ProductRisk], means: np.ndarray) -> None:
    for risk, mean in zip(risks, means, strict=True):
        if not math.isfinite(mean):
            raise ValueError(f"{risk.product}: expected loss is {mean} (W gave non-finite values)")


def _fragility(running, z, confidence, risks, by_product, supply) -> Fragility:
    error = running.standard_error()
    return Fragility(
        estimate=running.mean,
        standard_error=error,
        low=running.mean - z * error,
        high=running.mean + z * error,
        samples=running.count,
        confidence=confidence,
        by_product=_by_product(risks, by_product),
        supply=_by_product(risks, supply),
    )


def _by_product(risks: Sequence[ProductRisk], values: np.ndarray) -> Mapping[str, float]:
    return MappingProxyType({r.product: float(v) for r, v in zip(risks, values, strict=True)})


# ── Arguments ─────────────────────────────────────────────────────────────────────────────────


def _risks(network: Network, products) -> tuple[ProductRisk, ...]:
    risks = parse_products(products) if isinstance(products, Mapping) else tuple(products)
    if not risks:
        raise ValueError("products: expected at least one product")
    if len({r.product for r in risks}) != len(risks):
        raise ValueError("products: each product may appear only once")
    for risk in risks:
        if risk.product not in network.items:
            raise ValueError(f"{risk.product}: not an item of the network")
    return risks


def _checked(network: Network, suppliers: Suppliers | None) -> Suppliers:
    if suppliers is None:
        return Suppliers.all_of(network)
    unknown = sorted(
        [f"offer {o}" for o in suppliers.offers if o not in network.offers]
        + [f"facility {f}" for f in suppliers.facilities if f not in network.facilities]
    )
    if unknown:
        raise ValueError(f"suppliers: not in the network: {', '.join(unknown)}")
    return suppliers


def _candidates(
    network: Network, suppliers: Suppliers, candidates
) -> tuple[Network, list[Offer | Facility]]:
    if candidates is None:
        chosen = [o for o in network.offers.values() if o.id not in suppliers.offers]
        chosen += [f for f in network.facilities.values() if f.id not in suppliers.facilities]
        return network, chosen
    chosen, new_offers, new_facilities = [], [], []
    for candidate in candidates:
        if isinstance(candidate, str):
            found = [
                r for r in (network.offers.get(candidate), network.facilities.get(candidate)) if r
            ]
            if len(found) != 1:
                problem = "no offer or facility" if not found else "both an offer and a facility"
                raise ValueError(f"candidate {candidate}: {problem} has this id; pass the record")
            record = found[0]
        elif isinstance(candidate, Offer | Facility):
            record = candidate
            kind = network.offers if isinstance(record, Offer) else network.facilities
            if record.id not in kind:
                (new_offers if isinstance(record, Offer) else new_facilities).append(record)
            elif kind[record.id] != record:
                raise ValueError(
                    f"candidate {record.id}: differs from the network's record with this id; "
                    "give a new id to score a different one"
                )
        else:
            raise ValueError(f"candidate {candidate!r}: expected an id, an Offer or a Facility")
        if record in suppliers:
            raise ValueError(f"candidate {record.id}: already among the suppliers")
        chosen.append(record)
    if new_offers or new_facilities:
        network = network.with_records(offers=new_offers, facilities=new_facilities)
    return network, chosen
