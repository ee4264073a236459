"""YAML that remembers lines: every mapping and list knows where it starts and where each key is.

Plain loaders keep the last of two duplicated keys without a word; this one reports them. A network
file comes from anyone, so the loader also refuses, at the line where it happens, what would make
reading it hang or crash: aliases that expand beyond reason (the "billion laughs"), nesting deeper
than any manifest needs, and values Python cannot hold (a NUL, a 5,000-digit integer).

A file is read by libyaml when PyYAML has it (a large network in a third of the time); a file
libyaml finds wrong, or that crosses a bound, is read again by the pure Python loader, whose
messages and lines are the ones reported, so every diagnostic is the same with libyaml or without.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from core.network.diagnostics import Diagnostic, error, warning

# A document may repeat, through aliases, this many nodes in all: shared properties fit easily; an
# alias bomb (9 aliases of 9 aliases ... ) crosses it within a few lines instead of after 10^9.
MAX_ALIAS_EXPANSION = 100_000
# SCIS and OKH/OKW manifests nest a handful of levels; the composer and every walk of the data
# recurse once a level, so a bound far below Python's recursion limit keeps them all safe.
MAX_NESTING = 100
_LIBYAML = hasattr(yaml, "CSafeLoader")  # PyYAML built without libyaml has only the pure loader
_STR = "tag:yaml.org,2002:str"
# The first characters of a plain scalar that may be something else than text (a number, a
# boolean, null, a date, a merge key; "" the empty scalar, null): the safe resolver's own table.
_TYPED_STARTS = frozenset(yaml.SafeLoader.yaml_implicit_resolvers)


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


class _LocatedConstruction:
    """What both loaders build: located mappings and lists, duplicate keys noted, and values
    Python cannot hold refused at their line."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, int]] = []
        self.depth = 0
        self.expansion = 0

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            # int() past 4,300 digits, a date like 2024-02-30: say where, not a traceback.
            raise yaml.constructor.ConstructorError(
                None, None, _unreadable(node, exc), node.start_mark
            ) from None

    def construct_yaml_str(self, node):
        value = super().construct_yaml_str(node)
        if "\x00" in value:  # "\0" in double quotes; PostgreSQL cannot store it
            raise yaml.constructor.ConstructorError(
                None, None, "a NUL character (\\0) in text", node.start_mark
            )
        return value

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


class _LineLoader(_LocatedConstruction, yaml.SafeLoader):
    """Pure Python: the bounds are kept while composing, at the very event that crosses them, so
    its refusals name the alias's own line. The reference for every message."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None:
                # Nodes are composed bottom-up, so a target without its size is still open:
                # the alias is inside what it names, an endless expansion.
                size = getattr(target, "expanded", None)
                if size is None:
                    raise _refusal("an alias inside the very node it names", event)
                self.expansion += size
                if self.expansion > MAX_ALIAS_EXPANSION:
                    raise _refusal(
                        f"aliases repeat more than {MAX_ALIAS_EXPANSION:,} values (an alias "
                        "bomb?); write the repeated part out, or repeat it less",
                        event,
                    )
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise _refusal(f"nested more than {MAX_NESTING} levels deep", self.peek_event())
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if isinstance(node, yaml.MappingNode):
            node.expanded = 1 + sum(k.expanded + v.expanded for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            node.expanded = 1 + sum(child.expanded for child in node.value)
        else:
            node.expanded = 1
        return node


class _FastLineLoader(_LocatedConstruction, yaml.CSafeLoader if _LIBYAML else yaml.SafeLoader):
    """libyaml composes (three times faster on a large network); the same bounds are kept while
    constructing, where an alias is a node constructed once and met again. Any refusal here is
    read again by `_LineLoader`, whose words and lines are the ones people see."""

    def resolve(self, kind, value, implicit):
        # libyaml asks this of every scalar; most are words no implicit type begins with.
        if kind is yaml.ScalarNode and implicit[0] and value[:1] not in _TYPED_STARTS:
            return _STR
        return super().resolve(kind, value, implicit)

    def construct_object(self, node, deep=False):
        known = self.constructed_objects
        if node in known:  # met again, through an alias
            self.expansion += _expanded(node)
            if self.expansion > MAX_ALIAS_EXPANSION:
                raise _Unsure
            return known[node]
        if self.depth >= MAX_NESTING or node in self.recursive_objects:
            raise _Unsure
        if node.tag == _STR and node.__class__ is yaml.ScalarNode:  # most of a network
            if "\x00" in node.value:
                raise _Unsure
            known[node] = node.value
            return node.value
        self.depth += 1
        try:
            return yaml.constructor.BaseConstructor.construct_object(self, node, deep)
        except (ValueError, OverflowError):
            raise _Unsure from None
        finally:
            self.depth -= 1


class _Unsure(yaml.YAMLError):
    """The fast loader met something the pure one words best (a bound crossed, an error)."""


for _loader in (_LineLoader, _FastLineLoader):
    _loader.add_constructor("tag:yaml.org,2002:map", _loader.construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:seq", _loader.construct_sequence)
    _loader.add_constructor("tag:yaml.org,2002:str", _loader.construct_yaml_str)


def _expanded(node) -> int:
    """How many nodes `node` stands for once its aliases are written out (memoised on it)."""
    size = getattr(node, "expanded", None)
    if size is None:
        if isinstance(node, yaml.MappingNode):
            size = 1 + sum(_expanded(k) + _expanded(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(_expanded(child) for child in node.value)
        else:
            size = 1
        node.expanded = size
    return size


def _refusal(problem: str, event) -> yaml.composer.ComposerError:
    return yaml.composer.ComposerError(None, None, problem, event.start_mark)


def _unreadable(node, exc: Exception) -> str:
    text = str(getattr(node, "value", ""))
    if text.lstrip("+-").isdigit() and len(text) > 40:
        return f"a number of {len(text):,} digits; no quantity or price needs more than 15"
    shown = text if len(text) <= 40 else text[:37] + "..."
    return f"cannot read {shown!r} as {node.tag.rsplit(':', 1)[-1]}: {exc}"


def compose_yaml(text: str):
    """The node graph of `text`, with the same bounds as `parse_yaml` (for checks that must see
    both values of a repeated key)."""
    loader = _LineLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


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
    data, duplicate_keys = _read_fast(text)
    if duplicate_keys is None:
        return _read_carefully(text, path, duplicates_are_errors)
    return data, _duplicates(duplicate_keys, path, duplicates_are_errors)


def _read_fast(text: str):
    """(data, duplicate keys) through libyaml, or (None, None) when the text needs the careful
    reading: it is not valid, crosses a bound, or libyaml is missing."""
    if not _LIBYAML:
        return None, None
    loader = _FastLineLoader(text)
    try:
        return loader.get_single_data(), loader.duplicate_keys
    except (yaml.YAMLError, RecursionError):
        return None, None
    finally:
        loader.dispose()


def _read_carefully(text: str, path, duplicates_are_errors: bool):
    loader = None
    try:
        loader = _LineLoader(text)  # the reader refuses control characters here, at once
        data = loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problem = f"character U+{exc.character:04X} is not allowed in a YAML file"
        return None, [error(f"not valid YAML: {problem}", path, line)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [error(f"not valid YAML: {problem}", path, line)]
    except RecursionError:  # the bounds above should make this unreachable; never a traceback
        return None, [error("not valid YAML: nested too deeply", path)]
    finally:
        if loader is not None:
            loader.dispose()
    return data, _duplicates(loader.duplicate_keys, path, duplicates_are_errors)


def _duplicates(keys, path, duplicates_are_errors: bool) -> list[Diagnostic]:
    report = error if duplicates_are_errors else warning
    return [
        report(
            f"duplicate key {key!r} (a plain YAML loader would keep only the last)", path, line, key
        )
        for key, line in keys
    ]
