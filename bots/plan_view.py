"""How plans and catalogs look on the terminal and in JSON."""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape

from core.network.model import Item, Location, Network
from core.plan_counts import exact_text, how_many
from core.pricing import Equation, plan_equation
from core.weave import CatalogEntry, Plan, PlanNode
from core.weave.legs import ARRANGED, VEHICLE
from core.weave.plan_document import node_document
from core.weave.shortfall import (
    FACILITIES_UNKNOWN,
    NO_MOVER,
    UNSTATED,
    Blocker,
    Unequipped,
    Unmovable,
    Unqualified,
    shortfall,
)
from core.weave.sources import Bought
from core.weave.timing import MINUTES_PER_DAY, plan_arrival

BLOCKERS_SAID = 4  # reasons for no plan named in the one error line; the rest counted


def plan_json(network: Network, plan: Plan) -> dict:
    equation = plan_equation(network, plan)
    return {
        "rank": plan.rank,
        "unknown_terms": plan.score[0],
        "score": plan.score[1],
        "price": equation.price,
        "unknowns": equation.unknowns,
        "equation": equation.text(),
        "arrival": _arrival_json(plan),
        "tree": node_document(plan.lines[0])
        if len(plan.lines) == 1
        else [node_document(n) for n in plan.lines],
    }


def arrival_text(plan: Plan) -> str:
    """ "arrives after 2.5 days", "… at the earliest" when some times nobody gave count 0."""
    arrival = plan_arrival(plan)
    days = arrival.minutes / MINUTES_PER_DAY
    earliest = " at the earliest" if arrival.unknown else ""
    return f"arrives after {days:,.1f} day{'s' if days != 1 else ''}{earliest}"


def _arrival_json(plan: Plan) -> dict:
    """Minutes from the order to arrival along the plan's critical path; times nobody gave
    counted as 0 and counted here."""
    arrival = plan_arrival(plan)
    return {"minutes": arrival.minutes, "unknown_times": arrival.unknown}


def price_headline(equation: Equation) -> str:
    """`41.00`; `35.50 + B (1 price not quoted yet)` when some are unknown; `2·K + S, not
    known yet` when none is (never a made-up `0.00 +`)."""
    known = equation.form.partially(equation.values)
    missing = len(known.terms)
    if not missing:
        each = f" ({equation.unit_price:,.2f} each)" if equation.quantity > 1 else ""
        return f"{equation.price:,.2f}{each}"
    unknown = " + ".join(_term(c, equation.letters[n]) for n, c in known.terms.items())
    if not known.constant:
        return f"{unknown}, not known yet"
    prices = "price" if missing == 1 else "prices"
    return f"{float(known.constant):,.2f} + {unknown} ({missing} {prices} not quoted yet)"


def _term(coefficient, letter: str) -> str:
    if coefficient == 1:
        return letter
    number = int(coefficient) if coefficient == int(coefficient) else coefficient
    return f"{number}·{letter}"


def equation_lines(equation: Equation) -> list[str]:
    """The equation, then with the known values put in — that second line only when some value
    is known, and never an equation repeated as its own value (`P = 15 = 15`)."""
    lines = [equation.text()]
    if equation.values:
        sides = equation.evaluated_text().split(" = ")
        if sides[-1] == sides[-2]:
            sides.pop()
        evaluated = " = ".join(sides)
        if evaluated != lines[0]:
            lines.append(evaluated)
    return lines


def ranked_figure(rank: str, plan: Plan) -> str | None:
    """The figure plans were ranked by, for the plan's line; None for price (its headline)."""
    unknown, value = plan.score
    if rank == "risk":
        return f"risk {percent(-math.expm1(-value))} of failing"
    if rank == "distance":
        legs = f" + {unknown} leg{'s' if unknown != 1 else ''} to or from a place not given"
        legs = legs if unknown else ""
        return f"{value:,.1f} km travelled{legs}"
    if rank == "local":
        more = f" + {unknown} unknown" if unknown else ""
        return f"haul {value:,.0f} kg·km{more}"
    if rank == "soonest":
        return arrival_text(plan)
    if rank == "balanced":
        more = f" + {unknown} unknown" if unknown else ""
        return f"balanced score {value:,.2f}{more}"
    return None


def percent(share: float) -> str:
    if 0 < share < 0.001:
        return "<0.1 %"
    return f"{share:.1%}".replace("%", " %")


def catalog_json(entries: list[CatalogEntry]) -> list[dict]:
    return [
        {"item": e.item.id, "orderable": e.orderable, "plan_count": exact_text(e.plan_count)}
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
        f"[bold]{escape(f'{quantity} × {item.name}')}[/]{escape(wanted)}: "
        f"[bold]{how_many(total)}[/] plan{'s' if total != 1 else ''} in this network",
        highlight=False,
    )
    console.print(f"The best {len(plans)} by {rank}:\n", highlight=False)
    for plan in plans:
        equation = plan_equation(network, plan)
        figure = ranked_figure(rank, plan)
        ranked = f"{figure} · " if figure else ""
        console.print(
            f"[bold cyan]#{plan.rank}[/]  {escape(ranked)}price {escape(price_headline(equation))}",
            highlight=False,
        )
        for line in equation_lines(equation):
            console.print(f"   {escape(line)}", highlight=False)
        for line in plan.lines:
            for drawn in _tree(network, line):
                console.print(escape(drawn), highlight=False)
        for entry in equation.legend(network):
            console.print(f"   [dim]{escape(entry)}[/]", highlight=False)
        console.print()


def print_catalog(console: Console, entries: list[CatalogEntry]) -> None:
    """What can be ordered first, then what cannot; each item's name, then its id whole on a
    line of its own, to be copied into `scis weave` however long it is."""
    orderable = [e for e in entries if e.orderable]
    groups = (
        ("Can be ordered", orderable),
        ("Cannot be ordered", [e for e in entries if not e.orderable]),
    )
    for title, group in groups:
        if not group:
            continue
        console.print(f"[bold]{title}[/] ({len(group)}):", highlight=False)
        for entry in group:
            plans = f"{how_many(entry.plan_count)} plan{'s' if entry.plan_count != 1 else ''}"
            console.print(
                f"  {escape(entry.item.name)} — {_sourcing(entry)}, {plans}", highlight=False
            )
            console.print(f"    [dim]{escape(entry.item.id)}[/]", highlight=False)
    console.print(f"{len(orderable)} of {len(entries)} items can be ordered.", highlight=False)
    if len(orderable) < len(entries):
        console.print(
            "scis weave --network NETWORK ITEM 1 says why an item cannot be ordered.",
            highlight=False,
        )


def _sourcing(entry: CatalogEntry) -> str:
    """How the item can be had, in the paper's words: sold ready-made (normal), made from a
    design (adaptive), or neither."""
    if entry.normal and entry.adaptive:
        return "sold or made"
    if entry.normal:
        return "sold (normal)"
    if entry.adaptive:
        return "made (adaptive)"
    return "nobody sells or makes it"


def no_plan_reason(
    network: Network,
    item: Item,
    quantity: int,
    criteria: frozenset[str],
    buyer: str | None = None,
    deliver_to: Location | None = None,
) -> str:
    """Why no plan can deliver the item, in a sentence: where every way of getting it stops."""
    wanted = f" meeting {', '.join(sorted(criteria))}" if criteria else ""
    found = shortfall(network, item.id, criteria, buyer=buyer, deliver_to=deliver_to)
    reasons = [_blocker(network, b) for b in found]
    shown = reasons[:BLOCKERS_SAID]
    if len(reasons) > len(shown):
        shown.append(f"and {len(reasons) - len(shown)} more")
    why = "; ".join(shown) if shown else "its designs need one another in a circle"
    return f"no plan can deliver {quantity} × {item.name}{wanted}: {why}"


def _blocker(network: Network, blocker: Blocker) -> str:
    name = network.item_name(blocker.item)
    if isinstance(blocker, Unmovable):
        return _unmovable(network, blocker, name)
    if isinstance(blocker, Unqualified):
        return f"nothing that sells or makes {name} is stated {' and '.join(blocker.criteria)}"
    if isinstance(blocker, Unequipped):
        if blocker.why == UNSTATED:
            return (
                f"nobody sells {name}, and its design {blocker.design} names no process, "
                "so no facility is known to make it"
            )
        if blocker.why == FACILITIES_UNKNOWN:
            return (
                f"nobody sells {name}, and no facility has said what it can do "
                f"(so none can run {blocker.design})"
            )
        if not blocker.processes:
            return f"nobody sells {name} and no facility can make it ({blocker.design})"
        needs = ", ".join(blocker.processes)
        return (
            f"nobody sells {name}, and its design {blocker.design} needs {needs}, "
            "which no facility does"
        )
    described = (
        f" ({', '.join(blocker.undescribed)} does not say what goes in)"
        if blocker.undescribed
        else ""
    )
    return f"nobody sells {name} and no design makes it{described}"


def _tree(network: Network, node: PlanNode) -> list[str]:
    """The plan as a tree of plain lines (rich's Tree would wrap each at 80 columns piped)."""
    lines = [_label(network, node)]
    for position, child in enumerate(node.inputs):
        last = position == len(node.inputs) - 1
        below = _tree(network, child)
        lines.append(("└── " if last else "├── ") + below[0])
        lines += [("    " if last else "│   ") + line for line in below[1:]]
    return lines


def _label(network: Network, node: PlanNode) -> str:
    unit = network.items[node.item].unit
    # "2 g PLA", not "2 × PLA": a count of grams is no count of things.
    counted = f"{node.quantity} ×" if unit in ("each", "") else f"{node.quantity} {unit}"
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
    return f"{counted} {item} — {how}{far}{_moved(network, node)}"


def _moved(network: Network, node: PlanNode) -> str:
    """ " · carried by truck-03 (Carol's Vans), 12.0 km, 14.40" """
    leg = node.leg
    if leg is None:
        return ""
    if leg.kind == VEHICLE:
        who = f"carried by {leg.transport.id} ({_who(network, leg.carrier)})"
    elif leg.kind == "delivery":
        who = f"delivered by {_who(network, leg.carrier)}"
    elif leg.kind == ARRANGED:
        return (
            f" · moved as {_who(network, leg.carrier)} and the receiver arrange (a place not given)"
        )
    else:
        who = f"picked up by {_who(network, leg.carrier)}"
    trips = f", {leg.trips} trips" if leg.trips > 1 else ""
    price = "price unknown" if leg.price is None else f"{leg.price:,.2f}"
    return f" · {who}{trips}, {price}"


def _who(network: Network, participant_id: str | None) -> str:
    participant = network.participants.get(participant_id) if participant_id else None
    return participant.name if participant else (participant_id or "unknown")


def _unmovable(network: Network, blocker: Unmovable, name: str) -> str:
    """Where goods are had but cannot be moved: from whom to whom, how far, how far anyone goes."""
    sender = network.participant_name(blocker.origin.participant)
    receiver = network.participant_name(blocker.destination.participant)
    apart = f" ({blocker.km:,.0f} km)" if blocker.km is not None else ""
    if blocker.why == NO_MOVER or blocker.longest_range_km is None:
        return (
            f"nothing moves {name} from {sender} to {receiver}{apart}: nobody delivers it, "
            "no vehicle serves the leg and the receiver does not fetch"
        )
    return (
        f"{name} cannot be moved from {sender} to {receiver}{apart}: the longest reach of "
        f"anyone who could move it is {blocker.longest_range_km:,.0f} km"
    )
