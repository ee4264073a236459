"""The negotiation thread: a party says something, every other party of the order hears it."""

from __future__ import annotations

from core.service import lifecycle, records
from core.service.agreement import plan_of
from core.service.bus import Context, bounded
from core.service.commands import Say
from core.service.notices import Next, View
from core.service.notices.talk import PassedOn, Said
from core.service.participants import handle_of
from core.service.results import Refused
from core.store.tables import OrderRow


def say(command: Say, ctx: Context) -> int:
    """Returns the id of the `said` event, which also names the message in every relay."""
    order = records.order(ctx.session, command.order_id)
    speaker = records.participant(ctx.session, command.actor)
    text = bounded(command.text, "message")
    if not text:
        raise Refused("say something", next=(Next(Say, (order.id, "YOUR MESSAGE")),))
    everyone = order_parties(ctx, order)
    if command.actor not in everyone and not records.is_coordinator(ctx.session, command.actor):
        raise Refused(f"you are not a party of order {order.id}")
    listeners = sorted(everyone - {command.actor})
    if not listeners:
        raise Refused(
            f"order {order.id} has nobody else to talk to until a plan is chosen",
            next=(Next(View.PLANS, (order.id,)),),
        )
    event = ctx.record("said", {"text": text}, order.id, command.actor, command.origin)
    ctx.session.flush()  # the event's id is what names this message on every platform
    # Names may look alike (or be chosen to): the handle, which the platform vouches for, or
    # else the participant id, tells who really speaks.
    origin = None
    if command.origin.message_id is not None:
        origin = {"platform": command.origin.platform, "message_id": command.origin.message_id}
    said = Said(
        order_id=order.id,
        event_id=event.id,
        speaker=speaker.id,
        speaker_name=speaker.name,
        handle=handle_of(ctx.session, speaker.id, command.origin.platform) or speaker.id,
        text=text,
        origin=origin,
    )
    for party in listeners:
        ctx.notify(party, said, order.id)
    names = tuple(records.participant(ctx.session, p).name for p in listeners)
    ctx.notify(command.actor, PassedOn(said, names), order.id, outcome=True)
    return event.id


def order_parties(ctx: Context, order: OrderRow) -> set[str]:
    """The buyer and everyone the plan under way needs (or needed, once it is completed)."""
    contract = lifecycle.live_contract(ctx.session, order.id)
    if contract is None:
        latest = records.latest_contract(ctx.session, order.id)
        contract = latest if latest is not None and latest.status == "completed" else None
    parties = {order.buyer_id}
    if contract is not None:
        parties |= set(records.parties(plan_of(ctx, contract)))
    return parties
