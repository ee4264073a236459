"""`scis risk`, `scis fragility` and `scis survival`: the risk of an order, the fragility B of
a network under a scenario, and each node's time to survive against its time to recover.

Each command first builds one JSON-ready document, then prints either that document (`--json`)
or a short reading of it: what a person sees and what a script reads cannot drift apart. The
core modules (scipy, matplotlib) are imported when a command runs, so the rest of `scis` starts
fast; the helpers of bots.cli likewise, since bots.cli imports this module to register it.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bots.cli_options import NetworkOption

if TYPE_CHECKING:
    from core.network.model import Network
    from core.risk.fragility import Fragility
    from core.risk.scenario import RiskScenario

out = Console()
err = Console(stderr=True)

RISKIEST = 3  # stages named per plan on the terminal; --json has them all
LOSSES_SHOWN = 10  # suppliers in the terminal's ranking; --json has them all

ScenarioOption = Annotated[
    Path,
    typer.Option(
        "--scenario",
        "-s",
        help="A scis-risk YAML or JSON file: demand, losses, rates, stock, recovery times.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]
PlotOption = Annotated[
    Path | None, typer.Option("--plot", help="Also draw it, as a PNG written to this file.")
]


# ── scis risk ─────────────────────────────────────────────────────────────────────────────────


def risk(
    item: Annotated[str, typer.Argument(help="Item id or name.")],
    quantity: Annotated[str, typer.Argument(help="How many, a positive whole number.")],
    network: NetworkOption,
    criteria: Annotated[
        str, typer.Option(help="Quality criteria every part must meet, e.g. latex-free.")
    ] = "",
    deliver_to: Annotated[
        str | None,
        typer.Option(help="Where the goods go: LAT,LON or a participant id (then the buyer)."),
    ] = None,
    radius: Annotated[
        float, typer.Option("--radius", min=0, help="Kilometres around the delivery place.")
    ] = 50.0,
    top: Annotated[int, typer.Option("--top", "-k", min=1, help="How many plans to show.")] = 3,
    as_json: JsonOption = False,
    plot: PlotOption = None,
):
    """How likely is an order to fail, where, and what would stop every plan of it?

    Plans are ranked by their probability of success (declared failure probabilities: the
    command line has no history), each with its price and how local it is; then the resources
    every plan uses and the separable supply paths into the item.
    """
    from bots.cli import _load, _place, _positive_int
    from core.weave import WeaveError

    count = _positive_int(quantity, "quantity")
    _check_plot(plot)
    loaded = _load(network).network
    found = loaded.find_item(item)
    if found is None:
        _fail(f"unknown item {item!r}; `scis catalog` lists what the network knows")
    wanted = frozenset(c.strip() for c in criteria.split(",") if c.strip())
    place = _place(loaded, deliver_to)
    buyer = deliver_to if deliver_to in loaded.participants else None
    try:
        document, best = risk_document(loaded, found.id, count, wanted, place, buyer, radius, top)
    except (WeaveError, ValueError) as error:
        _fail(str(error))
    if plot is not None:
        _write(plot, _risk_png(loaded, document, best))
        document["plot"] = str(plot)
    if as_json:
        _dump(document)
        return
    print_risk(out, document, loaded)


def risk_document(
    network: Network,
    item_id: str,
    quantity: int,
    criteria: frozenset[str],
    place,
    buyer: str | None,
    radius_km: float,
    top: int,
) -> tuple[dict, object]:
    """The risk of ordering `quantity` × item, and the best plan's PlanRisk (None: no plan)."""
    from bots.plan_view import price_headline
    from core.pricing import plan_equation
    from core.risk.bottlenecks import separable_paths, single_points_of_failure, supply_graph
    from core.risk.locality import locality
    from core.risk.reliability import Reliability
    from core.weave import RISK, Demand, Weave
    from core.weave.plan_document import node_document

    reliability = Reliability(network)
    demand = [Demand(item_id, quantity)]
    woven = Weave(
        network,
        demand,
        criteria=criteria,
        ranking=RISK.with_reliability(reliability),
        deliver_to=place,
    )
    total = woven.count()
    plans, best = [], None
    for plan in woven.best(top):
        assessed = reliability.plan_risk(plan, buyer)
        best = best or assessed
        equation = plan_equation(network, plan)
        near = locality(network, plan, place, radius_km)
        plans.append(
            {
                "rank": plan.rank,
                "failure": assessed.failure,
                "success": assessed.success,
                "price": equation.price,
                "price_text": price_headline(equation),
                "equation": equation.text(),
                "stages": [_stage_json(network, s) for s in assessed.stages],
                "locality": _locality_json(near),
                "tree": node_document(plan.lines[0]),
            }
        )
    must = single_points_of_failure(network, demand, criteria).order
    paths = separable_paths(supply_graph(network, item_id, criteria), item_id)
    graph_names = {node: name for path in paths.paths for node, name in _named(network, path)}
    graph_names |= dict(_named(network, paths.cut))
    document = {
        "item": item_id,
        "quantity": quantity,
        "criteria": sorted(criteria),
        "deliver_to": None if place is None else {"lat": place.lat, "lon": place.lon},
        "buyer": buyer,
        "radius_km": radius_km,
        "plan_count": str(total),
        "plans": plans,
        "single_points_of_failure": {
            kind: [{"id": r.id, "name": r.name} for r in resources]
            for kind, resources in (
                ("offers", must.offers),
                ("facilities", must.facilities),
                ("participants", must.participants),
            )
        },
        "separable_paths": {
            "count": paths.count,
            "paths": [[_node_json(n, graph_names) for n in path] for path in paths.paths],
            "minimum_cut": [_node_json(n, graph_names) for n in paths.cut],
        },
        "plot": None,
    }
    return document, best


def print_risk(console: Console, document: dict, network: Network) -> None:
    item = network.items[document["item"]]
    total = int(document["plan_count"])
    wanted = f" meeting {', '.join(document['criteria'])}" if document["criteria"] else ""
    console.print(
        f"[bold]{document['quantity']} × {escape(item.name)}[/]{wanted}: [bold]{total:,}[/] "
        f"plan{'s' if total != 1 else ''} in this network",
        highlight=False,
    )
    if not document["plans"]:
        console.print("No plan can deliver it, so there is no risk to weigh.")
        return
    console.print(
        f"The {len(document['plans'])} least likely to fail (declared failure probabilities):\n",
        highlight=False,
    )
    for plan in document["plans"]:
        console.print(
            f"[bold cyan]#{plan['rank']}[/]  fails with [bold]{_percent(plan['failure'])}[/]"
            f"  ·  price {escape(plan['price_text'])}",
            highlight=False,
        )
        riskiest = ", ".join(
            f"{s['id']} {s['kind']} by {escape(s['owner_name'])} ({_percent(s['failure'])})"
            for s in plan["stages"][:RISKIEST]
        )
        console.print(f"   riskiest: {riskiest}", highlight=False)
        console.print(f"   {_locality_text(plan['locality'], document)}", highlight=False)
    console.print()
    must = document["single_points_of_failure"]
    named = [r["name"] for kind in ("offers", "facilities", "participants") for r in must[kind]]
    if named:
        console.print(
            "[bold]Single points of failure[/] (every plan needs them): "
            + "; ".join(escape(n) for n in named),
            highlight=False,
        )
    else:
        console.print("[bold]No single point of failure[/]: every resource has an alternative.")
    separable = document["separable_paths"]
    console.print(
        f"[bold]Separable supply paths[/] into {escape(item.name)}: {separable['count']}",
        highlight=False,
    )
    for k, path in enumerate(separable["paths"], 1):
        console.print(f"   {k}. " + " → ".join(escape(n["id"]) for n in path), highlight=False)
    if separable["minimum_cut"]:
        cut = ", ".join(escape(n["id"]) for n in separable["minimum_cut"])
        console.print(f"   losing {cut} would cut every path", highlight=False)


def _stage_json(network: Network, risk) -> dict:
    stage = risk.stage
    item = network.items.get(stage.item)
    return {
        "id": stage.id,
        "kind": stage.kind,
        "item": stage.item,
        "item_name": item.name if item else stage.item,
        "quantity": stage.quantity,
        "owner": stage.owner,
        "owner_name": _who(network, stage.owner),
        "source": stage.source,
        "prior": risk.prior,
        "failure": risk.failure,
    }


def _locality_json(near) -> dict:
    return {
        "radius_km": near.radius_km,
        "value_share": near.value_share,
        "mass_share": near.mass_share,
        "value_local": near.value_local,
        "value_known": near.value_known,
        "mass_local_kg": near.mass_local_kg,
        "mass_known_kg": near.mass_known_kg,
        "distance_km": near.distance_km,
        "tonne_km": near.tonne_km,
        "nodes": near.nodes,
        "unplaced": near.unplaced,
        "distance_unknown": near.distance_unknown,
    }


def _locality_text(near: dict, document: dict) -> str:
    travelled = f"{near['distance_km']:,.1f} km travelled"
    if near["distance_unknown"]:
        travelled += f" ({near['distance_unknown']} legs of unknown length)"
    if document["deliver_to"] is None:
        return f"{travelled}; give --deliver-to to see how local it is"
    shares = []
    for key, what in (("value_share", "value"), ("mass_share", "mass")):
        if near[key] is not None:
            shares.append(f"{_percent(near[key])} of the {what}")
    if not shares:
        return travelled
    radius = f"{document['radius_km']:g} km"
    return f"{' and '.join(shares)} made within {radius} · {travelled}"


def _named(network: Network, nodes) -> list[tuple]:
    from core.risk.bottlenecks import name

    return [(node, name(network, node[0], node[1])) for node in nodes]


def _node_json(node: tuple[str, str], names: dict) -> dict:
    return {"kind": node[0], "id": node[1], "name": names[node]}


def _risk_png(network: Network, document: dict, best) -> bytes:
    from core.risk.plots import stage_risk_png

    item = network.items[document["item"]]
    what = f"{document['quantity']} × {item.name}"
    if best is None:
        return stage_risk_png(f"{what}: no plan can deliver it", [])
    plan = document["plans"][0]
    # A stage whose owner, offer or facility every plan needs has no alternative: mark it.
    must = document["single_points_of_failure"]
    critical = {r["id"] for r in must["participants"]}
    critical |= {f"offer:{r['id']}" for r in must["offers"]}
    facilities = {r["id"] for r in must["facilities"]}
    stages, highlight = [], set()
    for stage in plan["stages"]:
        label = f"{stage['id']} {stage['kind']} · {stage['item_name']} · {stage['owner_name']}"
        stages.append((label, stage["failure"]))
        source = stage["source"] or ""
        at = source.rpartition("@")[2] if source.startswith("design:") else None
        if stage["owner"] in critical or source in critical or at in facilities:
            highlight.add(label)
    title = f"{what}, plan #{plan['rank']}: {_percent(plan['failure'])} to fail"
    if highlight:
        title += " (red: no alternative)"
    return stage_risk_png(title, stages, highlight)


# ── scis fragility ────────────────────────────────────────────────────────────────────────────


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
    from bots.cli import _load

    _check_plot(plot)
    loaded = _load(network).network
    risks = _scenario(scenario, loaded)
    if not risks.products:
        _fail(f"{scenario}: no product has both a demand and a weight, so B is not defined")
    try:
        document = fragility_document(
            loaded, risks, samples, seed, leave_out or [], missing_capacity
        )
    except ValueError as error:
        _fail(str(error))
    if plot is not None:
        _write(plot, _fragility_png(document))
        document["plot"] = str(plot)
    if as_json:
        _dump(document)
        return
    print_fragility(out, document)


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
            _percent(share),
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
    return {p: _finite(units) for p, units in supply.items()}


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


# ── scis survival ─────────────────────────────────────────────────────────────────────────────


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
    from bots.cli import _load

    _check_plot(plot)
    loaded = _load(network).network
    risks = _scenario(scenario, loaded)
    if risks.survival is None:
        _fail(f"{scenario}: no product has a rate (units per day), so nothing is to survive")
    try:
        document = survival_document(loaded, risks)
    except ValueError as error:
        _fail(str(error))
    if plot is not None:
        _write(plot, _survival_png(document))
        document["plot"] = str(plot)
    if as_json:
        _dump(document)
        return
    print_survival(out, document)


def survival_document(network: Network, scenario: RiskScenario) -> dict:
    """TTS of the intact network, and TTS, TTR and lost demand per node, exposed first."""
    from core.risk.survival import SurvivalModel

    model = SurvivalModel(network, scenario.survival)
    nodes = model.exposures()
    return {
        "rates": dict(scenario.survival.demand),
        "intact_tts": _finite(model.time_to_survive()),
        "exposed": sum(e.exposed for e in nodes),
        "nodes": [
            {
                "node": e.node,
                "kind": e.kind,
                "name": e.name,
                "tts": _finite(e.tts),
                "ttr": e.ttr,
                "shortfall": _finite(e.shortfall),
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


# ── shared ────────────────────────────────────────────────────────────────────────────────────


def _fail(message: str, code: int = 1):
    """bots.cli's error line, never wrapped: a file's path makes these long, and a wrapped
    message is two lines to a script reading stderr."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _scenario(path: Path, network: Network) -> RiskScenario:
    """Read, parse and check a scenario file; every problem is one line naming the file."""
    import yaml

    from core.risk.scenario import parse_scenario

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        _fail(f"{path}: cannot read it ({error.strerror or error})")
    try:
        parsed = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        _fail(f"{path}: not valid YAML or JSON{where}")
    try:
        scenario = parse_scenario(parsed)
        scenario.check(network)
    except ValueError as error:
        _fail(f"{path}: {error}")
    return scenario


def _check_plot(path: Path | None) -> None:
    """Before the work, not after it: a Monte Carlo run should not end in a typo'd folder."""
    if path is not None and not path.parent.is_dir():
        _fail(f"{path}: no such folder for the picture")


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        _fail(f"{path}: cannot write the picture ({error.strerror or error})")


def _dump(document: dict) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write("\n")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _percent(share: float) -> str:
    if 0 < share < 0.001:
        return "<0.1 %"
    return f"{share:.1%}".replace("%", " %")


def _record_name(network: Network, kind: str, record_id: str) -> str:
    from core.risk.bottlenecks import name

    return name(network, kind, record_id)


def _who(network: Network, participant_id: str | None) -> str:
    participant = network.participants.get(participant_id) if participant_id else None
    return participant.name if participant else (participant_id or "nobody yet")
