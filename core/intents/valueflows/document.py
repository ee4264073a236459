"""A Value Flows document as it is read: as the export writes it and as people write it by hand —
keys plain ("action"), compact ("vf:action") or full IRIs; a link as {"@id": …}, a bare IRI
string, or the linked node written inline. Reading normalises the keys once and indexes every
node by @id."""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.intents.valueflows.vocabulary import VF


def term(text: str) -> str:
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


def types_of(node: Mapping) -> tuple[str, ...]:
    raw = node.get("@type", ())
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return tuple(n.removeprefix(VF).removeprefix("vf:") for n in names if isinstance(n, str))


def identity(node: Mapping) -> object:
    return node["@id"] if isinstance(node.get("@id"), str) else id(node)


def is_reference(value) -> bool:
    return isinstance(value, Mapping) and set(value) == {"@id"}


class Nodes:
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
            if not is_reference(node):
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
            if is_reference(value):
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
                if "Intent" in types_of(candidate):
                    found.setdefault(identity(candidate), candidate)
                if "Proposal" in types_of(candidate):
                    published = candidate.get("publishes", [])
                    for link in published if isinstance(published, list) else [published]:
                        _, intent = self.resolve(link)
                        if not intent:
                            raise ValueError(
                                f"{self.label(candidate)}: publishes an unknown intent"
                            )
                        publisher.setdefault(identity(intent), candidate)
                        found.setdefault(identity(intent), intent)
        ordered = sorted(found.values(), key=lambda n: self._order(n))
        return [(intent, publisher.get(identity(intent))) for intent in ordered]

    def _inline(self, node: dict):
        for value in node.values():
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, Mapping) and not is_reference(child):
                    yield child
                    yield from self._inline(child)

    def _order(self, node: dict) -> int:
        return self._labels.get(id(node), (0, ""))[0]
