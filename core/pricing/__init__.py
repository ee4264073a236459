"""Characteristic pricing equations, the matrix Q, the price Jacobian and break-even points."""

from core.pricing.equation import Equation, PriceVariable, plan_equation
from core.pricing.linear_form import LinearForm
from core.pricing.table import BreakEven, PriceTable, break_even

__all__ = [
    "BreakEven",
    "Equation",
    "LinearForm",
    "PriceTable",
    "PriceVariable",
    "break_even",
    "plan_equation",
]
