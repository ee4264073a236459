"""The paper's chair, end to end through the service layer, on SQLite and on PostgreSQL.

Dana orders two chairs; Ana assembles them from Fern's legs, Gus's backs and seats Hal
upholsters from Bob's foam and fabric. Hal's shop floods: error analysis names the seat's make
stage, the reweave gives the seats to Ivy, who gets a frame while Hal is released, and the
chairs are delivered. In the variant no seat source is left and the buyer approves foam seats.
"""

from __future__ import annotations

import pytest
from chair_world import NETWORK, Clock, agree_all, done, order_two_chairs, owners, stages

from bots.bootstrap import application
from core.importers import load_network
from core.service.commands import Agree, ChoosePlan, DecideSubstitution, Disrupt, LoadNetwork
from core.service.queries import error_analysis, history_at, order_state
from core.service.results import Refused
from core.store.tables import OrderRow


@pytest.fixture
def story(engine):
    clock = Clock()
    services = application(engine, clock)
    loaded = load_network(NETWORK)
    assert loaded.errors == []
    services.handle(LoadNetwork(None, loaded.network))
    return services, clock


def test_the_chair_story(story):
    services, clock = story
    order = order_two_chairs(services)
    chosen = services.handle(ChoosePlan("dana", order, 1))
    framed = {m.participant_id for m in chosen.messages if m.kind == "frame"}
    assert framed == {"dana", "ana", "fern", "gus", "hal", "bob"}
    hal_frame = next(m.text for m in chosen.messages if m.participant_id == "hal")
    assert "Your part: make 2 × Seat" in hal_frame
    assert "P = 2·K + 8·L + 2·K2 + 2·F + 2·S + 2·B" in hal_frame
    assert "telegram 731904552" in hal_frame  # Ana's contact, so Hal can reach her

    agree_all(services, order, ["ana", "fern", "gus", "hal"])
    before_last = services.read(lambda s: order_state(s, order))
    assert before_last.contract_status == "potential"
    t1 = clock.now
    agree_all(services, order, ["bob"])
    agreed = services.read(lambda s: order_state(s, order))
    assert agreed.contract_status == "agreed" and len(agreed.stages) == 21
    t2 = clock.now

    code = stages(services, order)
    done(services, order, "fern", code[("leg", "confirm")], "m1")
    done(services, order, "fern", code[("leg", "ship")], "m2")
    done(services, order, "ana", code[("leg", "receive")], "m3")
    done(services, order, "bob", code[("foam-block", "confirm")], "m4")
    progressed = services.read(lambda s: order_state(s, order))
    t3 = clock.now

    flood = services.handle(Disrupt("hal", "hal-shop", "the shop flooded"))
    assert flood.value == [order]
    analysis = next(e for e in flood.events if e.kind == "error_analysis")
    assert analysis.data["root_causes"] == [code[("seat", "make")]]
    assert services.read(lambda s: error_analysis(s, order)) == []  # the failed stages are gone
    replanned = next(e for e in flood.events if e.kind == "replanned")
    assert replanned.data["joined"] == ["ivy"] and replanned.data["released"] == ["hal"]
    to = {(m.participant_id, m.kind) for m in flood.messages}
    assert ("ivy", "frame") in to and ("hal", "released") in to and ("dana", "replanned") in to
    assert not any(p in ("fern", "gus", "ana") for p, _ in to)  # their work did not change

    after = stages(services, order)
    # what was done stays done, under the ids people already know
    for key in [("leg", "confirm"), ("leg", "ship"), ("leg", "receive"), ("foam-block", "confirm")]:
        assert after[key] == code[key]
    state = services.read(lambda s: order_state(s, order))
    assert [state.stages[code[k]] for k in [("leg", "confirm"), ("foam-block", "confirm")]] == [
        "done",
        "done",
    ]
    assert owners(services, order)[after[("seat", "make")]] == "ivy"
    assert after[("seat", "make")] not in code.values()
    # Ivy agrees before her stages can start (ARCHITECTURE.md, Stages: work in progress)
    with pytest.raises(Refused, match="agree to your part"):
        done(services, order, "ivy", after[("seat", "make")], "too-soon")
    assert "waiting for Ivy Okafor Upholstery to agree" in services.read(
        lambda s: s.get(OrderRow, order).reason
    )
    agreed_ivy = services.handle(Agree("ivy", order))
    assert any(m.payload.get("outcome") for m in agreed_ivy.messages if m.participant_id == "ivy")

    who = owners(services, order)  # dependencies first, as people would go
    for n, stage in enumerate(who):
        if state.stages[stage] != "done":
            done(services, order, who[stage], stage, f"rest-{n}")
    final = services.read(lambda s: order_state(s, order))
    assert final.status == "completed" and final.contract_status == "completed"
    assert set(final.stages.values()) == {"done"}

    # H(D, t) from the event log alone equals what the tables said at those times
    for moment, recorded in [(t1, before_last), (t2, agreed), (t3, progressed)]:
        assert services.read(lambda s, m=moment: history_at(s, order, m)) == recorded
    assert services.read(lambda s: history_at(s, order, clock.now)) == final


def test_no_seat_left_the_buyer_approves_foam_seats(story):
    services, _ = story
    for offer in ("fern-seats", "gus-seats"):
        services.handle(Disrupt("rita", offer, "sold out"))
    services.handle(Disrupt("rita", "ivy", "away for the week"))
    order = order_two_chairs(services)
    services.handle(ChoosePlan("dana", order, 1))
    agree_all(services, order, ["ana", "fern", "gus", "hal", "bob"])

    flood = services.handle(Disrupt("hal", "hal-shop", "the shop flooded"))
    proposal = next(e for e in flood.events if e.kind == "substitution_proposed")
    assert proposal.data["item"] == "seat" and proposal.data["by"] == "foam-seat"
    asked = next(m for m in flood.messages if m.participant_id == "dana")
    assert f"/approve {order} {proposal.data['substitution']}" in asked.text

    approved = services.handle(
        DecideSubstitution("dana", order, proposal.data["substitution"], approve=True)
    )
    replanned = next(e for e in approved.events if e.kind == "replanned")
    assert "hana" in replanned.data["joined"]
    seat = replanned.data["tree"][0]["inputs"][1]
    assert seat["item"] == "foam-seat" and seat["source"]["offer"] == "hana-foam-seats"
    assert ("hana", "frame") in {(m.participant_id, m.kind) for m in approved.messages}
