"""Read TOML keeping enough of the text to say on which line a key was written.

`tomllib` returns plain dicts without positions, so a diagnostic about a field would name only the
file. The manifests we read are flat (top-level keys, then `[[part]]` tables), so scanning the text
for `key =` inside the right table is enough to find the line a person should look at.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from core.network.diagnostics import Diagnostic, error

_TABLE = re.compile(r"^\s*\[")
_DECODE_LINE = re.compile(r"line (\d+)")


@dataclass(frozen=True)
class TomlText:
    data: dict
    lines: tuple[str, ...]

    def line_of(self, key: str, table: str | None = None, index: int = 0) -> int | None:
        """1-based line of `key` at the top level, or inside the `index`-th `[[table]]`."""
        start, end = self._span(table, index)
        pattern = re.compile(rf'^\s*(?:{re.escape(key)}|"{re.escape(key)}")\s*=')
        for number in range(start, end):
            if pattern.match(self.lines[number]):
                return number + 1
        return None

    def table_line(self, table: str, index: int) -> int | None:
        headers = self._headers(table)
        return headers[index] + 1 if index < len(headers) else None

    def _span(self, table: str | None, index: int) -> tuple[int, int]:
        if table is None:
            start = 0
        else:
            headers = self._headers(table)
            if index >= len(headers):
                return 0, 0
            start = headers[index] + 1
        # A key belongs to the table until the next header of any kind (sub-tables included).
        for number in range(start, len(self.lines)):
            if _TABLE.match(self.lines[number]) and not self._inside_array(number):
                return start, number
        return start, len(self.lines)

    def _headers(self, table: str) -> list[int]:
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
        return [n for n, text in enumerate(self.lines) if pattern.match(text)]

    def _inside_array(self, number: int) -> bool:
        # A line like `  [1, 2],` inside a multi-line array is no header: only `[name]` or
        # `[[name]]` followed by nothing but a comment is.
        return not re.match(r"^\s*\[\[?\s*[A-Za-z0-9_.\"' -]+\]\]?\s*(#.*)?$", self.lines[number])


def load_toml(path: Path) -> TomlText | Diagnostic:
    """The parsed file, or one error naming the line tomllib (or the file system) complained of."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return error(f"cannot be read: {exc}", path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _DECODE_LINE.search(str(exc))
        # "at end of document" (an unclosed array or string) names no line: the last one it is.
        line = int(found.group(1)) if found else max(1, len(text.splitlines()))
        return error(f"not valid TOML: {exc}", path, line)
    return TomlText(data, tuple(text.splitlines()))
