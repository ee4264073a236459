"""What the `scis` commands are given, read and checked: the network files, an item, a quantity,
criteria, a place to deliver to, a risk scenario. A wrong one ends the command in one line.

YAML and the scenario's parser are imported when a scenario is read: the rest of `scis` starts
without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from bots.cli_output import err, fail
from core.importers import load_network
from core.network.model import Item, Location, Network

if TYPE_CHECKING:
    from core.risk.scenario import RiskScenario


def read_network(paths: list[Path]) -> Network:
    """The network of these files; each diagnostic on a line of stderr, blocking ones in red."""
    result = load_network(paths)
    for diagnostic in result.diagnostics:
        tone = "red" if diagnostic in result.blocking_errors else "yellow"
        # Escaped: a diagnostic quotes the file, and a key like "[/bold]" is not markup.
        err.print(f"[{tone}]{escape(str(diagnostic))}[/]")
    if result.blocking_errors:
        count = len(result.blocking_errors)
        fail(f"{count} problem{'s' if count > 1 else ''} in the network; nothing was woven")
    return result.network


def find_item(network: Network, text: str) -> Item:
    found = network.find_item(text)
    if found is None:
        fail(f"unknown item {text!r}; `scis catalog` lists what the network knows")
    return found


def positive_int(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        fail(f"{what} must be a positive whole number, not {text!r}")
    if value <= 0:
        fail(f"{what} must be a positive whole number, not {text!r}")
    return value


def read_criteria(text: str) -> frozenset[str]:
    """`latex-free, food-safe` → the set of both."""
    return frozenset(c.strip() for c in text.split(",") if c.strip())


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
