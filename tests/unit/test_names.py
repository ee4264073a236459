"""Names as people give them: what cannot be seen goes, and look-alikes compare equal."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from core.service.names import clean, skeleton, suggestion

HIDDEN = "\x00\x07\x1b\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060"
HIDDEN += "\u2066\u2067\u2068\u2069\u061c\ufeff\u00ad"


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(HIDDEN)))
def test_a_clean_name_has_nothing_hidden_and_stays_as_it_is(text):
    name = clean(text)
    assert not any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"} for char in name)
    assert name == name.strip() and "  " not in name
    assert clean(name) == name


def test_look_alikes_share_a_skeleton_and_different_names_do_not():
    alike = [
        "Alice Baker",
        "alice  baker",
        "Аlice Bаker",
        "ΑLICE BAKER",
        "Alicé Baker",
        "Ａlice Baker",
    ]
    assert {skeleton(name) for name in alike} == {"alicebaker"}
    assert skeleton("Alice Barker") != skeleton("Alice Baker")
    assert skeleton("🙂") != skeleton("🙃")  # names of symbols only are not all one


def test_a_suggestion_is_free():
    taken = {skeleton("Alice Baker"), skeleton("Alice Baker (Telegram)")}
    assert suggestion("Alice Baker", "telegram", taken) == "Alice Baker 2"
    assert suggestion("Alice Baker", "matrix", taken) == "Alice Baker (Matrix)"
