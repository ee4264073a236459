"""Who is who: loading the network, invite codes, joining and registering chat accounts."""

from __future__ import annotations

import re
import secrets

from sqlmodel import select

from core.network.model import ROLES
from core.network.snapshot import to_document
from core.service import records
from core.service.bus import MAX_ID, Context, bounded, handles
from core.service.commands import CreateInvite, Join, LoadNetwork, Register
from core.service.results import Refused
from core.store.tables import ChatIdentity, Invite, NetworkVersion, ParticipantRow

CHAT_PLATFORMS = ("telegram", "matrix", "console")
INVITED_ROLES = ("maker", "supplier", "transporter", "coordinator")


@handles(LoadNetwork)
def load_network(command: LoadNetwork, ctx: Context) -> int:
    """A new network version; its participants and their chat accounts become known."""
    if command.actor is not None and not records.is_coordinator(ctx.session, command.actor):
        raise Refused("only a coordinator loads a network")
    version = NetworkVersion(
        created_at=ctx.now,
        actor=command.actor,
        note=bounded(command.note, "note", 500),
        document=to_document(command.network),
    )
    ctx.session.add(version)
    for p in command.network.participants.values():
        row = ctx.session.get(ParticipantRow, p.id)
        if row is None:
            ctx.session.add(
                ParticipantRow(
                    id=p.id,
                    name=p.name,
                    roles=list(p.roles),
                    contacts=dict(p.contacts),
                    created_at=ctx.now,
                )
            )
        else:
            row.name, row.roles, row.contacts = p.name, list(p.roles), dict(p.contacts)
            ctx.session.add(row)
        for platform, address in p.contacts.items():
            if platform in CHAT_PLATFORMS:
                _link(ctx, platform, str(address), p.id)
    ctx.session.flush()
    ctx.forget_network()
    ctx.record(
        "network_loaded", {"version": version.version, "note": version.note}, actor=command.actor
    )
    return version.version


@handles(CreateInvite)
def create_invite(command: CreateInvite, ctx: Context) -> str:
    if not records.is_coordinator(ctx.session, command.actor):
        raise Refused("only a coordinator invites")
    if command.role not in INVITED_ROLES:
        raise Refused(f"invites are for {', '.join(INVITED_ROLES)}; buyers register themselves")
    if command.participant_id is not None:
        records.participant(ctx.session, command.participant_id)
    code = secrets.token_hex(4)
    ctx.session.add(
        Invite(
            code=code,
            role=command.role,
            participant_id=command.participant_id,
            created_by=command.actor,
            created_at=ctx.now,
        )
    )
    ctx.record(
        "invite_created",
        {"role": command.role, "participant": command.participant_id},
        actor=command.actor,
    )
    # Chat carries this command out later, through a worker: the code reaches its asker here.
    ctx.tell(
        command.actor,
        "invite",
        f"Invite code for a {command.role}: {code} — they send /join {code} to take part. "
        "It works once.",
    )
    return code


@handles(Join)
def join(command: Join, ctx: Context) -> str:
    _check_platform(command.platform, command.address)
    invite = ctx.session.get(Invite, bounded(command.code, "code", 40))
    if invite is None or invite.used_at is not None:
        raise Refused(
            "that invite code is unknown or already used; ask a coordinator for a new one"
        )
    participant_id = invite.participant_id
    if participant_id is None:
        name = bounded(command.name, "name", 200) or command.address
        participant_id = _new_id(ctx, name)
        ctx.session.add(
            ParticipantRow(id=participant_id, name=name, roles=[invite.role], created_at=ctx.now)
        )
    else:
        row = records.participant(ctx.session, participant_id)
        if invite.role not in row.roles:
            row.roles = [*row.roles, invite.role]
            ctx.session.add(row)
    invite.used_by, invite.used_at = participant_id, ctx.now
    ctx.session.add(invite)
    _link(ctx, command.platform, command.address, participant_id)
    ctx.record("joined", {"role": invite.role, "platform": command.platform}, actor=participant_id)
    ctx.tell(
        participant_id,
        "welcome",
        f"Welcome! You are {invite.role} {participant_id}. /help shows what you can do.",
    )
    return participant_id


@handles(Register)
def register(command: Register, ctx: Context) -> str:
    _check_platform(command.platform, command.address)
    if command.role != "buyer":
        if command.role in ROLES:
            raise Refused(
                f"{command.role}s join with an invite code from a coordinator (/join CODE)"
            )
        raise Refused(f"unknown role {command.role!r}; buyers may register themselves")
    name = bounded(command.name, "name", 200)
    if not name:
        raise Refused("a name is needed: /register buyer YOUR NAME")
    participant_id = _new_id(ctx, name)
    ctx.session.add(
        ParticipantRow(id=participant_id, name=name, roles=["buyer"], created_at=ctx.now)
    )
    _link(ctx, command.platform, command.address, participant_id)
    ctx.record("registered", {"role": "buyer", "platform": command.platform}, actor=participant_id)
    ctx.tell(participant_id, "welcome", f"Welcome, {name}! /catalog shows what can be ordered.")
    return participant_id


def who_is(session, platform: str, address: str) -> str | None:
    """The participant a chat account speaks for, if any."""
    identity = session.exec(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform, ChatIdentity.address == address
        )
    ).first()
    return identity.participant_id if identity else None


def _link(ctx: Context, platform: str, address: str, participant_id: str) -> None:
    existing = who_is(ctx.session, platform, address)
    if existing == participant_id:
        return
    if existing is not None:
        raise Refused(f"that {platform} account already speaks for {existing}")
    ctx.session.add(ChatIdentity(platform=platform, address=address, participant_id=participant_id))


def _check_platform(platform: str, address: str) -> None:
    if platform not in CHAT_PLATFORMS:
        raise Refused(f"unknown platform {platform!r}")
    if not address or len(address) > 200:
        raise Refused("a chat address is needed")


def _new_id(ctx: Context, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[: MAX_ID - 8] or "participant"
    candidate, n = base, 1
    while ctx.session.get(ParticipantRow, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
