"""Value Flows JSON-LD: the export of intents, orders, plans, commitments and events, checked by
hand on the paper's chair; intents read back (round trip, hand-written documents, bad ones); and
the export validated against ../shared/corpus/valueflows (those tests skip without the corpus).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from chair_files import CHAIR, PROJECT, SEAT_MAKER, chair_network
from hypothesis import given, settings
from hypothesis import strategies as st

from core.intents.model import (
    ACCEPTED,
    ITEM,
    OFFER,
    PROCESS,
    PROPOSAL,
    REQUEST,
    Intent,
    Quantity,
    Resource,
)
from core.intents.valueflows import (
    VF,
    OrderRecord,
    context,
    date_time,
    export,
    import_intents,
    validate,
)
from core.network.model import Location, Network
from core.stages.update import Assertion
from core.weave import Demand, Weave

BASE = "https://scis.example/"
TODAY = date(2026, 11, 23)


def iri(*parts: str) -> str:
    return BASE + "/".join(parts)


def ref(*parts: str) -> dict:
    return {"@id": iri(*parts)}


def nodes(document: dict) -> dict[str, dict]:
    return {node["@id"]: node for node in document["@graph"]}


def without_id(intents):
    return [replace(intent, id=None) for intent in intents]


OFFER_TURNING = Intent(
    OFFER,
    "eli",
    Resource(PROCESS, "woodturning"),
    Quantity(10, "h", "week"),
    starts=date(2026, 12, 1),
    ends=date(2027, 3, 1),
    place=Location(39.3107, -76.6143, "Station North"),
    place_name="Station North",
    note="evenings only",
    expires=date(2027, 1, 31),
    id=1,
)
REQUEST_LEGS = Intent(
    REQUEST, "dana", Resource(ITEM, "leg"), Quantity(8), ends=date(2026, 12, 20), id=2
)
PROPOSAL_SHIELDS = Intent(
    PROPOSAL, "rita", Resource(ITEM, "face shield", known=False), Quantity(200), id=3
)
INTENTS = (OFFER_TURNING, REQUEST_LEGS, PROPOSAL_SHIELDS)


def chair_order(net: Network, assertions=(), through: str | None = None) -> OrderRecord:
    """The order of two chairs with the best plan, or the best one made `through` a facility."""
    plans = Weave(net, [Demand("chair", 2)]).best(1 if through is None else 50)
    plan = next(p for p in plans if through is None or f"@{through}" in repr(p.signature()))
    return OrderRecord(
        7,
        "dana",
        (Demand("chair", 2),),
        plan,
        created=datetime(2026, 11, 23, 9, 0),
        due=datetime(2026, 12, 20),
        assertions=tuple(assertions),
    )


# -- export, by hand on the chair ----------------------------------------------------------


def test_intents_become_intents_published_by_proposals():
    graph = nodes(export(chair_network(), BASE, INTENTS))

    offer = graph[iri("intents", "1")]
    assert offer["@type"] == "vf:Intent"
    assert offer["action"] == "work"  # a process: labour offered, measured as effort
    assert offer["provider"] == ref("agents", "eli") and "receiver" not in offer
    assert offer["resourceConformsTo"] == ref("processes", "woodturning")
    assert offer["effortQuantity"] == {"hasNumericalValue": 10, "hasUnit": "om:hour"}
    assert offer["scis:per"] == "week"
    assert offer["hasBeginning"] == "2026-12-01T00:00:00Z"
    assert offer["hasEnd"] == "2027-03-01T00:00:00Z"
    assert offer["note"] == "evenings only" and offer["finished"] is False
    assert graph[iri("proposals", "1")] == {
        "@id": iri("proposals", "1"),
        "@type": "vf:Proposal",
        "purpose": "offer",
        "unitBased": True,
        "hasEnd": "2027-01-31T00:00:00Z",
        "eligibleLocation": {
            "lat": 39.3107,
            "long": -76.6143,
            "name": "Station North",
            "mappableAddress": "Station North",
        },
        "publishes": [ref("intents", "1")],
    }

    request = graph[iri("intents", "2")]
    assert request["action"] == "transfer" and request["receiver"] == ref("agents", "dana")
    assert request["resourceQuantity"] == {"hasNumericalValue": 8, "hasUnit": "om:one"}
    assert request["due"] == "2026-12-20T00:00:00Z" and "hasEnd" not in request
    assert graph[iri("proposals", "2")]["purpose"] == "request"
    assert "unitBased" not in graph[iri("proposals", "2")]

    # A proposal gathers collaborators: no offer/request purpose, its author receives.
    proposal = graph[iri("proposals", "3")]
    assert "purpose" not in proposal and proposal["publishes"] == [ref("intents", "3")]
    assert graph[iri("intents", "3")]["receiver"] == ref("agents", "rita")
    shield = graph[iri("items", "face%20shield")]
    assert shield["name"] == "face shield" and "not in the network" in shield["note"]


def test_agents_and_what_things_conform_to():
    graph = nodes(
        export(
            chair_network(), BASE, [REQUEST_LEGS, replace(REQUEST_LEGS, participant="zoe", id=9)]
        )
    )
    dana = graph[iri("agents", "dana")]
    assert dana["name"] == "Dana Whitfield (Hampden Reading Room)"
    assert dana["note"] == "roles: buyer"
    assert dana["primaryLocation"] == {
        "lat": 39.3312,
        "long": -76.6341,
        "name": "Hampden, Baltimore",
    }
    # Every participant of the network, and one an intent names that the network lacks.
    agents = [n for n in graph.values() if n["@type"] == "vf:Agent"]
    assert len(agents) == len(chair_network().participants) + 1
    assert graph[iri("agents", "zoe")] == {
        "@id": iri("agents", "zoe"),
        "@type": "vf:Agent",
        "name": "zoe",
        "note": "not in the network",
    }
    assert graph[iri("items", "leg")]["defaultUnitOfResource"] == "om:one"
    assert graph[iri("items", "leg")]["name"] == "Chair leg"


def test_an_intent_without_id_and_a_finished_one():
    document = export(chair_network(), BASE, [replace(REQUEST_LEGS, id=None, status=ACCEPTED)])
    assert nodes(document)[iri("intents", "new-1")]["finished"] is True
    with pytest.raises(ValueError, match="two intents have the id 2"):
        export(chair_network(), BASE, [REQUEST_LEGS, replace(REQUEST_LEGS, note="again")])


CHAIR_ACTIONS = ["transfer-all-rights", "pickup", "dropoff"] * 3 + [
    "produce",
    "modify",
    "pickup",
    "dropoff",
    "transfer",
]


def test_the_order_of_two_chairs_as_plan_processes_and_commitments():
    """The best plan (tests/unit/test_stages_plan.py has its stages by hand): legs from fern,
    seats and backs from gus, assembled at ana's; s1–s14, the root's last."""
    net = chair_network()
    said = [
        Assertion("s1", "done", "fern", datetime(2026, 11, 24, 10, 0), evidence="confirmed"),
        Assertion("s4", "failed", "gus", datetime(2026, 11, 24, 11, 0), evidence="out of seats"),
        Assertion("s7", "done", "gus", datetime(2026, 11, 24, 12, 0)),
        Assertion("s7", "reset", "rita", datetime(2026, 11, 24, 13, 0)),
        Assertion("S10", "done", "rita", datetime(2026, 11, 25, 9, 30), evidence="photo"),
    ]
    graph = nodes(export(net, BASE, orders=[chair_order(net, said)]))
    plan = graph[iri("orders", "7")]
    assert plan == {
        "@id": iri("orders", "7"),
        "@type": "vf:Plan",
        "name": "order 7: 2 × chair",
        "created": "2026-11-23T09:00:00Z",
        "note": "ordered by dana",
        "due": "2026-12-20T00:00:00Z",
    }
    making = graph[iri("orders", "7", "processes", "0")]
    assert making["name"] == "make 2 × Chair at Ana's Woodshop, Remington"
    assert making["plannedWithin"] == ref("orders", "7") and making["finished"] is False
    transports = [k for k in graph if "/transport/" in k]
    assert sorted(transports) == [
        iri("orders", "7", "transport", p) for p in ("0", "0.0", "0.1", "0.2")
    ]

    commitments = [graph[iri("orders", "7", "commitments", f"s{k}")] for k in range(1, 15)]
    assert [c["action"] for c in commitments] == CHAIR_ACTIONS
    sides = [(c["provider"]["@id"], c["receiver"]["@id"]) for c in commitments]
    legs, seats, backs = ("fern", "ana"), ("gus", "ana"), ("gus", "ana")
    made, delivered = ("ana", "ana"), ("ana", "dana")
    expected = [legs] * 3 + [seats] * 3 + [backs] * 3 + [made] * 2 + [delivered] * 3
    assert sides == [(iri("agents", p), iri("agents", r)) for p, r in expected]

    s1, s2, s3 = commitments[:3]
    assert s1["plannedWithin"] == ref("orders", "7") and s1["finished"] is True
    assert s1["resourceQuantity"] == {"hasNumericalValue": 8, "hasUnit": "om:one"}
    assert s1["resourceConformsTo"] == ref("items", "leg")
    assert s2["inputOf"] == ref("orders", "7", "transport", "0.0") and "plannedWithin" not in s2
    assert s3["outputOf"] == ref("orders", "7", "transport", "0.0")
    assert s3["note"] == "stage s3 receive, owed by ana; waits for s2"
    assert (
        commitments[9]["outputOf"]
        == commitments[10]["outputOf"]
        == ref("orders", "7", "processes", "0")
    )
    accept = commitments[13]
    assert accept["independentDemandOf"] == ref("orders", "7")
    assert accept["due"] == "2026-12-20T00:00:00Z"

    # Failed: not a flow, said in the note. Done then reset: pending again, no event.
    assert commitments[3]["finished"] is False
    assert commitments[3]["note"].endswith("; failed: out of seats")
    assert commitments[6]["finished"] is False
    events = {k: n for k, n in graph.items() if n["@type"] == "vf:EconomicEvent"}
    assert sorted(events) == [iri("orders", "7", "events", s) for s in ("s1", "s10")]
    assert events[iri("orders", "7", "events", "s1")] == {
        "@id": iri("orders", "7", "events", "s1"),
        "@type": "vf:EconomicEvent",
        "action": "transfer-all-rights",
        "resourceConformsTo": ref("items", "leg"),
        "resourceQuantity": {"hasNumericalValue": 8, "hasUnit": "om:one"},
        "provider": ref("agents", "fern"),
        "receiver": ref("agents", "ana"),
        "hasPointInTime": "2026-11-24T10:00:00Z",
        "fulfills": ref("orders", "7", "commitments", "s1"),
        "note": "confirmed",
    }
    made_event = events[iri("orders", "7", "events", "s10")]
    assert made_event["action"] == "produce"
    assert made_event["note"] == "photo; asserted by rita"  # a coordinator, for ana


def test_date_times_are_rfc3339():
    assert date_time(date(2026, 12, 20)) == "2026-12-20T00:00:00Z"
    assert date_time(datetime(2026, 11, 24, 10, 5)) == "2026-11-24T10:05:00Z"  # naive is UTC
    assert date_time(datetime.fromisoformat("2026-11-24T10:05:00+02:00")).endswith("+02:00")


# -- import ------------------------------------------------------------------------------------


def test_round_trip_gives_back_the_intents():
    document = json.loads(json.dumps(export(chair_network(), BASE, INTENTS)))
    assert import_intents(document, chair_network(), TODAY) == without_id(INTENTS)


def test_finished_expired_and_ended_intents_are_left_out():
    intents = [
        replace(REQUEST_LEGS, status=ACCEPTED),
        replace(REQUEST_LEGS, expires=date(2026, 11, 22)),
        replace(REQUEST_LEGS, ends=date(2026, 11, 22)),
        replace(REQUEST_LEGS, ends=TODAY, note="still today"),
    ]
    document = export(chair_network(), BASE, [replace(i, id=None) for i in intents])
    assert [i.note for i in import_intents(document, chair_network(), TODAY)] == ["still today"]


HAND_WRITTEN = {
    "@context": {"vf": VF, "om2": "http://www.ontology-of-units-of-measure.org/resource/om-2/"},
    "@graph": [
        {
            "@id": "https://makers.example/people/e1",
            "@type": "vf:Person",
            "vf:name": "Eli Brandt, Station North Turning Studio",
        },
        {
            "@id": "_:p1",
            "@type": "vf:Proposal",
            "vf:purpose": "vf:offer",
            "vf:hasEnd": "2027-01-31",
            "vf:eligibleLocation": {
                "vf:lat": 39.31,
                "vf:long": -76.61,
                "vf:mappableAddress": "Station North, Baltimore",
            },
            "vf:publishes": [
                {
                    "@type": "vf:Intent",
                    "vf:action": {"@id": "vf:work"},
                    "vf:provider": {"@id": "https://makers.example/people/e1"},
                    "vf:resourceConformsTo": {"vf:name": "Woodturning"},
                    "vf:effortQuantity": {"vf:hasNumericalValue": "6", "vf:hasUnit": "om2:hour"},
                    "per": "week",
                }
            ],
        },
        {
            "@id": "https://clinic.example/needs/1",
            "@type": "Intent",
            "action": "transfer",
            "receiver": "https://clinic.example/staff/dana",
            "resourceConformsTo": {"name": "wooden chair"},
            "resourceQuantity": {"hasNumericalValue": 4, "hasUnit": "each"},
            "due": "2026-12-20",
            "note": "for the reading room",
        },
        {
            "@type": f"{VF}Intent",
            f"{VF}action": "transfer",
            "vf:provider": {"vf:name": "Zoe's Garage"},
            "vf:resourceConformsTo": "https://elsewhere.example/specs/face-shield",
            "vf:availableQuantity": {"vf:hasNumericalValue": 50, "vf:hasUnit": "h/week"},
        },
    ],
}


def test_a_hand_written_document():
    assert import_intents(HAND_WRITTEN, chair_network(), TODAY) == [
        Intent(
            OFFER,
            "eli",  # found by the agent's name
            Resource(PROCESS, "woodturning"),
            Quantity(6, "h", "week"),
            expires=date(2027, 1, 31),
            place=Location(39.31, -76.61),
            place_name="Station North, Baltimore",
        ),
        Intent(
            REQUEST,
            "dana",  # the IRI's last segment is a participant
            Resource(ITEM, "chair"),  # by an alias
            Quantity(4),
            ends=date(2026, 12, 20),
            note="for the reading room",
        ),
        Intent(
            OFFER,
            "Zoe's Garage",
            Resource(ITEM, "face-shield", known=False),
            Quantity(50, "h", "week"),
        ),
    ]


def intent_node(**fields) -> dict:
    node = {
        "@id": "x:1",
        "@type": "vf:Intent",
        "action": "transfer",
        "receiver": {"@id": "https://scis.example/agents/dana"},
        "resourceConformsTo": {"@id": "https://scis.example/items/leg"},
    }
    node.update(fields)
    return {k: v for k, v in node.items() if v is not None}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "a Value Flows document is a JSON object"),
        ({"@graph": {}}, "the document has no @graph list of nodes"),
        ({"@graph": ["x"]}, r"@graph\[0\] is not a node"),
        ({"@graph": [intent_node(action=None)]}, "x:1: an intent needs an action"),
        ({"@graph": [intent_node(receiver=None)]}, "x:1: names neither a provider"),
        ({"@graph": [intent_node(provider={"@id": "a:b"})]}, "x:1: names both a provider"),
        ({"@graph": [intent_node(resourceConformsTo=None)]}, "x:1: resourceConformsTo is missing"),
        (
            {"@graph": [intent_node(resourceQuantity={"hasNumericalValue": -3, "hasUnit": "kg"})]},
            "x:1: resourceQuantity: a quantity must be more than 0, not -3",
        ),
        (
            {"@graph": [intent_node(resourceQuantity={"hasUnit": "kg"})]},
            "x:1: resourceQuantity needs a hasNumericalValue",
        ),
        ({"@graph": [intent_node(due="soon")]}, "x:1: due is not a date-time: 'soon'"),
        (
            {"@graph": [intent_node(hasBeginning="2026-12-02", due="2026-12-01")]},
            r"x:1: it ends \(2026-12-01\) before it starts \(2026-12-02\)",
        ),
        (
            {
                "@graph": [
                    {
                        "@id": "p",
                        "@type": "Proposal",
                        "purpose": "barter",
                        "publishes": [intent_node()],
                    }
                ]
            },
            "x:1: a proposal's purpose is offer or request, not 'barter'",
        ),
        (
            {
                "@graph": [
                    {
                        "@id": "p",
                        "@type": "Proposal",
                        "purpose": "offer",
                        "publishes": [intent_node()],
                    }
                ]
            },
            "x:1: an offer needs a provider",
        ),
        (
            {"@graph": [{"@id": "p", "@type": "Proposal", "publishes": ["x:9"]}]},
            "p: publishes an unknown intent",
        ),
    ],
)
def test_bad_documents_give_short_errors(document, message):
    with pytest.raises(ValueError, match=message) as raised:
        import_intents(document, chair_network(), TODAY)
    assert len(str(raised.value)) < 130


# -- round trip, any intent --------------------------------------------------------------------

PROCESSES = ("woodworking", "woodturning")


def unknown_words(net: Network):
    words = st.from_regex(r"[a-z][a-z ]{0,12}[a-z]", fullmatch=True)
    return words.filter(lambda w: net.find_item(w) is None and w not in PROCESSES)


@st.composite
def intents(draw):
    net = chair_network()
    kind = draw(st.sampled_from((OFFER, REQUEST, PROPOSAL)))
    resource_kind = draw(st.sampled_from((ITEM, PROCESS)))
    if draw(st.booleans()):
        known = tuple(net.items) if resource_kind == ITEM else PROCESSES
        resource = Resource(resource_kind, draw(st.sampled_from(known)))
    else:
        resource = Resource(resource_kind, draw(unknown_words(net)), known=False)
    quantity = draw(
        st.none()
        | st.builds(
            Quantity,
            st.floats(min_value=1e-3, max_value=1e6) | st.integers(1, 10_000),
            st.sampled_from(("each", "h", "kg", "sheets")),
            st.sampled_from((None, "day", "week", "month")),
        )
    )
    days = st.none() | st.dates(date(2026, 1, 1), date(2028, 12, 31))
    starts, ends = draw(days), draw(days)
    if starts and ends and ends < starts:
        starts, ends = ends, starts
    place = draw(
        st.none()
        | st.builds(
            Location,
            st.floats(-90, 90),
            st.floats(-180, 180),
            st.none() | st.sampled_from(("Hampden", "Towson")),
        )
    )
    return Intent(
        kind,
        draw(st.sampled_from((*net.participants, "zoe"))),
        resource,
        quantity,
        starts=starts,
        ends=ends,
        place=place,
        place_name=draw(st.none() | st.sampled_from(("near Baltimore", "Dundalk"))),
        note=draw(st.text(max_size=20)),
        expires=draw(days),
        id=draw(st.none() | st.integers(1, 99)),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(intents(), max_size=4, unique_by=lambda i: i.id if i.id else object()))
def test_any_intents_come_back_from_their_export(cast):
    document = json.loads(json.dumps(export(chair_network(), BASE, cast)))
    assert import_intents(document, chair_network(), date(2025, 1, 1)) == without_id(cast)


def test_core_does_not_import_jsonschema():
    code = "import sys, core.intents.valueflows; print('jsonschema' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT)
    assert run.stdout.strip() == "False", run.stderr


# -- validation against the corpus schemas ---------------------------------------------------


def schemas(corpus: Path) -> list[dict]:
    folder = corpus / "valueflows" / "json-schemas"
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def scenario() -> dict:
    """The chair network with Hal's seats: an offer, a request, a proposal, the order of two
    chairs with a plan whose seats Hal upholsters from Bob's foam and fabric, each delivered by
    its sender, and two assertions (the van's stages in Value Flows: test_leg_stages.py)."""
    net = chair_network(CHAIR, SEAT_MAKER)
    said = [
        Assertion("s1", "done", "fern", datetime(2026, 11, 24, 10, 0), evidence="confirmed"),
        Assertion("s2", "done", "fern", datetime(2026, 11, 25, 8, 0), evidence="van left"),
    ]
    return export(net, BASE, INTENTS, [chair_order(net, said, through="hal-shop")])


@pytest.mark.corpus
def test_the_export_of_the_chair_scenario_validates(corpus):
    document = json.loads(json.dumps(scenario()))
    assert validate(document, schemas(corpus)) == []
    types = [node["@type"] for node in document["@graph"]]
    for kind in ("Agent", "ResourceSpecification", "Intent", "Proposal", "Plan", "Process"):
        assert f"vf:{kind}" in types
    assert types.count("vf:EconomicEvent") == 2
    assert types.count("vf:Commitment") == 21  # Hal's seats: two more nodes of 3 and 4 stages


@pytest.mark.corpus
def test_broken_nodes_are_reported(corpus):
    document = scenario()
    graph = nodes(document)
    del graph[iri("intents", "2")]["resourceQuantity"]["hasUnit"]
    del graph[iri("agents", "gus")]["name"]
    graph[iri("orders", "7")]["created"] = "2026-11-23"
    graph[iri("intents", "3")]["receiver"] = {"@id": iri("agents", "nobody")}
    document["@graph"].append({"@id": "x:claim", "@type": "vf:Claim", "action": "transfer"})
    problems = validate(document, schemas(corpus))

    assert f"{iri('intents', '2')}: resourceQuantity: 'hasUnit' is a required property" in problems
    assert f"{iri('agents', 'gus')}: 'name' is a required property" in problems
    # …and where gus is the provider, as the schemas nest the agent.
    gus_backs = iri("orders", "7", "commitments", "s14")
    assert f"{gus_backs}: provider: 'name' is a required property" in problems
    assert f"{iri('orders', '7')}: created: '2026-11-23' is not a 'date-time'" in problems
    assert f"{iri('intents', '3')}: receiver refers to a node not in @graph" in problems
    assert "x:claim: no schema for @type 'vf:Claim'" in problems
    assert all(re.match(r"\S+: ", p) for p in problems)


@pytest.mark.corpus
def test_every_term_written_is_in_the_vf_vocabulary(corpus):
    vocabulary = json.loads((corpus / "valueflows" / "all_vf.jsonld").read_text())
    terms = {node["@id"] for node in vocabulary["@graph"]}
    actions = {t for t in terms if "Action" in str(vocabulary_types(vocabulary, t))}
    document = scenario()

    keys, types, used = set(), set(), set()
    for node in walk(document["@graph"]):
        keys |= {k for k in node if not k.startswith(("@", "scis:"))}
        types |= {node["@type"]} if "@type" in node else set()
        if "action" in node:
            used.add("vf:" + re.sub(r"-(\w)", lambda m: m.group(1).upper(), node["action"]))
    assert {f"vf:{k}" for k in keys} <= terms
    assert types <= terms
    assert used <= actions
    shared = context(BASE).keys() & vocabulary["@context"].keys()
    assert shared == {"@vocab", "vf", "om", "xsd"}
    assert all(context(BASE)[k] == vocabulary["@context"][k] for k in shared)


def vocabulary_types(vocabulary: dict, term: str):
    return next(n.get("@type") for n in vocabulary["@graph"] if n["@id"] == term)


def walk(value):
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk(child)
