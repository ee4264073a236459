"""Several plans' equations side by side: the paper's matrix Q and the price Jacobian.

Rows are goods (one plan each), columns the base inputs (price and labour variables), so the
price vector is Q · p. Because every price is linear in its inputs, the Jacobian of the unit
prices with respect to the input prices is Q with each row divided by its quantity: it says how
much a good's unit price moves when one input's price moves by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.pricing.equation import Equation
from core.pricing.linear_form import LinearForm


@dataclass(frozen=True)
class PriceTable:
    goods: tuple[str, ...]
    variables: tuple[str, ...]
    q: np.ndarray  # goods × variables, coefficients of each good's total price
    constants: np.ndarray  # the part of each price that is not a variable
    quantities: np.ndarray

    @classmethod
    def of(cls, equations: Mapping[str, Equation]) -> PriceTable:
        goods = tuple(equations)
        variables = tuple(dict.fromkeys(n for e in equations.values() for n in e.form.terms))
        column = {name: j for j, name in enumerate(variables)}
        q = np.zeros((len(goods), len(variables)))
        for i, good in enumerate(goods):
            for name, coefficient in equations[good].form.terms.items():
                q[i, column[name]] = float(coefficient)
        constants = np.array([float(equations[g].form.constant) for g in goods])
        quantities = np.array([float(equations[g].quantity) for g in goods])
        return cls(goods, variables, q, constants, quantities)

    def prices(self, values: Mapping[str, float]) -> np.ndarray:
        """Q · p (+ constants); raises KeyError naming a variable without a value."""
        p = np.array([values[name] for name in self.variables])
        return self.q @ p + self.constants

    def jacobian(self) -> np.ndarray:
        """∂ unit price of each good / ∂ price of each input."""
        return self.q / self.quantities[:, None]


@dataclass(frozen=True)
class BreakEven:
    """Where two plans cost the same.

    `difference` is price(a) − price(b): the plans tie on the hyperplane where it is zero.
    `per_variable` gives, for each variable, the value at which they tie while every other
    variable keeps its known value (absent when another unknown is involved or it cannot tie).
    """

    difference: LinearForm
    per_variable: Mapping[str, float]


def break_even(a: Equation, b: Equation, values: Mapping[str, float] | None = None) -> BreakEven:
    known = {**a.values, **b.values, **(values or {})}
    difference = a.form - b.form
    per_variable: dict[str, float] = {}
    for name, coefficient in difference.terms.items():
        others = {n: v for n, v in known.items() if n != name}
        rest = difference.partially(others)
        if set(rest.terms) == {name}:
            per_variable[name] = -float(rest.constant) / float(coefficient)
    return BreakEven(difference, per_variable)
