"""Value Flows out of and into the store, on both databases: issue 7's face-shield scenario played
to completion exports as a document the VF schemas accept, with its intents, its order as a plan,
a commitment per stage and an event per stage done; a VF document's intents are cast, all or
none; and `scis export valueflows` / `scis import valueflows` do both from the command line."""

# The scenario's `chat` fixture is imported, and tests name it as their argument.
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from chair_world import agreed_order, chair_services
from sqlmodel import Session, func, select
from test_intents_scenario import NETWORK, Clock, chat, settle  # noqa: F401 (chat: a fixture)
from test_intents_scenario import (
    test_a_clinics_request_finds_a_maker_and_a_supplier_and_becomes_an_order as play_face_shields,
)
from test_service_flows import stage_of
from typer.testing import CliRunner

from bots.bootstrap import application
from bots.cli import app
from core.importers import load_network
from core.intents.model import ITEM, OFFER, PROCESS, REQUEST, Intent, Quantity, Resource
from core.intents.valueflows import STAGE_ACTIONS, export, validate
from core.service import lifecycle, records
from core.service.bus import Services
from core.service.commands import Agree, AssertStage, ImportIntents, LoadNetwork, MatchIntent
from core.service.results import Origin, Refused
from core.service.valueflows_io import valueflows_document
from core.store.tables import (
    AssertionRow,
    Contract,
    EventRow,
    IntentRow,
    Notification,
    OrderRow,
    StageRow,
)

BASE = "https://scis.example/"
runner = CliRunner()


def schemas(corpus: Path) -> list[dict]:
    folder = corpus / "valueflows" / "json-schemas"
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def nodes(document: dict, kind: str) -> dict[str, dict]:
    return {n["@id"]: n for n in document["@graph"] if n["@type"] == f"vf:{kind}"}


def exported(services: Services) -> dict:
    # Through JSON, as a file holds it: what is validated is what other tools read.
    document = services.read(lambda session: valueflows_document(services, session, BASE))
    return json.loads(json.dumps(document))


@pytest.fixture
def on_sqlite(sqlite_engine) -> Services:
    """The face-shield network on SQLite only, for what does not depend on the database."""
    services = application(sqlite_engine, Clock())
    services.handle(LoadNetwork(None, load_network([NETWORK]).network))
    return services


def count(services: Services, table) -> int:
    with Session(services.engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


# -- export ------------------------------------------------------------------------------------


@pytest.mark.corpus
def test_the_face_shield_scenario_exports_as_valid_value_flows(
    chat, database_url, corpus, tmp_path
):
    services = chat.services
    play_face_shields(chat)
    with Session(services.engine) as session:
        order = session.exec(
            select(OrderRow).where(OrderRow.status == "completed", OrderRow.buyer_id == "clinic")
        ).one()
        contract = session.exec(select(Contract).where(Contract.order_id == order.id)).one()
        stages = {s.code: s for s in session.exec(select(StageRow)) if s.status != "superseded"}
        said = dict(
            session.exec(
                select(StageRow.code, AssertionRow.at)
                .join(StageRow, AssertionRow.stage_id == StageRow.id)
                .order_by(AssertionRow.id)
            ).all()
        )
        cast = {
            (r.participant_id, r.resource_id): r.id
            for r in session.exec(select(IntentRow))
            if "platform" in r.provenance
        }
        every_intent = [r.id for r in session.exec(select(IntentRow))]

    document = exported(services)
    assert validate(document, schemas(corpus)) == []

    # Every intent, the three cast in chat among them: offers by their provider, the request by
    # its receiver; all three were accepted, so none is open any more.
    intents = nodes(document, "Intent")
    assert set(intents) == {f"{BASE}intents/{i}" for i in every_intent}
    printing = intents[f"{BASE}intents/{cast['maya', '3d-printing']}"]
    sheets = intents[f"{BASE}intents/{cast['plasticos', 'pet-sheet']}"]
    request = intents[f"{BASE}intents/{cast['clinic', 'face-shield']}"]
    assert (printing["action"], printing["provider"]) == ("work", {"@id": f"{BASE}agents/maya"})
    assert printing["resourceConformsTo"] == {"@id": f"{BASE}processes/3d-printing"}
    assert (sheets["action"], sheets["provider"]) == (
        "transfer",
        {"@id": f"{BASE}agents/plasticos"},
    )
    assert request["receiver"] == {"@id": f"{BASE}agents/clinic"}
    assert request["resourceQuantity"] == {"hasNumericalValue": 200.0, "hasUnit": "om:one"}
    assert all(i["finished"] for i in (printing, sheets, request))

    # The order is the one plan (the first order of ten found no plan and was never agreed), with
    # a commitment for each stage, doing what the stage does, and an event for each, all done.
    plan_id = f"{BASE}orders/{order.id}"
    assert set(nodes(document, "Plan")) == {plan_id}
    assert contract.status == "completed" and all(s.status == "done" for s in stages.values())
    commitments = nodes(document, "Commitment")
    assert set(commitments) == {f"{plan_id}/commitments/{code}" for code in stages}
    for code, stage in stages.items():
        commitment = commitments[f"{plan_id}/commitments/{code}"]
        assert commitment["action"] == STAGE_ACTIONS[stage.kind]
        assert commitment["resourceConformsTo"] == {"@id": f"{BASE}items/{stage.item_id}"}
        assert commitment["resourceQuantity"]["hasNumericalValue"] == stage.quantity
        assert commitment["finished"] is True
    events = nodes(document, "EconomicEvent")
    assert set(events) == {f"{plan_id}/events/{code}" for code in stages}
    for code in stages:
        event = events[f"{plan_id}/events/{code}"]
        assert event["fulfills"] == {"@id": f"{plan_id}/commitments/{code}"}
        assert event["hasPointInTime"] == said[code].isoformat() + "Z"
    accept = next(c for c in commitments.values() if c["action"] == "transfer")
    assert accept["independentDemandOf"] == {"@id": plan_id}
    assert accept["receiver"] == {"@id": f"{BASE}agents/clinic"}

    # The command line writes the same document, to a file or to standard output.
    path = tmp_path / "export.jsonld"
    result = runner.invoke(
        app, ["export", "valueflows", "--url", database_url, "--base", BASE, "--out", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert f"{len(every_intent)} intents, 1 order with {len(stages)} commitments" in result.stdout
    assert json.loads(path.read_text()) == document
    result = runner.invoke(app, ["export", "valueflows", "--url", database_url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == document


@pytest.mark.corpus
def test_a_replanned_orders_assertions_follow_their_stages(engine, corpus):
    """Hal's seat making fails and Ivy takes the seat over: the stages carried over keep their
    codes and Ivy's are numbered after the old ones (s22, …), while the export numbers the stages
    as Plan P of the new plan. Each assertion still lands on the stage it was about; Hal's failed
    stage was superseded, so his word is not exported."""
    services = chair_services(engine)
    order = agreed_order(services, chairs=1)
    confirm = stage_of(services, order, "leg", "confirm")
    services.handle(AssertStage("fern", order, confirm, "done", "sold", Origin("telegram", "a1")))
    hals = stage_of(services, order, "seat", "make")
    services.handle(AssertStage("hal", order, hals, "failed", "broke", Origin("telegram", "a2")))
    ivys = stage_of(services, order, "seat", "make")
    services.handle(Agree("ivy", order))  # brought in by the re-plan: agrees before working
    services.handle(AssertStage("ivy", order, ivys, "done", "sewn", Origin("telegram", "a3")))
    live = services.read(
        lambda session: records.stage_graph(session, lifecycle.live_contract(session, order).id)
    )
    assert int(ivys[1:]) > len(live)  # numbered after every old stage: not Plan P's number

    document = exported(services)
    assert validate(document, schemas(corpus)) == []
    commitments = nodes(document, "Commitment")
    assert len(commitments) == len(live)
    done = {}
    for event in nodes(document, "EconomicEvent").values():
        commitment = commitments[event["fulfills"]["@id"]]
        done[commitment["action"], commitment["resourceConformsTo"]["@id"]] = (event, commitment)
    assert set(done) == {
        ("transfer-all-rights", f"{BASE}items/leg"),
        ("produce", f"{BASE}items/seat"),
    }
    event, commitment = done["produce", f"{BASE}items/seat"]
    assert event["note"] == "sewn" and event["provider"] == {"@id": f"{BASE}agents/ivy"}
    assert commitment["finished"] is True
    assert done["transfer-all-rights", f"{BASE}items/leg"][0]["note"] == "sold"
    assert not any("failed" in c["note"] for c in commitments.values())


# -- import ------------------------------------------------------------------------------------


def two_intents(network, clinic: str = "clinic") -> dict:
    """Maya's printing on offer and the clinic's request for face shields, written by the core
    export as another VF tool would receive them."""
    return export(
        network,
        "https://elsewhere.example/",
        [
            Intent(OFFER, "maya", Resource(PROCESS, "3d-printing"), Quantity(10, "h", "week")),
            Intent(
                REQUEST,
                clinic,
                Resource(ITEM, "face-shield"),
                Quantity(40, "each"),
                ends=date(2026, 12, 24),
            ),
        ],
    )


def test_importing_a_document_casts_its_intents(chat):
    services = chat.services
    network = services.read(services.current_network)
    result = services.handle(ImportIntents(None, two_intents(network), "partner.jsonld"))

    ids = result.value
    assert len(ids) == 2
    assert result.jobs == [MatchIntent(i) for i in ids]
    with Session(services.engine) as session:
        rows = [session.get(IntentRow, i) for i in ids]
        imported = session.exec(select(EventRow).where(EventRow.kind == "intent_imported")).all()
    assert [(r.kind, r.participant_id, r.resource_id) for r in rows] == [
        (OFFER, "maya", "3d-printing"),
        (REQUEST, "clinic", "face-shield"),
    ]
    assert [(r.amount, r.unit, r.per) for r in rows] == [(10, "h", "week"), (40, "each", None)]
    assert rows[1].ends == date(2026, 12, 24)
    assert all(r.provenance == {"imported": "partner.jsonld"} for r in rows)
    assert all(r.status == "open" for r in rows)
    assert rows[0].place_name == "Santurce, San Juan"  # no place said: where the person is
    assert [e.data["intent"] for e in imported] == ids
    assert "imported from partner.jsonld" in chat.outbox("maya", "intent")[-1].text

    # They are matched like any cast intent: the clinic's request now finds Maya's printing.
    settle(services)
    assert f"your request {ids[1]}" in chat.outbox("clinic", "match")[-1].text


def test_an_unknown_participant_imports_nothing(chat):
    services = chat.services
    network = services.read(services.current_network)
    before = count(services, IntentRow), count(services, Notification)

    with pytest.raises(Refused, match="unknown participant 'nobody'"):
        services.handle(ImportIntents(None, two_intents(network, "nobody"), "partner.jsonld"))

    assert (count(services, IntentRow), count(services, Notification)) == before
    with Session(services.engine) as session:
        kinds = [e.kind for e in session.exec(select(EventRow))]
    assert "intent_imported" not in kinds and kinds[-1] == "refused"


def test_a_person_imports_their_own_intents_and_a_coordinator_anyones(on_sqlite):
    services = on_sqlite
    network = services.read(services.current_network)
    document = two_intents(network)
    with pytest.raises(Refused, match="only your own"):
        services.handle(ImportIntents("maya", document, "mine.jsonld"))
    assert count(services, IntentRow) == 0
    assert len(services.handle(ImportIntents("rita", document, "theirs.jsonld")).value) == 2


def test_a_document_that_cannot_be_read_is_refused(on_sqlite):
    services = on_sqlite
    broken = {"@graph": [{"@type": "vf:Intent", "provider": {"@id": "agents/maya"}}]}
    with pytest.raises(Refused, match="an intent needs an action"):
        services.handle(ImportIntents(None, broken, "broken.jsonld"))
    assert count(services, IntentRow) == 0


# -- the command line --------------------------------------------------------------------------


def test_scis_import_valueflows_casts_a_files_intents(chat, database_url, tmp_path):
    services = chat.services
    path = tmp_path / "partner.jsonld"
    # No dates: the command line reads today from the clock.
    network = services.read(services.current_network)
    document = export(
        network,
        "https://elsewhere.example/",
        [
            Intent(OFFER, "maya", Resource(PROCESS, "3d-printing"), Quantity(10, "h", "week")),
            Intent(REQUEST, "clinic", Resource(ITEM, "face-shield"), Quantity(40, "each")),
        ],
    )
    path.write_text(json.dumps(document))

    result = runner.invoke(app, ["import", "valueflows", str(path), "--url", database_url])

    assert result.exit_code == 0, result.output
    with Session(services.engine) as session:
        rows = session.exec(select(IntentRow).order_by(IntentRow.id)).all()
    assert [(r.participant_id, r.provenance) for r in rows] == [
        ("maya", {"imported": "partner.jsonld"}),
        ("clinic", {"imported": "partner.jsonld"}),
    ]
    assert f"Cast 2 intents from partner.jsonld: {rows[0].id}, {rows[1].id}" in result.stdout
    assert "1 match found" in result.stdout  # matched at once, no worker needed
    assert "match" in [n.kind for n in chat.outbox("clinic")]


def test_scis_valueflows_bad_input_is_one_line_and_changes_nothing(on_sqlite, tmp_path):
    services = on_sqlite
    database_url = str(services.engine.url)
    not_json = tmp_path / "notes.txt"
    not_json.write_text("offer: printing")
    a_list = tmp_path / "list.json"
    a_list.write_text("[]")
    invalid = tmp_path / "invalid.jsonld"
    invalid.write_text(json.dumps({"@graph": [{"@type": "vf:Intent", "provider": "agents/x"}]}))
    stranger = tmp_path / "stranger.jsonld"
    stranger.write_text(json.dumps(two_intents(services.read(services.current_network), "zed")))

    cases = {
        tmp_path / "missing.jsonld": "cannot read",
        not_json: "is not JSON",
        a_list: "not a JSON object",
        invalid: "an intent needs an action",
        stranger: "unknown participant 'zed'",
    }
    for path, said in cases.items():
        result = runner.invoke(app, ["import", "valueflows", str(path), "--url", database_url])
        assert result.exit_code == 1, (path, result.output)
        assert said in result.stderr and result.stderr.startswith("error:"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout
    assert count(services, IntentRow) == 0

    # A database without the schema is named, not created.
    nowhere = tmp_path / "nowhere.db"
    for args in (["export", "valueflows"], ["import", "valueflows", str(stranger)]):
        result = runner.invoke(app, [*args, "--url", f"sqlite:///{nowhere}"])
        assert result.exit_code == 1 and "no schema yet" in result.stderr
        assert not nowhere.exists()
