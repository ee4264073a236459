"""How plans and catalogs look on the terminal and in JSON."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from core.frames import how_many
from core.network.model import Item, Network
from core.pricing import Equation, plan_equation
from core.weave import CatalogEntry, Plan, PlanNode
from core.weave.plan_document import node_document
from core.weave.sources import Bought


def plan_json(network: Network, plan: Plan) -> dict:
    equation = plan_equation(network, plan)
    return {
        "rank": plan.rank,
        "unknown_terms": plan.score[0],
        "score": plan.score[1],
        "price": equation.price,
        "unknowns": equation.unknowns,
        "equation": equation.text(),
        "tree": node_document(plan.lines[0])
        if len(plan.lines) == 1
        else [node_document(n) for n in plan.lines],
    }


def price_headline(equation: Equation) -> str:
    """`41.00`, or `35.50 + B (1 price not quoted yet)` when some are unknown."""
    known = equation.form.partially(equation.values)
    missing = len(known.terms)
    if not missing:
        each = f" ({equation.unit_price:,.2f} each)" if equation.quantity > 1 else ""
        return f"{equation.price:,.2f}{each}"
    letters = " + ".join(equation.letters[n] for n in known.terms)
    prices = "price" if missing == 1 else "prices"
    return f"{float(known.constant):,.2f} + {letters} ({missing} {prices} not quoted yet)"


def catalog_json(entries: list[CatalogEntry]) -> list[dict]:
    return [
        {"item": e.item.id, "orderable": e.orderable, "plan_count": str(e.plan_count)}
        for e in entries
    ]


def print_weave(
    console: Console,
    network: Network,
    item: Item,
    quantity: int,
    total: int,
    plans: list[Plan],
    criteria: frozenset[str],
    rank: str,
) -> None:
    wanted = f" meeting {', '.join(sorted(criteria))}" if criteria else ""
    console.print(
        f"[bold]{quantity} × {item.name}[/]{wanted}: [bold]{how_many(total)}[/] "
        f"plan{'s' if total != 1 else ''} in this network",
        highlight=False,
    )
    if not plans:
        console.print("No plan can deliver it. `scis catalog` shows what can be ordered.")
        return
    console.print(f"The best {len(plans)} by {rank}:\n", highlight=False)
    for plan in plans:
        equation = plan_equation(network, plan)
        headline = price_headline(equation)
        console.print(f"[bold cyan]#{plan.rank}[/]  price {headline}", highlight=False)
        console.print(f"   {escape(equation.text())}", highlight=False)
        console.print(f"   {escape(equation.evaluated_text())}", highlight=False)
        for line in plan.lines:
            tree = Tree(escape(_label(network, line)))
            _grow(tree, network, line)
            console.print(tree)
        for entry in equation.legend(network):
            console.print(f"   [dim]{escape(entry)}[/]", highlight=False)
        console.print()


def print_catalog(console: Console, entries: list[CatalogEntry]) -> None:
    table = Table("item", "name", "kind", "plans", "orderable")
    for entry in entries:
        table.add_row(
            entry.item.id,
            entry.item.name,
            "normal" if entry.normal else "adaptive",
            how_many(entry.plan_count),
            "yes" if entry.orderable else "no",
        )
    console.print(table)
    orderable = sum(e.orderable for e in entries)
    console.print(f"{orderable} of {len(entries)} items can be ordered.", highlight=False)


def _grow(tree: Tree, network: Network, node: PlanNode) -> None:
    for child in node.inputs:
        _grow(tree.add(escape(_label(network, child))), network, child)


def _label(network: Network, node: PlanNode) -> str:
    item = network.items[node.item].name
    source = node.source
    if isinstance(source, Bought):
        who = _who(network, source.offer.supplier)
        how = f"bought from {who} ({source.offer.id})"
    else:
        who = _who(network, source.facility.operator)
        how = f"made by {who} at {source.facility.id} with {source.design.id}"
        if node.batches != node.quantity:
            how += f", {node.batches} batch{'es' if node.batches != 1 else ''}"
    far = f" · {node.distance_km:,.1f} km" if node.distance_km is not None else ""
    return f"{node.quantity} × {item} — {how}{far}"


def _who(network: Network, participant_id: str | None) -> str:
    participant = network.participants.get(participant_id) if participant_id else None
    return participant.name if participant else (participant_id or "unknown")
