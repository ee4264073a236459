"""A price as a sparse linear form over price variables: c + Σ a_v · v.

Coefficients are exact (integers or fractions: quantities and batches), so equations compose by
substitution without rounding; values are floats only when a form is evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

Coefficient = int | Fraction


@dataclass(frozen=True)
class LinearForm:
    terms: Mapping[str, Coefficient] = field(default_factory=lambda: MappingProxyType({}))
    constant: Coefficient = 0

    @classmethod
    def variable(cls, name: str, coefficient: Coefficient = 1) -> LinearForm:
        return cls(MappingProxyType({name: coefficient}))

    def __add__(self, other: LinearForm) -> LinearForm:
        terms = dict(self.terms)
        for name, coefficient in other.terms.items():
            terms[name] = terms.get(name, 0) + coefficient
        return LinearForm(
            MappingProxyType({n: c for n, c in terms.items() if c != 0}),
            self.constant + other.constant,
        )

    def __sub__(self, other: LinearForm) -> LinearForm:
        return self + other.scaled(-1)

    def scaled(self, factor: Coefficient) -> LinearForm:
        if factor == 0:
            return LinearForm()
        return LinearForm(
            MappingProxyType({n: c * factor for n, c in self.terms.items()}),
            self.constant * factor,
        )

    def coefficient(self, name: str) -> Coefficient:
        return self.terms.get(name, 0)

    def unknowns(self, values: Mapping[str, float]) -> list[str]:
        return [name for name in self.terms if name not in values]

    def evaluate(self, values: Mapping[str, float]) -> float | None:
        """The value when every variable is known, else None."""
        if self.unknowns(values):
            return None
        return float(self.constant) + sum(float(c) * values[n] for n, c in self.terms.items())

    def partially(self, values: Mapping[str, float]) -> LinearForm:
        """Substitute the known variables; what remains is a form over the unknown ones."""
        constant = float(self.constant)
        terms = {}
        for name, coefficient in self.terms.items():
            if name in values:
                constant += float(coefficient) * values[name]
            else:
                terms[name] = coefficient
        return LinearForm(MappingProxyType(terms), constant)
