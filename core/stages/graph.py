"""The stage graph: a DAG of human-verifiable stages with owners (ARCHITECTURE.md, Stages).

A stage depends on the stages it waits for; dependencies point to earlier stages only. The
stages of a graph are kept in that order (a topological order), and their ids are `s1`, `s2`, …
along it, so a stage's id is always greater than the ids of the stages it depends on. Plan P
numbers a plan's tree bottom-up: the inputs of a node (first input first) before the node
itself, so the root's stages and the buyer's `accept` come last.

A stage's `node` is the position of its plan node in the tree, as a path: "0" is the root of
the first order line ("1" of the second …), "0.2" the third input of that root, "0.2.0" the
first input of that input. The branch of a stage is the input of the root it lies under.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

KINDS = ("confirm", "ship", "receive", "make", "inspect", "accept", "pickup", "deliver")
STATUSES = ("pending", "done", "failed")


class StageError(ValueError):
    """A stage graph that cannot be, or a reference to a stage it does not have."""


@dataclass(frozen=True)
class Stage:
    """One stage: `kind` of `quantity` × `item`, owed by participant `owner` (None: nobody yet).

    `source` says where the node's goods come from: "offer:ID", "design:D@F", "design:D" when
    no facility is chosen (Inspect), or None for a material nobody supplies yet.
    """

    id: str
    kind: str
    item: str
    quantity: int
    owner: str | None
    node: str
    source: str | None
    depends_on: tuple[str, ...] = ()
    status: str = "pending"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise StageError(f"{self.id}: unknown kind {self.kind!r}")
        if self.status not in STATUSES:
            raise StageError(f"{self.id}: unknown status {self.status!r}")

    @property
    def label(self) -> str:
        return f"{self.id} {self.kind}"


def stage_id(number: int) -> str:
    return f"s{number}"


def stage_ranges(ids: Iterable[str]) -> str:
    """The stage ids as a person can check them: runs of numbers joined ("s1–s9, s14, s22–s30"),
    true after a re-plan has dropped some and added others."""
    numbers = sorted(int(i[1:]) for i in ids if i[:1] == "s" and i[1:].isdecimal())
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    said = [stage_id(a) if a == b else f"{stage_id(a)}–{stage_id(b)}" for a, b in runs]
    return ", ".join(said)


def path_parts(node: str) -> tuple[int, ...]:
    return tuple(int(part) for part in node.split("."))


class StageGraph:
    """An immutable stage graph; stages in dependency order, looked up by id."""

    def __init__(self, stages: Iterable[Stage]):
        ordered = tuple(stages)
        by_id: dict[str, Stage] = {}
        dependents: dict[str, list[str]] = {}
        for stage in ordered:
            if stage.id in by_id:
                raise StageError(f"two stages are called {stage.id}")
            for dependency in stage.depends_on:
                if dependency not in by_id:
                    raise StageError(
                        f"{stage.id} depends on {dependency}, which does not come before it"
                    )
                dependents[dependency].append(stage.id)
            by_id[stage.id] = stage
            dependents[stage.id] = []
        self._stages = ordered
        self._by_id = MappingProxyType(by_id)
        self._dependents = {key: tuple(value) for key, value in dependents.items()}

    # -- reading -------------------------------------------------------------------------------

    @property
    def stages(self) -> tuple[Stage, ...]:
        """Every stage, in dependency order (the order of their ids)."""
        return self._stages

    @property
    def by_id(self) -> Mapping[str, Stage]:
        return self._by_id

    def __iter__(self) -> Iterator[Stage]:
        return iter(self._stages)

    def __len__(self) -> int:
        return len(self._stages)

    def __contains__(self, stage_id: object) -> bool:
        return stage_id in self._by_id

    def __getitem__(self, stage_id: str) -> Stage:
        try:
            return self._by_id[stage_id]
        except KeyError:
            raise StageError(self._unknown(stage_id)) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StageGraph) and self._stages == other._stages

    def __hash__(self) -> int:
        return hash(self._stages)

    def __repr__(self) -> str:
        return f"StageGraph({len(self._stages)} stages)"

    def resolve(self, text: str) -> Stage:
        """The stage a person means: `s7`, `S7` or `7`."""
        cleaned = text.strip().lower()
        if cleaned.isascii() and cleaned.isdecimal():  # isdigit() passes "²", which int() refuses
            cleaned = stage_id(int(cleaned))
        return self[cleaned]

    def _unknown(self, stage_id: str) -> str:
        if not self._stages:
            return f"no stage {stage_id}: this stage graph is empty"
        return f"no stage {stage_id} (stages are {stage_ranges(s.id for s in self._stages)})"

    # -- structure -----------------------------------------------------------------------------

    def dependents_of(self, stage_id: str) -> tuple[Stage, ...]:
        """The stages that depend directly on this one."""
        self[stage_id]
        return tuple(self._by_id[d] for d in self._dependents[stage_id])

    def ready(self, stage_id: str) -> bool:
        """Pending, with everything it depends on done: its owner can start it now."""
        stage = self[stage_id]
        return stage.status == "pending" and all(
            self._by_id[d].status == "done" for d in stage.depends_on
        )

    def ancestors(self, stage_id: str) -> frozenset[str]:
        """Ids of every stage this one depends on, directly or not."""
        return self._closure(stage_id, lambda s: self[s].depends_on)

    def descendants(self, stage_id: str) -> frozenset[str]:
        """Ids of every stage that depends on this one, directly or not."""
        return self._closure(stage_id, lambda s: self._dependents[s])

    def _closure(self, start: str, step) -> frozenset[str]:
        self[start]
        seen: set[str] = set()
        frontier = list(step(start))
        while frontier:
            current = frontier.pop()
            if current not in seen:
                seen.add(current)
                frontier.extend(step(current))
        return frozenset(seen)

    def for_node(self, path: str) -> tuple[Stage, ...]:
        """The stages of one plan node, in order."""
        return tuple(s for s in self._stages if s.node == path)

    def branch_of(self, stage: Stage | str) -> int | None:
        """Which input of its line's root the stage lies under; None for the root's own stages."""
        parts = path_parts(self._stage(stage).node)
        return parts[1] if len(parts) > 1 else None

    def branch_node(self, stage: Stage | str) -> str | None:
        """The path of the root input the stage lies under, e.g. "0.2"; None at the root."""
        parts = self._stage(stage).node.split(".")
        return ".".join(parts[:2]) if len(parts) > 1 else None

    def _stage(self, stage: Stage | str) -> Stage:
        return self[stage] if isinstance(stage, str) else stage

    # -- changing ------------------------------------------------------------------------------

    def with_stage(self, stage: Stage) -> StageGraph:
        """A copy with one stage replaced (same id, same dependencies): a new status or owner."""
        old = self[stage.id]
        if old.depends_on != stage.depends_on:
            raise StageError(f"{stage.id}: its dependencies cannot change")
        return StageGraph(stage if s.id == stage.id else s for s in self._stages)
