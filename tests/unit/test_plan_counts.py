"""Plan counts of any size: people read their size, machines get every digit, and Python's limit
on int-to-text conversion (4,300 digits) is neither hit nor changed."""

from __future__ import annotations

import sys

import pytest

from core.plan_counts import exact_text, from_exact_text, how_many


def test_counts_below_a_trillion_are_exact_and_beyond_by_their_size():
    assert how_many(12) == "12"
    assert how_many(999_999_999_999) == "999,999,999,999"
    assert how_many(6**40) == "1.34×10^31 (32 digits)"  # 1.3367…×10^31, rounded


def test_a_count_past_the_conversion_limit_is_shown_and_kept_exactly():
    limit = sys.get_int_max_str_digits()
    count = 7 * 10**12_000 + 123  # 12,001 digits
    assert how_many(count) == "7.00×10^12,000 (12,001 digits)"
    text = exact_text(count)
    assert len(text) == 12_001 and text.startswith("7000") and text.endswith("0123")
    assert from_exact_text(text) == count
    assert sys.get_int_max_str_digits() == limit


@pytest.mark.parametrize("text", ["", "twelve", "1.5", "nan", "inf"])
def test_what_is_not_a_whole_number_is_refused(text):
    with pytest.raises(ValueError, match="not a whole number"):
        from_exact_text(text)
