"""What went wrong (or looks odd) in a file a person gave us, said so they can find it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """An error drops what it is about; a warning notes something that loaded anyway."""

    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file or "<network>"
        if self.line:
            where += f":{self.line}"
        subject = f" {self.field}:" if self.field else ""
        return f"{where}: {self.severity}:{subject} {self.message}"


def error(message: str, file=None, line=None, field=None) -> Diagnostic:
    return Diagnostic("error", message, None if file is None else str(file), line, field)


def warning(message: str, file=None, line=None, field=None) -> Diagnostic:
    return Diagnostic("warning", message, None if file is None else str(file), line, field)
