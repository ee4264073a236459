"""A plan tree as plain data (what `scis weave --json` prints and what the store keeps) and back.

A node's leg is kept as what it was when chosen (kind, carrier, vehicle, km, kg, trips, price,
minutes) and rebuilt over the network as it is now: the options between the node's origin and
its destination are computed again and the one of the same id is taken, with today's figures.
Where a node's goods go is known while rebuilding top-down (the parent's facility; for a line's
root, the buyer, when the caller says who and where); where it is not — a node rebuilt on its
own — the leg is taken as it was recorded, once its vehicle or carrier is known to be there.
"""

from __future__ import annotations

from core.network.model import Delivery, Location, Network
from core.weave.legs import (
    ARRANGED,
    DELIVERY,
    PICKUP,
    VEHICLE,
    Leg,
    Stop,
    leg_options,
    origin_of,
)
from core.weave.legs import facility_stop as place_of
from core.weave.plan import PlanNode
from core.weave.sources import (
    HELD,
    Bought,
    Made,
    Source,
    SupplyIndex,
    held_offer,
    holder_delivery,
    is_held,
)


class PlanGap(LookupError):
    """A plan names a source the network no longer has (Assess finds a gap)."""


def node_document(node: PlanNode) -> dict:
    source = node.source
    if is_held(source):
        described = {
            "kind": "held",
            "stage": source.offer.id.removeprefix(HELD),
            "holder": source.offer.supplier,
            "held": source.offer.capacity,
        }
    elif isinstance(source, Bought):
        described = {"kind": "offer", "offer": source.offer.id, "supplier": source.offer.supplier}
    else:
        described = {
            "kind": "design",
            "design": source.design.id,
            "facility": source.facility.id,
            "operator": source.facility.operator,
        }
    return {
        "item": node.item,
        "quantity": node.quantity,
        "source": described,
        "distance_km": None if node.distance_km is None else round(node.distance_km, 3),
        "leg": None if node.leg is None else leg_document(node.leg),
        "inputs": [node_document(child) for child in node.inputs],
    }


def leg_document(leg: Leg) -> dict:
    return {
        "kind": leg.kind,
        "carrier": leg.carrier,
        "transport": None if leg.transport is None else leg.transport.id,
        "km": None if leg.km is None else round(leg.km, 3),
        "kg": leg.kg,
        "trips": leg.trips,
        "price": leg.price,
        "minutes": leg.minutes,
    }


def node_from_document(
    network: Network, index: SupplyIndex, document: dict, destination: Stop | None = None
) -> PlanNode:
    """Rebuild a plan node over `network`; raises PlanGap naming the first missing source, or
    the first leg no longer served (its vehicle gone, or no longer able to carry the goods).

    `destination` is where the node's goods go (`buyer_stop` for a line's root); None: not
    known here, and the node's own leg is taken as recorded (see the module's docstring).
    """
    item = document["item"]
    wanted = document["source"]
    quantity = document["quantity"]
    if wanted["kind"] == "held":  # stock with a party of the order: no network record
        offer = held_offer(
            wanted["stage"],
            wanted["holder"],
            item,
            wanted["held"],
            delivery=holder_delivery(network, wanted["holder"]),
        )
        source: Source = Bought(offer, -1)
        leg = _leg(network, item, quantity, source, destination, document.get("leg"))
        return PlanNode(item, quantity, source, (), document.get("distance_km"), leg)
    source = _find_source(index, item, wanted)
    if source is None:
        raise PlanGap(f"{item}: {source_label(wanted)} is no longer in the network")
    leg = _leg(network, item, quantity, source, destination, document.get("leg"))
    here = facility_stop(network, source) if isinstance(source, Made) else None
    inputs = tuple(node_from_document(network, index, child, here) for child in document["inputs"])
    return PlanNode(item, quantity, source, inputs, document.get("distance_km"), leg)


# -- the ends of a leg (common to the weave and to rebuilding) ---------------------------------


def origin_stop(network: Network, source: Source) -> Stop:
    """Where a node's goods start: the supplier's (or holder's) place, or the facility."""
    return origin_of(network, source)[0]


def facility_stop(network: Network, source: Made) -> Stop:
    """The facility of a made node: where its inputs go, and where its goods start."""
    return place_of(network, source.facility)


def buyer_stop(network: Network, buyer: str | None, deliver_to: Location | None = None) -> Stop:
    """Where an order's lines go: the buyer, at `deliver_to`, else where the buyer is."""
    if deliver_to is None and buyer is not None:
        participant = network.participants.get(buyer)
        deliver_to = participant.location if participant else None
    return Stop(buyer, None, deliver_to)


def sender_terms(source: Source) -> tuple[Delivery | None, str | None]:
    """The sender's own delivery terms and the sender: the offer's supplier, the facility's
    operator; stock held for an order is sent on by its holder, as it delivers
    (`core.weave.sources.holder_delivery`)."""
    if isinstance(source, Bought):
        return source.offer.delivery, source.offer.supplier
    return source.facility.delivery, source.facility.operator


def node_leg_options(
    network: Network, item: str, quantity: int, source: Source, destination: Stop
) -> tuple[Leg | None, ...]:
    """Every way to move a node's goods to `destination` (core.weave.legs.leg_options)."""
    origin, delivery, sender = origin_of(network, source)
    return leg_options(network, item, quantity, origin, destination, delivery, sender)


def _leg(
    network: Network,
    item: str,
    quantity: int,
    source: Source,
    destination: Stop | None,
    recorded: dict | None,
) -> Leg | None:
    """The node's leg over `network`: the option of the recorded one's id, figured today."""
    if recorded is None:  # no leg then (or a document from before legs): none now
        return None
    vehicle = recorded.get("transport")
    if vehicle is not None and vehicle not in network.transport:
        raise PlanGap(f"{item}: vehicle {vehicle} is no longer in the network")
    wanted = _leg_id(recorded)
    if destination is None:
        return _as_recorded(network, item, source, recorded)
    options = node_leg_options(network, item, quantity, source, destination)
    if options == (None,):  # the goods are now used where they are, or left to the parties
        return None
    found = next((o for o in options if o is not None and o.id == wanted), None)
    if found is None:
        raise PlanGap(f"{item}: {wanted} can no longer move it")
    return found


def _leg_id(recorded: dict) -> str:
    """The id of a recorded leg, as `Leg.id` gives it."""
    if recorded.get("transport") is not None:
        return f"{VEHICLE}:{recorded['transport']}"
    if recorded["kind"] == ARRANGED:
        return ARRANGED
    return f"{recorded['kind']}:{recorded['carrier']}"


def _as_recorded(network: Network, item: str, source: Source, recorded: dict) -> Leg:
    """The leg as its document says, where the node's destination is not known: its mover must
    still move goods (a vehicle is checked by the caller), its distance cannot be checked."""
    kind, carrier, vehicle = recorded["kind"], recorded["carrier"], recorded.get("transport")
    if kind == DELIVERY and sender_terms(source)[0] is None:
        raise PlanGap(f"{item}: {kind}:{carrier} is no longer offered")
    if kind == PICKUP:
        receiver = network.participants.get(carrier) if carrier else None
        if receiver is None or receiver.pickup is None:
            raise PlanGap(f"{item}: {kind}:{carrier} is no longer offered")
    return Leg(
        kind,
        carrier,
        origin_stop(network, source),
        Stop(carrier if kind == PICKUP else None),
        recorded["km"],
        recorded["kg"],
        recorded["trips"],
        recorded["price"],
        recorded["minutes"],
        0,
        None if vehicle is None else network.transport[vehicle],
    )


def source_label(described: dict) -> str:
    if described["kind"] == "held":
        return f"offer:{HELD}{described['stage']}"
    if described["kind"] == "offer":
        return f"offer:{described['offer']}"
    return f"design:{described['design']}@{described['facility']}"


def _find_source(index: SupplyIndex, item: str, wanted: dict) -> Source | None:
    if item not in index.network.items:
        return None
    for source in index.sources(item):
        if wanted["kind"] == "offer" and isinstance(source, Bought):
            if source.offer.id == wanted["offer"]:
                return source
        elif wanted["kind"] == "design" and isinstance(source, Made):
            if source.design.id == wanted["design"] and source.facility.id == wanted["facility"]:
                return source
    return None
