"""YAML that remembers lines: every mapping and list knows where it starts and where each key is.

Plain loaders keep the last of two duplicated keys without a word; this one reports them.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from core.network.diagnostics import Diagnostic, error, warning


class LocatedDict(dict):
    line: int = 0
    key_lines: dict
    # (key, line) of each key written twice in this very mapping; the value kept is the last.
    duplicate_keys: tuple = ()

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    line: int = 0
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, int]] = []

    def construct_mapping(self, node, deep=False):
        self.flatten_mapping(node)
        mapping = LocatedDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        duplicates = []
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                key = str(key)
            if key in mapping:
                duplicates.append((str(key), key_node.start_mark.line + 1))
                self.duplicate_keys.append(duplicates[-1])
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        if duplicates:
            mapping.duplicate_keys = tuple(duplicates)
        return mapping

    def construct_sequence(self, node, deep=False):
        sequence = LocatedList(self.construct_object(child, deep=True) for child in node.value)
        sequence.line = node.start_mark.line + 1
        sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
        return sequence


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)


def read_yaml(path: Path | str, duplicates_are_errors: bool = True):
    """Parse a YAML file. Returns (data or None, diagnostics).

    A syntax error gives an error at its line and no data. A duplicated key gives an error (or a
    warning when `duplicates_are_errors` is false) naming the key and both lines' file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [error(f"cannot read: {exc}", path)]
    return parse_yaml(text, path, duplicates_are_errors)


def parse_yaml(text: str, path, duplicates_are_errors: bool = True):
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [error(f"not valid YAML: {problem}", path, line)]
    finally:
        loader.dispose()
    report = error if duplicates_are_errors else warning
    diagnostics: list[Diagnostic] = [
        report(
            f"duplicate key {key!r} (a plain YAML loader would keep only the last)", path, line, key
        )
        for key, line in loader.duplicate_keys
    ]
    return data, diagnostics
