"""Supply signals in words: a resource by its name, its id in brackets where it is typed."""

from __future__ import annotations

from bots.conversation.next_steps import command_text
from core.service.commands import Restore
from core.service.notices import Next, Rendered
from core.service.notices.disruptions import (
    BackInService,
    DisruptionNoted,
    OutOfService,
    RestoreNoted,
    Watching,
)


def _named(name: str, resource: str) -> str:
    return name if name == resource else f"{name} ({resource})"


def out_of_service(notice: OutOfService) -> Rendered:
    text = (
        f"{_named(notice.name, notice.resource)} is out of service: {notice.reason}. Orders "
        "that use it are being re-planned; their parties hear what changes."
    )
    return Rendered(text, notice.kind)


def back_in_service(notice: BackInService) -> Rendered:
    text = (
        f"{_named(notice.name, notice.resource)} is back in service. Orders that waited for it "
        "are being planned again."
    )
    return Rendered(text, notice.kind)


def disruption_noted(notice: DisruptionNoted) -> Rendered:
    named, count = _named(notice.name, notice.resource), notice.affected
    restore = Next(Restore, (notice.resource,))
    if count:
        orders = f"{count} live order{'' if count == 1 else 's'}"
        text = (
            f"Noted: {named} is out of service. {orders} used it and "
            f"{'is' if count == 1 else 'are'} being re-planned; their parties hear what changes. "
            f"{command_text(restore)} when it is back."
        )
    else:
        text = (
            f"Noted: {named} is out of service. No live order uses it; "
            f"{command_text(restore)} when it is back."
        )
    return Rendered(text, notice.kind)


def restore_noted(notice: RestoreNoted) -> Rendered:
    text = f"Noted: {_named(notice.name, notice.resource)} is back in service."
    if notice.replanned:
        each = ", ".join(
            f"{order} {'goes on' if goes_on else 'still waits'}"
            for order, goes_on in notice.replanned
        )
        text += f" Orders that waited were planned again: {each}."
    else:
        text += " No order was waiting for it."
    return Rendered(text, notice.kind)


def watching(notice: Watching) -> Rendered:
    return Rendered(
        f"You will hear when {notice.name} is disrupted or back in service.", notice.kind
    )


RENDERERS = {
    OutOfService: out_of_service,
    BackInService: back_in_service,
    DisruptionNoted: disruption_noted,
    RestoreNoted: restore_noted,
    Watching: watching,
}
