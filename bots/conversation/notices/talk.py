"""The negotiation thread in words."""

from __future__ import annotations

from core.service.notices import Rendered
from core.service.notices.talk import PassedOn, Said


def _payload(said: Said) -> dict:
    payload = {
        "said": said.event_id,
        "from": said.speaker,
        "from_name": said.speaker_name,
        "from_handle": said.handle,
        "text": said.text,  # the words alone, for a platform that shows the author its own way
    }
    if said.origin is not None:
        payload["origin"] = dict(said.origin)
    return payload


def said(notice: Said) -> Rendered:
    text = f"{notice.speaker_name} ({notice.handle}) on order {notice.order_id}: {notice.text}"
    return Rendered(text, notice.kind, _payload(notice))


def passed_on(notice: PassedOn) -> Rendered:
    # Kind "passed": a platform where the words already stand in the order's room drops it.
    text = f"Passed on to {', '.join(notice.listeners)}."
    return Rendered(text, notice.kind, _payload(notice.said))


RENDERERS = {Said: said, PassedOn: passed_on}
