"""Value Flows import: the open intents of a VF document, their participants, resources,
quantities, dates and places mapped onto the network's (see `import_intents`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from urllib.parse import unquote

from core.intents.model import (
    ITEM,
    OFFER,
    PERIODS,
    PROCESS,
    PROPOSAL,
    REQUEST,
    Intent,
    Quantity,
    Resource,
)
from core.intents.valueflows.document import Nodes, term
from core.intents.valueflows.vocabulary import OM, PROCESS_ACTIONS, UNITS_OF_OM
from core.network.model import Location, Network


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
    nodes = Nodes(document)
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


def _read_intent(node, proposal, nodes: Nodes, network: Network, processes) -> Intent:
    label = nodes.label(node)
    action = node.get("action")
    if isinstance(action, Mapping):
        action = action.get("@id")
    if not isinstance(action, str) or not action:
        raise ValueError(f"{label}: an intent needs an action")
    resource_kind = PROCESS if term(action) in PROCESS_ACTIONS else ITEM
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
        purpose = term(str(purpose))
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


def _participant(label: str, side: str, link, nodes: Nodes, network: Network) -> str:
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


def _resource(label, kind, link, nodes: Nodes, network: Network, processes) -> Resource:
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
