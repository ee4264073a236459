"""What the `scis` commands are given, read and checked: the network files, an item, a quantity,
criteria, a place to deliver to, a risk scenario. A wrong one ends the command in one line.

YAML and the scenario's parser are imported when a scenario is read: the rest of `scis` starts
without them.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from bots.cli_output import err, fail
from bots.network_cache import load_network_cached
from core.network.model import Item, Location, Network

if TYPE_CHECKING:
    from core.risk.scenario import RiskScenario


def read_network(paths: list[Path]) -> Network:
    """The network of these files; each diagnostic on a line of stderr, blocking ones in red."""
    result = load_network_cached(paths)
    for diagnostic in result.diagnostics:
        tone = "red" if diagnostic in result.blocking_errors else "yellow"
        # Escaped: a diagnostic quotes the file, and a key like "[/bold]" is not markup.
        err.print(f"[{tone}]{escape(str(diagnostic))}[/]")
    if result.blocking_errors:
        count = len(result.blocking_errors)
        fail(
            f"{count} problem{'s' if count > 1 else ''} in the files you named; nothing was "
            "woven until they are fixed (a folder holding them loads what is sound)"
        )
    return result.network


def find_item(network: Network, text: str) -> Item:
    """The one item `text` names: its id, else its name or an alias (any case). A name several
    items share is refused with each of them listed, never one picked for the person."""
    if text in network.items:
        return network.items[text]
    wanted = text.strip().casefold()
    named = [
        item
        for item in network.items.values()
        if wanted in {item.id.casefold(), item.name.casefold()}
        or any(alias.casefold() == wanted for alias in item.aliases)
    ]
    if len(named) > 1:
        listing = "\n".join(f"  {item.id}  ({item.name})" for item in named)
        fail(f"{len(named)} items are called {text!r}; give the id of one:\n{listing}")
    found = named[0] if named else network.find_item(text)
    if found is None:
        names = {item.name.casefold(): item.name for item in network.items.values()}
        close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.75)
        hint = f" did you mean {names[close[0]]!r}?" if close else ""
        fail(f"unknown item {text!r};{hint} `scis catalog` lists what the network knows")
    return found


def positive_int(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        fail(f"{what} must be a positive whole number, not {text!r}")
    if value <= 0:
        fail(f"{what} must be a positive whole number, not {text!r}")
    return value


def read_criteria(text: str, network: Network) -> frozenset[str]:
    """`latex-free, food-safe` → the set of both; a criterion the network never states is
    refused with those it does, since it would leave no plan at all."""
    from core.weave.shortfall import stated_criteria

    known = stated_criteria(network)
    by_fold = {k.casefold(): k for k in known}
    wanted = set()
    for criterion in (c.strip() for c in text.split(",") if c.strip()):
        if criterion.casefold() not in by_fold:
            close = difflib.get_close_matches(criterion.casefold(), list(by_fold), n=1)
            hint = f"did you mean {by_fold[close[0]]}? " if close else ""
            listing = ", ".join(known) if known else "none: nothing in it states a criterion"
            fail(f"unknown criterion {criterion!r}; {hint}known in this network: {listing}")
        wanted.add(by_fold[criterion.casefold()])
    return frozenset(wanted)


def delivery_place(network: Network, text: str | None) -> Location | None:
    """`--deliver-to`: LAT,LON, or a participant's id for where they are."""
    if text is None:
        return None
    if text in network.participants:
        location = network.participants[text].location
        if location is None:
            fail(f"participant {text!r} has no location")
        return location
    try:
        lat, lon = (float(part) for part in text.split(","))
    except ValueError:
        fail(f"--deliver-to takes LAT,LON or a participant id, not {text!r}")
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        fail(
            f"--deliver-to {text!r} is not a place: latitude runs from -90 to 90, "
            "longitude from -180 to 180"
        )
    return Location(lat, lon)


def read_scenario(path: Path, network: Network) -> RiskScenario:
    """Read, parse and check a scenario file; every problem is one line naming the file."""
    import yaml

    from core.risk.scenario import parse_scenario

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"{path}: cannot read it ({error.strerror or error})")
    try:
        parsed = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        fail(f"{path}: not valid YAML or JSON{where}")
    try:
        scenario = parse_scenario(parsed)
        scenario.check(network)
    except ValueError as error:
        fail(f"{path}: {error}")
    return scenario
