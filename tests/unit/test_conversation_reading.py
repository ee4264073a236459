"""Issue 16, findings 4, 6 and 7: one forgiving reading of items, quantities and dates in every
command, "did you mean" where nothing fits, /help per role that fits a phone, stage ids that
are true after a re-plan."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.conversation import suggest, views
from bots.conversation.arguments import due_date
from bots.conversation.declarations import BY_NAME, COMMANDS, _for_roles
from bots.conversation.parsing import Parsed, Problem, parse
from core.importers import load_network
from core.intents.dates import MONTHS, WEEKDAYS
from core.intents.resources import close_items, item_named
from core.network.model import ROLES
from core.service.listings import finished_first
from core.stages.graph import stage_ranges
from core.weave import orderable_catalog

HURRICANE = Path(__file__).resolve().parents[2] / "examples" / "hurricane-city.yaml"
TODAY = date(2026, 12, 5)  # a Saturday


@pytest.fixture(scope="module")
def hurricane():
    return load_network([HURRICANE]).network


# -- dates: one reader for every command ---------------------------------------------------------

days_ahead = st.integers(min_value=0, max_value=4 * 365).map(lambda n: TODAY + timedelta(days=n))


@given(days_ahead)
def test_a_due_date_reads_as_iso_and_as_month_and_day(day):
    assert due_date(day.isoformat(), TODAY) == day.isoformat()
    month = MONTHS[day.month - 1].title()
    assert due_date(f"{month} {day.day}, {day.year}", TODAY) == day.isoformat()
    assert due_date(f"{day.day} {month} {day.year}", TODAY) == day.isoformat()


@given(st.sampled_from(WEEKDAYS), st.booleans())
def test_a_weekday_is_the_next_one(weekday, long):
    said = {"wed": "wednesday", "thu": "thursday", "sat": "saturday", "tue": "tuesday"}
    word = said.get(weekday, weekday + "day") if long else weekday
    day = date.fromisoformat(due_date(word.title(), TODAY))
    assert 0 <= (day - TODAY).days < 7 and WEEKDAYS[day.weekday()] == weekday


def test_a_date_that_names_no_day_or_has_passed_is_said_at_once():
    with pytest.raises(ValueError, match="DATE should be a day like Friday, Dec 20"):
        due_date("someday", TODAY)
    with pytest.raises(ValueError, match="has passed"):
        due_date("2026-01-02", TODAY)


# -- /order: the parts in any order ------------------------------------------------------------


@given(
    st.permutations(["item", "qty", "criteria", "due"]),
    st.sampled_from(["by Friday", "by Dec 20", "by 2026-12-20", "due tomorrow", None]),
)
def test_order_reads_its_parts_in_any_order_with_the_date_last(parts, due):
    """The item and its quantity either way round, criteria anywhere, the date at the end."""
    words = {"item": "face shields", "qty": "10", "criteria": "+latex-free", "due": ""}
    typed = " ".join(words[p] for p in parts if p != "due" and words[p])
    if due:
        typed += f" {due}"
    parsed = parse(f"/order {typed}")
    assert isinstance(parsed, Parsed), (typed, parsed)
    assert parsed.values["item"] == "face shields" and parsed.values["quantity"] == 10
    assert parsed.values["criteria"] == ["latex-free"]
    assert (parsed.values["due"] is None) == (due is None)


def test_the_documented_order_reads():
    parsed = parse("/order chair 2 +latex-free by Dec 20")
    assert isinstance(parsed, Parsed)
    assert parsed.values["lines"] == [["chair", 2]] and parsed.values["criteria"] == ["latex-free"]
    assert parsed.values["due"].endswith("-12-20")


# -- items: by id, name, alias, plural, several words -------------------------------------------


@pytest.mark.parametrize(
    "said, item",
    [
        ("face shields", "face-shield"),
        ("Face Shield", "face-shield"),
        ("surgical mask", "surgical-mask"),
        ("surgical masks", "surgical-mask"),
        ("N95", "n95-respirator"),
        ("careta", "face-shield"),
        ("mascarilla quirurgica", "surgical-mask"),  # an alias, accents left out
        ("vent splitter", "vent-splitter"),
    ],
)
def test_an_item_is_read_as_people_name_it(hurricane, said, item):
    assert item_named(hurricane, said).id == item


@given(st.data())
def test_every_item_is_found_by_its_id_in_any_case_and_spacing(data):
    network = load_network([HURRICANE]).network
    item = data.draw(st.sampled_from(sorted(network.items)))
    spaced = data.draw(st.sampled_from([" ", "-", "_"])).join(item.split("-"))
    cased = "".join(
        c.upper() if data.draw(st.booleans(), label=f"upper {i}") else c
        for i, c in enumerate(spaced)
    )
    assert item_named(network, cased).id == item


def test_an_unknown_item_offers_what_it_looks_like(hurricane):
    assert item_named(hurricane, "face sheild") is None
    assert "face-shield" in [i.id for i in close_items(hurricane, "face sheild")]
    assert item_named(hurricane, "spaceship") is None and not close_items(hurricane, "spaceship")


# -- did you mean ---------------------------------------------------------------------------------


def test_an_unknown_command_offers_the_one_meant():
    problem = parse("/oder chair 2")
    assert isinstance(problem, Problem)
    assert "did you mean /order" in problem.text
    assert suggest.command("hepl", BY_NAME) == " — did you mean /help?"
    assert suggest.command("xyzzy", BY_NAME) == ""


# -- /help per role ------------------------------------------------------------------------------


@pytest.mark.parametrize("roles", [[], *([r] for r in ROLES), ["maker", "supplier"]])
def test_help_is_the_roles_own_commands_in_at_most_12_lines(roles):
    shown = views.help_list(_for_roles(roles), roles).text
    assert len(shown.splitlines()) <= 12, shown
    assert "/help all" in shown
    if roles == ["buyer"]:
        assert "/order" in shown and "/choose" in shown
        assert not any(f"/{c} " in shown for c in ("disrupt", "done", "fail", "invite"))
    if roles == ["maker"]:
        assert "/done" in shown and "/order " not in shown and "/approve" not in shown


def test_help_all_lists_everything_a_person_may_use():
    everything = views.help_list(COMMANDS, ["buyer"], everything=True).text
    assert "/disrupt" in everything and "/order" in everything and "/invite" not in everything


def test_a_newcomer_help_stays_short():
    assert len(views.help_list(COMMANDS, None).text.splitlines()) <= 12


# -- the catalog, the stages ---------------------------------------------------------------------


def test_the_catalog_lists_finished_goods_before_raw_materials(hurricane):
    entries = [e for e in finished_first(hurricane, orderable_catalog(hurricane)) if e.orderable]
    ids = [e.item.id for e in entries]
    assert ids.index("face-shield") < ids.index("visor") < ids.index("pet-sheet")
    assert ids.index("vent-splitter") < ids.index("check-valve")


def test_a_re_planned_graph_says_which_stages_there_are():
    assert stage_ranges(["s1", "s2", "s3", "s22", "s23", "s9"]) == "s1–s3, s9, s22–s23"
