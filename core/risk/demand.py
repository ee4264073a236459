"""What is at stake per product p in the paper's fragility B(Y, P, W): the demand distribution
P_p and the weighting function W_p(D, S), read from plain dicts so that a YAML or JSON file can
hold them.

    products = parse_products({
        "ventilator": {"demand": {"distribution": "lognorm", "s": 0.8, "scale": 40_000},
                       "weight": {"kind": "ventilator"}},
        "mask": {"demand": {"samples": [120_000, 180_000, 450_000]},
                 "weight": {"kind": "mask"}},
        "chair": {"demand": 12, "weight": {"kind": "shortage", "value_per_unit": 80}},
    })

Demand is a number of units, so it is never negative: a plain number is a fixed demand,
`samples` are resampled with replacement, `distribution` names any scipy.stats distribution
whose support lies in [0, ∞) — except `norm`, which is truncated at 0 (a normal demand model
would otherwise put mass on negative orders). Every W is vectorised: it takes an array of demands
and a supply and returns an array of losses of the same shape, and must not modify its input
(the same draws are scored against several supplies, for common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.stats

Weight = Callable[[np.ndarray, float], np.ndarray]


class Demand(Protocol):
    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` independent demands, as floats."""
        ...


@dataclass(frozen=True)
class FixedDemand:
    units: float

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.units, dtype=float)


@dataclass(frozen=True, eq=False)
class EmpiricalDemand:
    """Observed demands, resampled with replacement (a bootstrap of the record)."""

    samples: np.ndarray

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.samples[rng.integers(0, len(self.samples), size)]


@dataclass(frozen=True, eq=False)
class DistributionDemand:
    """A scipy.stats distribution, frozen with its parameters."""

    name: str
    parameters: Mapping[str, float]
    frozen: object = field(repr=False)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.asarray(self.frozen.rvs(size=size, random_state=rng), dtype=float)


# Below this share of accepted draws, rejection costs more than scipy's inverse-CDF truncnorm.
_REJECTION_FLOOR = 0.3


@dataclass(frozen=True)
class TruncatedNormalDemand:
    """A normal demand conditioned on being ≥ 0 (truncated, not clipped: no mass piles at 0)."""

    loc: float
    scale: float

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        accepted = scipy.stats.norm.sf(0.0, self.loc, self.scale)
        if accepted < _REJECTION_FLOOR:
            low = -self.loc / self.scale
            frozen = scipy.stats.truncnorm(low, np.inf, loc=self.loc, scale=self.scale)
            return frozen.rvs(size=size, random_state=rng)
        # Rejection is exact and, with most draws accepted, several times faster than truncnorm.
        values = rng.normal(self.loc, self.scale, size)
        negative = np.flatnonzero(values < 0)
        while negative.size:
            values[negative] = rng.normal(self.loc, self.scale, negative.size)
            negative = negative[values[negative] < 0]
        return values


# ── Weighting functions W_p(D, S) ─────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Shortage:
    """value_per_unit × units short; demand above `cap` counts as `cap` (beyond it, nothing
    more is lost — the paper's ventilator example stops at 100,000)."""

    value_per_unit: float
    cap: float | None = None

    def __call__(self, demand: np.ndarray, supply: float) -> np.ndarray:
        wanted = demand if self.cap is None else np.minimum(demand, self.cap)
        return np.maximum(wanted - supply, 0.0) * self.value_per_unit


@dataclass(frozen=True)
class RelativeShortage:
    """value × the share of demand left unmet, (D − S)/D when S < D, else 0 (and 0 when D = 0:
    no demand, nothing at stake)."""

    value: float

    def __call__(self, demand: np.ndarray, supply: float) -> np.ndarray:
        demand = np.asarray(demand, dtype=float)
        return _share_of(np.maximum(demand - supply, 0.0), demand) * self.value


@dataclass(frozen=True)
class VentilatorAsWritten:
    """The paper's ventilator example, literally: $50K × (D − S if D < 100K else 100,000 − S),
    i.e. value_per_unit × (min(D, cap) − S).

    It is decreasing in S and increasing in D − S, as the paper requires, but it is not clipped
    at 0: supply beyond demand counts as a negative loss (a credit), so B can be negative and
    keeps falling as supply grows past any plausible demand. `Shortage(50_000, cap=100_000)` is
    the clipped reading, which counts only what is missing.
    """

    value_per_unit: float = 50_000.0
    cap: float = 100_000.0

    def __call__(self, demand: np.ndarray, supply: float) -> np.ndarray:
        return (np.minimum(demand, self.cap) - supply) * self.value_per_unit


@dataclass(frozen=True)
class MaskAsWritten:
    """The paper's mask example, literally: $5 × (0 if S < D else (D − S)/D).

    As written it is 0 under every shortage and (D − S)/D ≤ 0 otherwise: it never charges for
    missing masks, only credits a surplus. It does satisfy the paper's two conditions, but only
    weakly (flat at 0 over the whole shortage region), so B could not tell a mild shortage from
    a total one. We read it as a typo with the branches swapped: `MASK`, the relative shortage
    $5 × (D − S)/D when S < D else 0, is strictly increasing in the share of demand left unmet.
    At D = 0 the formula divides by zero; we take 0 there (no demand, nothing at stake).
    """

    value: float = 5.0

    def __call__(self, demand: np.ndarray, supply: float) -> np.ndarray:
        demand = np.asarray(demand, dtype=float)
        return _share_of(np.minimum(demand - supply, 0.0), demand) * self.value


def _share_of(amount: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """amount / demand, and 0 where there is no demand (nothing at stake)."""
    return np.divide(
        amount, demand, out=np.zeros(np.broadcast(amount, demand).shape), where=demand > 0
    )


VENTILATOR_AS_WRITTEN = VentilatorAsWritten()
MASK_AS_WRITTEN = MaskAsWritten()
MASK = RelativeShortage(5.0)  # the paper's mask example, read as the relative shortage


@dataclass(frozen=True)
class ProductRisk:
    """One product's term of B: its demand P_p and its weighting W_p."""

    product: str
    demand: Demand
    weight: Weight


# ── Parsing ───────────────────────────────────────────────────────────────────────────────────


def parse_products(spec: Mapping[str, Mapping]) -> tuple[ProductRisk, ...]:
    """{product: {"demand": …, "weight": …}} → ProductRisk records, in the order given."""
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError("products: expected a non-empty mapping of product → {demand, weight}")
    risks = []
    for product, entry in spec.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"{product}: expected a mapping with 'demand' and 'weight'")
        _only(product, "", entry, {"demand", "weight"})
        for key in ("demand", "weight"):
            if key not in entry:
                raise ValueError(f"{product}: {key}: missing")
        risks.append(
            ProductRisk(
                str(product),
                parse_demand(product, entry["demand"]),
                parse_weight(product, entry["weight"]),
            )
        )
    return tuple(risks)


def parse_demand(product: str, spec: object) -> Demand:
    """A number, {"samples": [...]}, or {"distribution": name, **parameters}."""
    if _is_number(spec):
        return FixedDemand(_non_negative(product, "demand", spec))
    if not isinstance(spec, Mapping):
        raise ValueError(f"{product}: demand: expected a number or a mapping, got {spec!r}")
    if "samples" in spec:
        _only(product, "demand", spec, {"samples"})
        samples = spec["samples"]
        if isinstance(samples, str | bytes) or not hasattr(samples, "__len__") or len(samples) == 0:
            raise ValueError(f"{product}: demand.samples: expected a non-empty list of numbers")
        if not all(_is_number(s) for s in samples):
            raise ValueError(f"{product}: demand.samples: every sample must be a number")
        values = np.asarray(samples, dtype=float)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"{product}: demand.samples: samples must be finite and ≥ 0")
        return EmpiricalDemand(values)
    if "distribution" not in spec:
        raise ValueError(f"{product}: demand: expected 'samples' or 'distribution'")
    return _distribution(product, spec)


def _distribution(product: str, spec: Mapping) -> Demand:
    name = spec["distribution"]
    family = getattr(scipy.stats, name, None) if isinstance(name, str) else None
    if not isinstance(family, scipy.stats.rv_continuous | scipy.stats.rv_discrete):
        raise ValueError(
            f"{product}: demand.distribution: unknown distribution {name!r} "
            "(expected a scipy.stats name such as lognorm, poisson, uniform, norm)"
        )
    parameters = {k: v for k, v in spec.items() if k != "distribution"}
    accepted = [s.strip() for s in (family.shapes or "").split(",") if s.strip()]
    accepted += ["loc"] if isinstance(family, scipy.stats.rv_discrete) else ["loc", "scale"]
    for key, value in parameters.items():
        if key not in accepted:
            raise ValueError(
                f"{product}: demand.{key}: {name} takes no parameter {key!r} "
                f"(it takes {', '.join(accepted)})"
            )
        if not _is_number(value) or not math.isfinite(value):
            raise ValueError(f"{product}: demand.{key}: expected a finite number, got {value!r}")
    missing = [s for s in accepted if s not in ("loc", "scale") and s not in parameters]
    if missing:
        raise ValueError(f"{product}: demand.{missing[0]}: {name} needs this parameter")
    if name == "norm":
        loc, scale = parameters.get("loc", 0.0), parameters.get("scale", 1.0)
        if scale <= 0:
            raise ValueError(f"{product}: demand.scale: must be > 0, got {scale}")
        return TruncatedNormalDemand(float(loc), float(scale))
    frozen = family(**parameters)
    low, _ = frozen.support()
    if np.isnan(low):
        shown = ", ".join(f"{k}={v}" for k, v in parameters.items())
        raise ValueError(f"{product}: demand: invalid parameters for {name}: {shown}")
    if low < 0:
        raise ValueError(
            f"{product}: demand.distribution: {name} with these parameters can draw negative "
            f"demand (support starts at {low}); use a non-negative distribution or 'norm', "
            "which is truncated at 0"
        )
    return DistributionDemand(name, dict(parameters), frozen)


_WEIGHT_KINDS: dict[str, tuple[type, dict[str, bool]]] = {
    # kind → (class, {field: required})
    "shortage": (Shortage, {"value_per_unit": True, "cap": False}),
    "relative_shortage": (RelativeShortage, {"value": True}),
    "ventilator": (VentilatorAsWritten, {"value_per_unit": False, "cap": False}),
    "mask": (RelativeShortage, {"value": False}),
    "mask_as_written": (MaskAsWritten, {"value": False}),
}


def parse_weight(product: str, spec: object) -> Weight:
    """A vectorised callable W(D, S), or {"kind": …, …} (see _WEIGHT_KINDS)."""
    if callable(spec):
        return spec
    if not isinstance(spec, Mapping) or "kind" not in spec:
        raise ValueError(f"{product}: weight: expected a callable or a mapping with 'kind'")
    kind = spec["kind"]
    if kind not in _WEIGHT_KINDS:
        raise ValueError(
            f"{product}: weight.kind: unknown kind {kind!r} "
            f"(expected one of {', '.join(_WEIGHT_KINDS)})"
        )
    cls, fields = _WEIGHT_KINDS[kind]
    _only(product, "weight", spec, {"kind", *fields})
    arguments = {}
    for name, required in fields.items():
        if name not in spec:
            if required:
                raise ValueError(f"{product}: weight.{name}: missing for kind {kind!r}")
            continue
        value = spec[name]
        if not _is_number(value) or not math.isfinite(value):
            raise ValueError(f"{product}: weight.{name}: expected a finite number, got {value!r}")
        if value < 0 or (name == "cap" and value == 0):
            raise ValueError(f"{product}: weight.{name}: must be positive, got {value}")
        arguments[name] = float(value)
    if kind == "mask" and "value" not in arguments:
        arguments["value"] = MASK.value
    return cls(**arguments)


def _only(product: str, where: str, spec: Mapping, allowed: set[str]) -> None:
    for key in spec:
        if key not in allowed:
            prefix = f"{where}.{key}" if where else str(key)
            raise ValueError(
                f"{product}: {prefix}: unknown field (expected {', '.join(sorted(allowed))})"
            )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _non_negative(product: str, where: str, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{product}: {where}: must be a finite number ≥ 0, got {value}")
    return float(value)
