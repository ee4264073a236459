"""Plan counts of any size, for people and for machines.

The weave counts exactly, and a large network has more plans than a number of 4,300 digits,
beyond which Python refuses `str()` and `int()` of an int (sys.set_int_max_str_digits). People
read a count by its size; events and JSON keep every digit. Both go through `decimal`, whose
conversions have no such limit, so nothing here depends on (or changes) the process's setting.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Beyond a trillion a count is read by its order of magnitude, not digit by digit.
EXACT_BELOW = 10**12


def how_many(count: int) -> str:
    """`1,234` below a trillion; beyond, `3.21×10^4,328 (4,329 digits)`."""
    if count < EXACT_BELOW:
        return f"{count:,}"
    mantissa, exponent = format(Decimal(count), ".2e").split("e")
    power = int(exponent)
    return f"{mantissa}×10^{power:,} ({power + 1:,} digits)"


def exact_text(count: int) -> str:
    """Every decimal digit of `count`, however many: what events and JSON store."""
    return str(Decimal(count))


def from_exact_text(text: str) -> int:
    """The count `exact_text` wrote; ValueError if `text` is not a whole number."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"not a whole number: {text[:40]!r}")
    return int(value)
