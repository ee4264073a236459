"""S_p(Y): the most units of product p a set Y of suppliers can provide in one period.

Y is a set of offers and facilities of a network. Units of p come from Y's offers of p, and from
Y's facilities running a design for p (the facility offers all the design's processes, as in the
weave) whose inputs are themselves supplied within Y — recursively, down the bill of materials.
Following the paper, each product is taken on its own: S_p assumes all of Y works for p.

It is a linear program (solved by HiGHS): one variable per offer (units bought, up to its
capacity) and per (design, facility) pair (batches run); every item other than p must be
produced at least as fast as it is consumed; maximise p produced minus p consumed. A facility's
`capacity` gives units per period of each item it makes, a limit shared by every design making
that item there and independent of its other items (the format declares no shared budget).
Batches are divisible, so S_p is exact when capacities are multiples of yields and otherwise an
upper bound on what whole batches give. A cycle in the bill of materials is taken as a steady
flow within the period. Substitutes are not sources: a buyer must approve them first.

Missing capacity. "Unbounded" would make any supplier with an undeclared capacity cover every
demand, which is the opposite of what fragility is for. So `missing_capacity` decides: by default
0 — a supplier who promised no amount is not counted on; a number — assume that many units per
period; "error" — raise MissingCapacityError naming the record. Only records that could
contribute to p are asked.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from scipy.optimize import linprog

from core.network.model import Design, Facility, Network, Offer

MissingCapacity = float | Literal["error"]


class MissingCapacityError(ValueError):
    """A supplier relevant to S_p declared no capacity, and the caller asked not to guess."""


@dataclass(frozen=True)
class Suppliers:
    """A set Y of suppliers: offer ids and facility ids (kept apart: they may share an id)."""

    offers: frozenset[str] = frozenset()
    facilities: frozenset[str] = frozenset()

    @classmethod
    def all_of(cls, network: Network) -> Suppliers:
        return cls(frozenset(network.offers), frozenset(network.facilities))

    def adding(self, record: Offer | Facility) -> Suppliers:
        if isinstance(record, Offer):
            return Suppliers(self.offers | {record.id}, self.facilities)
        return Suppliers(self.offers, self.facilities | {record.id})

    def __or__(self, other: Suppliers) -> Suppliers:
        return Suppliers(self.offers | other.offers, self.facilities | other.facilities)

    def __contains__(self, record: object) -> bool:
        if isinstance(record, Offer):
            return record.id in self.offers
        if isinstance(record, Facility):
            return record.id in self.facilities
        return False


class SupplyModel:
    """S_p(Y) over one network; the bill of materials is read once and shared by every Y."""

    def __init__(self, network: Network, missing_capacity: MissingCapacity = 0.0):
        if missing_capacity != "error" and not (
            isinstance(missing_capacity, int | float) and missing_capacity >= 0
        ):
            raise ValueError(
                f"missing_capacity: expected a number ≥ 0 or 'error', got {missing_capacity!r}"
            )
        self.network = network
        self.missing_capacity = missing_capacity
        self._designs: dict[str, list[Design]] = defaultdict(list)
        for design in network.designs.values():
            if design.inputs_known:
                self._designs[design.makes].append(design)
        self._upstream: dict[str, frozenset[str]] = {}
        self._solved: dict[tuple, float] = {}

    @cached_property
    def everyone(self) -> Suppliers:
        return Suppliers.all_of(self.network)

    def upstream(self, product: str) -> frozenset[str]:
        """p and every item that can go into it through designs, at any depth."""
        if product not in self._upstream:
            seen, stack = {product}, [product]
            while stack:
                for design in self._designs.get(stack.pop(), ()):
                    for input_id, _ in design.inputs:
                        if input_id not in seen:
                            seen.add(input_id)
                            stack.append(input_id)
            self._upstream[product] = frozenset(seen)
        return self._upstream[product]

    def could_contribute(self, product: str, record: Offer | Facility) -> bool:
        """Whether adding `record` to some Y could change S_p (when not, S_p is unchanged)."""
        items = self.upstream(product)
        if isinstance(record, Offer):
            return record.item in items
        return any(
            self.network.can_make(design, record)
            for item in items
            for design in self._designs.get(item, ())
        )

    def units(self, product: str, suppliers: Suppliers | None = None) -> float:
        """S_p(Y): the most units of `product` per period; math.inf when nothing bounds it."""
        suppliers = self.everyone if suppliers is None else suppliers
        # Only the part of Y that could contribute decides S_p: the rest need not be re-solved.
        key = (
            product,
            frozenset(
                o
                for o in suppliers.offers
                if o in self.network.offers
                and self.could_contribute(product, self.network.offers[o])
            ),
            frozenset(
                f
                for f in suppliers.facilities
                if f in self.network.facilities
                and self.could_contribute(product, self.network.facilities[f])
            ),
        )
        if key not in self._solved:
            self._solved[key] = self._solve(product, Suppliers(key[1], key[2]))
        return self._solved[key]

    def _solve(self, product: str, suppliers: Suppliers) -> float:
        items = self.upstream(product)
        rows = {item: k for k, item in enumerate(sorted(items))}
        # Columns: net output of every item per unit of the variable, and its upper bound.
        columns: list[dict[str, float]] = []
        bounds: list[tuple[float, float | None]] = []
        shared: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
        caps: dict[tuple[str, str], float] = {}
        for offer_id in sorted(suppliers.offers):
            offer = self.network.offers.get(offer_id)
            if offer is None or offer.item not in items:
                continue
            cap = self._capacity(offer.capacity, f"offer {offer.id}", offer.item)
            if cap > 0:
                columns.append({offer.item: 1.0})
                bounds.append((0.0, None if math.isinf(cap) else cap))
        for facility_id in sorted(suppliers.facilities):
            facility = self.network.facilities.get(facility_id)
            if facility is None:
                continue
            for item in sorted(items):
                for design in self._designs.get(item, ()):
                    if not self.network.can_make(design, facility):
                        continue
                    cap = self._capacity(
                        facility.capacity.get(item), f"facility {facility.id}", item
                    )
                    if cap <= 0:
                        continue
                    net = defaultdict(float, {item: float(design.yield_)})
                    for input_id, quantity in design.inputs:
                        net[input_id] -= quantity
                    shared[(facility.id, item)].append((len(columns), float(design.yield_)))
                    caps[(facility.id, item)] = cap
                    columns.append(dict(net))
                    bounds.append((0.0, None))
        if not shared:  # only offers: of p itself, since nothing turns other items into p
            return float(
                sum(
                    math.inf if high is None else high
                    for column, (_, high) in zip(columns, bounds, strict=True)
                    if product in column
                )
            )
        net = np.zeros((len(rows), len(columns)))
        for j, column in enumerate(columns):
            for item, amount in column.items():
                net[rows[item], j] = amount
        others = [rows[i] for i in sorted(items) if i != product]
        # Capacity rows: Σ yield · batches ≤ capacity, per (facility, item made).
        limits, limit_rows = [], []
        for key, members in shared.items():
            cap = caps[key]
            if math.isinf(cap):
                continue
            row = np.zeros(len(columns))
            for j, yield_ in members:
                row[j] = yield_
            limit_rows.append(row)
            limits.append(cap)
        a_ub = np.vstack([-net[others], *limit_rows]) if others or limit_rows else None
        b_ub = np.concatenate([np.zeros(len(others)), limits]) if a_ub is not None else None
        result = linprog(-net[rows[product]], A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if result.status == 3:
            return math.inf
        if result.status != 0:  # pragma: no cover - zero is always feasible, bounds are finite
            raise RuntimeError(f"supply of {product}: {result.message}")
        return max(0.0, round(-result.fun, 9))

    def units_of(self, products: Iterable[str], suppliers: Suppliers | None = None) -> dict:
        return {p: self.units(p, suppliers) for p in products}

    def _capacity(self, declared: float | None, who: str, item: str) -> float:
        if declared is not None:
            return float(declared)
        if self.missing_capacity == "error":
            raise MissingCapacityError(
                f"{who}: no capacity declared for {item}; fragility needs one "
                "(or pass missing_capacity=<units per period>)"
            )
        return float(self.missing_capacity)


def supply(
    network: Network,
    product: str,
    suppliers: Suppliers | None = None,
    missing_capacity: MissingCapacity = 0.0,
) -> float:
    """S_p(Y) for one product; Y defaults to every offer and facility of the network."""
    return SupplyModel(network, missing_capacity).units(product, suppliers)
