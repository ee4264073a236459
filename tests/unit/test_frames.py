from core.frames import how_many, short_equation


def test_counts_beyond_a_trillion_are_shown_by_their_order_of_magnitude():
    assert how_many(12) == "12"
    assert how_many(999_999_999_999) == "999,999,999,999"
    assert how_many(6**40) == "1.33×10^31"


def test_a_long_equation_is_cut_at_a_term_and_says_how_many_terms_it_has():
    text = "P = " + " + ".join(f"K{n}" for n in range(1, 301))
    short = short_equation(text)
    assert len(short) <= 120 and short.endswith("+ … (300 terms)")
    assert short.startswith("P = K1 + K2 + ")
    assert short_equation("P = K + 4·L") == "P = K + 4·L"
