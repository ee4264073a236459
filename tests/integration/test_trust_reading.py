"""Issue 14, finding 3: who may read an order. The one rule (core/service/lifecycle.parties): its
buyer, the parties of its live plan, the coordinators. Someone who only appeared in a plan that
was offered and not chosen, or a party a re-plan released, reads nothing of it — not the plans,
the stages, the risk, nor the history with the parties' /say lines."""

from __future__ import annotations

from sqlmodel import Session, select
from test_conversation import NETWORK, Chat, run
from test_conversation import services as services  # noqa: F401 (a fixture)

from core.importers import load_network
from core.service.commands import Disrupt
from core.store.tables import Contract, PlanRow

DOOR_CODE = "door code 4711"
# Chat accounts the chair network gives the makers test_conversation has no account for.
MATRIX_ONLY = {"eli": ("matrix", "@eli.brandt:example.org"), "ivy": ("matrix", "@ivy:example.org")}
READS = ("/plans {o}", "/stages {o}", "/risk {o}", "/history {o}")


FACILITIES = load_network(NETWORK).network.facilities


def participants(tree: list[dict]) -> set[str]:
    """Who a stored plan tree names, read here rather than by the code under test."""
    found: set[str] = set()
    stack = list(tree)
    while stack:
        node = stack.pop()
        found.add(who(node))
        stack.extend(node["inputs"])
    return found - {None}


def who(node: dict) -> str | None:
    source = node["source"]
    if "facility" in source:
        return FACILITIES[source["facility"]].operator
    return source.get("supplier") or source.get("holder")


def everyone_offered(services, order: int) -> set[str]:
    with Session(services.engine) as session:
        trees = session.exec(select(PlanRow.tree).where(PlanRow.order_id == order)).all()
    return set().union(*(participants(tree) for tree in trees))


def live_tree(services, order: int) -> list[dict]:
    with Session(services.engine) as session:
        contract = session.exec(
            select(Contract).where(Contract.order_id == order).order_by(Contract.id.desc())
        ).first()
        return session.get(PlanRow, contract.plan_id).tree


def live_parties(services, order: int) -> set[str]:
    return participants(live_tree(services, order))


def agreed_chair_order(chat: Chat) -> int:
    chat.says("dana", "/order chair 2")
    order = chat.outbox("dana", "plans")[-1].order_id
    chat.says("dana", f"/choose {order} 1")
    for party in sorted(live_parties(chat.services, order)):
        chat.says(party, f"/agree {order}")
    return order


def reads_nothing(chat: Chat, who: str, order: int) -> None:
    account = MATRIX_ONLY.get(who, who)
    for read in READS:
        answer = chat.says(account, read.format(o=order))
        assert "only shown to its parties" in answer, (who, read, answer)
        assert "4711" not in answer


def test_finding_3_a_maker_of_a_plan_not_chosen_reads_nothing_of_the_order(services):
    chat = Chat(services)
    order = agreed_chair_order(chat)
    chat.says("dana", f"/say {order} Deliveries at the back, {DOOR_CODE}")
    chosen = live_parties(services, order)
    not_chosen = sorted(everyone_offered(services, order) - chosen - {"dana"})
    assert not_chosen, "the chair network offers plans with other makers"
    for who in not_chosen:
        reads_nothing(chat, who, order)
    # The parties of the live plan do read the thread.
    reader = sorted(chosen - {"dana"})[0]
    assert DOOR_CODE in chat.says(reader, f"/history {order}")


def test_finding_3_a_party_a_replan_released_reads_nothing_more(services):
    chat = Chat(services)
    order = agreed_chair_order(chat)
    before = live_parties(services, order)
    root = live_tree(services, order)[0]
    facility = root["source"]["facility"]
    maker = who(root)
    # The disruption re-plans the order without the flooded maker.
    run(services, services.handle(Disrupt("rita", facility, "the shop flooded")))
    after = live_parties(services, order)
    assert maker in before and maker not in after
    chat.says("dana", f"/say {order} New {DOOR_CODE}")
    reads_nothing(chat, maker, order)
    assert "4711" not in " ".join(n.text for n in chat.outbox(maker))
