"""A command from chat as such, in words: refused, carried out, given up."""

from __future__ import annotations

from bots.conversation.next_steps import hint
from core.service.notices import Rendered
from core.service.notices.inbound import CarriedOut, CommandRefused, DeadLetter, NotCarriedOut

# What a command did, for the rare handler that ends without saying so itself.
DID = {"Watch": "you are watching it", "Say": "passed on"}


def spoken(command: str) -> str:
    """The command as a person would say it: "ChoosePlan" → "choose plan"."""
    return "".join(f" {c.lower()}" if c.isupper() else c for c in command).strip()


def _about(order_id: int | None) -> str:
    return f" for order {order_id}" if order_id is not None else ""


def refused(notice: CommandRefused) -> Rendered:
    text = f"{notice.reason} — {hint(notice.next)}" if notice.next else notice.reason
    return Rendered(text, notice.kind)


def carried_out(notice: CarriedOut) -> Rendered:
    return Rendered(f"Done: {DID.get(notice.command, spoken(notice.command))}.", notice.kind)


def not_carried_out(notice: NotCarriedOut) -> Rendered:
    told = (
        "A coordinator has been told" if notice.coordinators_told else "Please tell a coordinator"
    )
    return Rendered(
        f"Sorry — I could not carry out your {spoken(notice.command)}{_about(notice.order_id)}. "
        f"{told}; nothing of it was changed.",
        notice.kind,
    )


def dead_letter(notice: DeadLetter) -> Rendered:
    return Rendered(
        f"A command could not be carried out: {notice.command}{_about(notice.order_id)} from "
        f"{notice.sender or 'an unknown sender'} failed {notice.tries} times ({notice.error}; "
        f"inbound message {notice.inbound_id}). It will not be tried again.",
        notice.kind,
    )


RENDERERS = {
    CommandRefused: refused,
    CarriedOut: carried_out,
    NotCarriedOut: not_carried_out,
    DeadLetter: dead_letter,
}
