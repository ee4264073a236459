"""A change asked for in chat: the arguments of its command class, built from the declaration
and what was typed, handed to `submit` (in production `workers.actors.Actors.take_in`: kept,
then carried out by a worker). The person hears at once what happens next; the outcome reaches
them later through the outbox."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace

from sqlmodel import Session

from bots.conversation import views
from bots.conversation.declaration import Command
from bots.conversation.messages import Reply
from bots.conversation.next_steps import refusal_text
from bots.conversation.settings import ChatSettings
from bots.conversation.turn import Person, Submitting
from core.service.bus import Services
from core.service.inbound import rebuild
from core.service.orders import criterion_of
from core.service.results import Refused
from core.store.tables import InboundMessage
from core.weave.shortfall import stated_criteria

# (platform, message id, command class, JSON arguments) → the kept command's id
Submit = Callable[[str, str, type, dict], int]


def arguments(command: Command, person: Person, values: Mapping, settings: ChatSettings) -> dict:
    """The command class's arguments, as JSON (what Receive keeps)."""
    names = {f.name for f in fields(command.service)}
    given = {
        "actor": person.id,
        **command.fixed,
        **values,
        **{key: getattr(settings, name) for key, name in command.from_settings.items()},
    }
    return {key: value for key, value in given.items() if key in names}


def hand_over(
    services: Services,
    settings: ChatSettings,
    submit: Submitting,
    person: Person,
    command: Command,
    values: Mapping,
    origin: Mapping[str, str],
) -> Reply:
    """`origin`: the message's platform and message_id."""
    if values.get("criteria") and (unknown := _unknown_criterion(services, values["criteria"])):
        return views.reply(f"{unknown[0].upper()}{unknown[1:]}. Usage: {command.usage}")
    given = arguments(command, person, values, settings)
    # Carried out once in a transaction rolled back: what would be refused now is said now,
    # and recorded like every refusal, instead of acknowledged and refused a moment later.
    trying = rebuild(InboundMessage(command=command.service.__name__, arguments=given, **origin))
    if command.tried and (refused := services.trial(trying)) is not None:
        services.record_refusal(trying, refused)
        said = refusal_text(refused).rstrip(".")
        return views.reply(f"Sorry — {said[0].lower()}{said[1:]}. Nothing was changed.")
    submit(command.service, given)
    return replace(views.reply(command.then.format(**values)), working=True)


def _unknown_criterion(services: Services, criteria: list[str]) -> str | None:
    """Said before the order is accepted (PlaceOrder checks again: it trusts no adapter)."""

    def check(session: Session) -> str | None:
        known = stated_criteria(services.current_network(session))
        try:
            for criterion in criteria:
                criterion_of(criterion, known)
        except Refused as refusal:
            return str(refusal)
        return None

    return services.read(check)
