"""A stage asserted, in words; a photo that proves a stage travels as the outbox payload's
`picture` (the kept picture's id), which each platform's sender shows as a photo."""

from __future__ import annotations

from bots.conversation.next_steps import command_text
from core.service.commands import AssertStage
from core.service.notices import Next, Rendered
from core.service.notices.stages import (
    OrderCompleted,
    StageAsserted,
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


RENDERERS = {
    StageAsserted: asserted,
    StageUnblocked: unblocked,
    StageProved: proved,
    OrderCompleted: completed,
}
