"""An accepted match in words: who accepted it, and truthfully what its order does with the
matched offers."""

from __future__ import annotations

from core.service.notices import Rendered
from core.service.notices.acceptance import MatchAccepted


def _then(notice: MatchAccepted) -> str:
    """What the order does with the matched offers: the reader's own, or all of them."""
    order = notice.order_id
    if not order:
        return ""
    yours = "it" if notice.yours else "the matched offers"
    if notice.uses == "all":
        return f" Order {order} is being planned with {yours}."
    if notice.uses == "unplanned":
        return f" Order {order} has no plan yet with the network as it is; a coordinator knows."
    if notice.uses == "some":
        return f" Order {order} has plans with {yours} and plans without; the buyer chooses."
    return (
        f" Order {order} could not be planned with {yours} as the network stands, so its "
        "plans use other sources for now."
    )


def match_accepted(notice: MatchAccepted) -> Rendered:
    match = notice.match_id
    if notice.by is not None:
        text = f"{notice.by} accepted match {match}.{_then(notice)}"
    elif notice.order_id:
        text = f"Match {match} accepted.{_then(notice)}"
    else:
        text = f"Match {match} accepted: your part is in the network now."
    return Rendered(text, notice.kind)


RENDERERS = {MatchAccepted: match_accepted}
