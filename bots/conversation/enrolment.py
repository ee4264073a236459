"""Enrolment: /join and /register make a chat account a participant. They are carried out here,
at once, and answered with their outcome — the person has no other way to hear it yet."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlmodel import Session

from bots.conversation import views
from bots.conversation.declaration import Command
from bots.conversation.messages import Incoming, Reply
from core.service.bus import Services
from core.service.commands import ApplyInbound, Receive
from core.service.participants import who_is
from core.service.results import Result
from core.store.tables import InboundMessage, ParticipantRow


def enrol(
    services: Services,
    on_result: Callable[[Result], None] | None,
    incoming: Incoming,
    command: Command,
    values: Mapping,
) -> Reply:
    display = (incoming.display_name or "").strip() or None
    name = values.get("name") or display
    if command.unnamed and not name:
        return views.reply(command.unnamed)
    arguments = {
        "platform": incoming.platform,
        "address": incoming.address,  # the person's own account (see Incoming)
        "name": name,
        "handle": incoming.handle,
    }
    arguments.update({key: value for key, value in values.items() if key != "name"})
    kept, _ = services.handle(
        Receive(incoming.platform, incoming.message_id, command.service.__name__, arguments)
    ).value
    result = services.handle(ApplyInbound(kept))
    if on_result is not None:
        on_result(result)

    def outcome(session: Session):
        row = session.get(InboundMessage, kept)
        speaks_for = who_is(session, incoming.platform, incoming.address)
        participant = session.get(ParticipantRow, speaks_for) if speaks_for else None
        return (row.outcome or ""), participant

    said, participant = services.read(outcome)
    if participant is not None:
        roles = ", ".join(participant.roles)
        follow = (
            "/catalog shows what can be ordered; /order ITEM QTY orders it."
            if "buyer" in participant.roles
            else "/tasks shows what waits for you; /help lists what you can do."
        )
        return views.reply(f"Done — you are {participant.name} ({roles}) here now. {follow}")
    reason = said.removeprefix("refused: ") or "that did not work"
    return views.reply(f"{reason[0].upper()}{reason[1:]}. Usage: {command.usage}")
