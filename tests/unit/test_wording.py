"""Chat wording lives in bots, not core (issue 16, finding 9): core names no chat command in
its strings, every `Next` of core has a declared command, and a notice without a renderer
stops the bot at import."""

from __future__ import annotations

import ast
import gc
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import core.service.commands
from bots.conversation.declarations import BY_NAME
from bots.conversation.next_steps import declaration_of
from bots.conversation.notices import COMMAND_OF, _missing
from core.service.notices import Next, Notice, View

CORE = Path(__file__).resolve().parents[2] / "core"

# Files other helpers convert at the same time (issue 16); the main session empties this.
PENDING: set[str] = set()  # every file converted (the frames helper's included, when last seen)

# "/plans" typed by a person: a slash after a space, quote or bracket, or at the start.
COMMAND = re.compile(r"(?:^|[\s(\[\"'])/([a-z]+)\b")


def _core_files() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if "importers" not in p.parts)


def _name(path: Path) -> str:
    return path.relative_to(CORE.parent).as_posix()


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def _commands_named(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    named = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            named += [
                f"{_name(path)}:{node.lineno} /{word}"
                for word in COMMAND.findall(node.value)
                if word in BY_NAME
            ]
    return named


def _tells_with_text(path: Path) -> list[str]:
    """`ctx.tell(...)` or `ctx.outcome(...)`: words, where a use case gives a notice."""
    return [
        f"{_name(path)}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("tell", "outcome")
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "ctx"
    ]


def _everywhere(scan) -> list[str]:
    return [hit for path in _core_files() for hit in scan(path)]


def test_core_strings_name_no_chat_command_outside_the_pending_files():
    named = [hit for hit in _everywhere(_commands_named) if hit.split(":")[0] not in PENDING]
    assert named == []


def test_no_core_service_tells_in_words_outside_the_pending_files():
    told = [hit for hit in _everywhere(_tells_with_text) if hit.split(":")[0] not in PENDING]
    assert told == []


def test_core_strings_name_no_chat_command_at_all():
    assert _everywhere(_commands_named) == []


def test_core_service_has_no_tell_with_text_left():
    assert _everywhere(_tells_with_text) == []


def _next_steps() -> list[tuple[str, Next]]:
    """Every `Next(...)` written in core, built as written (its arguments stand for values)."""
    steps = []
    for path in _core_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Next"):
                continue
            action = node.args[0]
            if isinstance(action, ast.Attribute) and getattr(action.value, "id", "") == "View":
                resolved = View[action.attr]
            else:
                resolved = getattr(core.service.commands, action.id)
            given_node = node.args[2] if len(node.args) > 2 else None
            given_node = given_node or next(
                (k.value for k in node.keywords if k.arg == "given"), None
            )
            given = ast.literal_eval(given_node) if given_node is not None else ()
            steps.append((f"{_name(path)}:{node.lineno}", Next(resolved, (), given)))
    return steps


def test_core_writes_next_steps():
    assert len(_next_steps()) >= 10  # the scan below sees them


@pytest.mark.parametrize("where,step", _next_steps(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_next_step_of_core_is_a_declared_chat_command(where, step):
    assert step.action in COMMAND_OF, where
    assert declaration_of(step).name in BY_NAME, where


def test_a_next_step_that_two_commands_could_do_is_refused():
    with pytest.raises(LookupError):  # /done or /fail?
        declaration_of(Next(core.service.commands.AssertStage, (1, "s1")))


def test_a_notice_without_a_renderer_is_missing_wording():
    @dataclass(frozen=True)
    class Unworded(Notice):
        order_id: int

    assert "Unworded" in _missing()
    del Unworded
    gc.collect()
    assert "Unworded" not in _missing()
