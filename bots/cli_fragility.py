"""`scis fragility`: the fragility B of a network under a scenario — the expected loss from
shortage per period — and which supplier's loss would cost most, or whose return would help most.

The core modules (numpy, scipy; matplotlib for --plot) are imported when the command runs, so
the rest of `scis` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bots.cli_arguments import read_network, read_scenario
from bots.cli_document import check_plot, finite, percent, publish
from bots.cli_options import JsonOption, NetworkOption, PlotOption, ScenarioOption
from bots.cli_output import fail

if TYPE_CHECKING:
    from core.network.model import Network
    from core.risk.fragility import Fragility
    from core.risk.scenario import RiskScenario

LOSSES_SHOWN = 10  # suppliers in the terminal's ranking; --json has them all


def fragility(
    network: NetworkOption,
    scenario: ScenarioOption,
    samples: Annotated[
        int, typer.Option(min=2, help="Monte Carlo samples of the products' demand.")
    ] = 200_000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the demand draws.")] = 0,
    leave_out: Annotated[
        list[str] | None,
        typer.Option(
            "--leave-out",
            help="An offer or facility taken out of the network's suppliers Y; then rank "
            "which of them would help most if added back. Repeatable.",
        ),
    ] = None,
    missing_capacity: Annotated[
        float,
        typer.Option(
            min=0, help="Units per period assumed for a supplier that declares no capacity."
        ),
    ] = 0.0,
    as_json: JsonOption = False,
    plot: PlotOption = None,
):
    """Fragility B: the expected loss from shortage per period, by Monte Carlo over demand.

    Without --leave-out, also what losing each supplier would cost: B without it − B.
    """
    check_plot(plot)
    loaded = read_network(network)
    risks = read_scenario(scenario, loaded)
    if not risks.products:
        fail(f"{scenario}: no product has both a demand and a weight, so B is not defined")
    try:
        document = fragility_document(
            loaded, risks, samples, seed, leave_out or [], missing_capacity
        )
    except ValueError as error:
        fail(str(error))
    publish(document, as_json, plot, draw=_fragility_png, read=print_fragility)


def fragility_document(
    network: Network,
    scenario: RiskScenario,
    samples: int,
    seed: int,
    leave_out: list[str],
    missing_capacity: float = 0.0,
) -> dict:
    """B of the network's suppliers less `leave_out`, and either the ranking of those left out
    added back one at a time, or (none left out) of every supplier whose loss changes a S_p."""
    from core.risk.fragility import fragility, rank_additions
    from core.risk.supply import Suppliers, SupplyModel

    options = {"samples": samples, "seed": seed, "missing_capacity": missing_capacity}
    everyone = Suppliers.all_of(network)
    document = {
        "products": [r.product for r in scenario.products],
        "samples": samples,
        "seed": seed,
        "missing_capacity": missing_capacity,
        "left_out": [],
        "fragility": None,
        "additions": None,
        "losses": None,
        "plot": None,
    }
    if leave_out:
        records = [_supplier(network, record_id) for record_id in dict.fromkeys(leave_out)]
        offers = {r.id for kind, r in records if kind == "offer"}
        facilities = {r.id for kind, r in records if kind == "facility"}
        remaining = Suppliers(everyone.offers - offers, everyone.facilities - facilities)
        ranked = rank_additions(
            network, scenario.products, remaining, [r for _, r in records], **options
        )
        document["left_out"] = [{"kind": kind, "id": r.id} for kind, r in records]
        document["fragility"] = _fragility_json(ranked.baseline)
        document["additions"] = [
            {
                "kind": a.kind,
                "id": a.id,
                "name": _record_name(network, a.kind, a.id),
                "reduction": a.reduction,
                "standard_error": a.standard_error,
                "low": a.low,
                "high": a.high,
                "fragility_after": a.fragility.estimate,
            }
            for a in ranked.ranked
        ]
        return document
    whole = fragility(network, scenario.products, everyone, **options)
    document["fragility"] = _fragility_json(whole)
    # B(Y − {r}) − B(Y) is the reduction of adding r back to Y − {r}, paired on the same
    # draws. Only a supplier whose loss changes some S_p costs a Monte Carlo run: for every
    # other one the loss is exactly 0, since S_p alone (not who provides it) decides B.
    model = SupplyModel(network, missing_capacity)
    losses = []
    for kind, record in _suppliers(network):
        without = Suppliers(everyone.offers - {record.id}, everyone.facilities)
        if kind == "facility":
            without = Suppliers(everyone.offers, everyone.facilities - {record.id})
        changed = any(
            model.could_contribute(p, record) and model.units(p, without) != whole.supply[p]
            for p in whole.supply
        )
        if not changed:
            continue
        lost = rank_additions(network, scenario.products, without, [record], **options)
        addition = lost.ranked[0]
        losses.append(
            {
                "kind": kind,
                "id": record.id,
                "name": _record_name(network, kind, record.id),
                "increase": addition.reduction,
                "standard_error": addition.standard_error,
                "low": addition.low,
                "high": addition.high,
                "fragility_without": lost.baseline.estimate,
                "supply_without": _supply_json(lost.baseline.supply),
            }
        )
    losses.sort(key=lambda loss: (-loss["increase"], loss["kind"], loss["id"]))
    document["losses"] = losses
    return document


def print_fragility(console: Console, document: dict) -> None:
    b = document["fragility"]
    left = document["left_out"]
    without = f" without {', '.join(r['id'] for r in left)}" if left else ""
    console.print(
        f"[bold]Fragility B{escape(without)} = {b['estimate']:,.4g}[/] expected loss per period "
        f"({b['confidence']:.0%} CI {b['low']:,.4g} – {b['high']:,.4g}; "
        f"{document['samples']:,} samples, seed {document['seed']})",
        highlight=False,
    )
    table = Table("product", "supply S_p", "expected loss", "share of B")
    for product, loss in b["by_product"].items():
        units = b["supply"][product]
        share = loss / b["estimate"] if b["estimate"] else 0.0
        table.add_row(
            escape(product),
            "unbounded" if units is None else f"{units:,.4g}",
            f"{loss:,.4g}",
            percent(share),
        )
    console.print(table)
    if document["additions"] is not None:
        console.print("[bold]Where one more supplier would help most[/] (B falls by):")
        for a in document["additions"]:
            console.print(
                f"   {escape(a['id'])} ({a['kind']}, {escape(a['name'])}): "
                f"{a['reduction']:,.4g}  (CI {a['low']:,.4g} – {a['high']:,.4g})",
                highlight=False,
            )
        return
    losses = document["losses"]
    if not losses:
        console.print("Losing any one offer or facility would change no product's supply.")
        return
    console.print("[bold]What losing each supplier would cost[/] (B rises by):")
    for loss in losses[:LOSSES_SHOWN]:
        console.print(
            f"   {escape(loss['id'])} ({loss['kind']}, {escape(loss['name'])}): "
            f"{loss['increase']:,.4g}  (CI {loss['low']:,.4g} – {loss['high']:,.4g})",
            highlight=False,
        )
    if len(losses) > LOSSES_SHOWN:
        console.print(f"   … and {len(losses) - LOSSES_SHOWN} more (--json lists them all)")
    console.print("[dim]Losing any other supplier changes no product's supply.[/]")


def _fragility_json(b: Fragility) -> dict:
    return {
        "estimate": b.estimate,
        "standard_error": b.standard_error,
        "low": b.low,
        "high": b.high,
        "confidence": b.confidence,
        "samples": b.samples,
        "by_product": dict(b.by_product),
        "supply": _supply_json(b.supply),
    }


def _supply_json(supply) -> dict:
    """S_p per product; None where nothing bounds it (JSON has no infinity)."""
    return {p: finite(units) for p, units in supply.items()}


def _fragility_png(document: dict) -> bytes:
    from core.risk.plots import fragility_png

    b = document["fragility"]
    title = f"Fragility B = {b['estimate']:,.4g} per period, by product"
    products = list(b["by_product"].items())
    if document["additions"] is not None:
        changes = [(a["id"], a["reduction"]) for a in document["additions"]]
        return fragility_png(title, products, changes, "B falls by adding back")
    changes = [(loss["id"], loss["increase"]) for loss in document["losses"]]
    return fragility_png(title, products, changes, "B rises by losing", changes_are_harm=True)


def _suppliers(network: Network):
    yield from (("offer", o) for o in network.offers.values())
    yield from (("facility", f) for f in network.facilities.values())


def _supplier(network: Network, record_id: str):
    offer, facility = network.offers.get(record_id), network.facilities.get(record_id)
    if offer is not None and facility is not None:
        raise ValueError(f"--leave-out {record_id}: both an offer and a facility have this id")
    if offer is None and facility is None:
        raise ValueError(f"--leave-out {record_id}: no offer or facility has this id")
    return ("offer", offer) if offer is not None else ("facility", facility)


def _record_name(network: Network, kind: str, record_id: str) -> str:
    from core.risk.bottlenecks import name

    return name(network, kind, record_id)
