"""Taking part in words."""

from __future__ import annotations

from bots.conversation.next_steps import command_text
from core.service.commands import Join
from core.service.notices import Next, Rendered, View
from core.service.notices.participants import InviteMade, Joined, Registered


def invite_made(notice: InviteMade) -> Rendered:
    text = (
        f"Invite code for a {notice.role}: {notice.code} — they send "
        f"{command_text(Next(Join, (notice.code,)))} to take part. It works once, until "
        f"{notice.expires:%d %B %Y %H:%M} UTC."
    )
    return Rendered(text, notice.kind)


def joined(notice: Joined) -> Rendered:
    # /help is a step of the conversation, not a view of core: it is named as declared.
    text = f"Welcome! You are {notice.role} {notice.participant_id}. /help shows what you can do."
    return Rendered(text, notice.kind)


def registered(notice: Registered) -> Rendered:
    text = f"Welcome, {notice.name}! {command_text(Next(View.CATALOG))} shows what can be ordered."
    return Rendered(text, notice.kind)


RENDERERS = {InviteMade: invite_made, Joined: joined, Registered: registered}
