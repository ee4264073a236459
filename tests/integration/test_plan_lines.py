"""Issue 16, findings 2 and 3, through the conversation on hurricane-city: the plans offered for
face shields read apart (who makes and supplies what), equal prices come least risky first,
risk differs by who makes and ships, `/plans` pages through all 325,757,376,000 plans (the
header of examples/hurricane-city.yaml counts them, a truck for every leg) and any plan shown
can be chosen."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select
from test_conversation import PROJECT, Chat

from bots.bootstrap import application
from core.importers import load_network
from core.service.commands import LoadNetwork
from core.store.tables import Contract, ParticipantRow, PlanRow

CLINIC = ("matrix", "@clinica-loiza:example.org")
# Face shields to the clinic in Loíza, by the header of examples/hurricane-city.yaml: every leg
# between two places on one of the trucks in its range (a multiple of 5: pages are full).
PLANS = 325_757_376_000
LINE = re.compile(r"^(\d+)\. (.+?) · (\d+) % risk, riskiest: (.+)$")


@pytest.fixture
def chat(engine) -> Chat:
    services = application(engine)
    network = load_network([PROJECT / "examples" / "hurricane-city.yaml"]).network
    services.handle(LoadNetwork(None, network))
    return Chat(services)


def plan_lines(text: str) -> list[tuple[re.Match, str]]:
    """Each plan's first line, parsed, with the line under it (who makes and supplies)."""
    rows = text.splitlines()
    return [
        (found, rows[i + 1])
        for i, row in enumerate(rows)
        if (found := LINE.match(row)) and i + 1 < len(rows)
    ]


def test_face_shield_plans_read_apart_and_page_on(chat):
    chat.says(CLINIC, "/order face shield 5")
    offered = chat.outbox("clinica-loiza", "plans")[-1]
    order = offered.order_id
    text = offered.text
    assert f"Order {order}: {PLANS:,} ways to deliver it" in text
    plans = plan_lines(text)
    assert [int(found[1]) for found, _ in plans] == [1, 2, 3, 4, 5]
    # Pairwise distinct, each naming who makes the face shield, and short enough for a phone.
    whole = [found[0] + "\n" + who for found, who in plans]
    assert len(set(whole)) == 5
    # The first names who makes what (and who carries it: every leg goes on a truck); the
    # others read apart, each naming its own maker or what it changes of an earlier plan.
    assert re.match(r"   \S.* makes\b.*; headband [^\[;]+;", plans[0][1]), plans[0][1]
    assert len({who for _, who in plans}) == 5
    assert all(re.match(r"   (as plan \d+, but |\S.* makes)", who) for _, who in plans)
    assert all(len(row) <= 160 for row in text.splitlines())
    assert "Plásticos del Caribe" in text  # a supplier, by name
    # Equal prices: the least risky first. And risk is not one flat figure for every plan.
    for (a, _), (b, _) in zip(plans, plans[1:], strict=False):
        if a[2] == b[2]:
            assert int(a[3]) <= int(b[3])
    risks = {int(found[3]) for found, _ in plans}
    assert max(risks) < 50  # confirming, receiving, accepting no longer weigh like making
    assert "Choose 5" in str(offered.payload["buttons"])

    # Page 2 is plans 6–10, woven again lazily; it pages back and on.
    page = chat.send(CLINIC, f"/plans {order} 2")[0]
    assert f"page 2 of {PLANS // 5:,}" in page.text
    shown = plan_lines(page.text)
    assert [int(found[1]) for found, _ in shown] == [6, 7, 8, 9, 10]
    commands = [button.command for row in page.buttons for button in row]
    assert f"/plans {order} 1" in commands and f"/plans {order} 3" in commands
    assert f"/choose {order} 7" in commands
    # Its last page, 65 billion pages on, is for nobody to read: paging to the last page and
    # past it is tested on the chair's 432 plans (test_service_talk.py).

    # Plan 7 was never offered, only shown: choosing it sends its makers their frames.
    maker = shown[1][1].strip().removeprefix("as plan 6, but ").split(" makes")[0]  # plan 7's
    chat.says(CLINIC, f"/choose {order} 7")
    with Session(chat.services.engine) as session:
        chosen = session.exec(select(PlanRow).join(Contract, Contract.plan_id == PlanRow.id)).one()
        named = session.exec(select(ParticipantRow).where(ParticipantRow.name == maker)).one()
    assert chosen.rank == 7 and chosen.order_id == order
    assert "Your part: make 5 × Face shield" in chat.outbox(named.id, "frame")[-1].text
