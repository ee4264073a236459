"""`scis risk`: how likely an order is to fail, where, and what would stop every plan of it.

The core modules (networkx; matplotlib for --plot) are imported when the command runs, so the
rest of `scis` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bots.cli_arguments import delivery_place, find_item, positive_int, read_criteria, read_network
from bots.cli_document import check_plot, percent, publish
from bots.cli_options import JsonOption, NetworkOption, PlotOption
from bots.cli_output import fail
from core.plan_counts import exact_text, from_exact_text, how_many

if TYPE_CHECKING:
    from core.network.model import Network

RISKIEST = 3  # stages named per plan on the terminal; --json has them all


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

    Plans are ranked by their probability of success (declared failure probabilities, else the
    priors per stage kind: the command line has no history), each with its price and how local
    it is; then the resources every plan uses and the separable supply paths into the item.
    """
    from core.weave import WeaveError

    count = positive_int(quantity, "quantity")
    check_plot(plot)
    loaded = read_network(network)
    found = find_item(loaded, item)
    wanted = read_criteria(criteria, loaded)
    place = delivery_place(loaded, deliver_to)
    buyer = deliver_to if deliver_to in loaded.participants else None
    try:
        document, best = risk_document(loaded, found.id, count, wanted, place, buyer, radius, top)
    except (WeaveError, ValueError) as error:
        fail(str(error))
    publish(
        document,
        as_json,
        plot,
        draw=lambda shown: _risk_png(loaded, shown, best),
        read=lambda console, shown: print_risk(console, shown, loaded),
    )


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
        "plan_count": exact_text(total),
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
    total = from_exact_text(document["plan_count"])
    wanted = f" meeting {', '.join(document['criteria'])}" if document["criteria"] else ""
    console.print(
        f"[bold]{document['quantity']} × {escape(item.name)}[/]{wanted}: "
        f"[bold]{how_many(total)}[/] plan{'s' if total != 1 else ''} in this network",
        highlight=False,
    )
    if not document["plans"]:
        console.print("No plan can deliver it, so there is no risk to weigh.")
        return
    console.print(
        f"The {len(document['plans'])} least likely to fail (failure probabilities as the "
        f"network declares them, else SCIS's priors per stage: {_priors_text()}):\n",
        highlight=False,
    )
    for plan in document["plans"]:
        console.print(
            f"[bold cyan]#{plan['rank']}[/]  fails with [bold]{percent(plan['failure'])}[/]"
            f"  ·  price {escape(plan['price_text'])}",
            highlight=False,
        )
        riskiest = ", ".join(
            f"{s['id']} {s['kind']} by {escape(s['owner_name'])} ({percent(s['failure'])})"
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
    unknown = near["distance_unknown"]
    legs = f"{unknown} leg{'s' if unknown != 1 else ''} of unknown length"
    travelled = f"{near['distance_km']:,.1f} km travelled"
    if unknown and not near["distance_km"]:
        travelled = f"distance unknown ({legs})"  # 0.0 km would say it stays where it is
    elif unknown:
        travelled += f" (and {legs})"
    if document["deliver_to"] is None:
        return f"{travelled}; give --deliver-to to see how local it is"
    shares = []
    for key, what in (("value_share", "value"), ("mass_share", "mass")):
        if near[key] is not None:
            shares.append(f"{percent(near[key])} of the {what}")
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
    title = f"{what}, plan #{plan['rank']}: {percent(plan['failure'])} to fail"
    if highlight:
        title += " (red: no alternative)"
    return stage_risk_png(title, stages, highlight)


def _who(network: Network, participant_id: str | None) -> str:
    participant = network.participants.get(participant_id) if participant_id else None
    return participant.name if participant else (participant_id or "nobody yet")


def _priors_text() -> str:
    """ "making 5 %, shipping 3 %": what a stage is taken to fail with when nothing is declared."""
    from core.risk.reliability import KIND_PRIORS

    verbs = {"make": "making", "ship": "shipping"}
    return ", ".join(f"{verbs[k]} {percent(KIND_PRIORS[k])}" for k in verbs)
