"""The forgiving grammar of /offer, /request and /propose (core/intents/grammar.py), read against
the hurricane-city network, seen from a fixed day (a Sunday)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.importers import load_network
from core.intents.grammar import EXPIRY_DAYS, IntentError, describe, parse_intent
from core.intents.model import ITEM, OFFER, PROCESS, PROPOSAL, REQUEST, Intent, Quantity, Resource
from core.network.model import Location, Participant

PROJECT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 15)  # a Sunday
BALTIMORE = [  # two makers added to the city, so that "near Baltimore" has somewhere to be
    Participant(
        "hampden", "Hampden makers", location=Location(39.30, -76.60, "Hampden, Baltimore")
    ),
    Participant("pigtown", "Pigtown lab", location=Location(39.28, -76.62, "Baltimore")),
]
NETWORK = load_network([PROJECT / "examples" / "hurricane-city.yaml"]).network.with_records(
    participants=BALTIMORE
)

# Places by hand from the file: the mean of the participants whose place names them.
AT_BALTIMORE = Location(39.29, -76.61, "Baltimore")
AT_RIO_PIEDRAS = Location((18.4036 + 18.3992) / 2, (-66.0506 - 66.0471) / 2, "Rio Piedras")
AT_LOIZA = Location((18.4313 + 18.4279) / 2, (-65.8802 - 65.8867) / 2, "Loiza")
AT_CATANO = Location(
    (18.4411 + 18.4388 + 18.4342) / 3, (-66.1182 - 66.1241 - 66.1363) / 3, "Catano"
)


def process(id: str, known: bool = True) -> Resource:
    return Resource(PROCESS, id, known)


def item(id: str, known: bool = True) -> Resource:
    return Resource(ITEM, id, known)


def want(kind, resource, quantity=None, place=None, expires=None, **fields) -> Intent:
    """The intent expected from maria; it expires when it ends, else 30 days on."""
    ends = fields.get("ends")
    if expires is None:
        expires = ends or date(2026, 12, 15)
    place_name = place.place if place else fields.pop("place_name", None)
    return Intent(
        kind, "maria", resource, quantity, place=place, place_name=place_name, expires=expires,
        **fields,
    )  # fmt: skip


H_WEEK = Quantity(10, "h", "week")
PRINTING, SHIELD, PLA = process("3d-printing"), item("face-shield"), item("pla-filament")
DEC_20 = date(2026, 12, 20)
GOOD = [
    # offers of processes: the maker's hours
    (OFFER, "3d printing 10 h/week near Baltimore", want(OFFER, PRINTING, H_WEEK, AT_BALTIMORE)),
    (OFFER, "3D-printing 10h/week", want(OFFER, PRINTING, H_WEEK)),
    (OFFER, "3dp 10 hours a week", want(OFFER, PRINTING, H_WEEK)),
    (OFFER, "10 hrs per week of 3D Printing", want(OFFER, PRINTING, H_WEEK)),
    (OFFER, "sewing 20 h", want(OFFER, process("sewing"), Quantity(20, "h"))),
    (OFFER, "laser cutting 5 h/day from 2026-12-01 to 2026-12-31",
     want(OFFER, process("laser-cutting"), Quantity(5, "h", "day"),
          starts=date(2026, 12, 1), ends=date(2026, 12, 31))),
    (OFFER, "cnc 4 h daily", want(OFFER, process("cnc-milling"), Quantity(4, "h", "day"))),
    (OFFER, "laser cut 2 h every week around Catano",
     want(OFFER, process("laser-cutting"), Quantity(2, "h", "week"), AT_CATANO)),
    (OFFER, "silicone casting", want(OFFER, process("silicone-casting"))),
    (OFFER, "sewing 20 h -- evenings only",
     want(OFFER, process("sewing"), Quantity(20, "h"), note="evenings only")),
    (OFFER, "knitting 5 h/week",
     want(OFFER, process("knitting", known=False), Quantity(5, "h", "week"))),
    # offers of items: a supplier's stock, in the item's own unit unless another is said
    (OFFER, "PET sheet 50 sheets", want(OFFER, item("pet-sheet"), Quantity(50, "sheet"))),
    (OFFER, "pet-sheet 500/week", want(OFFER, item("pet-sheet"), Quantity(500, "sheet", "week"))),
    (OFFER, "PLA 3 spools", want(OFFER, PLA, Quantity(3, "spool"))),
    (OFFER, "PLA filament 3 kg in Rio Piedras until 2027-01-15",
     want(OFFER, PLA, Quantity(3, "kg"), AT_RIO_PIEDRAS, ends=date(2027, 1, 15))),
    (OFFER, "spunbond 40 m2 near Atlantis",
     want(OFFER, item("pp-spunbond"), Quantity(40, "m2"), place_name="Atlantis")),
    # requests
    (REQUEST, "face-shield 200 by 2026-12-20", want(REQUEST, SHIELD, Quantity(200), ends=DEC_20)),
    (REQUEST, "200 face shields by Dec 20", want(REQUEST, SHIELD, Quantity(200), ends=DEC_20)),
    (REQUEST, "face shields x200 before 20 December",
     want(REQUEST, SHIELD, Quantity(200), ends=DEC_20)),
    (REQUEST, "Face Shield 200x until Dec. 20th",
     want(REQUEST, SHIELD, Quantity(200), ends=DEC_20)),
    (REQUEST, "caretas 200 by Nov 1", want(REQUEST, SHIELD, Quantity(200), ends=date(2027, 11, 1))),
    (REQUEST, "face shields 1,000 next week",
     want(REQUEST, SHIELD, Quantity(1000), ends=date(2026, 11, 22))),
    (REQUEST, "face shields 200 by friday",
     want(REQUEST, SHIELD, Quantity(200), ends=date(2026, 11, 20))),
    (REQUEST, '"urgent" 50 face shields tomorrow',
     want(REQUEST, SHIELD, Quantity(50), ends=date(2026, 11, 16), note="urgent")),
    (REQUEST, "3 kg of PLA in 2 weeks",
     want(REQUEST, PLA, Quantity(3, "kg"), ends=date(2026, 11, 29))),
    (REQUEST, "n95 200", want(REQUEST, item("n95-respirator"), Quantity(200))),
    (REQUEST, "visors 30 by today", want(REQUEST, item("visor"), Quantity(30), ends=TODAY)),
    (REQUEST, "mascarilla quirurgica 100 near Loiza",
     want(REQUEST, item("surgical-mask"), Quantity(100), AT_LOIZA)),
    (REQUEST, "O-rings 100 starting Dec 1",
     want(REQUEST, item("o-ring"), Quantity(100), starts=date(2026, 12, 1),
          expires=date(2026, 12, 31))),
    (REQUEST, "laser cutting 5 h", want(REQUEST, process("laser-cutting"), Quantity(5, "h"))),
    (REQUEST, "masks 200 per week",
     want(REQUEST, item("masks", known=False), Quantity(200, "each", "week"))),
    (REQUEST, "200 masks/week",
     want(REQUEST, item("masks", known=False), Quantity(200, "each", "week"))),
    # proposals
    (PROPOSAL, "cloth masks 200 weekly in Rio Piedras -- bring your own machine",
     want(PROPOSAL, item("cloth-mask"), Quantity(200, "each", "week"), AT_RIO_PIEDRAS,
          note="bring your own machine")),
    (PROPOSAL, "aluminum bar 20 from Dec 1 to Jan 15",
     want(PROPOSAL, item("aluminium-bar"), Quantity(20), starts=date(2026, 12, 1),
          ends=date(2027, 1, 15))),
    (PROPOSAL, "welding 3 hrs per week",
     want(PROPOSAL, item("welding", known=False), Quantity(3, "h", "week"))),
]  # fmt: skip


def read(kind: str, words: str) -> Intent:
    return parse_intent(kind, "maria", words, NETWORK, TODAY)


def same(got: Intent, expected: Intent) -> None:
    """Equal, the place's coordinates up to rounding (they are means)."""
    assert replace(got, place=None) == replace(expected, place=None)
    if expected.place is None:
        assert got.place is None
    else:
        assert got.place.place == expected.place.place
        assert (got.place.lat, got.place.lon) == pytest.approx(
            (expected.place.lat, expected.place.lon), abs=1e-9
        )


@pytest.mark.parametrize(("kind", "words", "expected"), GOOD, ids=[w for _, w, _ in GOOD])
def test_reads_what_people_type(kind, words, expected):
    same(read(kind, words), expected)


@pytest.mark.parametrize(("kind", "words", "expected"), GOOD, ids=[w for _, w, _ in GOOD])
def test_describe_reads_back_the_key_facts(kind, words, expected):
    intent = read(kind, words)
    text = describe(intent, NETWORK)
    assert text.startswith(f"{kind.capitalize()}: ")
    assert intent.resource.id in text
    for fact in (intent.quantity, intent.starts, intent.ends, intent.expires, intent.place_name):
        if fact is not None:
            assert str(fact) in text
    assert "\n" not in text


def test_describe_the_maker_offer_exactly():
    intent = read(OFFER, "3d printing 10 h/week near Baltimore")
    assert describe(intent, NETWORK) == (
        "Offer: 3d-printing (process), 10 h/week, near Baltimore (39.29, -76.61), "
        "from today until 2026-12-15 (expires)"
    )


def test_describe_names_items_and_says_what_is_new_or_unmapped():
    shields = read(REQUEST, "200 face shields by Dec 20 -- for the ER")
    assert describe(shields, NETWORK) == (
        "Request: Face shield (item face-shield), 200, from today until 2026-12-20, "
        'note: "for the ER"'
    )
    knitting = read(OFFER, "knitting 5 h from Dec 1 near Atlantis")
    assert describe(knitting, NETWORK) == (
        "Offer: knitting (new process, not in the network yet), 5 h, near Atlantis "
        "(not on our map yet), from 2026-12-01 until 2026-12-31 (expires)"
    )


BAD = [
    (OFFER, "3d printing 10 h/fortnight", "I don't know the period 'fortnight'"),
    (OFFER, "3d printing 10 h per fortnight", "I don't know the period 'fortnight'"),
    (OFFER, "3d printing 10 furlongs/week", "I don't know the unit 'furlongs'"),
    (REQUEST, "face shields 0", "a quantity must be more than 0, not 0"),
    (REQUEST, "face shields -5", "a quantity must be more than 0, not -5"),
    (REQUEST, "face shields 10 by 2026-01-01", "2026-01-01 has already passed"),
    (REQUEST, "face shields 10 from 2026-12-10 to 2026-12-01",
     "it ends (2026-12-01) before it starts (2026-12-10)"),
    (REQUEST, "face shields 10 from Dec 10 by Dec 1", "it ends (2026-12-01) before it starts"),
    (OFFER, "", "what do you want to offer?"),
    (REQUEST, "200 by Dec 20", "what do you want to request?"),
    (PROPOSAL, "-- just chatting", "what do you want to propose?"),
    (REQUEST, "... !!", "what do you want to request?"),
    (REQUEST, "face shields 200 by 2026-02-30", "there is no day '2026-02-30'"),
    (REQUEST, "face shields 200 by Feb 30", "there is no day 'feb 30'"),
    (REQUEST, "face shields per week", "how many per week?"),
    (REQUEST, "face shields 200 near", "near where?"),
    (REQUEST, "face shields 200 by Dec 20 by Dec 21", "two end dates (Dec 20 and Dec 21)"),
    (REQUEST, "face shields 200 in 99999999999 days", "'in 99999999999 days' is too far away"),
    ("order", "face shields 200", "an intent is an offer, a request or a proposal, not 'order'"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "words", "fragment"), BAD, ids=[w or "empty" for _, w, _ in BAD])
def test_says_what_it_did_not_understand(kind, words, fragment):
    with pytest.raises(IntentError) as raised:
        read(kind, words)
    message = str(raised.value)
    assert fragment in message
    assert "\n" not in message
    if kind in (OFFER, REQUEST):
        assert raised.value.shows_how  # the chat layer shows what works


def test_propose_is_a_proposal_and_a_slash_command_word_is_forgiven():
    assert read("propose", "sewing 2 h").kind == PROPOSAL
    assert read("/Offer", "sewing 2 h").kind == OFFER


def test_expiry_defaults():
    assert read(OFFER, "sewing 2 h").expires == date(2026, 12, 15)  # today + 30 days
    assert EXPIRY_DAYS == 30
    assert read(OFFER, "sewing 2 h from 2027-03-01").expires == date(2027, 3, 31)  # start + 30
    assert read(OFFER, "sewing 2 h by Dec 3").expires == date(2026, 12, 3)  # its end


def test_a_day_and_month_that_have_passed_this_year_are_next_years():
    assert read(REQUEST, "visors 5 by Nov 14").ends == date(2027, 11, 14)
    assert read(REQUEST, "visors 5 by Nov 15").ends == TODAY
    assert read(REQUEST, "visors 5 by Nov 15 2027").ends == date(2027, 11, 15)
    assert read(REQUEST, "visors 5 by Feb 29").ends == date(2028, 2, 29)


def test_a_slash_between_words_is_not_a_rate():
    intent = read(REQUEST, "PLA/PETG 50 spools")
    assert intent.quantity == Quantity(50, "spool")
    assert intent.resource == item("pla-petg", known=False)


def test_san_juan_is_the_middle_of_everyone_who_lives_in_it():
    intent = read(OFFER, "PLA filament 3 kg near San Juan until 2027-01-15")
    assert intent.place_name == "San Juan"
    assert 18.37 < intent.place.lat < 18.47 and -66.12 < intent.place.lon < -66.0
    assert intent.place != NETWORK.participants["marisol"].location  # a mean, not the first


# -- any text ------------------------------------------------------------------------------------

FRAGMENTS = [
    "3d printing", "face shields", "PET sheet", "careta", "masks", "near", "in", "around",
    "San Juan", "Baltimore", "by", "before", "until", "from", "to", "Dec 20", "20 December",
    "2026-12-20", "2026-02-30", "tomorrow", "next week", "in 2 weeks", "friday", "10", "0", "-3",
    "x200", "1,000", "2.5", "h", "kg", "sheets", "/week", "/fortnight", "per", "a", "week",
    "weekly", "--", '"', "of", "3dp", "n95", "in 99999999999999999999 days", "9" * 400, "/",
    "İn 2 weeK", "ſep 3", "\x1e", "\n", "—", "×", "²",
]  # fmt: skip
texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map(" ".join),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from([OFFER, REQUEST, PROPOSAL]), words=texts)
def test_any_text_is_an_intent_or_an_intent_error(kind, words):
    try:
        intent = read(kind, words)
    except IntentError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert intent.resource.id.strip() == intent.resource.id != ""
    assert intent.ends is None or intent.ends >= TODAY
    assert intent.expires >= TODAY
    assert intent.quantity is None or intent.quantity.amount > 0
    assert intent.resource.id in describe(intent, NETWORK)


def test_this_week_and_this_month_are_dates_not_part_of_the_item():
    """Found playing a maker (issue 16): "/offer 20 face shields this week" offered a new item
    called "face shields this week", which matched no request for face shields."""
    week = read(OFFER, "20 face shields this week")
    assert week.resource == item("face-shield") and week.quantity == Quantity(20)
    assert week.ends == date(2026, 11, 15)  # TODAY is a Sunday: this week ends today
    month = read(REQUEST, "10 face shields this month")
    assert month.resource == item("face-shield") and month.ends == date(2026, 11, 30)
