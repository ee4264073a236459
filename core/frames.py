"""The negotiation frame: what each party of a plan needs to act on it.

The order, the party's own part, every other party with role and contacts, the
characteristic equation with a legend and the values quoted so far, the plan's outlook (chance
of failing, share made locally), then the commands to agree, decline, quote and talk. The text
is platform-neutral; adapters format it.
"""

from __future__ import annotations

from core.network.model import Network
from core.pricing.equation import Equation
from core.weave.plan import Plan
from core.weave.sources import Bought, is_held

LEGEND_LINES = 20  # beyond this a frame lists only the prices its reader sets


def negotiation_frame(
    network: Network,
    order_id: int,
    buyer: str,
    plan: Plan,
    equation: Equation,
    party: str,
    roles: dict[str, set[str]],
    due=None,
    outlook: str = "",
) -> str:
    lines = [f"Order {order_id}: " + ", ".join(_line(network, node) for node in plan.lines)]
    own = [node for node in plan.nodes() if _provider(node) == party]
    if party == buyer:
        lines.append("You are the buyer.")
    for node in own:
        item = network.items[node.item].name
        by = f", by {due:%Y-%m-%d}" if due else ""
        if is_held(node.source):
            lines.append(f"Your part: send on the {node.quantity} × {item} you hold for it{by}.")
            continue
        verb = "supply" if isinstance(node.source, Bought) else "make"
        lines.append(f"Your part: {verb} {node.quantity} × {item}{by}.")
    lines.append("Parties:")
    everyone = {buyer: {"buyer"}, **roles}
    for who, played in everyone.items():
        if who == party:
            continue
        lines.append(
            f"  • {_name(network, who)} ({', '.join(sorted(played))}){_contacts(network, who)}"
        )
    lines.append(f"Price: {short_equation(equation.text())}")
    lines.append(f"       {short_equation(equation.evaluated_text())}")
    if outlook:
        lines.append(f"Outlook: {outlook}.")
    legend = equation.legend(network)
    if len(legend) <= LEGEND_LINES:
        lines.extend(f"  {entry}" for entry in legend)
    else:  # a large plan: the prices this party sets, and how many others there are
        names = list(equation.form.terms)
        own = [
            e for n, e in zip(names, legend, strict=True) if equation.variables[n].setter == party
        ]
        lines.extend(f"  {entry}" for entry in own[:LEGEND_LINES])
        lines.append(f"  … and {len(legend) - len(own[:LEGEND_LINES])} more prices in the plan")
    if party == buyer:
        lines.append(f"Waiting for every party to agree. /say {order_id} … talks to all of them.")
    else:
        lines.append(
            f"/agree {order_id} to take your part, /decline {order_id} REASON if you cannot, "
            f"/quote {order_id} VARIABLE PRICE to set a price, /say {order_id} … to talk."
        )
    return "\n".join(lines)


def how_many(count: int) -> str:
    """Exact below a trillion; beyond, the order of magnitude people can read."""
    if count < 10**12:
        return f"{count:,}"
    text = str(count)
    return f"{text[0]}.{text[1:3]}×10^{len(text) - 1}"


def short_equation(text: str, limit: int = 120) -> str:
    """`P = K + 4·L + … (212 terms)` when the whole would not fit in a chat line."""
    if len(text) <= limit:
        return text
    terms = text.count(" + ") + text.count(" - ") + 1
    cut = text.rfind(" + ", 0, limit - 20)
    return f"{text[: cut if cut > 0 else limit - 20]} + … ({terms} terms)"


def _line(network: Network, node) -> str:
    return f"{node.quantity} × {network.items[node.item].name}"


def _provider(node) -> str | None:
    source = node.source
    return source.offer.supplier if isinstance(source, Bought) else source.facility.operator


def _name(network: Network, who: str) -> str:
    participant = network.participants.get(who)
    return participant.name if participant else who


def _contacts(network: Network, who: str) -> str:
    participant = network.participants.get(who)
    if participant is None or not participant.contacts:
        return ""
    return " — " + ", ".join(f"{k} {v}" for k, v in participant.contacts.items())
