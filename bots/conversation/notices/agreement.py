"""Agreeing to a plan in words: who agreed, whom the order still waits for, what starts."""

from __future__ import annotations

from bots.conversation.next_steps import buttons, command_text
from core.service.commands import Agree, AssertStage, Decline, Reweave
from core.service.notices import Next, Rendered, View
from core.service.notices.agreement import (
    AgreedButBlocked,
    AgreedByChoosing,
    AgreementBlocked,
    AgreementNoted,
    AllAgreed,
    PartyAgreed,
)

LABELS = {
    Agree: "Agree",
    Decline: "Decline",
    Reweave: "Find another way",
    View.TERMS: "Details",
    View.STAGES: "Stages",
}


def party_agreed(notice: PartyAgreed) -> Rendered:
    text = f"Order {notice.order_id}: {notice.who} agreed. "
    if notice.reader_awaited:
        text += _waiting(("you", *notice.awaited))
    else:
        text += _waiting(notice.awaited)
    return _rendered(text, notice)


def agreement_noted(notice: AgreementNoted) -> Rendered:
    text = (
        f"Thanks — you agreed to order {notice.order_id}. {_waiting(notice.awaited)} "
        "You will hear when it starts."
    )
    return _rendered(text, notice)


def agreed_by_choosing(notice: AgreedByChoosing) -> Rendered:
    order = notice.order_id
    if notice.awaited:
        text = (
            f"You agreed to order {order} when you chose its plan; nothing more is needed from "
            f"you now. {_waiting(notice.awaited)} You will hear when everyone has."
        )
    else:
        text = (
            f"You agreed to order {order} when you chose its plan, and so has everyone: it is "
            "under way."
        )
    return _rendered(text, notice)


def all_agreed(notice: AllAgreed) -> Rendered:
    order = notice.order_id
    text = f"Order {order} is agreed by everyone."
    if notice.stages:
        done = command_text(Next(AssertStage, (order, "STAGE"), given=(("status", "done"),)))
        text += f" Your stages: {', '.join(notice.stages)}; {done} when each is done."
    text += f" {command_text(Next(View.STAGES, (order,)))} shows them all."
    return _rendered(text, notice)


def agreed_but_blocked(notice: AgreedButBlocked) -> Rendered:
    text = (
        f"Order {notice.order_id}: {notice.reason}. "
        f"{command_text(notice.next[0])} finds another way; a coordinator has been told."
    )
    return _rendered(text, notice)


def agreement_blocked(notice: AgreementBlocked) -> Rendered:
    text = (
        f"Thanks — noted. Order {notice.order_id} is blocked: {notice.reason}; you will hear how "
        "it goes on."
    )
    return _rendered(text, notice)


def _waiting(awaited: tuple[str, ...]) -> str:
    if not awaited:
        return "Everyone has agreed."
    if len(awaited) > 4:
        shown = f"{', '.join(awaited[:3])} and {len(awaited) - 3} more"
    elif len(awaited) > 1:
        shown = f"{', '.join(awaited[:-1])} and {awaited[-1]}"
    else:
        shown = awaited[0]
    return f"Still waiting for {shown}."


def _rendered(text: str, notice) -> Rendered:
    payload = {}
    if notice.next:
        payload["buttons"] = buttons(*((LABELS[s.action], s) for s in notice.next))
    return Rendered(text, notice.kind, payload)


RENDERERS = {
    PartyAgreed: party_agreed,
    AgreementNoted: agreement_noted,
    AgreedByChoosing: agreed_by_choosing,
    AllAgreed: all_agreed,
    AgreedButBlocked: agreed_but_blocked,
    AgreementBlocked: agreement_blocked,
}
