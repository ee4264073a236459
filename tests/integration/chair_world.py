"""The paper's chair world, shared by the chair story and the concurrency tests: the network
files, a clock, and the steps people take (order two chairs, agree, assert a stage done)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from bots.bootstrap import application
from core.importers import load_network
from core.service import lifecycle, records
from core.service.bus import Services
from core.service.commands import Agree, AssertStage, ChoosePlan, LoadNetwork, PlaceOrder
from core.service.queries import order_state
from core.service.results import Origin
from core.store.tables import now

PROJECT = Path(__file__).resolve().parents[2]
NETWORK = [PROJECT / "examples" / "chair.yaml", PROJECT / "tests" / "scenarios" / "seat-maker.yaml"]
PARTIES = ["ana", "fern", "gus", "hal", "bob"]  # who must agree to Dana's order, besides her


class Clock:
    """Time that moves a minute per reading, so that every event has its own moment (also when
    several threads read it)."""

    def __init__(self):
        self.now = datetime(2026, 11, 23, 9, 0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(minutes=1)
            return self.now


def chair_services(engine: Engine, clock: Callable[[], datetime] = now) -> Services:
    """Services over `engine` with the chair network loaded."""
    services = application(engine, clock)
    loaded = load_network(NETWORK)
    assert loaded.errors == []
    services.handle(LoadNetwork(None, loaded.network))
    return services


def stages(services: Services, order_id: int) -> dict[tuple[str, str], str]:
    """(item, kind) → the stage id a person would type, for the live stages."""

    def read(session):
        contract = lifecycle.live_contract(session, order_id) or records.latest_contract(
            session, order_id
        )
        return {(s.item, s.kind): s.id for s in records.stage_graph(session, contract.id)}

    return services.read(read)


def owners(services: Services, order_id: int) -> dict[str, str]:
    def read(session):
        contract = records.latest_contract(session, order_id)
        return {s.id: s.owner for s in records.stage_graph(session, contract.id)}

    return services.read(read)


def stage_status(services: Services, order_id: int, stage: str) -> str | None:
    return services.read(lambda session: order_state(session, order_id).stages.get(stage))


def done(services, order_id, actor, stage, message):
    return services.handle(
        AssertStage(actor, order_id, stage, "done", "", Origin("telegram", message))
    )


def agree_all(services, order_id, parties):
    for party in parties:
        services.handle(Agree(party, order_id))


def order_chairs(services, chairs: int) -> int:
    """Dana orders `chairs` chairs; she alone is told, and given plans to choose from."""
    placed = services.handle(PlaceOrder("dana", (("chair", chairs),)))
    assert [m.participant_id for m in placed.messages] == ["dana"]
    assert "/choose" in placed.messages[0].text
    return placed.value


def order_two_chairs(services) -> int:
    return order_chairs(services, 2)


def agreed_order(services, chairs: int = 2) -> int:
    """Dana's chairs, plan 1 chosen and agreed by every party: 21 stages, all pending."""
    order = order_chairs(services, chairs)
    services.handle(ChoosePlan("dana", order, 1))
    agree_all(services, order, PARTIES)
    return order
