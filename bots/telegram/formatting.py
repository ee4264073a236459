"""Text and pictures as Telegram takes them: escaped HTML within its length limits, and which
pictures may go as a photo."""

from __future__ import annotations

import html

from bots.png import png_size

MESSAGE_LIMIT = 4096  # characters of a message's text, after escaping
CAPTION_LIMIT = 1024
PHOTO_MAX_WIDTH = 1280  # Telegram scales a wider photo down until a stage graph is unreadable


def escaped(text: str) -> str:
    """Plain text for parse_mode HTML: Telegram reads only <, > and & as markup."""
    return html.escape(text, quote=False)


def escaped_chunks(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The text escaped, split at line ends (or, for a longer line, anywhere but inside an
    entity) into pieces of at most `limit` characters. An empty text gives no pieces."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        piece = escaped(line)
        while len(piece) > limit:
            cut = limit
            amp = piece.rfind("&", 0, cut)
            if amp > 0 and ";" not in piece[amp:cut]:
                cut = amp  # an entity must stay whole
            if current:
                chunks.append(current)
                current = ""
            chunks.append(piece[:cut])
            piece = piece[cut:]
        if len(current) + len(piece) > limit:
            chunks.append(current)
            current = ""
        current += piece
    if current.strip():
        chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()]


def fits_as_photo(png: bytes) -> bool:
    """A picture wider than PHOTO_MAX_WIDTH (or not a PNG, or beyond Telegram's own photo limits:
    width + height at most 10000, sides at most 20:1) goes as a document, shown unscaled."""
    size = png_size(png)
    if size is None:
        return False
    width, height = size
    if width == 0 or height == 0 or width + height > 10000:
        return False
    return width <= PHOTO_MAX_WIDTH and max(width, height) <= 20 * min(width, height)
