"""What a PNG says about itself: its size, read from the IHDR chunk without decoding it (Telegram
chooses photo or document by it; Matrix tells clients, so they lay the image out before loading).
"""

from __future__ import annotations

import struct

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height); None when it is not a PNG."""
    if len(data) < 24 or not data.startswith(SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])
