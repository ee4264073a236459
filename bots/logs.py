"""How SCIS logs: text for a person at a terminal, or one JSON object a line
(SCIS_LOG_FORMAT=json) for a log collector; every line says which order and participant the
command or actor running at the time concerns; no secret ever reaches a log.

Secrets are taken out of the message and the traceback of every record a SCIS handler writes:
Bot API tokens (in `/bot<token>/` URLs and bare), Matrix access tokens, passwords in URLs and
in `password=`/`"password": …`/`Bearer …` forms, and the values of the secret settings
(TELEGRAM_TOKEN, MATRIX_PASSWORD, MATRIX_ACCESS_TOKEN, TELEGRAM_WEBHOOK_SECRET, the password
of DATABASE_URL and REDIS_URL) wherever they appear.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy.engine import make_url

REDACTED = "[redacted]"
SECRET_SETTINGS = (
    "TELEGRAM_TOKEN",
    "MATRIX_PASSWORD",
    "MATRIX_ACCESS_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
)
URL_SETTINGS = ("DATABASE_URL", "REDIS_URL")  # their passwords, not the rest of the URL
# (pattern, replacement): the secret is always the group the replacement leaves out.
SECRET_SHAPES = [
    (re.compile(r"(/bot)\d+:[^/\s]+"), rf"\1{REDACTED}"),  # a Bot API URL
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"), REDACTED),  # a bare bot token
    (re.compile(r"\b(syt|syr|mat|mct)_[A-Za-z0-9_=-]{8,}"), REDACTED),  # Synapse/MAS tokens
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), rf"\1{REDACTED}"),
    (
        re.compile(
            r"(?i)([\"']?(?:password|passwd|access_token|refresh_token|secret_token|token)[\"']?"
            r"\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+(?=@)"), rf"\1{REDACTED}"),  # URL
]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]%(concerning)s %(message)s"


def secret_values(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """The secrets this process was given, longest first (so none is left half-replaced)."""
    return _secrets(
        tuple(environ.get(name, "") for name in SECRET_SETTINGS),
        tuple(environ.get(name, "") for name in URL_SETTINGS),
    )


@lru_cache(maxsize=16)  # asked for every log record; the settings hardly ever change
def _secrets(values: tuple[str, ...], urls: tuple[str, ...]) -> tuple[str, ...]:
    found = [value.strip() for value in values]
    for url in urls:
        try:
            found.append(make_url(url).password or "")
        except Exception:  # unset or not a URL: nothing to hide
            pass
    return tuple(sorted({v for v in found if len(v) >= 4}, key=len, reverse=True))


def redact(text: str, environ: Mapping[str, str] = os.environ) -> str:
    for value in secret_values(environ):
        text = text.replace(value, REDACTED)
    for pattern, replacement in SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class Redaction(logging.Filter):
    """Renders the record's message and traceback once, without secrets, so that whatever
    formatter follows only ever sees the redacted text."""

    def __init__(self, environ: Mapping[str, str] = os.environ):
        super().__init__()
        self.environ = environ
        self._tracebacks = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.environ)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._tracebacks.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.environ)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.environ)
        return True


class Concerning(logging.Filter):
    """Puts the order and participant of the running command or actor on the record
    (core.service.bus.about sets them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Imported here: `scis health` redacts without loading the application.
        from core.service.bus import concerning

        about = concerning.get()
        record.order_id = about.get("order_id")
        record.participant = about.get("participant")
        known = [
            f"{label}={value}"
            for label, value in (("order", record.order_id), ("participant", record.participant))
            if value is not None
        ]
        record.concerning = f" [{' '.join(known)}]" if known else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, order_id and
    participant when known, process and thread, the traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("order_id", "participant"):
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        line["process"], line["thread"] = record.process, record.threadName
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def json_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("SCIS_LOG_FORMAT", "text").strip().lower() == "json"


def prepare(handler: logging.Handler, environ: Mapping[str, str] = os.environ) -> logging.Handler:
    """Make a handler write SCIS's lines: secrets out, the context in, the chosen format (a
    handler's own text format is kept when the format is text and it has one)."""
    if not any(isinstance(f, Concerning) for f in handler.filters):
        handler.addFilter(Concerning())
    if not any(isinstance(f, Redaction) for f in handler.filters):
        handler.addFilter(Redaction(environ))
    if json_wanted(environ):
        handler.setFormatter(JsonFormatter())
    elif handler.formatter is None:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def setup_logging(
    environ: Mapping[str, str] = os.environ, level: int | None = logging.INFO, stream=None
) -> None:
    """Every handler of the root logger writes SCIS's lines; with none yet, one on `stream`
    (stderr). `level` None keeps the root's. Safe to call again."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(stream or sys.stderr))
    for handler in root.handlers:
        prepare(handler, environ)
    if level is not None:
        root.setLevel(level)


def log_to_file(path: Path, level: int = logging.INFO) -> None:
    """Send every log record (SCIS's, Dramatiq's) to `path`, not to the terminal where a person
    is chatting: a worker's retry or traceback belongs in the log, not in the conversation."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    prepare(handler)  # secrets out; the order and participant in; JSON if SCIS_LOG_FORMAT says
    root = logging.getLogger()
    for old in list(root.handlers):
        if type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
