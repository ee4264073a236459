"""An order born from an accepted match is planned with the matched offers in it (issue 13, 6).

Accepting a match puts its offers into the network (core/service/acceptance.py): an offer of
an item becomes a network offer, an offer of a process becomes that process at a facility its
maker runs. The order the request becomes is then woven over a network in which, for every item a
matched offer covers, the other sources of that item are left out:

- an item offered: that item comes only from the matched offers of it (no other offer of it, and
  it is not made);
- a process offered: every item of the order's tree with a design needing that process is made
  only at the offerer's facilities that run it (no offer of it, and no other facility makes it).

A matched source the network no longer has (declined, disrupted, withdrawn from the network)
restricts nothing. When the restricted network has no plan at all, the order is woven over the
whole network: `plans_use_match` then tells the people the truth.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from sqlmodel import Session, select

from core.intents.model import ITEM, PROCESS
from core.network.model import Network, frozen_mapping
from core.store.tables import IntentMatch, IntentRow, OrderLine, OrderRow, PlanRow
from core.weave import PRICE, Demand, Weave

MARK = "matched:"  # a process only the matched facilities run, given to the item's designs


def network_offer_id(offer: IntentRow) -> str:
    """The id an accepted offer of an item has in the network."""
    return f"{offer.participant_id}-{offer.resource_id}-{offer.id}"


@dataclass(frozen=True)
class MatchedSource:
    """Where one matched offer is in the network: an offer id, or facilities running a process."""

    intent: int
    participant: str
    item: str | None = None  # an offered item ...
    offer: str | None = None  # ... and its network offer
    process: str | None = None  # an offered process ...
    facilities: frozenset[str] = frozenset()  # ... and the offerer's facilities that run it


def matched_offers(session: Session, order: OrderRow) -> list[IntentRow]:
    """The offers of the match the order was born from that joined the network."""
    match_id = (order.provenance or {}).get("match")
    match = session.get(IntentMatch, match_id) if match_id is not None else None
    if match is None:
        return []
    offers = []
    for intent_id in dict.fromkeys(int(cover[0]) for cover in match.covers):
        row = session.get(IntentRow, intent_id)
        if row is not None and row.status == "accepted" and row.provenance.get("match") == match.id:
            offers.append(row)
    return offers


def matched_sources(session: Session, network: Network, order: OrderRow) -> list[MatchedSource]:
    """The matched offers that `network` still has, as sources of the weave."""
    found = []
    for offer in matched_offers(session, order):
        if offer.resource_kind == ITEM:
            sold = network.offers.get(network_offer_id(offer))
            if sold is not None:
                found.append(
                    MatchedSource(offer.id, offer.participant_id, sold.item, offer=sold.id)
                )
        elif offer.resource_kind == PROCESS:
            places = frozenset(
                f.id
                for f in network.facilities.values()
                if f.operator == offer.participant_id and offer.resource_id in f.processes
            )
            if places:
                found.append(
                    MatchedSource(
                        offer.id, offer.participant_id, process=offer.resource_id, facilities=places
                    )
                )
    return found


def _tree_items(network: Network, roots) -> set[str]:
    """Every item an order of `roots` can come to need, through any design."""
    seen, todo = set(), [r for r in roots if r in network.items]
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        seen.add(item)
        for design in network.designs.values():
            if design.makes == item:
                todo.extend(i for i, _ in design.inputs if i in network.items)
    return seen


def restricted(network: Network, sources: list[MatchedSource], roots) -> Network:
    """`network` where each item a matched source covers comes only from its matched sources."""
    offers_of: dict[str, set[str]] = defaultdict(set)
    made_at: dict[str, set[str]] = defaultdict(set)
    tree = _tree_items(network, roots)
    for source in sources:
        if source.offer is not None:
            offers_of[source.item].add(source.offer)
        else:
            for design in network.designs.values():
                if design.makes in tree and source.process in design.processes:
                    made_at[design.makes] |= source.facilities
    items = set(offers_of) | set(made_at)
    if not items:
        return network
    offers = {
        k: o for k, o in network.offers.items() if o.item not in items or k in offers_of[o.item]
    }
    designs = {}
    for key, design in network.designs.items():
        if design.makes not in items:
            designs[key] = design
        elif design.makes in made_at:  # made only where a marker process is run
            designs[key] = replace(design, processes=design.processes | {MARK + design.makes})
    facilities = {}
    for key, facility in network.facilities.items():
        marks = {MARK + item for item, places in made_at.items() if key in places}
        facilities[key] = (
            replace(facility, processes=facility.processes | marks) if marks else facility
        )
    return replace(
        network,
        offers=frozen_mapping(offers),
        designs=frozen_mapping(designs),
        facilities=frozen_mapping(facilities),
    )


def matched_network(session: Session, network: Network, order: OrderRow) -> Network:
    """The network to weave `order` over: restricted to the matched offers when the order was
    born from an accepted match and that leaves a plan; else `network` itself."""
    if not (order.provenance or {}).get("match"):
        return network
    sources = matched_sources(session, network, order)
    if not sources:
        return network
    rows = session.exec(select(OrderLine).where(OrderLine.order_id == order.id))
    lines = [Demand(r.item_id, r.quantity) for r in rows if r.item_id in network.items]
    if not lines:
        return network
    narrowed = restricted(network, sources, [d.item for d in lines])
    if narrowed is network or Weave(narrowed, lines, order.criteria, PRICE).count() == 0:
        return network
    return narrowed


def uses(network: Network, tree: list[dict], source: MatchedSource) -> bool:
    """Whether a stored plan tree takes something from the matched source: buys the offered
    item from it, or has a design needing the offered process made at the offerer's place."""

    def visit(node: dict) -> bool:
        described = node["source"]
        if source.offer is not None:
            hit = described["kind"] == "offer" and described.get("offer") == source.offer
        else:
            design = network.designs.get(described.get("design", ""))
            hit = (
                described["kind"] == "design"
                and described.get("facility") in source.facilities
                and design is not None
                and source.process in design.processes
            )
        return hit or any(visit(child) for child in node.get("inputs", ()))

    return any(visit(line) for line in tree)


def plans_use_match(session: Session, network: Network, order: OrderRow) -> dict[int, str]:
    """For each matched offer (intent id): "all" when every plan offered for the order uses it,
    "some" when some do, "none" when none does; "unplanned" when the order has no plan."""
    rows = session.exec(select(PlanRow).where(PlanRow.order_id == order.id)).all()
    newest = max((r.batch for r in rows), default=None)
    batch = [r for r in rows if r.batch == newest]
    verdicts = {}
    sources = {s.intent: s for s in matched_sources(session, network, order)}
    for offer in matched_offers(session, order):
        source = sources.get(offer.id)
        used = [source is not None and uses(network, r.tree, source) for r in batch]
        if not used:
            verdicts[offer.id] = "unplanned"
        else:
            verdicts[offer.id] = "all" if all(used) else "some" if any(used) else "none"
    return verdicts
