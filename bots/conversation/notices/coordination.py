"""A coordinator's or buyer's interventions in words."""

from __future__ import annotations

from bots.conversation.next_steps import buttons, command_text
from core.service.commands import Agree, AssertStage
from core.service.notices import Next, Rendered, View
from core.service.notices.coordination import (
    CancelDone,
    Cancelled,
    Handed,
    HandedAway,
    HandedYou,
    Holdings,
    StageWork,
    StuckCancelled,
)

# Holders named in one message; the rest are counted.
MAX_NAMED = 4


def _names(held: Holdings) -> str:
    names = [who for who, _ in held]
    if len(names) > MAX_NAMED:
        names = [*names[:MAX_NAMED], f"{len(names) - MAX_NAMED} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _keep(held: Holdings) -> str:
    return "keeps" if len(held) == 1 else "keep"


def _what(work: StageWork) -> str:
    return f"{work.stage} {work.kind} of {work.quantity} × {work.item}"


def cancelled(notice: Cancelled) -> Rendered:
    head = f"Order {notice.order_id} is {notice.said}."
    if notice.yours:
        text = (
            f"{head} Keep what you made or received for it ({', '.join(notice.yours)}) until "
            "the buyer or a coordinator tells you where it goes; nothing more is expected of you."
        )
    elif notice.to_buyer:
        text = f"{head} Nothing more is made or sent for it."
        if notice.held:
            text += (
                f" {_names(notice.held)} {_keep(notice.held)} what they made or received for it "
                "until you or a coordinator say where it goes."
            )
        text += f" {command_text(Next(View.ORDERS))} lists your orders."
    else:
        text = f"{head} Your part in it is released; nothing more is expected of you. Thank you."
    return Rendered(text, notice.kind)


def stuck_cancelled(notice: StuckCancelled) -> Rendered:
    text = f"Order {notice.order_id}, which was stuck, is {notice.said}. Nothing more to do for it."
    return Rendered(text, notice.kind)


def cancel_done(notice: CancelDone) -> Rendered:
    count = notice.released
    said = [f"{count} part{'ies are' if count > 1 else 'y is'} told and released"] if count else []
    if notice.buyer_told:
        said.append("the buyer is told")
    if said:
        text = f"Order {notice.order_id} is cancelled; {' and '.join(said)}."
    else:
        text = f"Order {notice.order_id} is cancelled; no one else had a part in it yet."
    if notice.held:
        decides = "you or a coordinator" if notice.by_buyer else "you or the buyer"
        text += (
            f" {_names(notice.held)} {_keep(notice.held)} what they made or received for it "
            f"until {decides} say where it goes."
        )
    return Rendered(text, notice.kind)


def handed_you(notice: HandedYou) -> Rendered:
    order, work = notice.order_id, notice.work
    done = Next(AssertStage, (order, work.stage), (("status", "done"),))
    text = f"Order {order}: {notice.coordinator} handed you {_what(work)}"
    if notice.state == "failed":
        text += " (it failed with its last owner)"
    text += "."
    if not notice.agreed:
        text += (
            f" {command_text(Next(Agree, (order,)))} to take it on "
            f"({command_text(Next(View.STAGES, (order,)))} shows the order);"
        )
    elif notice.state in ("ready", "failed"):
        text += " It can start now;"
    else:
        text += " You will hear when it can start;"
    text += f" {command_text(done)} when it is done."
    press = ("Done", done) if notice.agreed else ("Agree", Next(Agree, (order,)))
    return Rendered(text, notice.kind, {"buttons": buttons(press)})


def handed_away(notice: HandedAway) -> Rendered:
    text = (
        f"Order {notice.order_id}: {notice.coordinator} handed {_what(notice.work)} to "
        f"{notice.to}; you are released from it. {command_text(Next(View.TASKS))} shows what "
        "you still owe."
    )
    return Rendered(text, notice.kind)


def handed(notice: Handed) -> Rendered:
    text = (
        f"Order {notice.order_id}: {_what(notice.work)} is now {notice.to}'s"
        + (f" (was {notice.was})" if notice.was else "")
        + (f"; {notice.to} is asked to agree first." if notice.asked_to_agree else ".")
    )
    return Rendered(text, notice.kind)


RENDERERS = {
    Cancelled: cancelled,
    StuckCancelled: stuck_cancelled,
    CancelDone: cancel_done,
    HandedYou: handed_you,
    HandedAway: handed_away,
    Handed: handed,
}
