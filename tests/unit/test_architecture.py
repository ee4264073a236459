"""The layers of ARCHITECTURE.md, kept by the import graph of core/, workers/ and bots/.

Every import counts, wherever it stands: at the top, inside a function (imported late to start
fast) or under TYPE_CHECKING (a type is a dependency too). Each failure names the file, the line
and what it imports.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "workers", "bots")
# Dependencies point one way: bots → workers → core.
LOWER_MAY_NOT_IMPORT = {"core": ("workers", "bots"), "workers": ("bots",)}
# The domain: no storage, no use cases, no framework. core.store and core.service build on it.
PURE = (
    "core.network",
    "core.weave",
    "core.pricing",
    "core.stages",
    "core.risk",
    "core.intents",
    "core.importers",
    "core.frames",
    "core.plan_counts",
)
IMPURE = (
    "core.store",
    "core.service",
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "dramatiq",
    "telegram",
    "nio",
    "redis",
    "psycopg",
    "psycopg2",
    "typer",
    "rich",
)
CYCLES_SHOWN = 50  # a tangle has many; the first fifty say where to cut


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. core.weave.ranking
    file: str  # its path from the project's root
    line: int
    target: str  # the module imported, as precisely as the import names it

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.target}"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path = ROOT) -> list[Import]:
    """Every import statement in every module of the three packages."""
    files = sorted(p for package in PACKAGES for p in (root / package).rglob("*.py"))
    modules = {_module_name(path, root) for path in files}
    found = []
    for path in files:
        module = _module_name(path, root)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        relative = str(path.relative_to(root))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), relative)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # from . import x, from ..weave import y
                    parts = package.split(".")
                    base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
                # `from core.weave import ranking` imports a module, `… import Weave` a name in one.
                named = [f"{base}.{alias.name}" for alias in node.names]
                targets = [t for t in named if t in modules] or [base]
            else:
                continue
            found += [Import(module, relative, node.lineno, target) for target in targets]
    return found


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def layer_violations(found: list[Import]) -> list[str]:
    return [
        str(i)
        for i in found
        for layer, above in LOWER_MAY_NOT_IMPORT.items()
        if _within(i.module, (layer,)) and _within(i.target, above)
    ]


def purity_violations(found: list[Import]) -> list[str]:
    return [str(i) for i in found if _within(i.module, PURE) and _within(i.target, IMPURE)]


def cycles(found: list[Import]) -> list[str]:
    """Every circle of imports between modules, each import in it named."""
    graph = nx.DiGraph()
    ours = {i.module for i in found}
    for i in found:
        if i.target in ours and i.target != i.module and not graph.has_edge(i.module, i.target):
            graph.add_edge(i.module, i.target, where=f"{i.file}:{i.line}")
    described = []
    for circle in islice(nx.simple_cycles(graph), CYCLES_SHOWN):
        steps = zip(circle, [*circle[1:], circle[0]], strict=True)
        described.append(", ".join(f"{graph.edges[a, b]['where']} imports {b}" for a, b in steps))
    return sorted(described)


FOUND = imports()


def test_the_files_are_read():
    assert {i.module.partition(".")[0] for i in FOUND} == set(PACKAGES)


def test_core_imports_neither_workers_nor_bots_and_workers_not_bots():
    wrong = layer_violations(FOUND)
    assert not wrong, "imports against bots → workers → core:\n" + "\n".join(wrong)


def test_the_domain_imports_no_store_service_or_framework():
    wrong = purity_violations(FOUND)
    assert not wrong, "the pure domain imports what it must not:\n" + "\n".join(wrong)


def test_no_module_imports_itself_round_a_circle():
    found = cycles(FOUND)
    assert not found, "import cycles:\n" + "\n".join(found)
