"""Putting content into a room, and what the homeserver's refusals mean for SCIS.

A refusal becomes one of three exceptions: `RateLimited` (wait, then the same message again),
`PermanentFailure` (it can never go this way) or `MatrixUnavailable` (anything else: try the
whole thing again later — a dead connection, a homeserver error, a revoked bot token).
"""

from __future__ import annotations

import asyncio
import io
import logging

from nio import AsyncClient, ErrorResponse, RoomTypingResponse

from bots.conversation.messages import Reply
from bots.matrix.devices import is_encrypted
from bots.matrix.rendering import image_content, text_content
from workers.senders import PermanentFailure, RateLimited

log = logging.getLogger(__name__)

LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED"
DEFAULT_WAIT_S = 5.0  # when a 429 does not say how long
# The person or room is not there for us, or the content can never be accepted. A revoked bot
# token (M_UNKNOWN_TOKEN) is not among them: that is the bot's trouble, not the recipient's.
NEVER = {"M_FORBIDDEN", "M_NOT_FOUND", "M_INVALID_PARAM", "M_TOO_LARGE", "M_BAD_JSON"}


class MatrixUnavailable(Exception):  # noqa: N818
    """The homeserver could not do it now; nothing says it never will."""


def refusal(answer: ErrorResponse, doing: str) -> Exception:
    """The exception an error answer means (returned, so that callers `raise` it visibly)."""
    code = answer.status_code
    if code in (LIMIT_EXCEEDED, 429):
        wait = answer.retry_after_ms / 1000 if answer.retry_after_ms else DEFAULT_WAIT_S
        return RateLimited(wait)
    if code in NEVER:
        return PermanentFailure(f"Matrix refused to {doing}: {code} {answer.message}")
    return MatrixUnavailable(f"Matrix could not {doing}: {answer}")


def checked(answer, doing: str):
    if isinstance(answer, ErrorResponse):
        raise refusal(answer, doing)
    return answer


async def post(client: AsyncClient, room_id: str, content: dict, txn_id: str | None = None) -> str:
    """The event id. A `txn_id` makes a repeat of the same send a no-op on the homeserver
    (for as long as it remembers transactions): a crash between sending and recording the
    send does not post twice if the retry comes soon. In an encrypted room nio shares the room
    key with the members' devices first, trusting them on first use (bots/matrix/devices.py)."""
    answer = await client.room_send(
        room_id, "m.room.message", content, tx_id=txn_id, ignore_unverified_devices=True
    )
    return checked(answer, f"post in {room_id}").event_id


async def upload(
    client: AsyncClient, room_id: str, data: bytes, content_type: str, filename: str
) -> dict:
    """Media (a picture, a photo kept as evidence) in the homeserver's repository, for the
    room: where to find it, as an m.image's content says it — `url`, or in an encrypted room
    `file` (the encrypted media's URL with the key to read it)."""
    encrypt = is_encrypted(client, room_id)
    answer, keys = await client.upload(
        lambda _limited, _timeouts: io.BytesIO(data),  # a retry needs a fresh stream
        content_type=content_type,
        filename=filename,
        filesize=len(data),
        encrypt=encrypt,
    )
    mxc = checked(answer, f"upload {filename}").content_uri
    return {"file": {"url": mxc, "mimetype": content_type, **keys}} if encrypt else {"url": mxc}


async def post_reply(client: AsyncClient, room_id: str, reply: Reply) -> list[str]:
    """The reply's text (with its buttons as commands), then its picture; each step waits out
    a rate limit on its own, so a limit met by the picture does not post the text again."""
    events = []
    if reply.text or reply.buttons:  # a picture may come alone
        text = text_content(reply.text, reply.buttons)
        events.append(await patiently(lambda: post(client, room_id, text)))
    if reply.picture is not None:
        picture = reply.picture
        media = await patiently(
            lambda: upload(client, room_id, picture.png, "image/png", picture.filename)
        )
        image = image_content(picture, media)
        events.append(await patiently(lambda: post(client, room_id, image)))
    return events


WORKING_MS = 10_000  # how long "typing…" shows unless the bot's next message ends it sooner


async def show_working(client: AsyncClient, room_id: str) -> None:
    """The room's typing indicator while a worker carries a change out. Only a courtesy: a
    homeserver that refuses it loses the person nothing."""
    answer = await client.room_typing(room_id, typing_state=True, timeout=WORKING_MS)
    if not isinstance(answer, RoomTypingResponse):
        log.debug("no typing indicator in %s: %s", room_id, answer)


async def patiently(step, attempts: int = 5):
    """Run `step()` (a coroutine function), waiting out rate limits as the homeserver asks:
    the adapter has nowhere to park a reply (the sender hands the wait to the outbox)."""
    for attempt in range(attempts):
        try:
            return await step()
        except RateLimited as limit:
            if attempt == attempts - 1:
                raise
            log.warning("Matrix rate limit: waiting %.1f s", limit.retry_after)
            await asyncio.sleep(limit.retry_after)
