"""One vocabulary of processes, so that what a design needs and what a facility can do meet
whatever format each was written in.

OKH-LOSH writes TsDC codes (`3DP`), Helpful's OKH and OKW files Wikidata ids of processes and of
the tools that imply them (`Q229367`; a 3D printer, `Q3834994`), OKH v1 plain tool names, and the
native format names such as `3d-printing`. `canonical(term)` maps any of them to one canonical
id; the table, with its sources, is `processes.yaml` beside this module.

A term the table does not know has no canonical id. Importers keep it (slugged, or as
`wikidata:Q…`) and warn once per file: it then matches only facilities that name it the same.
The native format keeps its own words silently (the network's words are the network's).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from urllib.parse import unquote, urlsplit

import yaml

from core.network.diagnostics import Diagnostic, warning

_WIKIDATA = re.compile(r"(?:wikidata:|wd:)?(Q[1-9][0-9]*)", re.IGNORECASE)
_TSDC = re.compile(r"(?:tsdc:)?([A-Za-z0-9]{2,6})", re.IGNORECASE)
_BRACKETED = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Process:
    id: str
    name: str
    tsdc: tuple[str, ...] = ()
    wikidata: tuple[str, ...] = ()  # the process itself
    tools: tuple[str, ...] = ()  # Wikidata ids of tools whose presence implies the process
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Tables:
    processes: dict[str, Process]
    by_tsdc: dict[str, str]
    by_wikidata: dict[str, str]
    by_name: dict[str, str]


def key_of(text: str) -> str:
    """'3D Printing' and '3d-printing' -> '3d-printing': case, accents and punctuation aside."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


@cache
def _tables() -> _Tables:
    text = resources.files("core.network").joinpath("processes.yaml").read_text(encoding="utf-8")
    processes, by_tsdc, by_wikidata, by_name = {}, {}, {}, {}
    for process_id, entry in yaml.safe_load(text)["processes"].items():
        process = Process(
            id=process_id,
            name=entry["name"],
            tsdc=tuple(entry.get("tsdc", ())),
            wikidata=tuple(entry.get("wikidata", ())),
            tools=tuple(entry.get("tools", ())),
            names=tuple(entry.get("names", ())),
        )
        processes[process_id] = process
        for code in process.tsdc:
            _claim(by_tsdc, code.upper(), process_id)
        for qid in process.wikidata + process.tools:
            _claim(by_wikidata, qid.upper(), process_id)
        for name in (process_id, process.name, *process.names):
            _claim(by_name, key_of(name), process_id)
    return _Tables(processes, by_tsdc, by_wikidata, by_name)


def _claim(table: dict[str, str], key: str, process_id: str) -> None:
    # One term naming two processes would make matching depend on the table's order.
    if table.setdefault(key, process_id) != process_id:
        raise ValueError(f"processes.yaml: {key!r} names both {table[key]} and {process_id}")


def vocabulary() -> dict[str, Process]:
    """The known processes by canonical id."""
    return dict(_tables().processes)


def wikidata_id(term: str) -> str | None:
    """'Q229367' from `Q229367`, `wikidata:Q229367` or a Wikidata page or entity URL."""
    text = str(term).strip()
    if "://" in text:
        parts = urlsplit(text)
        if not parts.netloc.lower().endswith("wikidata.org"):
            return None
        text = parts.path.rstrip("/").rsplit("/", 1)[-1]
    found = _WIKIDATA.fullmatch(text)
    return found.group(1).upper() if found else None


def canonical(term: str) -> str | None:
    """The canonical id of a process named by a TsDC code, a Wikidata id or URL, or a name
    (any case, with or without hyphens); None when the vocabulary does not know it."""
    tables = _tables()
    text = str(term).strip()
    qid = wikidata_id(text)
    if qid is not None:
        return tables.by_wikidata.get(qid)
    code = _TSDC.fullmatch(text)
    if code and code.group(1).upper() in tables.by_tsdc:
        return tables.by_tsdc[code.group(1).upper()]
    if "://" in text:  # a page about the process: its last path segment names it
        text = unquote(urlsplit(text).path.rstrip("/").rsplit("/", 1)[-1]).replace("_", " ")
    for words in _readings(text):
        found = tables.by_name.get(key_of(words))
        if found:
            return found
    return None


def _readings(text: str) -> list[str]:
    """The text, then without what it says in brackets, then what it says in brackets:
    'Fused Deposition Modeling (FDM)' is read as itself, as its long name and as 'FDM'."""
    bare = _BRACKETED.sub(" ", text)
    return [text, bare, *_BRACKETED.findall(text)]


def unknown_process(
    term: str, file=None, line: int | None = None, field: str | None = None
) -> Diagnostic:
    return warning(
        f"{term!r} is no process SCIS knows; it matches only facilities that name it the same",
        file,
        line,
        field,
    )


def warn_once(diagnostics: list[Diagnostic], diagnostic: Diagnostic) -> None:
    """Add the warning unless the same one was said about the same file already: a term used
    by every part of a manifest is reported at its first use."""
    if not any(d.message == diagnostic.message and d.file == diagnostic.file for d in diagnostics):
        diagnostics.append(diagnostic)


# What "names no process" means by default, as each warning ends: rewritten when the network
# assumes otherwise, so that no warning says what is no longer true.
_CONSEQUENCE = re.compile(
    r"(it makes nothing|it can be made at no facility|they can be made at no facility) "
    r"until one is stated$"
)
_ASSUMED = {
    "it makes nothing": "the network assumes it runs what needs none",
    "it can be made at no facility": "the network assumes any facility can make it",
    "they can be made at no facility": "the network assumes any facility can make them",
}


def names_no_process(
    what: str, file=None, line: int | None = None, field=None, *, facility: bool = False
) -> Diagnostic:
    """The warning for a design (or, with `facility`, a place) whose manifest names no process."""
    consequence = "it makes nothing" if facility else "it can be made at no facility"
    return warning(f"{what} names no process: {consequence} until one is stated", file, line, field)


def as_assumed(diagnostic: Diagnostic) -> Diagnostic:
    """The warning as it reads when the network says `assume: {unknown-processes: any}`."""
    found = _CONSEQUENCE.search(diagnostic.message)
    if found is None:
        return diagnostic
    said = diagnostic.message[: found.start()] + _ASSUMED[found.group(1)]
    return replace(diagnostic, message=f"{said} (`assume: {{unknown-processes: any}}`)")
