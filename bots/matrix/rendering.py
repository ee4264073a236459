"""A reply as Matrix event content: HTML for the clients that show it, plain text for the rest.

Matrix has no buttons a bot can rely on, so a button becomes the command to type. Every piece
of text is escaped: what people and the network file wrote must never become markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from bots.conversation.messages import Button, Picture
from bots.png import png_size

HTML = "org.matrix.custom.html"


def text_content(
    text: str,
    buttons: Iterable[Sequence[Button]] = (),
    msgtype: str = "m.notice",
    author: str | None = None,
) -> dict:
    """`author` is the person whose words are relayed (a `/say` in an order's room)."""
    body, html = text, _paragraphs(text)
    if author:
        body, html = f"{author}: {body}", f"<b>{escape(author)}</b>: {html}"
    commands = [button for row in buttons for button in row]
    if commands:
        body += "\n\n" + "\n".join(f"• {_plain(button)}" for button in commands)
        html += "<ul>" + "".join(f"<li>{_html(button)}</li>" for button in commands) + "</ul>"
    return {"msgtype": msgtype, "body": body, "format": HTML, "formatted_body": html}


def image_content(picture: Picture, media: dict) -> dict:
    """An m.image pointing at media already uploaded to the homeserver (`media`: its `url`, or
    its `file` when encrypted)."""
    info: dict = {"mimetype": "image/png", "size": len(picture.png)}
    size = png_size(picture.png)
    if size is not None:
        info["w"], info["h"] = size
    content = {"msgtype": "m.image", "body": picture.caption or picture.filename, **media}
    if picture.caption:  # Matrix 1.10 captions: the body is the caption when a filename is set
        content["filename"] = picture.filename
    content["info"] = info
    return content


def photo_content(filename: str, content_type: str, size: int, media: dict) -> dict:
    """An m.image of a photo (not a PNG made here): its file's name as the body."""
    info = {"mimetype": content_type, "size": size}
    return {"msgtype": "m.image", "body": filename, **media, "info": info}


def _paragraphs(text: str) -> str:
    return escape(text).replace("\n", "<br>")


def _plain(button: Button) -> str:
    return button.command if button.label == button.command else f"{button.label}: {button.command}"


def _html(button: Button) -> str:
    command = f"<code>{escape(button.command)}</code>"
    return command if button.label == button.command else f"{escape(button.label)}: {command}"
