"""Who is who: loading the network, invite codes, joining and registering chat accounts."""

from __future__ import annotations

import base64
import logging
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, event, or_, update
from sqlmodel import select

from core.network.model import ROLES
from core.network.snapshot import to_document
from core.service import records
from core.service.bus import MAX_ID, Context, bounded
from core.service.commands import CreateInvite, Join, LoadNetwork, Register, SpeakForEveryone
from core.service.names import clean, skeleton, suggestion
from core.service.notices import Next
from core.service.notices.participants import InviteMade, Joined, Registered
from core.service.results import Refused
from core.store.tables import ChatIdentity, Invite, JoinAttempt, NetworkVersion, ParticipantRow
from core.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

INVITED_ROLES = ("maker", "supplier", "transporter", "coordinator")
MAX_INVITE_DAYS = 365
# Guessing an 80-bit code is hopeless anyway; the limit keeps a typo-prone person from being
# mistaken for a guesser for long, and a guesser from trying more than 120 codes a day.
MAX_FAILED_JOINS = 5
FAILED_JOINS_WINDOW = timedelta(hours=1)


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
        name = clean(p.name) or p.id  # a network file's names are shown in chat like any other
        if row is None:
            ctx.session.add(
                ParticipantRow(
                    id=p.id,
                    name=name,
                    roles=list(p.roles),
                    contacts=dict(p.contacts),
                    created_at=ctx.now,
                )
            )
        else:
            row.name, row.roles, row.contacts = name, list(p.roles), dict(p.contacts)
            ctx.session.add(row)
        for platform, address in p.contacts.items():
            if platform in ctx.services.platforms:
                _link(ctx, platform, str(address), p.id)
    ctx.session.flush()
    ctx.forget_network()
    ctx.record(
        "network_loaded", {"version": version.version, "note": version.note}, actor=command.actor
    )
    return version.version


def create_invite(command: CreateInvite, ctx: Context) -> str:
    if not records.is_coordinator(ctx.session, command.actor):
        raise Refused("only a coordinator invites")
    if command.role not in INVITED_ROLES:
        raise Refused(f"invites are for {', '.join(INVITED_ROLES)}; buyers register themselves")
    if not 1 <= command.days <= MAX_INVITE_DAYS:
        raise Refused(f"an invite works for 1 to {MAX_INVITE_DAYS} days, not {command.days}")
    if command.participant_id is not None:
        records.participant(ctx.session, command.participant_id)
    code = new_invite_code()
    expires = ctx.now + timedelta(days=command.days)
    ctx.session.add(
        Invite(
            code=code,
            role=command.role,
            participant_id=command.participant_id,
            created_by=command.actor,
            created_at=ctx.now,
            expires_at=expires,
        )
    )
    ctx.record(
        "invite_created",
        {"role": command.role, "participant": command.participant_id},
        actor=command.actor,
    )
    shown = shown_code(code)
    # Chat carries this command out later, through a worker: the code reaches its asker here.
    ctx.notify(command.actor, InviteMade(command.role, shown, expires), outcome=True)
    return code


def join(command: Join, ctx: Context) -> str:
    _check_platform(ctx, command.platform, command.address)
    _not_guessing(ctx, command.platform, command.address)
    given = bounded(command.code, "code", 40)
    # Claimed by a conditional update, so that of two accounts using one code at the same moment
    # exactly one gets it: the second waits for the first's row lock, then finds it used.
    claimed = ctx.session.exec(
        update(Invite)
        .where(
            Invite.code.in_({given, typed_code(given)}),
            Invite.used_at.is_(None),
            or_(Invite.expires_at.is_(None), Invite.expires_at > ctx.now),
        )
        .values(used_at=ctx.now)
        .returning(Invite.code)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        _count_failure(ctx, command.platform, command.address)
        raise Refused(_why_not(ctx, given))
    invite = ctx.session.get(Invite, claimed[0], populate_existing=True)
    participant_id = invite.participant_id
    if participant_id is None:
        name = clean(bounded(command.name, "name", 200)) or _handle(command) or command.address
        _name_is_free(ctx, name, command.platform)
        participant_id = _new_id(ctx, name)
        ctx.session.add(
            ParticipantRow(id=participant_id, name=name, roles=[invite.role], created_at=ctx.now)
        )
    else:
        row = records.participant(ctx.session, participant_id)
        if invite.role not in row.roles:
            row.roles = [*row.roles, invite.role]
            ctx.session.add(row)
    invite.used_by = participant_id
    ctx.session.add(invite)
    _link(ctx, command.platform, command.address, participant_id, _handle(command))
    ctx.record("joined", {"role": invite.role, "platform": command.platform}, actor=participant_id)
    ctx.notify(participant_id, Joined(invite.role, participant_id))
    return participant_id


def register(command: Register, ctx: Context) -> str:
    _check_platform(ctx, command.platform, command.address)
    if command.role != "buyer":
        if command.role in ROLES:
            raise Refused(
                f"{command.role}s join with an invite code from a coordinator",
                next=(Next(Join, ("CODE",)),),
            )
        raise Refused(f"unknown role {command.role!r}; buyers may register themselves")
    name = clean(bounded(command.name, "name", 200))
    if not name:
        raise Refused("a name is needed", next=(Next(Register, ("buyer", "YOUR NAME")),))
    _name_is_free(ctx, name, command.platform)
    participant_id = _new_id(ctx, name)
    ctx.session.add(
        ParticipantRow(id=participant_id, name=name, roles=["buyer"], created_at=ctx.now)
    )
    _link(ctx, command.platform, command.address, participant_id, _handle(command))
    ctx.record("registered", {"role": "buyer", "platform": command.platform}, actor=participant_id)
    ctx.notify(participant_id, Registered(name))
    return participant_id


def new_invite_code() -> str:
    """80 random bits as 16 letters and digits of base32 (no 0, 1, 8 or 9 to misread)."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


def shown_code(code: str) -> str:
    """ABCD-EFGH-JKLM-NPQR: four groups are easier to read out and type."""
    if len(code) != 16:  # a code from before: shown as it was given
        return code
    return "-".join(code[i : i + 4] for i in range(0, 16, 4))


def typed_code(text: str) -> str:
    """The code a person meant: case, dashes and spaces aside, and 0/1/8 read as O/I/B (base32
    has no such digits)."""
    letters = "".join(char for char in text.upper() if char.isascii() and char.isalnum())
    return letters.translate(str.maketrans("018", "OIB"))


def _not_guessing(ctx: Context, platform: str, address: str) -> None:
    """Refused after MAX_FAILED_JOINS wrong codes within the window, until the oldest of them
    leaves it. Counted in the database: every bot process and restart sees the same count."""
    since = ctx.now - FAILED_JOINS_WINDOW
    failures = ctx.session.exec(
        select(JoinAttempt.at)
        .where(
            JoinAttempt.platform == platform,
            JoinAttempt.address == address,
            JoinAttempt.at > since,
        )
        .order_by(JoinAttempt.at.desc())
        .limit(MAX_FAILED_JOINS)
    ).all()
    if len(failures) >= MAX_FAILED_JOINS:
        again = min(failures) + FAILED_JOINS_WINDOW
        raise Refused(
            f"too many wrong invite codes from this account; try again after {_when(again)}"
        )


def _count_failure(ctx: Context, platform: str, address: str) -> None:
    """Keep a wrong code's attempt although the command is refused and its transaction rolled
    back: written in a transaction of its own once the command's has ended (not during it: on
    SQLite that one holds the only write lock), whether that ends in a rollback (a command
    handled alone) or a commit (a kept chat message, whose refusal is recorded)."""
    engine, at, counted = ctx.services.engine, ctx.now, []

    def after(_session, transaction) -> None:
        if transaction.parent is not None or counted:  # a savepoint's end, or done already
            return
        counted.append(at)
        try:
            with UnitOfWork(engine) as uow:
                uow.session.add(JoinAttempt(platform=platform, address=address, at=at))
                # What has left the window counts no more: the table keeps only the last hour.
                uow.session.exec(
                    delete(JoinAttempt).where(
                        JoinAttempt.platform == platform,
                        JoinAttempt.address == address,
                        JoinAttempt.at <= at - FAILED_JOINS_WINDOW,
                    )
                )
                uow.commit()
        except Exception:  # the refusal still stands; only this attempt goes uncounted
            log.exception("could not count a wrong invite code")

    event.listen(ctx.session, "after_transaction_end", after)


def _why_not(ctx: Context, given: str) -> str:
    invite = ctx.session.exec(
        select(Invite).where(Invite.code.in_({given, typed_code(given)}))
    ).first()
    if invite is not None and invite.used_at is None and invite.expires_at is not None:
        return (
            f"that invite code expired on {_when(invite.expires_at)}; "
            "ask a coordinator for a new one"
        )
    return "that invite code is unknown or already used; ask a coordinator for a new one"


def _name_is_free(ctx: Context, name: str, platform: str) -> None:
    """A name that reads like another participant's is refused: people act on who a message is
    from, and the name is what they see first."""
    taken = {
        skeleton(other): other for other in ctx.session.exec(select(ParticipantRow.name)).all()
    }
    mine = skeleton(name)
    if mine in taken:
        other = name if taken[mine] == name else f"{name} (too like {taken[mine]})"
        better = suggestion(name, platform, set(taken))
        raise Refused(f"the name {other} is taken; choose another, e.g. {better}")


def _handle(command: Join | Register) -> str | None:
    return clean(command.handle)[:200] or None


def _when(at: datetime) -> str:
    return f"{at:%d %B %Y %H:%M} UTC"


def who_is(session, platform: str, address: str) -> str | None:
    """The participant a chat account speaks for, if any."""
    identity = session.exec(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform, ChatIdentity.address == address
        )
    ).first()
    return identity.participant_id if identity else None


def _link(
    ctx: Context, platform: str, address: str, participant_id: str, handle: str | None = None
) -> None:
    identity = ctx.session.exec(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform, ChatIdentity.address == address
        )
    ).first()
    if identity is None:
        identity = ChatIdentity(platform=platform, address=address, participant_id=participant_id)
    elif identity.participant_id != participant_id:
        raise Refused(f"that {platform} account already speaks for {identity.participant_id}")
    if handle is not None:
        identity.handle = handle  # a Telegram username may have changed since
    ctx.session.add(identity)


def handle_of(session, participant_id: str, platform: str | None = None) -> str | None:
    """How others know a participant on a chat platform (that one's first, if it is given): the
    handle kept at /register or /join, or a Matrix account's own id, which is its handle. A
    Telegram account without a username has none: its number is not for others to see."""
    identities = session.exec(
        select(ChatIdentity).where(ChatIdentity.participant_id == participant_id)
    ).all()
    known = [
        (identity.platform != platform, identity.id or 0, handle)
        for identity in identities
        if (
            handle := identity.handle
            or (identity.address if identity.platform == "matrix" else None)
        )
    ]
    return min(known)[2] if known else None


def _check_platform(ctx: Context, platform: str, address: str) -> None:
    if platform not in ctx.services.platforms:
        raise Refused(f"unknown platform {platform!r}")
    if not address or len(address) > 200 or clean(address) != address:
        raise Refused("a chat address is needed")


def _new_id(ctx: Context, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[: MAX_ID - 8] or "participant"
    candidate, n = base, 1
    while ctx.session.get(ParticipantRow, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def speak_for_everyone(command: SpeakForEveryone, ctx: Context) -> int:
    """How many participants were linked now (the others already were)."""
    if command.platform not in ctx.services.platforms:
        raise Refused(f"unknown platform {command.platform!r}")
    linked = set(
        ctx.session.exec(
            select(ChatIdentity.participant_id).where(ChatIdentity.platform == command.platform)
        )
    )
    added = 0
    for participant in ctx.session.exec(select(ParticipantRow.id)):
        if participant not in linked:
            ctx.session.add(
                ChatIdentity(
                    platform=command.platform, address=participant, participant_id=participant
                )
            )
            added += 1
    if added:
        ctx.record("speaks_for_everyone", {"platform": command.platform, "participants": added})
    return added
