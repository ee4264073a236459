"""Re-planning in words."""

from __future__ import annotations

from bots.conversation.next_steps import buttons, command_text
from core.service.commands import CancelOrder, DecideSubstitution, Reweave
from core.service.notices import Next, Rendered, View
from core.service.notices.replanning import (
    Choice,
    Held,
    NothingReplaces,
    PartReleased,
    PartSmaller,
    ProposalPassed,
    Replanned,
    Rewoven,
    SubstituteAdopted,
    SubstituteRejected,
    SubstitutesProposed,
    SubstitutionProposed,
    WaitsForDecision,
)


def _approve(order_id: int, choice: Choice) -> Next:
    return Next(DecideSubstitution, (order_id, choice.substitution_id), (("approve", True),))


def _reject(order_id: int, choice: Choice) -> Next:
    return Next(DecideSubstitution, (order_id, choice.substitution_id), (("approve", False),))


def _decision_buttons(order_id: int, choices: tuple[Choice, ...]) -> list[list[str]]:
    """Approve / Reject for each proposed substitution."""
    return buttons(
        *(
            pair
            for choice in choices
            for pair in (
                (f"Approve {choice.substitution_id}", _approve(order_id, choice)),
                (f"Reject {choice.substitution_id}", _reject(order_id, choice)),
            )
        )
    )


def _either(order_id: int, choice: Choice) -> str:
    return (
        f"{command_text(_approve(order_id, choice))} or {command_text(_reject(order_id, choice))}"
    )


def _stages(order_id: int) -> str:
    return command_text(Next(View.STAGES, (order_id,)))


def _held(held: Held) -> str:
    if not held:
        return ""
    things = ", ".join(dict.fromkeys(f"{quantity} × {item}" for quantity, item in held))
    return (
        f" You hold {things} for it: keep it until the buyer or a coordinator tells you where "
        "it goes."
    )


def part_released(notice: PartReleased) -> Rendered:
    text = (
        f"Order {notice.order_id} no longer needs your part ({notice.cause}). "
        "Thank you — nothing more is expected of you." + _held(notice.held)
    )
    return Rendered(text, notice.kind)


def part_smaller(notice: PartSmaller) -> Rendered:
    text = (
        f"Order {notice.order_id}: {notice.cause}. Your part is smaller now; "
        f"{_stages(notice.order_id)} shows what is still yours."
    )
    return Rendered(text, notice.kind)


def replanned(notice: Replanned) -> Rendered:
    names = ", ".join(notice.joined)
    forwarded = "; ".join(
        f"{f.supplier} forwards {f.quantity} × {f.item}" for f in notice.forwarded
    )
    text = (
        f"Order {notice.order_id}: {notice.cause}. Re-planned{' with ' + names if names else ''}"
        + (f"; {forwarded}" if forwarded else "")
        + f". Now {notice.waiting}. {_stages(notice.order_id)} shows the stages."
    )
    return Rendered(text, notice.kind)


def substitutes_proposed(notice: SubstitutesProposed) -> Rendered:
    choices = "; ".join(
        f"{c.by} instead of {c.item} ({_either(notice.order_id, c)})" for c in notice.choices
    )
    text = (
        f"Order {notice.order_id}: {notice.cause}, and no source of {notice.what} is left. "
        f"A substitute could do: {choices}."
    )
    payload = {
        "substitutions": [c.substitution_id for c in notice.choices],
        "buttons": _decision_buttons(notice.order_id, notice.choices),
    }
    return Rendered(text, notice.kind, payload)


def nothing_replaces(notice: NothingReplaces) -> Rendered:
    text = (
        f"Order {notice.order_id}: {notice.cause}, and nothing can replace {notice.what} for "
        "now. A coordinator has been told; you will hear as soon as that changes. "
        f"{command_text(Next(CancelOrder, (notice.order_id,)))} if you no longer need it."
    )
    return Rendered(text, notice.kind)


def waits_for_decision(notice: WaitsForDecision) -> Rendered:
    text = (
        f"Order {notice.order_id}: {notice.cause}. It waits for a decision; you will get a new "
        "frame if your part changes."
    )
    return Rendered(text, notice.kind)


def rewoven(notice: Rewoven) -> Rendered:
    order = notice.order_id
    if notice.state == "open":
        text = f"Order {order}: new plans are ready; {command_text(Next(View.PLANS, (order,)))} "
        text += "shows them."
    elif notice.state == "waiting":
        text = (
            f"Order {order}: still no way to deliver it ({notice.reason}). It waits; "
            f"{command_text(Next(Reweave, (order,)))} again when a source is back or the "
            "network is updated."
        )
    elif notice.state == "replanned":
        text = f"Order {order}: re-planned — {notice.reason}. {_stages(order)} shows it."
    else:
        text = f"Order {order}: nothing is missing from its plan; it goes on as planned."
    return Rendered(text, notice.kind)


def substitution_proposed(notice: SubstitutionProposed) -> Rendered:
    choice = notice.choice
    text = (
        f"Order {notice.order_id}: {notice.proposer} proposes {choice.by} instead of "
        f"{choice.item}{' — ' + notice.reason if notice.reason else ''}. "
        f"{_either(notice.order_id, choice)}."
    )
    payload = {
        "substitution": choice.substitution_id,
        "buttons": _decision_buttons(notice.order_id, (choice,)),
    }
    return Rendered(text, notice.kind, payload)


def proposal_passed(notice: ProposalPassed) -> Rendered:
    history = command_text(Next(View.HISTORY, (notice.order_id,)))
    text = (
        f"Order {notice.order_id}: your proposal of {notice.by} instead of {notice.item} went "
        f"to the buyer, who decides; {history} shows the answer."
    )
    return Rendered(text, notice.kind)


def substitute_rejected(notice: SubstituteRejected) -> Rendered:
    text = f"Order {notice.order_id}: {notice.by} will not be used. " + (
        "It waits for a source to come back; a coordinator knows."
        if notice.waits
        else f"{_stages(notice.order_id)} shows how it stands."
    )
    return Rendered(text, notice.kind)


def substitute_adopted(notice: SubstituteAdopted) -> Rendered:
    text = (
        f"Order {notice.order_id}: {notice.cause} — re-planned; now {notice.reason}. "
        f"{_stages(notice.order_id)} shows the stages."
    )
    return Rendered(text, notice.kind)


RENDERERS = {
    PartReleased: part_released,
    PartSmaller: part_smaller,
    Replanned: replanned,
    SubstitutesProposed: substitutes_proposed,
    NothingReplaces: nothing_replaces,
    WaitsForDecision: waits_for_decision,
    Rewoven: rewoven,
    SubstitutionProposed: substitution_proposed,
    ProposalPassed: proposal_passed,
    SubstituteRejected: substitute_rejected,
    SubstituteAdopted: substitute_adopted,
}
