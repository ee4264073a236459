"""Value Flows (VF 1.0) JSON-LD: intents, orders with their plans, commitments and events,
written for other VF tools; and intents read back from the same form.

Pure: `export` returns the document as a dict and `import_intents` reads one; the caller does
the file or network I/O. `validate` checks a document against the VF JSON schemas, which the
caller loads (../shared/corpus/valueflows/json-schemas).

How SCIS records become VF nodes (`@id`s under the caller's `base`):

  participant        agents/ID          vf:Agent, roles in its note
  item / process     items/ID,          vf:ResourceSpecification, what intents and
                     processes/ID       commitments conform to (an unknown one says so in its note)
  intent             intents/ID         vf:Intent: action "transfer" for an item, "work" for a
                                        process; the participant is the provider of an offer,
                                        the receiver of a request or proposal
                     proposals/ID       vf:Proposal publishing it: purpose offer/request (none for
                                        a proposal, which gathers collaborators rather than being
                                        filled once), unitBased for a rate, hasEnd = expires,
                                        eligibleLocation = its place
  order              orders/ID          vf:Plan
  made plan node     orders/ID/processes/PATH   vf:Process at the facility
  shipment           orders/ID/transport/PATH   vf:Process carrying a node's goods (transport
                                        is assigned later; until then the sender carries)
  stage              orders/ID/commitments/SN   vf:Commitment, plannedWithin the plan
  stage asserted done  orders/ID/events/SN     vf:EconomicEvent fulfilling the commitment

Stage kind → VF action (VF has no verb for a check, so the maker's inspection uses its testing
pair's output side, and the buyer's acceptance is the order's deliverable — the transfer of the
goods to the buyer, the plan's independent demand):

  confirm  transfer-all-rights  the supplier sells: the goods become the recipient's
  make     produce              output of the node's process
  inspect  modify               output of the node's process: the same goods, checked
                                (its event's state is "pass")
  ship     pickup               input of the node's transport
  receive  dropoff              output of the node's transport
  accept   transfer             to the buyer; independentDemandOf the plan

A stage's owner is the provider of what they give (confirm, ship; make and inspect are the
operator's own) and the receiver of what they take (receive, accept): each flow of a node runs
from its sender (the owner of its ship stage) to its recipient (the owner of its receive stage).

Events are the standing `done` assertions — flows that happened. A failed stage is not a flow;
its commitment's note says it failed and why. A done later reset or failed is not exported.

Every link is written once, on the node the VF vocabulary gives it to (plannedWithin,
inputOf, outputOf, independentDemandOf, fulfills, publishes), as an `{"@id": …}` reference;
Measures and places are small values without identity, so they are written inline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, unquote

from core.intents.model import (
    ITEM,
    OFFER,
    OPEN,
    PERIODS,
    PROCESS,
    PROPOSAL,
    REQUEST,
    Intent,
    Quantity,
    Resource,
)
from core.network.model import Location, Network
from core.stages.graph import Stage, StageGraph
from core.stages.plan import plan_stages
from core.stages.update import Assertion, replay
from core.weave.plan import Demand, Plan
from core.weave.sources import Made

VF = "https://w3id.org/valueflows/ont/vf#"
OM = "http://www.ontology-of-units-of-measure.org/resource/om-2/"
XSD = "http://www.w3.org/2001/XMLSchema#"
DATE_TIME_TERMS = ("hasBeginning", "hasEnd", "hasPointInTime", "due", "created")

STAGE_ACTIONS = {
    "confirm": "transfer-all-rights",
    "make": "produce",
    "inspect": "modify",
    "ship": "pickup",
    "receive": "dropoff",
    "accept": "transfer",
}
# VF actions whose flow is effort, or a service, rather than a resource: an intent about a
# process (what a facility can do) is one of these.
PROCESS_ACTIONS = ("work", "use", "deliver-service")

# The units people use here → OM 2 units, so VF tools that know OM read them; others stay as
# written.
OM_UNITS = {
    "each": "om:one",
    "h": "om:hour",
    "kg": "om:kilogram",
    "g": "om:gram",
    "m": "om:metre",
    "l": "om:litre",
}
UNITS_OF_OM = {om: unit for unit, om in OM_UNITS.items()}


@dataclass(frozen=True)
class OrderRecord:
    """An order with the plan agreed for it and what people asserted about its stages (the
    service fills it from its tables). Its stage graph is Plan P of `plan` for `buyer`, the
    assertions replayed on it, as the service rebuilds the present from its history."""

    id: int | str
    buyer: str
    lines: tuple[Demand, ...]
    plan: Plan
    created: datetime
    due: datetime | None = None
    assertions: tuple[Assertion, ...] = ()


# -- export ------------------------------------------------------------------------------------


def context(base: str) -> dict:
    """The VF context (the prefixes of all_vf.jsonld that the export uses), with the date-time
    terms typed, and `scis:` for what VF has no word for (the period of a rate)."""
    terms: dict = {"@vocab": VF, "vf": VF, "om": OM, "xsd": XSD, "scis": _base(base) + "terms#"}
    terms.update({t: {"@id": f"vf:{t}", "@type": "xsd:dateTime"} for t in DATE_TIME_TERMS})
    return terms


def export(
    network: Network,
    base: str,
    intents: Iterable[Intent] = (),
    orders: Iterable[OrderRecord] = (),
) -> dict:
    """One JSON-LD document: the network's participants, the intents, and each order as a plan
    with its processes, commitments and events."""
    graph = _Graph(network, _base(base))
    for participant in network.participants:
        graph.agent(participant)
    for number, intent in enumerate(intents, start=1):
        graph.intent(intent, number)
    for order in orders:
        graph.order(order)
    return {"@context": context(base), "@graph": graph.nodes()}


def _base(base: str) -> str:
    return base if base.endswith("/") else base + "/"


def date_time(moment: date | datetime) -> str:
    """RFC 3339, as the schemas' date-time asks: a day is its midnight UTC; a naive datetime is
    UTC (the store keeps naive UTC)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def measure(amount: float, unit: str) -> dict:
    return {"hasNumericalValue": amount, "hasUnit": OM_UNITS.get(unit, unit)}


class _Graph:
    """The nodes being written, in the order they are first met; agents and resource
    specifications are written once however often they are referred to."""

    def __init__(self, network: Network, base: str):
        self.network = network
        self.base = base
        self._nodes: dict[str, dict] = {}

    def nodes(self) -> list[dict]:
        kinds = ("vf:Agent", "vf:ResourceSpecification")
        first = [n for n in self._nodes.values() if n["@type"] in kinds]
        return first + [n for n in self._nodes.values() if n["@type"] not in kinds]

    def iri(self, *parts: object) -> str:
        return self.base + "/".join(quote(str(p), safe="") for p in parts)

    def add(self, node: dict) -> dict:
        self._nodes.setdefault(node["@id"], node)
        return {"@id": node["@id"]}

    # -- agents and what things conform to ------------------------------------------------

    def agent(self, participant_id: str) -> dict:
        participant = self.network.participants.get(participant_id)
        node = {"@id": self.iri("agents", participant_id), "@type": "vf:Agent"}
        if participant is None:
            return self.add(node | {"name": participant_id, "note": "not in the network"})
        node["name"] = participant.name
        if participant.roles:
            node["note"] = "roles: " + ", ".join(participant.roles)
        if participant.location is not None:
            node["primaryLocation"] = _place(participant.location, None)
        return self.add(node)

    def specification(self, resource: Resource) -> dict:
        folder = "items" if resource.kind == ITEM else "processes"
        node = {"@id": self.iri(folder, resource.id), "@type": "vf:ResourceSpecification"}
        item = self.network.items.get(resource.id) if resource.kind == ITEM else None
        if item is not None:
            node["name"] = item.name
            node["defaultUnitOfResource"] = OM_UNITS.get(item.unit, item.unit)
        else:
            node["name"] = resource.id
        if not resource.known:
            node["note"] = f"an {resource.kind} not in the network yet"
        elif resource.kind == PROCESS:
            node["note"] = "a process a facility can carry out"
        return self.add(node)

    # -- intents ------------------------------------------------------------------------------

    def intent(self, intent: Intent, number: int) -> None:
        key = intent.id if intent.id is not None else f"new-{number}"
        if self.iri("intents", key) in self._nodes:
            raise ValueError(f"two intents have the id {key}")
        node = {
            "@id": self.iri("intents", key),
            "@type": "vf:Intent",
            "name": f"{intent.kind}: {intent.resource}"
            + (f", {intent.quantity}" if intent.quantity else ""),
            "action": "work" if intent.resource.kind == PROCESS else "transfer",
            ("provider" if intent.kind == OFFER else "receiver"): self.agent(intent.participant),
            "resourceConformsTo": self.specification(intent.resource),
        }
        if intent.quantity is not None:
            node[_quantity_term(intent)] = measure(intent.quantity.amount, intent.quantity.unit)
            if intent.quantity.per:
                node["scis:per"] = intent.quantity.per
        if intent.starts:
            node["hasBeginning"] = date_time(intent.starts)
        if intent.ends:
            node["hasEnd" if intent.kind == OFFER else "due"] = date_time(intent.ends)
        if intent.note:
            node["note"] = intent.note
        node["finished"] = intent.status != OPEN
        published = self.add(node)

        proposal: dict = {"@id": self.iri("proposals", key), "@type": "vf:Proposal"}
        if intent.kind != PROPOSAL:
            proposal["purpose"] = intent.kind
        if intent.quantity is not None and intent.quantity.is_rate:
            proposal["unitBased"] = True
        if intent.expires:
            proposal["hasEnd"] = date_time(intent.expires)
        if intent.place is not None or intent.place_name:
            proposal["eligibleLocation"] = _place(intent.place, intent.place_name)
        proposal["publishes"] = [published]
        self.add(proposal)

    # -- orders -------------------------------------------------------------------------------

    def order(self, order: OrderRecord) -> None:
        stages = replay(plan_stages(self.network, order.plan, order.buyer), order.assertions)
        wanted = ", ".join(f"{d.quantity} × {d.item}" for d in order.lines)
        plan = {
            "@id": self.iri("orders", order.id),
            "@type": "vf:Plan",
            "name": f"order {order.id}: {wanted}",
            "created": date_time(order.created),
            "note": f"ordered by {order.buyer}",
        }
        if order.due:
            plan["due"] = date_time(order.due)
        plan_ref = self.add(plan)

        makes: dict[str, dict] = {}
        for path, node in order.plan.positioned():
            if isinstance(node.source, Made):
                makes[path] = self._making(order, path, node, stages, plan_ref)
        carries = {
            s.node: self._carrying(order, s, stages, plan_ref) for s in stages if s.kind == "ship"
        }
        latest = _latest(stages, order.assertions)
        for stage in stages:
            self._commitment(order, stage, stages, plan_ref, makes, carries, latest.get(stage.id))
        for stage in stages:
            # The standing word that a stage is done; one undone later is no flow.
            if stage.status == "done" and latest[stage.id].status == "done":
                self._event(order, stage, stages, latest[stage.id])

    def _making(self, order, path, node, stages, plan_ref) -> dict:
        design, facility = node.source.design, node.source.facility
        item = self.network.items.get(node.item)
        done = [s.status == "done" for s in stages.for_node(path) if s.kind in ("make", "inspect")]
        batches = "1 batch" if node.batches == 1 else f"{node.batches} batches"
        return self.add(
            {
                "@id": self.iri("orders", order.id, "processes", path),
                "@type": "vf:Process",
                "name": f"make {node.quantity} × {item.name if item else node.item}"
                f" at {facility.name or facility.id}",
                "note": f"design {design.id} at facility {facility.id}, {batches}",
                "plannedWithin": plan_ref,
                "finished": bool(done) and all(done),
            }
        )

    def _carrying(self, order, ship: Stage, stages, plan_ref) -> dict:
        sender, recipient = _ends(stages, ship.node)
        received = [s.status == "done" for s in stages.for_node(ship.node) if s.kind == "receive"]
        item = self.network.items.get(ship.item)
        return self.add(
            {
                "@id": self.iri("orders", order.id, "transport", ship.node),
                "@type": "vf:Process",
                "name": f"carry {ship.quantity} × {item.name if item else ship.item}"
                f" from {sender} to {recipient}",
                "note": "transport is assigned later; until then the sender carries",
                "plannedWithin": plan_ref,
                "finished": bool(received) and all(received),
            }
        )

    def _commitment(self, order, stage: Stage, stages, plan_ref, makes, carries, said) -> None:
        unit = self._unit(stage.item)
        node: dict = {
            "@id": self.iri("orders", order.id, "commitments", stage.id),
            "@type": "vf:Commitment",
            "action": STAGE_ACTIONS[stage.kind],
            "resourceConformsTo": self.specification(Resource(ITEM, stage.item)),
            "resourceQuantity": measure(stage.quantity, unit),
        }
        for side, who in zip(("provider", "receiver"), _sides(stage, stages), strict=True):
            if who is not None:
                node[side] = self.agent(who)
        # A flow of a process is in the plan through its process; the others directly.
        if stage.kind in ("make", "inspect") and stage.node in makes:
            node["outputOf"] = makes[stage.node]
        elif stage.kind == "ship" and stage.node in carries:
            node["inputOf"] = carries[stage.node]
        elif stage.kind == "receive" and stage.node in carries:
            node["outputOf"] = carries[stage.node]
        else:
            node["plannedWithin"] = plan_ref
        if stage.kind == "accept":
            node["independentDemandOf"] = plan_ref
            if order.due:
                node["due"] = date_time(order.due)
        node["finished"] = stage.status == "done"
        waits = f"; waits for {', '.join(stage.depends_on)}" if stage.depends_on else ""
        node["note"] = (
            f"stage {stage.id} {stage.kind}, owed by {stage.owner or 'nobody yet'}{waits}"
        )
        if stage.status == "failed":
            why = f": {said.evidence}" if said.evidence else ""
            by = f" (said {said.by})" if said.by != stage.owner else ""
            node["note"] += f"; failed{why}{by}"
        self.add(node)

    def _event(self, order, stage: Stage, stages: StageGraph, assertion: Assertion) -> None:
        node: dict = {
            "@id": self.iri("orders", order.id, "events", stage.id),
            "@type": "vf:EconomicEvent",
            "action": STAGE_ACTIONS[stage.kind],
            "resourceConformsTo": self.specification(Resource(ITEM, stage.item)),
            "resourceQuantity": measure(stage.quantity, self._unit(stage.item)),
        }
        for side, who in zip(("provider", "receiver"), _sides(stage, stages), strict=True):
            if who is not None:
                node[side] = self.agent(who)
        node["hasPointInTime"] = date_time(assertion.at)
        node["fulfills"] = {"@id": self.iri("orders", order.id, "commitments", stage.id)}
        if stage.kind == "inspect":
            node["state"] = "pass"
        said = [assertion.evidence] if assertion.evidence else []
        if assertion.by != stage.owner:
            said.append(f"asserted by {assertion.by}")
        if said:
            node["note"] = "; ".join(said)
        self.add(node)

    def _unit(self, item_id: str) -> str:
        item = self.network.items.get(item_id)
        return item.unit if item else "each"


def _quantity_term(intent: Intent) -> str:
    """VF measures work by its effort; an offer of goods says how much is available."""
    if intent.resource.kind == PROCESS:
        return "effortQuantity"
    return "availableQuantity" if intent.kind == OFFER else "resourceQuantity"


def _place(location: Location | None, words: str | None) -> dict:
    place: dict = {}
    if location is not None:
        place |= {"lat": location.lat, "long": location.lon}
        if location.place:
            place["name"] = location.place
    if words:
        place["mappableAddress"] = words
    return place


def _ends(stages: StageGraph, node: str) -> tuple[str | None, str | None]:
    """Who sends a node's goods (its ship stage's owner) and who receives them."""
    owners = {s.kind: s.owner for s in stages.for_node(node) if s.kind in ("ship", "receive")}
    return owners.get("ship"), owners.get("receive")


def _sides(stage: Stage, stages: StageGraph) -> tuple[str | None, str | None]:
    """(provider, receiver) of a stage's flow: the operator's own for making and inspecting,
    else from the node's sender to its recipient."""
    if stage.kind in ("make", "inspect"):
        return stage.owner, stage.owner
    return _ends(stages, stage.node)


def _latest(stages: StageGraph, assertions: Iterable[Assertion]) -> dict[str, Assertion]:
    """stage id → the last word said about it, which gave it its status."""
    return {stages.resolve(a.stage).id: a for a in assertions}


# -- reading documents -------------------------------------------------------------------------
# Documents come as the export writes them and as people write them by hand: keys plain
# ("action"), compact ("vf:action") or full IRIs; a link as {"@id": …}, a bare IRI string, or the
# linked node written inline. Reading normalises the keys once and indexes every node by @id.


def _term(text: str) -> str:
    """ "vf:transferCustody", VF#transferCustody, "transfer-custody" → "transfer-custody"."""
    text = text.removeprefix(VF).removeprefix("vf:")
    return re.sub(r"(?<=[a-z])([A-Z])", lambda m: "-" + m.group(1).lower(), text)


def _key(key: str) -> str:
    return key if key.startswith("@") else key.removeprefix(VF).removeprefix("vf:")


def _plain(value):
    if isinstance(value, Mapping):
        return {_key(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _types(node: Mapping) -> tuple[str, ...]:
    raw = node.get("@type", ())
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return tuple(n.removeprefix(VF).removeprefix("vf:") for n in names if isinstance(n, str))


def _identity(node: Mapping) -> object:
    return node["@id"] if isinstance(node.get("@id"), str) else id(node)


def _is_reference(value) -> bool:
    return isinstance(value, Mapping) and set(value) == {"@id"}


class _Nodes:
    """The nodes of a document: the top-level ones in order, and every node by its @id."""

    def __init__(self, document):
        if not isinstance(document, Mapping):
            raise ValueError("a Value Flows document is a JSON object")
        document = _plain(document)
        graph = document.get("@graph", [document] if "@type" in document else None)
        if not isinstance(graph, list):
            raise ValueError("the document has no @graph list of nodes")
        self.top: list[tuple[str, dict]] = []
        self.by_id: dict[str, dict] = {}
        self._labels: dict[int, tuple[int, str]] = {}  # id(node) → (position, label)
        for index, node in enumerate(graph):
            if not isinstance(node, Mapping):
                raise ValueError(f"@graph[{index}] is not a node")
            label = self._collect(node, f"@graph[{index}]")
            self.top.append((label, node))

    def _collect(self, node: dict, label: str) -> str:
        if isinstance(node.get("@id"), str):
            label = node["@id"]
            if not _is_reference(node):
                self.by_id.setdefault(label, node)
        self._labels.setdefault(id(node), (len(self._labels), label))
        for key, value in node.items():
            children = value if isinstance(value, list) else [value]
            for k, child in enumerate(children):
                if isinstance(child, Mapping):
                    self._collect(child, f"{label}/{key}" + (f"[{k}]" if children is value else ""))
        return label

    def label(self, node: dict) -> str:
        return self._labels.get(id(node), (0, "?"))[1]

    def resolve(self, value) -> tuple[str | None, dict]:
        """(the IRI, the node) a link points to; the node is {} when only the IRI is known."""
        if isinstance(value, str):
            return value, self.by_id.get(value, {})
        if isinstance(value, Mapping):
            iri = value.get("@id") if isinstance(value.get("@id"), str) else None
            if _is_reference(value):
                return iri, self.by_id.get(iri, {})
            return iri, value
        return None, {}

    def intents(self) -> list[tuple[dict, dict | None]]:
        """Every intent with the proposal that publishes it (None when none does), in the order
        the document gives them."""
        publisher: dict[object, dict] = {}
        found: dict[object, dict] = {}  # by @id, or by the object for a node without one
        for _, node in self.top:
            nested = [node, *self._inline(node)]
            for candidate in nested:
                if "Intent" in _types(candidate):
                    found.setdefault(_identity(candidate), candidate)
                if "Proposal" in _types(candidate):
                    published = candidate.get("publishes", [])
                    for link in published if isinstance(published, list) else [published]:
                        _, intent = self.resolve(link)
                        if not intent:
                            raise ValueError(
                                f"{self.label(candidate)}: publishes an unknown intent"
                            )
                        publisher.setdefault(_identity(intent), candidate)
                        found.setdefault(_identity(intent), intent)
        ordered = sorted(found.values(), key=lambda n: self._order(n))
        return [(intent, publisher.get(_identity(intent))) for intent in ordered]

    def _inline(self, node: dict):
        for value in node.values():
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, Mapping) and not _is_reference(child):
                    yield child
                    yield from self._inline(child)

    def _order(self, node: dict) -> int:
        return self._labels.get(id(node), (0, ""))[0]


# -- import ------------------------------------------------------------------------------------


def import_intents(document: Mapping, network: Network, today: date) -> list[Intent]:
    """The intents of a VF document still open on `today`, in document order: its vf:Intent
    nodes and the intents its Proposals publish, their resources mapped to the network's items
    and processes (one it does not know is kept as the words used, `known=False`).

    Which kind: the purpose of the publishing Proposal (offer, request); a Proposal without a
    purpose publishes a proposal; an unpublished intent is an offer when it names a provider, a
    request when it names a receiver. Finished intents and those past their end or expiry are
    left out: they can no longer find a mate. The intents come without id and open, to be cast
    anew. A document that cannot be read raises ValueError naming the node and the field.
    """
    nodes = _Nodes(document)
    processes = _processes(network)
    read = []
    for node, proposal in nodes.intents():
        if node.get("finished") is True:
            continue
        intent = _read_intent(node, proposal, nodes, network, processes)
        expired = intent.expires is not None and intent.expires < today
        if not expired and (intent.ends is None or intent.ends >= today):
            read.append(intent)
    return read


def _read_intent(node, proposal, nodes: _Nodes, network: Network, processes) -> Intent:
    label = nodes.label(node)
    action = node.get("action")
    if isinstance(action, Mapping):
        action = action.get("@id")
    if not isinstance(action, str) or not action:
        raise ValueError(f"{label}: an intent needs an action")
    resource_kind = PROCESS if _term(action) in PROCESS_ACTIONS else ITEM
    kind, side = _kind(label, node, proposal)
    link = node.get("resourceConformsTo")
    if link is None:
        raise ValueError(f"{label}: resourceConformsTo is missing: what is the intent about?")
    fields = dict(
        kind=kind,
        participant=_participant(label, side, node[side], nodes, network),
        resource=_resource(label, resource_kind, link, nodes, network, processes),
        quantity=_quantity(label, node),
        starts=_day(label, node, "hasBeginning"),
        ends=min(
            (d for d in (_day(label, node, "due"), _day(label, node, "hasEnd")) if d),
            default=None,
        ),
        note=node.get("note", ""),
    )
    at = _day(label, node, "hasPointInTime")
    if at:
        fields["starts"] = fields["starts"] or at
        fields["ends"] = fields["ends"] or at
    if not isinstance(fields["note"], str):
        raise ValueError(f"{label}: note is not text")
    if proposal is not None:
        plabel = nodes.label(proposal)
        fields["expires"] = _day(plabel, proposal, "hasEnd")
        if proposal.get("eligibleLocation") is not None:
            _, place = nodes.resolve(proposal["eligibleLocation"])
            fields["place"], fields["place_name"] = _read_place(plabel, place)
    try:
        return Intent(**fields)
    except ValueError as error:
        raise ValueError(f"{label}: {error}") from None


def _kind(label: str, node: Mapping, proposal: Mapping | None) -> tuple[str, str]:
    """The intent's kind, and the side ("provider"/"receiver") its participant is on."""
    sides = [side for side in ("provider", "receiver") if node.get(side) is not None]
    purpose = proposal.get("purpose") if proposal is not None else None
    if isinstance(purpose, Mapping):
        purpose = purpose.get("@id")
    if purpose is not None:
        purpose = _term(str(purpose))
        if purpose not in (OFFER, REQUEST):
            raise ValueError(f"{label}: a proposal's purpose is offer or request, not {purpose!r}")
        side = "provider" if purpose == OFFER else "receiver"
        if side not in sides:
            raise ValueError(f"{label}: an {purpose} needs a {side}")
        return purpose, side
    if proposal is not None:
        if not sides:
            raise ValueError(f"{label}: a proposal needs a receiver (who proposes)")
        return PROPOSAL, sides[-1]
    if len(sides) == 2:
        raise ValueError(
            f"{label}: names both a provider and a receiver; publish it in a Proposal whose "
            "purpose says whether it is an offer or a request"
        )
    if not sides:
        raise ValueError(f"{label}: names neither a provider (an offer) nor a receiver (a request)")
    return (OFFER, "provider") if sides == ["provider"] else (REQUEST, "receiver")


def _last_segment(iri: str | None) -> str | None:
    if not iri:
        return None
    tail = re.split(r"[/#]", iri.rstrip("/#"))[-1]
    if "/" not in iri and "#" not in iri and ":" in tail:
        tail = tail.split(":", 1)[1]  # a compact IRI: "ex:ana"
    return unquote(tail) or None


def _participant(label: str, side: str, link, nodes: _Nodes, network: Network) -> str:
    iri, agent = nodes.resolve(link)
    segment, name = _last_segment(iri), agent.get("name")
    for candidate in (segment, name):
        if isinstance(candidate, str) and candidate in network.participants:
            return candidate
    if isinstance(name, str):
        wanted = name.strip().casefold()
        for participant in network.participants.values():
            if participant.name.casefold() == wanted:
                return participant.id
    who = segment or name
    if not isinstance(who, str) or not who.strip():
        raise ValueError(f"{label}: {side} has neither an @id nor a name")
    return who.strip()


def _processes(network: Network) -> dict[str, str]:
    """What facilities and designs can do, by a forgiving spelling: "3D printing" is
    "3d-printing"."""
    known = {p for f in network.facilities.values() for p in f.processes}
    known |= {p for d in network.designs.values() for p in d.processes}
    return {_spelling(p): p for p in sorted(known)}


def _spelling(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().casefold())


def _resource(label, kind, link, nodes: _Nodes, network: Network, processes) -> Resource:
    iri, specification = nodes.resolve(link)
    name = specification.get("name")
    candidates = [c for c in (_last_segment(iri), name) if isinstance(c, str) and c.strip()]
    for candidate in candidates:
        if kind == ITEM and (item := network.find_item(candidate)) is not None:
            return Resource(ITEM, item.id)
        if kind == PROCESS and _spelling(candidate) in processes:
            return Resource(PROCESS, processes[_spelling(candidate)])
    if not candidates:
        raise ValueError(f"{label}: resourceConformsTo has neither an @id nor a name")
    words = name if isinstance(name, str) and name.strip() else candidates[0]
    return Resource(kind, words.strip(), known=False)


def _quantity(label: str, node: Mapping) -> Quantity | None:
    field = next(
        (f for f in ("resourceQuantity", "availableQuantity", "effortQuantity") if f in node),
        None,
    )
    if field is None:
        return None
    value = node[field]
    if not isinstance(value, Mapping):
        raise ValueError(f"{label}: {field} is not a Measure")
    amount = value.get("hasNumericalValue")
    if isinstance(amount, Mapping):
        amount = amount.get("@value")
    try:
        amount = float(amount) if not isinstance(amount, bool) else None
    except (TypeError, ValueError):
        amount = None
    if amount is None:
        raise ValueError(f"{label}: {field} needs a hasNumericalValue")
    unit = value.get("hasUnit", "each")
    if isinstance(unit, Mapping):
        unit = next((unit[k] for k in ("@id", "symbol", "label", "name") if k in unit), "each")
    unit = _unit(str(unit))
    per = next((node[k] for k in ("scis:per", "per") if k in node), None)
    if per is None and "/" in unit and unit.rsplit("/", 1)[1] in PERIODS:
        unit, per = unit.rsplit("/", 1)  # written by hand as "h/week"
    try:
        return Quantity(amount, unit, per)
    except ValueError as error:
        raise ValueError(f"{label}: {field}: {error}") from None


def _unit(text: str) -> str:
    if text.startswith(OM):
        text = "om:" + text.removeprefix(OM)
    if text in UNITS_OF_OM:
        return UNITS_OF_OM[text]
    prefix, _, tail = text.partition(":")
    if tail and f"om:{tail}" in UNITS_OF_OM and prefix.startswith("om"):
        return UNITS_OF_OM[f"om:{tail}"]  # "om2:hour", as VF's own examples write it
    return text


def _day(label: str, node: Mapping, field: str) -> date | None:
    value = node.get(field)
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = value.get("@value")
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            pass
    raise ValueError(f"{label}: {field} is not a date-time: {value!r}")


def _read_place(label: str, place: Mapping) -> tuple[Location | None, str | None]:
    lat, lon = place.get("lat"), place.get("long")
    words = place.get("mappableAddress")
    if lat is None and lon is None:
        words = words or place.get("name")
        return None, words if isinstance(words, str) else None
    try:
        location = Location(float(lat), float(lon), place.get("name"))
    except (TypeError, ValueError):
        raise ValueError(f"{label}: eligibleLocation needs a numeric lat and long") from None
    return location, words if isinstance(words, str) else None


# -- validation --------------------------------------------------------------------------------
# The VF JSON schemas describe plain objects that hold the objects they refer to: an Intent's
# provider is an Agent object with a name, not an IRI. A node is checked as such an object: its
# @-keys dropped, each link replaced by the linked node's own values (its links dropped, as those
# are checked where that node is). Schemas the corpus refers to but does not hold (Unit,
# SpatialThing, EconomicResource, ProcessSpecification) accept anything: it says nothing of them.

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DANGLING = object()


def validate(document: Mapping, schemas: Iterable[Mapping]) -> list[str]:
    """Every node of the @graph checked against the schema of its @type; the problems as
    "node-id: where: message", none when the document is valid. `schemas` are the VF JSON
    schema documents (the caller reads them), found by their title."""
    from jsonschema import Draft7Validator, FormatChecker
    from referencing import Registry
    from referencing.exceptions import NoSuchResource
    from referencing.jsonschema import DRAFT7

    loaded = {schema["$id"]: schema for schema in schemas}
    by_title = {schema["title"]: schema for schema in loaded.values()}
    folders = {uri.rsplit("/", 1)[0] for uri in loaded}

    def stand_in(uri: str):
        if uri.rsplit("/", 1)[0] in folders:
            return DRAFT7.create_resource({})
        raise NoSuchResource(ref=uri)

    registry = Registry(retrieve=stand_in).with_resources(
        (uri, DRAFT7.create_resource(schema)) for uri, schema in loaded.items()
    )
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_date_time)

    nodes = _Nodes(document)
    problems: list[str] = []
    for label, node in nodes.top:
        types = _types(node)
        schema = next((by_title[t] for t in types if t in by_title), None)
        if schema is None:
            problems.append(f"{label}: no schema for @type {node.get('@type')!r}")
            continue
        dangling: list[str] = []
        instance = _present(node, nodes, dangling, "")
        problems += [f"{label}: {where} refers to a node not in @graph" for where in dangling]
        validator = Draft7Validator(schema, registry=registry, format_checker=checker)
        errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.path])
        for error in errors:
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"{label}: {where + ': ' if where else ''}{error.message}")
    return problems


def _is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True  # the schema's type says what it must be
    if not _RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _present(value, nodes: _Nodes, dangling: list[str], where: str, linked: bool = False):
    """A node as the schemas see it. Inside a linked node (`linked`), links are dropped."""
    if isinstance(value, list):
        presented = [
            _present(v, nodes, dangling, f"{where}/{k}", linked) for k, v in enumerate(value)
        ]
        return [v for v in presented if v is not _DANGLING]
    if not isinstance(value, Mapping):
        return value
    if "@value" in value:
        return value["@value"]
    if _is_reference(value):
        if linked:
            return _DANGLING
        target = nodes.by_id.get(value["@id"])
        if target is None:
            dangling.append(where.lstrip("/"))
            return _DANGLING
        return _present(target, nodes, dangling, where, linked=True)
    presented = {}
    for key, child in value.items():
        if key.startswith("@"):
            continue
        shown = _present(child, nodes, dangling, f"{where}/{key}", linked)
        if shown is not _DANGLING:
            presented[key] = shown
    return presented
