"""The plans offered to a buyer, in the same lines `/plans` pages through."""

from __future__ import annotations

from bots.conversation.next_steps import buttons, command_text
from bots.conversation.plan_lines import plan_lines
from core.frames import how_many
from core.service.commands import CancelOrder, ChoosePlan
from core.service.notices import Next, Rendered, View
from core.service.notices.plans import PlanLine, PlansOffered, RateNote


def rate_text(note: RateNote, per: str) -> str:
    if note.can >= note.asked:
        return f"Declared capacities make up to {note.can:,.0f} {note.item} a {per}: enough."
    return (
        f"Declared capacities make only {note.can:,.0f} {note.item} a {per} of the "
        f"{note.asked:,} asked: more makers or suppliers are needed (/request tells the network)."
    )


def plan_payload(plan: PlanLine) -> dict:
    """A plan as a platform reads it from the payload (the risk picture, the tests)."""
    return {
        "rank": plan.rank,
        "price": plan.price,
        "equation": plan.equation,
        "failure": plan.failure,
        "outlook": {"failure": plan.failure, "local_mass": plan.local_share},
        "sources": [part.source for part in plan.parts],  # offers, design@facility
    }


def plans_offered(notice: PlansOffered) -> Rendered:
    order = notice.order_id
    said = []
    if notice.declined_by:
        said.append(
            f"{notice.declined_by} declined order {order}"
            + (f": {notice.reason}. " if notice.reason else ". ")
        )
    if notice.cause:
        said.append(f"{notice.cause}. ")
    if not notice.plans:
        cancel = command_text(Next(CancelOrder, (order,)))
        said.append(
            f"Order {order}: no plan can deliver it with the network as it is. A coordinator has "
            f"been told and can re-plan it; {cancel} if you no longer need it."
        )
        return Rendered("".join(said), notice.kind, {"plans": [], "buttons": []})
    lines = [
        "".join(said) + f"Order {order}: {how_many(notice.count)} ways to deliver it. The best:"
    ]
    lines += plan_lines(notice.plans)
    if notice.per:
        lines.append(
            f"Prices are per {notice.per}. "
            + " ".join(rate_text(n, notice.per) for n in notice.rates)
        )
    choose = command_text(Next(ChoosePlan, (order, "N")))
    more = ""
    if notice.count > len(notice.plans):
        more = f"; {command_text(Next(View.PLANS, (order, 2)))} shows more"
    lines.append(f"{choose} picks one; every party then gets its frame{more}.")
    pressed = [(f"Choose {p.rank}", Next(ChoosePlan, (order, p.rank))) for p in notice.plans]
    if notice.count > len(notice.plans):
        pressed.append(("More plans", Next(View.PLANS, (order, 2))))
    payload = {"plans": [plan_payload(p) for p in notice.plans], "buttons": buttons(*pressed)}
    return Rendered("\n".join(lines), notice.kind, payload)


RENDERERS = {PlansOffered: plans_offered}
