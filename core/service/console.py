"""The terminal front end's one use case: every participant reachable on the console."""

from __future__ import annotations

from sqlmodel import select

from core.service.bus import Context, handles
from core.service.commands import OpenConsole
from core.store.tables import ChatIdentity, ParticipantRow


@handles(OpenConsole)
def open_console(command: OpenConsole, ctx: Context) -> int:
    """How many participants were linked now (the others already were)."""
    linked = set(
        ctx.session.exec(
            select(ChatIdentity.participant_id).where(ChatIdentity.platform == "console")
        )
    )
    added = 0
    for participant in ctx.session.exec(select(ParticipantRow.id)):
        if participant not in linked:
            ctx.session.add(
                ChatIdentity(platform="console", address=participant, participant_id=participant)
            )
            added += 1
    if added:
        ctx.record("console_opened", {"participants": added})
    return added
