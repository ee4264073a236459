"""A standing order's replenishment in words: ordered again from the same sources, or from
others, saying which source no longer stands."""

from __future__ import annotations

from bots.conversation.notices.plans import plan_payload
from bots.conversation.plan_lines import price_text, risk_text, who_text
from core.service.notices import Rendered
from core.service.notices.standing import GoneSource, ReplenishedAsBefore, ReplenishedElsewhere


def gone_text(gone: GoneSource) -> str:
    """ "Cotton quilting fabric from Textiles Borinquen (offer tb-cotton) is out of service"."""
    if gone.why == "changed":
        return gone.detail
    if gone.how == "held":
        held = f"{gone.item} came from stock {gone.provider} held for the standing order"
        return f"{held}, which is used up"
    if gone.how == "bought":
        source = f"{gone.item} from {gone.provider} (offer {gone.offer})"
    elif gone.place:
        source = f"{gone.item} made at {gone.place} ({gone.provider})"
    else:  # a facility with no name of its own is its operator's
        source = f"{gone.item} made by {gone.provider}"
    if gone.why == "declined":
        return f"{source}: {gone.provider} declined the standing order"
    if gone.why == "gone":
        return f"{source} is no longer in the network"
    return f"{source} is out of service"


def replenished_as_before(notice: ReplenishedAsBefore) -> Rendered:
    plan = notice.plan
    risk = risk_text(plan)
    text = (
        f"Order {notice.order_id}: {notice.quantity:,} × {notice.item} again, from the same "
        f"sources as standing order {notice.standing_id}'s plan — {who_text(plan.parts)}. "
        f"{price_text(plan)}"
        + (f" · {risk}" if risk else "")
        + ". Choosing it now; every party gets its frame."
    )
    return Rendered(text, notice.kind, {"plans": [plan_payload(plan)]})


def replenished_elsewhere(notice: ReplenishedElsewhere) -> Rendered:
    text = (
        f"Order {notice.order_id} replenishes {notice.quantity:,} × {notice.item} for standing "
        f"order {notice.standing_id}, but not from the same sources: {gone_text(notice.gone)}. "
        "It takes the best plan the network has now."
    )
    return Rendered(text, notice.kind)


RENDERERS = {
    ReplenishedAsBefore: replenished_as_before,
    ReplenishedElsewhere: replenished_elsewhere,
}
