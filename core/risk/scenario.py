"""A risk scenario: what fragility and survival need that a network file does not say.

One document (YAML or JSON, parsed to a dict by the caller) holds, per product, the demand
distribution and the loss of a unit short (for fragility B), the demand rate and the margin of a
lost unit (for time to survive), and, per node, stock on hand and time to recover:

    scis-risk: 1
    products:
      chair:
        demand: {distribution: poisson, mu: 6}          # fragility: P_p
        weight: {kind: shortage, value_per_unit: 150}   # fragility: W_p
        rate: 4                                         # survival: units per day
        margin: 1                                       # survival: weight of a lost unit
    inventory: {ana-shop: {leg: 8, chair: 2}}           # holder → item → units on hand
    time_to_recover: {gus-backs: 10}                    # node → days
    default_time_to_recover: 7

A product takes part in fragility when it has both a demand and a weight, in survival when it
has a rate; either half alone is a mistake worth saying, not a product to skip silently. The
document is checked twice: on its own when parsed (shape, numbers, known keys), and against a
network by `RiskScenario.check` (products are items; holders and nodes are offers, facilities
or participants), because one scenario may be read before the network it is meant for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from core.network.model import Network
from core.risk.demand import ProductRisk, parse_products
from core.risk.survival import DEFAULT_TIME_TO_RECOVER, SurvivalParameters

VERSION = 1
_TOP = ("scis-risk", "products", "inventory", "time_to_recover", "default_time_to_recover")
_PRODUCT = ("demand", "weight", "rate", "margin")


@dataclass(frozen=True)
class RiskScenario:
    """`products`: the fragility terms, in the document's order (empty when no product has a
    demand and a weight); `survival`: the survival LP's parameters, None when no rate is given."""

    products: tuple[ProductRisk, ...]
    survival: SurvivalParameters | None

    @property
    def product_ids(self) -> tuple[str, ...]:
        """Every product the scenario names, for fragility, survival or both."""
        named = [r.product for r in self.products]
        if self.survival is not None:
            named += [*self.survival.demand, *self.survival.margin]
        return tuple(dict.fromkeys(named))

    def check(self, network: Network) -> None:
        """A ValueError naming the first field that refers to nothing in `network`."""
        for product in self.product_ids:
            if product not in network.items:
                raise ValueError(f"products.{product}: not an item of the network")
        if self.survival is None:
            return
        for holder, item in self.survival.inventory:
            _node(network, f"inventory.{holder}", holder)
            if item not in network.items:
                raise ValueError(f"inventory.{holder}.{item}: not an item of the network")
        for node in self.survival.time_to_recover:
            _node(network, f"time_to_recover.{node}", node)


def parse_scenario(document: object) -> RiskScenario:
    """The scenario a parsed YAML/JSON document describes; ValueError naming the bad field."""
    if not isinstance(document, Mapping):
        raise ValueError("expected a mapping with scis-risk: 1 and products")
    for key in document:
        if key not in _TOP:
            raise ValueError(f"{key}: unknown field (expected {', '.join(_TOP)})")
    version = document.get("scis-risk")
    if version != VERSION or isinstance(version, bool):
        raise ValueError(f"scis-risk: expected {VERSION}, got {version!r}")
    products = document.get("products")
    if not isinstance(products, Mapping) or not products:
        raise ValueError("products: expected a non-empty mapping of product → its figures")

    at_stake: dict[str, dict] = {}
    rates: dict[str, float] = {}
    margins: dict[str, float] = {}
    for product, entry in products.items():
        product = str(product)
        where = f"products.{product}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: expected a mapping with demand and weight, or rate")
        _only(where, entry, _PRODUCT)
        halves = [key for key in ("demand", "weight") if key in entry]
        if len(halves) == 1:
            missing = "weight" if halves == ["demand"] else "demand"
            raise ValueError(f"{where}.{missing}: missing (fragility needs demand and weight)")
        if halves:
            at_stake[product] = {"demand": entry["demand"], "weight": entry["weight"]}
        if "rate" in entry:
            rates[product] = _amount(f"{where}.rate", entry["rate"])
        if "margin" in entry:
            if "rate" not in entry:
                raise ValueError(f"{where}.margin: only counts with a rate (survival)")
            margins[product] = _amount(f"{where}.margin", entry["margin"])
        if not halves and "rate" not in entry:
            raise ValueError(f"{where}: expected demand and weight, or rate")

    try:
        risks = parse_products(at_stake) if at_stake else ()
    except ValueError as error:  # its messages start with the product's id
        raise ValueError(f"products.{error}") from None

    inventory = _inventory(document.get("inventory", {}))
    recover = _amounts("time_to_recover", document.get("time_to_recover", {}))
    default = _amount(
        "default_time_to_recover", document.get("default_time_to_recover", DEFAULT_TIME_TO_RECOVER)
    )
    if not rates:
        given = [
            k for k in ("inventory", "time_to_recover", "default_time_to_recover") if k in document
        ]
        if given:
            raise ValueError(f"{given[0]}: only counts for survival, and no product has a rate")
        return RiskScenario(risks, None)
    survival = SurvivalParameters(
        demand=rates,
        inventory=inventory,
        time_to_recover=recover,
        margin=margins,
        default_time_to_recover=default,
    )
    return RiskScenario(risks, survival)


def _inventory(spec: object) -> dict[tuple[str, str], float]:
    if not isinstance(spec, Mapping):
        raise ValueError("inventory: expected a mapping of holder → {item: units}")
    stock = {}
    for holder, items in spec.items():
        for item, units in _amounts(f"inventory.{holder}", items).items():
            stock[(str(holder), item)] = units
    return stock


def _amounts(where: str, spec: object) -> dict[str, float]:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: expected a mapping of id → number")
    return {str(key): _amount(f"{where}.{key}", value) for key, value in spec.items()}


def _amount(where: str, value: object) -> float:
    """A finite number ≥ 0: units, days and margins are never negative."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}: expected a finite number ≥ 0, got {value!r}")
    return float(value)


def _only(where: str, spec: Mapping, allowed: tuple[str, ...]) -> None:
    for key in spec:
        if key not in allowed:
            raise ValueError(f"{where}.{key}: unknown field (expected {', '.join(allowed)})")


def _node(network: Network, where: str, node: str) -> None:
    """An offer, facility or participant, and only one of them (survival could not tell)."""
    kinds = [
        kind
        for kind, records in (
            ("offer", network.offers),
            ("facility", network.facilities),
            ("participant", network.participants),
        )
        if node in records
    ]
    if not kinds:
        raise ValueError(f"{where}: no offer, facility or participant has this id")
    if len(kinds) > 1:
        raise ValueError(f"{where}: ambiguous, both {' and '.join(kinds)} have this id")
