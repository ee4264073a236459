"""Value Flows validation: a document checked against the VF JSON schemas (the caller loads
them, from ../shared/corpus/valueflows/json-schemas; jsonschema is imported only here, when
asked).

The VF JSON schemas describe plain objects that hold the objects they refer to: an Intent's
provider is an Agent object with a name, not an IRI. A node is checked as such an object: its
@-keys dropped, each link replaced by the linked node's own values (its links dropped, as those
are checked where that node is). Schemas the corpus refers to but does not hold (Unit,
SpatialThing, EconomicResource, ProcessSpecification) accept anything: it says nothing of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from core.intents.valueflows.document import Nodes, is_reference, types_of

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

    nodes = Nodes(document)
    problems: list[str] = []
    for label, node in nodes.top:
        types = types_of(node)
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


def _present(value, nodes: Nodes, dangling: list[str], where: str, linked: bool = False):
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
    if is_reference(value):
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
