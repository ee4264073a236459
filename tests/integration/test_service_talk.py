"""Say and the lists people read in chat (tasks, plans, stages, catalog), through the service
layer on both databases."""

from __future__ import annotations

import pytest
from chair_world import PARTIES, agreed_order, chair_services
from sqlalchemy import text

from core.service.bus import Services
from core.service.commands import ChoosePlan, PlaceOrder, Say
from core.service.listings import catalog, duties, stage_list
from core.service.plan_pages import plan_page
from core.service.queries import timeline
from core.service.results import Origin, Refused


@pytest.fixture
def services(engine) -> Services:
    return chair_services(engine)


def test_a_party_talks_to_every_other_party_and_history_keeps_it(services):
    order = agreed_order(services)
    said = services.handle(Say("hal", order, "Seats ship Tuesday", Origin("telegram", "t1")))
    heard = {m.participant_id: m for m in said.messages if m.kind == "said"}
    assert set(heard) == {"dana", *PARTIES} - {"hal"}
    # Hal hears whom it reached, once.
    (passed,) = [m for m in said.messages if m.participant_id == "hal"]
    assert passed.kind == "passed" and passed.payload["outcome"]
    assert passed.text.startswith("Passed on to ") and "Dana Whitfield" in passed.text
    assert heard["dana"].kind == "said" and heard["dana"].text.endswith(": Seats ship Tuesday")
    assert heard["dana"].payload == {
        "said": said.value,
        "from": "hal",
        "from_name": "Hal's Upholstery",
        "from_handle": "hal",  # no chat handle known for hal: the id tells who speaks
        "text": "Seats ship Tuesday",
        "origin": {"platform": "telegram", "message_id": "t1"},
    }
    # A say from no chat message names no origin.
    quiet = services.handle(Say("dana", order, "Thanks"))
    assert "origin" not in quiet.messages[0].payload
    said_events = [e for e in services.read(lambda s: timeline(s, order)) if e.kind == "said"]
    assert [(e.actor_id, e.data["text"], e.platform, e.message_id) for e in said_events] == [
        ("hal", "Seats ship Tuesday", "telegram", "t1"),
        ("dana", "Thanks", "service", None),
    ]


def test_only_parties_talk_and_not_into_the_void(services):
    order = agreed_order(services)
    with pytest.raises(Refused, match="not a party"):
        services.handle(Say("carol", order, "hello"))
    with pytest.raises(Refused, match="say something"):
        services.handle(Say("dana", order, "   "))
    with pytest.raises(Refused, match="too long"):
        services.handle(Say("dana", order, "x" * 1001))
    lonely = services.handle(PlaceOrder("dana", (("chair", 1),))).value
    with pytest.raises(Refused, match="nobody else"):
        services.handle(Say("dana", lonely, "anyone?"))
    with services.engine.connect() as connection:
        kinds = connection.execute(text("SELECT kind FROM event WHERE kind = 'said'")).all()
    assert kinds == []


def test_tasks_plans_stages_and_catalog(services):
    order = agreed_order(services)
    fern = services.read(lambda s: duties(services, s, "fern"))
    assert [(o.stage, o.kind, o.ready) for o in fern.stages] == [
        ("s1", "confirm", True),
        ("s2", "ship", False),
    ]
    waiting = services.handle(PlaceOrder("dana", (("chair", 1),))).value
    services.handle(ChoosePlan("dana", waiting, 1))
    assert services.read(lambda s: duties(services, s, "fern")).to_agree == [waiting]
    assert services.read(lambda s: duties(services, s, "dana")).to_agree == []

    page = services.read(lambda s: plan_page(services, s, order))
    # examples/chair.yaml's 48 plans to dana, with seat-maker.yaml's seats (18 ways to either
    # shop instead of 2): 2 ways · (7·18·1) + 2 ways · (5·18·1) = 432, five to a page.
    assert page.plan_count == 432 and [p.rank for p in page.plans] == [1, 2, 3, 4, 5]
    assert page.chosen == 1 and not page.choosable
    # Every one of the 432 plans can be paged to, not only the five offered.
    later = services.read(lambda s: plan_page(services, s, order, 87))
    assert (later.pages, [p.rank for p in later.plans]) == (87, [431, 432])
    with pytest.raises(Refused, match="87 pages of plans"):
        services.read(lambda s: plan_page(services, s, order, 88))

    listing = services.read(lambda s: stage_list(services, s, order))
    assert (listing.done, listing.total, listing.percent) == (0, 21, 0)
    assert listing.stages[0].item == "Chair leg" and listing.stages[0].ready
    with pytest.raises(Refused, match="no stages yet"):
        services.read(lambda s: stage_list(services, s, waiting))

    entries = services.read(lambda s: catalog(services, s, "CHAIR"))
    assert [(e.item.id, e.plan_count) for e in entries] == [("chair", 24), ("leg", 3), ("back", 1)]
