"""ARCHITECTURE.md is a map a contributor follows: every file and folder it names exists, and
every function or class it names in a file is defined there."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
NAMED_PATH = re.compile(r"`((?:core|workers|bots|tests|deploy|examples|benchmarks)/[\w/.]*)`")
# "`Updates.on_text` in `bots/telegram/updates.py`", "`assert_stage` in `core/…/assertions.py`"
NAMED_IN = re.compile(r"`(?:[\w.]+\.)?(\w+)(?:\(\))?` in `((?:core|workers|bots)/[\w/]+\.py)`")


def test_every_path_the_architecture_names_exists():
    named = sorted(set(NAMED_PATH.findall(PAGE)))
    assert len(named) > 30, "the command path and the recipes name their files"
    missing = [path for path in named if not (ROOT / path).exists()]
    assert not missing, f"ARCHITECTURE.md names what is not there: {missing}"


def test_every_function_the_architecture_names_is_where_it_says():
    named = sorted(set(NAMED_IN.findall(PAGE)))
    assert len(named) >= 5
    wrong = []
    for name, path in named:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        defined = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        } | {
            getattr(target, "id", None) or getattr(target, "attr", None)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in getattr(node, "targets", None) or [node.target]
        }
        if name not in defined:
            wrong.append(f"{name} in {path}")
    assert not wrong, f"ARCHITECTURE.md names what is not there: {wrong}"
