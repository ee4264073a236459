"""A plan tree as plain data (what `scis weave --json` prints and what the store keeps) and back."""

from __future__ import annotations

from core.network.model import Network
from core.weave.plan import PlanNode
from core.weave.sources import HELD, Bought, Made, Source, SupplyIndex, held_offer, is_held


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
        "inputs": [node_document(child) for child in node.inputs],
    }


def node_from_document(network: Network, index: SupplyIndex, document: dict) -> PlanNode:
    """Rebuild a plan node over `network`; raises PlanGap naming the first missing source."""
    item = document["item"]
    wanted = document["source"]
    if wanted["kind"] == "held":  # stock with a party of the order: no network record
        offer = held_offer(wanted["stage"], wanted["holder"], item, wanted["held"])
        return PlanNode(
            item, document["quantity"], Bought(offer, -1), (), document.get("distance_km")
        )
    source = _find_source(index, item, wanted)
    if source is None:
        raise PlanGap(f"{item}: {source_label(wanted)} is no longer in the network")
    inputs = tuple(node_from_document(network, index, child) for child in document["inputs"])
    return PlanNode(item, document["quantity"], source, inputs, document.get("distance_km"))


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
