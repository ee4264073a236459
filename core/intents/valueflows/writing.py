"""Value Flows export: intents, orders with their plans, commitments and events, written for
other VF tools as one JSON-LD document (a dict; the caller writes the file).

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
  shipment           orders/ID/transport/PATH   vf:Process carrying a node's goods by its leg
                                        (the sender's delivery, a transporter's vehicle, the
                                        receiver fetching them; no leg: the parties arrange it)
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
  pickup   pickup               input of the node's transport: the goods go from the sender
                                to whoever moves them (a vehicle's operator, the receiver)
  deliver  dropoff              output of the node's transport: from the vehicle's operator to
                                the recipient
  receive  dropoff              output of the node's transport — after a vehicle's `deliver`,
           transfer-custody     the recipient taking the goods from the operator, in the plan
  accept   transfer             to the buyer; independentDemandOf the plan

A stage's owner is the provider of what they give (confirm, ship, deliver; make and inspect are
the operator's own) and the receiver of what they take (pickup, receive, accept): each flow of a
node runs from its sender (the supplier, maker or holder of its goods) to its recipient (the
operator of the parent's facility, or the buyer), through the mover of its leg.

Events are the standing `done` assertions — flows that happened. A failed stage is not a flow;
its commitment's note says it failed and why. A done later reset or failed is not exported.

Every link is written once, on the node the VF vocabulary gives it to (plannedWithin,
inputOf, outputOf, independentDemandOf, fulfills, publishes), as an `{"@id": …}` reference;
Measures and places are small values without identity, so they are written inline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from core.intents.model import ITEM, OFFER, OPEN, PROCESS, PROPOSAL, Intent, Resource
from core.intents.valueflows.vocabulary import (
    OM_UNITS,
    STAGE_ACTIONS,
    base_iri,
    context,
    date_time,
    measure,
)
from core.network.model import Location, Network
from core.stages.graph import Stage, StageGraph
from core.stages.plan import plan_stages
from core.stages.update import Assertion, replay
from core.weave.legs import ARRANGED, DELIVERY, VEHICLE
from core.weave.plan import Demand, Plan, PlanNode
from core.weave.plan_document import sender_terms
from core.weave.sources import Made

# The stages that put a node's goods on their way: the input of its transport process.
SETTING_OFF = ("ship", "pickup")


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


def export(
    network: Network,
    base: str,
    intents: Iterable[Intent] = (),
    orders: Iterable[OrderRecord] = (),
) -> dict:
    """One JSON-LD document: the network's participants, the intents, and each order as a plan
    with its processes, commitments and events."""
    graph = _Graph(network, base_iri(base))
    for participant in network.participants:
        graph.agent(participant)
    for number, intent in enumerate(intents, start=1):
        graph.intent(intent, number)
    for order in orders:
        graph.order(order)
    return {"@context": context(base), "@graph": graph.nodes()}


class _Graph:
    """The nodes being written, in the order they are first met; agents and resource
    specifications are written once however often they are referred to."""

    def __init__(self, network: Network, base: str):
        self.network = network
        self.base = base
        self._nodes: dict[str, dict] = {}
        # (order id, node path) → the node's sender and recipient, and its plan node
        self._ends: dict[tuple[str, str], tuple[str | None, str | None, PlanNode]] = {}

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
            parent = path.rpartition(".")[0]
            # The goods go to the parent's facility (a parent has inputs: it is made), or
            # to the buyer at a line's root.
            recipient = (
                self._ends[(order.id, parent)][2].source.facility.operator
                if parent
                else order.buyer
            )
            self._ends[(order.id, path)] = (sender_terms(node.source)[1], recipient, node)
            if isinstance(node.source, Made):
                makes[path] = self._making(order, path, node, stages, plan_ref)
        carries = {
            s.node: self._carrying(order, s, stages, plan_ref)
            for s in stages
            if s.kind in SETTING_OFF
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
        sender, recipient, node = self._ends[(order.id, ship.node)]
        received = [s.status == "done" for s in stages.for_node(ship.node) if s.kind == "receive"]
        item = self.network.items.get(ship.item)
        return self.add(
            {
                "@id": self.iri("orders", order.id, "transport", ship.node),
                "@type": "vf:Process",
                "name": f"carry {ship.quantity} × {item.name if item else ship.item}"
                f" from {sender} to {recipient}",
                "note": _carried_by(node),
                "plannedWithin": plan_ref,
                "finished": bool(received) and all(received),
            }
        )

    def _commitment(self, order, stage: Stage, stages, plan_ref, makes, carries, said) -> None:
        unit = self._unit(stage.item)
        node: dict = {
            "@id": self.iri("orders", order.id, "commitments", stage.id),
            "@type": "vf:Commitment",
            "action": _action(stage, stages),
            "resourceConformsTo": self.specification(Resource(ITEM, stage.item)),
            "resourceQuantity": measure(stage.quantity, unit),
        }
        sides = self._sides(order, stage, stages)
        for side, who in zip(("provider", "receiver"), sides, strict=True):
            if who is not None:
                node[side] = self.agent(who)
        # A flow of a process is in the plan through its process; the others directly.
        if stage.kind in ("make", "inspect") and stage.node in makes:
            node["outputOf"] = makes[stage.node]
        elif stage.kind in SETTING_OFF and stage.node in carries:
            node["inputOf"] = carries[stage.node]
        elif _action(stage, stages) == "dropoff" and stage.node in carries:
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
            "action": _action(stage, stages),
            "resourceConformsTo": self.specification(Resource(ITEM, stage.item)),
            "resourceQuantity": measure(stage.quantity, self._unit(stage.item)),
        }
        sides = self._sides(order, stage, stages)
        for side, who in zip(("provider", "receiver"), sides, strict=True):
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

    def _sides(self, order, stage: Stage, stages: StageGraph) -> tuple[str | None, str | None]:
        """(provider, receiver) of a stage's flow: the operator's own for making and
        inspecting; into the mover's hands at a pickup, out of them at a delivery (and the
        receive after it); else from the node's sender to its recipient."""
        sender, recipient, _ = self._ends[(order.id, stage.node)]
        if stage.kind in ("make", "inspect"):
            return stage.owner, stage.owner
        if stage.kind == "pickup":
            return sender, stage.owner
        if stage.kind == "deliver":
            return stage.owner, recipient
        if stage.kind == "receive":
            delivered = [s for s in stages.for_node(stage.node) if s.kind == "deliver"]
            return (delivered[0].owner if delivered else sender), recipient
        return sender, recipient


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


def _action(stage: Stage, stages: StageGraph) -> str:
    """The stage's VF action; a receive after a vehicle's delivery takes the goods from its
    operator, the dropoff being the delivery."""
    if stage.kind == "receive" and any(s.kind == "deliver" for s in stages.for_node(stage.node)):
        return "transfer-custody"
    return STAGE_ACTIONS[stage.kind]


def _carried_by(node: PlanNode) -> str:
    leg = node.leg
    if leg is None or leg.kind == ARRANGED:
        return "transport is arranged by the parties; until then the sender carries"
    if leg.kind == VEHICLE:
        return f"carried in vehicle {leg.transport.id}, operated by {leg.carrier}"
    if leg.kind == DELIVERY:
        return f"delivered by its sender, {leg.carrier}"
    return f"picked up by its receiver, {leg.carrier}"


def _latest(stages: StageGraph, assertions: Iterable[Assertion]) -> dict[str, Assertion]:
    """stage id → the last word said about it, which gave it its status."""
    return {stages.resolve(a.stage).id: a for a in assertions}
