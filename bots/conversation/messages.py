"""What passes between a chat adapter and the conversation layer.

An adapter turns a platform's update into an `Incoming`, asks the conversation for its replies,
and renders each `Reply` natively: buttons as an inline keyboard on Telegram and as a list of
commands on Matrix and the terminal, a picture as a photo, an uploaded image or a file.
Commands that change state are kept and carried out by the workers; what they say back to
people arrives later through the outbox and the platform's `Sender`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Photo:
    """A picture a person sent; its caption is the `Incoming`'s text. `size` is what the
    platform declared, for one too large to download (then `data` is empty)."""

    data: bytes
    content_type: str
    reference: str  # the platform's own: a Telegram file id, a Matrix mxc:// URI
    size: int | None = None

    @property
    def bytes_said(self) -> int:
        return max(len(self.data), self.size or 0)


@dataclass(frozen=True)
class Incoming:
    platform: str  # "telegram", "matrix", "console"
    # The person's own account, never the chat they wrote in: Telegram user id, Matrix user id,
    # console participant. In a group, each member is themselves.
    address: str
    message_id: str  # unique within the platform: Telegram "CHAT:MESSAGE", a Matrix event id
    text: str
    room: str | None = None  # the Matrix room it was said in (an order's thread, or a DM)
    display_name: str | None = None
    handle: str | None = None  # how others know the account there: @alice, @alice:example.org
    photo: Photo | None = None  # a photo or image sent, `text` its caption


@dataclass(frozen=True)
class Button:
    label: str
    command: str  # the text sent back when pressed, e.g. "/choose 12 3"


@dataclass(frozen=True)
class Picture:
    png: bytes
    filename: str
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows of buttons
    picture: Picture | None = None
    # A change handed to the workers: their message is the one confirmation, and until it
    # comes the platform shows that SCIS is at work (Telegram's and Matrix's typing indicator).
    working: bool = False


def outbox_buttons(payload: dict) -> tuple[Button, ...]:
    """An outbox message's buttons: `payload["buttons"]`, `[[label, command], ...]` as
    bots.conversation.notices.buttons writes them; each adapter lays them out its own way."""
    return tuple(
        Button(str(label), str(command)) for label, command in payload.get("buttons") or ()
    )


class Conversation(Protocol):
    def answer(self, incoming: Incoming) -> list[Reply]:
        """Never raises: bad input gets a one-line error and the usage."""
        ...
