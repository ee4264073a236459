"""Put the pieces read from many files together into one network, checking what refers to what.

Each importer returns a `Fragment`. Items are shared vocabulary (many files mention "M8 nut"), so
items with one id merge; any other record declared twice is an error on the later one. References
(a design's inputs, an offer's supplier, a facility's operator) are checked on the whole, so one
file may refer to what another declares; a record whose reference dangles is dropped with an
error at its own line, and the rest of the network still loads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from core.network.diagnostics import Diagnostic, error
from core.network.model import (
    Design,
    Facility,
    Item,
    Network,
    Offer,
    Origin,
    Participant,
    Substitute,
    Transport,
    frozen_mapping,
)
from core.network.processes import as_assumed


@dataclass(frozen=True)
class ModuleRelease:
    """A module a file declares: the repository it is (normalised URL) and which release.

    `owns` is the id prefix of what belongs to this release alone (a LOSH module's item and its
    parts): when an older release of the same module is loaded too, those ids take its version.
    """

    module: str
    version: str | None
    item: str
    origin: Origin
    owns: str | None = None


@dataclass(frozen=True)
class ModuleReference:
    """A module a file uses without declaring it: `item` is the id the file gave it for now.

    `pin` is the commit or tag the reference names, if any; `what` says which row or entry of
    the file it is, for the diagnostics ("MOSH row 'Module B'").
    """

    module: str
    item: str
    pin: str | None
    what: str
    origin: Origin
    field: str | None = None


@dataclass
class Fragment:
    """What one file (or one repository folder) contributes to a network."""

    source: str
    participants: list[Participant] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    designs: list[Design] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    transport: list[Transport] = field(default_factory=list)
    substitutes: list[Substitute] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Ids the file does not write but which are made from other fields (an OKH v1 design's from
    # its project link): id -> (those fields, the line of the first), so a clash names them.
    id_fields: dict[str, tuple[tuple[str, ...], int]] = field(default_factory=dict)
    # The modules this file is a release of, and the modules it uses without declaring them:
    # which release a use means is known only once every file is read (load_network).
    modules: list[ModuleRelease] = field(default_factory=list)
    references: list[ModuleReference] = field(default_factory=list)
    # The file says `assume: {unknown-processes: any}`: the whole network then lets designs and
    # facilities whose processes are unknown match as if they needed and ran none.
    assumes_any_process: bool = False

    @property
    def failed(self) -> bool:
        """True when the file could not be read at all (nothing in it is usable)."""
        return any(d.severity == "error" for d in self.diagnostics) and not self.records_count

    @property
    def records_count(self) -> int:
        return sum(
            len(getattr(self, kind))
            for kind in ("participants", "items", "designs", "facilities", "offers", "transport")
        )


_UNIQUE_KINDS = ("participants", "designs", "facilities", "offers", "transport")

# How many designs may stand on one another. Real bills of materials are a few levels deep; a
# plan is a tree as deep as its design chain, and the weave, pricing, stages, risk and the stored
# plan documents all walk it, so bounding it here keeps every one of those walks safe.
MAX_DESIGN_DEPTH = 200


def assemble(fragments: list[Fragment]) -> tuple[Network, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    for fragment in fragments:
        diagnostics.extend(fragment.diagnostics)

    items: dict[str, Item] = {}
    for fragment in fragments:
        for item in fragment.items:
            items[item.id] = _merge_item(items[item.id], item) if item.id in items else item

    unique: dict[str, dict] = {kind: {} for kind in _UNIQUE_KINDS}
    named_by: dict[tuple[str, str], tuple[tuple[str, ...], int] | None] = {}
    for fragment in fragments:
        for kind in _UNIQUE_KINDS:
            seen = unique[kind]
            for record in getattr(fragment, kind):
                fields = fragment.id_fields.get(record.id)
                if record.id in seen:
                    first = seen[record.id]
                    diagnostics.append(
                        _duplicate(kind, record, fields, first, named_by[kind, record.id])
                    )
                    continue
                seen[record.id] = record
                named_by[kind, record.id] = fields

    participants = unique["participants"]
    kept_designs = [d for d in unique["designs"].values() if _design_ok(d, items, diagnostics)]
    kept_facilities = [
        f
        for f in unique["facilities"].values()
        if _known(f.operator, participants, "participant", f, "operator", diagnostics)
    ]
    kept_offers = [
        o
        for o in unique["offers"].values()
        if _known(o.supplier, participants, "participant", o, "supplier", diagnostics)
        and _known(o.item, items, "item", o, "item", diagnostics)
    ]
    kept_designs = _not_too_deep(kept_designs, {o.item for o in kept_offers}, diagnostics)
    kept_transport = [
        t
        for t in unique["transport"].values()
        if _known(t.operator, participants, "participant", t, "operator", diagnostics)
    ]
    kept_substitutes = [
        s
        for fragment in fragments
        for s in fragment.substitutes
        if _known(s.item, items, "item", s, "item", diagnostics)
        and _known(s.by, items, "item", s, "by", diagnostics)
    ]
    network = Network.of(
        participants=participants.values(),
        items=items.values(),
        designs=kept_designs,
        facilities=kept_facilities,
        offers=kept_offers,
        transport=kept_transport,
        substitutes=kept_substitutes,
    )
    if any(f.assumes_any_process for f in fragments):
        network = replace(network, unknown_processes_match_any=True)
        diagnostics = [as_assumed(d) for d in diagnostics]
    return network, diagnostics


def _duplicate(kind: str, record, fields, first, first_fields) -> Diagnostic:
    """The later of two records with one id, told where the first is and, when the id was made
    from other fields, which ones: not an `id` field that neither file has."""
    if fields is None and first_fields is None:
        return error(
            f"duplicate id {record.id!r} (first declared at {first.origin})",
            record.origin.file,
            record.origin.line,
            "id",
        )
    names, line = fields or (("id",), record.origin.line)
    first_names, first_line = first_fields or (("id",), first.origin.line)
    what = "facility" if kind == "facilities" else kind.removesuffix("s")
    return error(
        f"{what} {record.id!r} (from {_fields_text(names)}) is already declared by "
        f"{Origin(first.origin.file, first_line)} (from {_fields_text(first_names)}): two "
        f"files claiming to be one {what} cannot both load, so this one is left out",
        record.origin.file,
        line,
        names[0],
    )


def _fields_text(names: tuple[str, ...]) -> str:
    return " and ".join(f"`{n}`" for n in names)


def _merge_item(first: Item, later: Item) -> Item:
    """The first declaration wins; a later one adds its aliases, properties and a better name."""
    name = first.name if first.name != first.id else later.name
    aliases = tuple(dict.fromkeys(first.aliases + later.aliases + (later.name,)))
    aliases = tuple(a for a in aliases if a not in (name, first.id))
    properties = {**later.properties, **first.properties}
    return replace(
        first,
        name=name,
        aliases=aliases,
        properties=frozen_mapping(properties),
        mass_kg=first.mass_kg if first.mass_kg is not None else later.mass_kg,
    )


def _design_ok(design: Design, items: dict, diagnostics: list[Diagnostic]) -> bool:
    ok = _known(design.makes, items, "item", design, "makes", diagnostics)
    for input_id, _ in design.inputs:
        ok &= _known(input_id, items, "item", design, f"inputs.{input_id}", diagnostics)
    return ok


def _known(ref, table, what, record, field_name, diagnostics) -> bool:
    if ref is None or ref in table:
        return True
    record_id = getattr(record, "id", None) or getattr(record, "item", "")
    diagnostics.append(
        error(
            f"unknown {what} {ref!r} in {record_id!r}; it is left out",
            record.origin.file,
            record.origin.line,
            field_name,
        )
    )
    return False


def _not_too_deep(designs: list[Design], bought: set[str], diagnostics: list[Diagnostic]):
    """The designs whose chain of designs below is at most MAX_DESIGN_DEPTH deep.

    The depth of a design is that of its deepest input plus the size of its item's cycle (a
    plan never repeats an item along a path, so a cycle adds at most its size). A design too
    deep is left out with one error; the designs built only on what it made go with it.
    """
    making: dict[str, list[Design]] = defaultdict(list)
    for design in designs:
        making[design.makes].append(design)
    depth: dict[str, int] = {}
    lost: dict[str, str] = {}  # an item left with no source by a cut: the id of the design cut
    dropped: dict[str, list[Design]] = defaultdict(list)  # a cut design's id: what went with it
    for component in _components(making):
        members = set(component)
        deepest = 0
        cut_of: dict[str, str] = {}  # an item of this component: a cut that took its design
        for item_id in component:
            for design in making.get(item_id, ()):
                inputs = [i for i, _ in design.inputs if i not in members]
                root = next((lost[i] for i in inputs if i in lost), None)
                if root is None:
                    level = len(component) + max((depth.get(i, 0) for i in inputs), default=0)
                    if level <= MAX_DESIGN_DEPTH:
                        deepest = max(deepest, level)
                        cut_of[item_id] = ""  # a design of it stays
                        continue
                    root = design.id
                dropped[root].append(design)
                cut_of.setdefault(item_id, root)
        for item_id in component:
            depth[item_id] = deepest
            if cut_of.get(item_id) and item_id not in bought:
                lost[item_id] = cut_of[item_id]
    if not dropped:
        return designs
    gone: set[str] = set()
    for root_id, went in dropped.items():
        gone.update(d.id for d in went)
        root = next(d for d in went if d.id == root_id)
        also = len(went) - 1
        diagnostics.append(
            error(
                f"a design chain deeper than {MAX_DESIGN_DEPTH} designs: {root_id!r} is left out"
                + (f", with the {also:,} designs built on it" if also else ""),
                root.origin.file,
                root.origin.line,
                "inputs",
            )
        )
    return [d for d in designs if d.id not in gone]


def _components(making: dict[str, list[Design]]) -> list[list[str]]:
    """The strongly connected components of the graph item → input, inputs first (Tarjan's
    algorithm without recursion: a chain of thousands of designs must not overflow the stack)."""
    edges = {m: [i for d in ds for i, _ in d.inputs] for m, ds in making.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges.get(start, ())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
    return found
