"""Text within Telegram's limits and the PNG header reading that picks photo or document."""

from __future__ import annotations

from telegram_harness import png_of_size

from bots.telegram.formatting import escaped_chunks, fits_as_photo, png_size


def test_long_text_is_split_at_line_ends_and_never_inside_an_entity():
    text = "\n".join(f"line {n} <&>" for n in range(1000))
    chunks = escaped_chunks(text, limit=500)
    assert all(len(chunk) <= 500 for chunk in chunks)
    assert "".join(chunks) == text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert all(chunk.endswith("\n") for chunk in chunks[:-1])
    one_line = "&" * 300
    pieces = escaped_chunks(one_line, limit=100)
    assert all(len(p) <= 100 and p.count("&") == p.count("&amp;") for p in pieces)
    assert "".join(pieces) == "&amp;" * 300
    assert escaped_chunks("") == [] and escaped_chunks("  \n") == []


def test_the_png_header_decides_photo_or_document():
    assert png_size(png_of_size(1281, 3)) == (1281, 3)
    assert fits_as_photo(png_of_size(1280, 800))
    assert not fits_as_photo(png_of_size(1281, 800))
    assert not fits_as_photo(png_of_size(40, 900))  # taller than 20:1
    assert not fits_as_photo(b"GIF89a not a png at all")
