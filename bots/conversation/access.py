"""May they: whether the person may use the command they typed, the declared condition of what
it does (`Command.guard`), and, for an order, whether they are one of its parties — checked
once per message, here, before anything is done or acknowledged. A refusal about an order is
recorded, like every refusal the service makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from bots.conversation import views
from bots.conversation.changes import arguments
from bots.conversation.declaration import NEWCOMER, Command, may_use, who_may
from bots.conversation.messages import Incoming, Reply
from bots.conversation.next_steps import refusal_text
from bots.conversation.settings import ChatSettings
from bots.conversation.turn import Person
from core.service.bus import Services
from core.service.commands import ReadOrder
from core.service.inbound import rebuild
from core.service.lifecycle import ENDED, OrderStatus
from core.service.queries import may_read
from core.service.results import Refused
from core.store.tables import InboundMessage, OrderRow


@dataclass(frozen=True)
class Check:
    """What the checks are given: who asks for what (`command`: what the message does), with
    which values, in which message."""

    services: Services
    settings: ChatSettings
    incoming: Incoming
    person: Person | None
    command: Command
    values: Mapping

    def record(self, reason: str) -> None:
        """Keep the refusal, as the command would have been refused by the service."""
        self.services.record_refusal(self._refused(), Refused(reason))

    def _refused(self):
        """The command as the service would have had it; a read is kept as a ReadOrder."""
        order_id = self.values["order_id"]
        if self.command.service is None:
            return ReadOrder(self.person.id, order_id, self.command.name)
        try:
            return rebuild(
                InboundMessage(
                    platform=self.incoming.platform,
                    message_id=self.incoming.message_id,
                    command=self.command.service.__name__,
                    arguments=arguments(self.command, self.person, self.values, self.settings),
                )
            )
        except (TypeError, Refused):  # stopped short (`/say 12`): what it was about is enough
            return ReadOrder(self.person.id, order_id, self.command.name)


def refusal(check: Check, typed: Command, *, only_who: bool = False) -> Reply | None:
    """Why the person may not go on, or None. `typed` is the command as typed (`check.command`
    is what it does: itself, or what it is alone); `only_who`: the message stopped short and
    is answered with its problem, so only who may use the command is checked."""
    person = check.person
    if not may_use(typed, person.roles if person else None):
        return _not_for(person, typed)
    if only_who:
        return None
    if check.command.guard is not None and (refused := check.command.guard(check)) is not None:
        return refused
    if check.command.party:
        return _not_a_party(check)
    return None


def _not_for(person: Person | None, command: Command) -> Reply:
    if person is None:
        return views.reply(f"/{command.name} is for participants. {views.JOIN_HINT}")
    if command.who == NEWCOMER:
        return views.reply(
            f"This account already speaks for {person.name} ({person.id}). "
            "/help lists what you can do."
        )
    return views.reply(
        f"/{command.name} is for {who_may(command.who)}. /help lists what you can do."
    )


def _not_a_party(check: Check) -> Reply | None:
    """A refusal when the order is unknown or the person is none of its parties; None when
    they may go on."""
    services, person, order_id = check.services, check.person, check.values["order_id"]

    def read(session: Session) -> str | Refused | None:
        if session.get(OrderRow, order_id) is None:
            return "unknown"
        try:
            may_read(services, session, person.id, order_id)
        except Refused as refused:
            return refused
        return None

    outcome = services.read(read)
    if outcome is None:
        return None
    if outcome == "unknown":
        return views.reply(f"I don't know order {order_id}. /tasks lists what waits for you.")
    if check.command.service is None:
        # Here, not at the top: the hint reads the declarations, which name these guards.

        check.record(str(outcome))
        return views.reply(
            f"Sorry — {refusal_text(outcome)}. /tasks lists the orders you are part of."
        )
    check.record(f"you are not a party of order {order_id}")
    return views.reply(
        f"Only the parties of order {order_id} can use /{check.command.name}, and you are not "
        "one of them. /tasks lists the orders you are part of."
    )


def cancellable(check: Check) -> Reply | None:
    """`/cancel ORDER` is for the order's buyer or a coordinator, and for an order that has not
    ended: what is refused is told before anything is acknowledged."""
    person, order_id = check.person, check.values["order_id"]
    if person is None:
        return views.reply(f"/cancel ORDER is for participants. {views.JOIN_HINT}")

    def read(session: Session) -> str | None:
        order = session.get(OrderRow, order_id)
        if order is None:
            return "unknown"
        if order.buyer_id != person.id and "coordinator" not in person.roles:
            return f"only the buyer of order {order_id} or a coordinator cancels it"
        if order.status == OrderStatus.CANCELLED:
            return f"order {order_id} is cancelled already"
        if order.status in ENDED:
            return f"order {order_id} is {order.status}; it can no longer be cancelled"
        return None

    outcome = check.services.read(read)
    if outcome is None:
        return None
    if outcome == "unknown":
        return views.reply(f"I don't know order {order_id}. /orders lists yours.")
    check.record(outcome)
    return views.reply(f"Sorry — {outcome}. /orders lists the orders you are part of.")
