"""The Value Flows vocabulary SCIS writes and reads: the VF, OM 2 and XSD namespaces, which VF
action each kind of stage is, the units people use here as OM units, the JSON-LD context, and
date-times and measures as the VF JSON schemas want them."""

from __future__ import annotations

from datetime import UTC, date, datetime

VF = "https://w3id.org/valueflows/ont/vf#"


OM = "http://www.ontology-of-units-of-measure.org/resource/om-2/"


XSD = "http://www.w3.org/2001/XMLSchema#"


DATE_TIME_TERMS = ("hasBeginning", "hasEnd", "hasPointInTime", "due", "created")


STAGE_ACTIONS = {
    "confirm": "transfer-all-rights",
    "make": "produce",
    "inspect": "modify",
    "ship": "pickup",
    "pickup": "pickup",
    "deliver": "dropoff",
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


def context(base: str) -> dict:
    """The VF context (the prefixes of all_vf.jsonld that the export uses), with the date-time
    terms typed, and `scis:` for what VF has no word for (the period of a rate)."""
    terms: dict = {"@vocab": VF, "vf": VF, "om": OM, "xsd": XSD, "scis": base_iri(base) + "terms#"}
    terms.update({t: {"@id": f"vf:{t}", "@type": "xsd:dateTime"} for t in DATE_TIME_TERMS})
    return terms


def base_iri(base: str) -> str:
    """The base under which every `@id` is written: it ends with a slash."""
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
