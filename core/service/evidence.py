"""Photos as evidence: a picture a person sends to prove a stage is kept in the database, so
that every platform can show it, and bound to the assertion it proves once that is carried out.

The picture is kept when it arrives (a chat adapter downloads it); the command that asserts
the stage carries only its id (`AssertStage.picture`), so the assertion path stays as fast as
for text. A picture whose assertion was refused, or whose stage was never said, is forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from core.service.results import Refused
from core.store.tables import AssertionRow, EvidencePicture, StageRow
from core.store.unit_of_work import UnitOfWork

# Enough for any phone's photo; a chat platform's own limits are near it (Telegram's photos are
# far smaller, Matrix homeservers commonly allow 50 MB), and every picture is a database row.
MAX_PICTURE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Kept:
    """A kept picture, as a sender needs it."""

    id: int
    data: bytes
    content_type: str


def keep(
    services, participant_id: str, data: bytes, content_type: str, platform: str, reference: str
) -> int:
    """Keep a picture `participant_id` sent, not yet bound to an assertion; its id."""
    if len(data) > MAX_PICTURE_BYTES:
        raise Refused(f"a photo may be at most {MAX_PICTURE_BYTES // (1024 * 1024)} MB")
    with UnitOfWork(services.engine) as uow:
        row = EvidencePicture(
            participant_id=participant_id,
            content_type=content_type[:100] or "image/jpeg",
            data=data,
            platform=platform,
            reference=reference[:500],
            created_at=services.clock(),
        )
        uow.session.add(row)
        uow.commit()
        return row.id


def forget(services, picture_id: int) -> None:
    """Forget a picture that proves nothing (its assertion was refused, its stage never said)."""
    with UnitOfWork(services.engine) as uow:
        row = uow.session.get(EvidencePicture, picture_id)
        if row is not None and row.assertion_id is None:
            uow.session.delete(row)
            uow.commit()


def bind(session: Session, picture_id: int, actor: str, assertion_id: int) -> None:
    """Make the picture the evidence of the assertion (in the assertion's transaction)."""
    row = session.get(EvidencePicture, picture_id, with_for_update=True)
    if row is None or row.participant_id != actor:
        raise Refused("that photo is not one you sent; please send it again")
    if row.assertion_id is not None and row.assertion_id != assertion_id:
        raise Refused("that photo proves another stage already; please send it again")
    row.assertion_id = assertion_id
    session.add(row)


def usable(session: Session, picture_id: int, actor: str) -> bool:
    """Whether the picture may still prove a stage of `actor`'s."""
    row = session.get(EvidencePicture, picture_id)
    return row is not None and row.participant_id == actor and row.assertion_id is None


def picture(session: Session, picture_id: int) -> Kept | None:
    row = session.get(EvidencePicture, picture_id)
    return None if row is None else Kept(row.id, row.data, row.content_type)


def proved_stages(session: Session, contract_id: int) -> set[str]:
    """The stages of a contract with a photo among their evidence."""
    rows = session.exec(
        select(StageRow.code)
        .join(AssertionRow, AssertionRow.stage_id == StageRow.id)
        .join(EvidencePicture, EvidencePicture.assertion_id == AssertionRow.id)
        .where(StageRow.contract_id == contract_id)
    )
    return set(rows)
