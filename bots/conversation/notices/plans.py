"""The plans offered to a buyer, in the same lines `/plans` pages through."""

from __future__ import annotations

from bots.conversation.next_steps import buttons, command_text
from bots.conversation.plan_lines import arrival_text, day_text, plan_lines
from core.plan_counts import how_many
from core.service.commands import CancelOrder, ChoosePlan
from core.service.notices import Next, Rendered, View
from core.service.notices.plans import PlanLine, PlansOffered, RateNote, SplitShare


def rate_text(note: RateNote, per: str) -> str:
    if note.can >= note.asked:
        return f"Declared capacities make up to {note.can:,.0f} {note.item} a {per}: enough."
    return (
        f"Declared capacities make only {note.can:,.0f} {note.item} a {per} of the "
        f"{note.asked:,} asked: more makers or suppliers are needed (/request tells the network)."
    )


def split_text(shares: tuple[SplitShare, ...]) -> str:
    """One sentence: no one source has room for all of it this week, so the plan shares it."""
    parts = ", ".join(f"{s.quantity:,} {s.item} from {s.by}" for s in shares)
    return f"No one maker or supplier has room for all of it this week, so it is split: {parts}:"


def plan_payload(plan: PlanLine) -> dict:
    """A plan as a platform reads it from the payload (the risk picture, the tests)."""
    return {
        "rank": plan.rank,
        "price": plan.price,
        "equation": plan.equation,
        "failure": plan.failure,
        "outlook": {"failure": plan.failure, "local_mass": plan.local_share},
        "sources": [part.source for part in plan.parts],  # offers, design@facility
        "arrives": None
        if plan.arrives is None or plan.arrives.on is None
        else plan.arrives.on.isoformat(),
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
        if notice.due is not None and notice.soonest is not None:
            # Plans there are, none by the day asked: say when the soonest could come.
            by = day_text(notice.due)
            said.append(
                f"Order {order}: no plan arrives by {by}; of the {how_many(notice.too_late)} "
                f"there are, the soonest {arrival_text(notice.soonest)}. A coordinator has been "
                f"told; {cancel} and order again for a later day if that is too late."
            )
        else:
            short = [rate_text(n, notice.per) for n in notice.rates if n.can < n.asked]
            said.append(
                f"Order {order}: no plan can deliver it with the network as it is. "
                + "".join(f"{s} " for s in short)
                + f"A coordinator has been told and can re-plan it; {cancel} if you no longer "
                "need it."
            )
        return Rendered("".join(said), notice.kind, {"plans": [], "buttons": []})
    ways = f"{how_many(notice.count)} way{'s' if notice.count != 1 else ''} to deliver it"
    if notice.due is not None:
        ways += f" by {day_text(notice.due)}"
        if notice.too_late:
            ways += f"; {how_many(notice.too_late)} more cannot make it"
    lines = ["".join(said) + f"Order {order}: {ways}. The best:"]
    if notice.split:
        lines[0] = "".join(said) + f"Order {order}: {ways}. " + split_text(notice.split)
    lines += plan_lines(notice.plans)
    if notice.per:
        lines.append(
            f"Prices are per {notice.per}. "
            + " ".join(rate_text(n, notice.per) for n in notice.rates)
        )
    choose = command_text(Next(ChoosePlan, (order, "N")))
    more = ""
    if notice.count > len(notice.plans) and not notice.split:
        more = f"; {command_text(Next(View.PLANS, (order, 2)))} shows more"
    lines.append(f"{choose} picks one; every party then gets its frame{more}.")
    pressed = [(f"Choose {p.rank}", Next(ChoosePlan, (order, p.rank))) for p in notice.plans]
    if notice.count > len(notice.plans) and not notice.split:
        pressed.append(("More plans", Next(View.PLANS, (order, 2))))
    payload = {"plans": [plan_payload(p) for p in notice.plans], "buttons": buttons(*pressed)}
    return Rendered("\n".join(lines), notice.kind, payload)


RENDERERS = {PlansOffered: plans_offered}
