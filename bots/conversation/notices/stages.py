"""A stage asserted, in words; a photo that proves a stage travels as the outbox payload's
`picture` (the kept picture's id), which each platform's sender shows as a photo."""

from __future__ import annotations

from bots.conversation.next_steps import command_text, hint
from core.service.commands import AssertStage
from core.service.notices import Next, Rendered
from core.service.notices.stages import (
    OrderCompleted,
    StageAsserted,
    StageLate,
    StageProved,
    StageUnblocked,
)

_WORD = {"done": "is done", "failed": "failed", "reset": "is pending again"}


def asserted(notice: StageAsserted) -> Rendered:
    order = notice.order_id
    flag = ""
    if notice.out_of_order:
        flag = " (noted as out of order: an earlier stage is not done yet)"
    photo = " Your photo is kept as its evidence." if notice.photo else ""
    said = f"Order {order}: {notice.stage} {notice.stage_kind} {_WORD[notice.status]}{flag}."
    if notice.complete:
        return Rendered(f"{said}{photo} Order {order} is complete. Thank you all!", "completed")
    return Rendered(f"{said}{photo} {notice.percent}% of the stages are done.", notice.kind)


def unblocked(notice: StageUnblocked) -> Rendered:
    order, stage = notice.order_id, notice.stage
    done = command_text(Next(AssertStage, (order, stage), given=(("status", "done"),)))
    text = (
        f"Order {order}: {stage} {notice.stage_kind} of {notice.quantity} × {notice.item} can "
        f"start now. {done} when it is done (a photo with that caption proves it)."
    )
    return Rendered(text, notice.kind, {"buttons": [[f"Done {order}/{stage}", done]]})


def proved(notice: StageProved) -> Rendered:
    text = (
        f"Order {notice.order_id}: {notice.stage} {notice.stage_kind} of {notice.quantity} × "
        f"{notice.item} is done — {notice.by} sent this photo of it."
    )
    return Rendered(text, notice.kind, {"picture": notice.picture})


def completed(notice: OrderCompleted) -> Rendered:
    return Rendered(f"Order {notice.order_id} is complete. Thank you all!", notice.kind)


def late(notice: StageLate) -> Rendered:
    """'s7 (make 20 × face shield) was due Tue 9 Dec and is 1 day late; the order can still
    arrive by Fri 12 Dec if it is done by Wed 10 Dec.' — then what to do."""
    order, stage = notice.order_id, notice.stage
    whose = "" if notice.to_owner or not notice.owner else f" by {notice.owner}"
    what = f"{stage} ({notice.stage_kind} {notice.quantity} × {notice.item}{whose})"
    said = f"Order {order}: {what} was due {_day(notice.due)} and is {_late_by(notice)} late"
    arrives = _day(notice.arrives)
    if notice.order_due is not None and notice.slack_minutes is not None:
        due = _day(notice.order_due)
        if notice.slack_minutes >= 0:
            said += f"; the order can still arrive by {due} if it is done by {_day(notice.done_by)}"
        else:
            said += f"; the order can no longer arrive by {due}: done now, it arrives {arrives}"
    else:
        said += f"; done now, the order can arrive {arrives}"
    if notice.unknown:
        said += " — at the earliest: some of the times after it nobody gave"
    if notice.to_owner:
        done = command_text(notice.next[0])
        text = f"{said}. Say {done} when it is."
        return Rendered(text, notice.kind, {"buttons": [[f"Done {order}/{stage}", done]]})
    told = f"We told {notice.owner}" if notice.owner else "Nobody owes it yet"
    return Rendered(f"{said}. {told}; {hint(notice.next)}.", notice.kind)


def _day(moment) -> str:
    return f"{moment:%a} {moment.day} {moment:%b}"


def _late_by(notice: StageLate) -> str:
    minutes = notice.late_minutes
    if minutes >= 24 * 60:
        amount, unit = minutes // (24 * 60), "day"
    elif minutes >= 60:
        amount, unit = minutes // 60, "hour"
    else:
        amount, unit = max(1, minutes), "minute"
    return f"{amount} {unit}{'s' if amount != 1 else ''}"


RENDERERS = {
    StageAsserted: asserted,
    StageUnblocked: unblocked,
    StageProved: proved,
    OrderCompleted: completed,
    StageLate: late,
}
