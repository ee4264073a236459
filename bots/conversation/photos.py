"""A photo proves a stage. Sent with the caption `/done ORDER STAGE` (or `/fail …`) it is that
assertion, the picture kept as its evidence; sent without one, SCIS asks which of the sender's
open stages it proves, with each as a button, and keeps the photo pending (the account's flow
step, flows.py) until one is pressed. `/done` alone lists the open stages the same way.

The picture itself is kept in the database (core.service.evidence); what travels in commands
and in the flow step is its id.
"""

from __future__ import annotations

from bots.conversation import views
from bots.conversation.flows import Flow, Pending
from bots.conversation.messages import Incoming, Photo, Reply
from bots.conversation.turn import Person, Turn
from core.service import evidence
from core.service.bus import Services
from core.service.listings import Owed, duties

# The flow step of a photo waiting to be told which stage it proves; `given` is its id.
PENDING = "photo"
BUTTONS = 6  # the open stages offered; /tasks lists them all

MEGABYTE = 1024 * 1024


def too_large(photo: Photo) -> Reply | None:
    said = photo.bytes_said
    if said <= evidence.MAX_PICTURE_BYTES:
        return None
    return views.reply(
        f"That photo is too large ({said / MEGABYTE:.1f} MB; at most "
        f"{evidence.MAX_PICTURE_BYTES // MEGABYTE} MB). Please send a smaller one."
    )


def keep(services: Services, person: Person, incoming: Incoming) -> int:
    """The photo kept, not yet proving anything: its id."""
    photo = incoming.photo
    return evidence.keep(
        services,
        person.id,
        photo.data,
        photo.content_type,
        incoming.platform,
        photo.reference,
    )


def pending(flow: Flow) -> int | None:
    """The id of the photo waiting for its stage, if any."""
    step = flow.pending()
    if step is None or step.command != PENDING or not step.given.isdigit():
        return None
    return int(step.given)


def ask_which_stage(services: Services, person: Person, incoming: Incoming, flow: Flow) -> Reply:
    """A photo without an assertion: which open stage does it prove?"""
    stages = _open(services, person)
    if not stages:
        return views.reply(
            "Thanks for the photo — but you have no open stages it could prove, so I did not "
            "keep it. /tasks shows what waits for you."
        )
    picture = keep(services, person, incoming)
    if not flow.begin(Pending(PENDING, str(picture))):
        evidence.forget(services, picture)
        return views.reply(
            "I can't keep that photo for you here; send it again with the caption "
            "/done ORDER STAGE."
        )
    return views.reply(
        "Which stage does this photo prove? Press it, or send /done ORDER STAGE. (Or /cancel.)",
        _buttons(stages),
    )


def open_stages(turn: Turn) -> Reply:
    """`/done` alone: the stages the person may say are done, as buttons."""
    stages = _open(turn.services, turn.person)
    if not stages:
        return views.reply("You have no open stages right now. /tasks shows what waits for you.")
    lines = ["Which stage is done? Your open stages:"]
    lines += [
        f"  order {s.order_id}: {s.stage} {s.kind} {s.quantity} × {s.item}"
        for s in stages[:BUTTONS]
    ]
    if len(stages) > BUTTONS:
        lines.append(f"… and {len(stages) - BUTTONS} more: /done ORDER STAGE.")
    return views.reply("\n".join(lines), _buttons(stages))


def not_an_assertion() -> Reply:
    return views.reply(
        "A photo proves a stage: send it with the caption /done ORDER STAGE (or /fail ORDER "
        "STAGE REASON), or with no caption and I'll ask which stage it proves."
    )


def _open(services: Services, person: Person) -> list[Owed]:
    """The stages a person may prove now: the pending ones they own in agreed orders, those
    ready to start first."""
    owed = services.read(lambda session: duties(services, session, person.id)).stages
    return sorted(owed, key=lambda s: not s.ready)


def _buttons(stages: list[Owed]) -> list[list[tuple[str, str]]]:
    shown = [
        (f"Order {s.order_id}: {s.stage} {s.kind}", f"/done {s.order_id} {s.stage}")
        for s in stages[:BUTTONS]
    ]
    return [shown[i : i + 2] for i in range(0, len(shown), 2)]
