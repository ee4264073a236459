"""`scis survival`: each offer's and facility's time to survive (TTS) against its time to
recover (TTR) under a scenario's demand rates.

The core modules (scipy; matplotlib for --plot) are imported when the command runs, so the
rest of `scis` starts fast.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bots.cli_arguments import read_network, read_scenario
from bots.cli_document import check_plot, finite, publish
from bots.cli_options import JsonOption, NetworkOption, PlotOption, ScenarioOption
from bots.cli_output import fail

if TYPE_CHECKING:
    from core.network.model import Network
    from core.risk.scenario import RiskScenario


def survival(
    network: NetworkOption,
    scenario: ScenarioOption,
    as_json: JsonOption = False,
    plot: PlotOption = None,
):
    """Time to survive (TTS) against time to recover (TTR) of every offer and facility.

    A node is exposed when the network, reallocating what is left, cannot keep meeting the
    scenario's demand rates for as long as the node takes to come back.
    """
    check_plot(plot)
    loaded = read_network(network)
    risks = read_scenario(scenario, loaded)
    if risks.survival is None:
        fail(f"{scenario}: no product has a rate (units per day), so nothing is to survive")
    try:
        document = survival_document(loaded, risks)
    except ValueError as error:
        fail(str(error))
    publish(document, as_json, plot, draw=_survival_png, read=print_survival)


def survival_document(network: Network, scenario: RiskScenario) -> dict:
    """TTS of the intact network, and TTS, TTR and lost demand per node, exposed first."""
    from core.risk.survival import SurvivalModel

    model = SurvivalModel(network, scenario.survival)
    nodes = model.exposures()
    return {
        "rates": dict(scenario.survival.demand),
        "intact_tts": finite(model.time_to_survive()),
        "exposed": sum(e.exposed for e in nodes),
        "nodes": [
            {
                "node": e.node,
                "kind": e.kind,
                "name": e.name,
                "tts": finite(e.tts),
                "ttr": e.ttr,
                "shortfall": finite(e.shortfall),
                "lost_demand": e.lost_demand,
                "exposed": e.exposed,
            }
            for e in nodes
        ],
        "plot": None,
    }


def print_survival(console: Console, document: dict) -> None:
    rates = ", ".join(f"{escape(p)} {r:g}/day" for p, r in document["rates"].items())
    intact = document["intact_tts"]
    if intact is None:
        console.print(f"The intact network keeps up with demand ({rates}) indefinitely.")
    else:
        console.print(
            f"[bold red]The intact network falls short[/] of demand ({rates}) after "
            f"{intact:,.3g} days: every node below looks exposed until capacity is added.",
            highlight=False,
        )
    nodes = document["nodes"]
    console.print(
        f"[bold]{document['exposed']} of {len(nodes)}[/] offers and facilities are exposed "
        "(time to survive < time to recover):",
        highlight=False,
    )
    table = Table("node", "kind", "name", "TTS (days)", "TTR (days)", "lost demand")
    for node in nodes:
        tone = "bold red" if node["exposed"] else ""
        table.add_row(
            escape(node["node"]),
            node["kind"],
            escape(node["name"]),
            "∞" if node["tts"] is None else f"{node['tts']:,.3g}",
            f"{node['ttr']:,.3g}",
            f"{node['lost_demand']:,.4g}" if node["exposed"] else "–",
            style=tone,
        )
    console.print(table)


def _survival_png(document: dict) -> bytes:
    from core.risk.plots import survival_png

    nodes = [
        (n["node"], math.inf if n["tts"] is None else n["tts"], n["ttr"], n["exposed"])
        for n in document["nodes"]
    ]
    title = f"Time to survive vs time to recover: {document['exposed']} exposed"
    return survival_png(title, nodes)
