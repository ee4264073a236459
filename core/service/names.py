"""Names people give themselves: cleaned of what cannot be seen, and told apart from the names
already taken even when they only look alike.

A name is shown to other people beside what they should do for it, so one that hides its own
letters (bidi overrides reversing them, zero-width characters splitting them) or passes for
someone else's (a Cyrillic "а" in "Alice") would let one person pass for another.
"""

from __future__ import annotations

import re
import unicodedata

# Categories dropped from a name: controls (NUL, newlines, ESC …), format characters (bidi
# embeddings, overrides and isolates, U+200E/U+200F, U+061C, zero-width space/joiners, U+2060,
# U+FEFF, soft hyphen, tag characters), lone surrogates, private use and unassigned.
INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
SPACES = re.compile(r"\s+")

# Capitals of other scripts drawn like Latin ones, before case folding makes most of them
# small letters that look different ("Η" is H, "η" is not).
CAPITALS = str.maketrans(
    dict(zip("АВЕЅІЈКМНОРСТХҮΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABESIJKMHOPCTXYABEZHIKMNOPTYX", strict=True))
)

# Letters of other scripts drawn like Latin ones (a small part of Unicode's confusables.txt:
# the ones a keyboard offers), after case folding and the marks taken off.
LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "с": "c",
        "ԁ": "d",
        "е": "e",
        "ё": "e",
        "һ": "h",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "ԛ": "q",
        "ѕ": "s",
        "т": "t",
        "у": "y",
        "ѡ": "w",
        "х": "x",
        "ү": "y",
        "ӏ": "l",
        # Greek
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "γ": "y",
        "ω": "w",
        "σ": "o",
        "ζ": "z",
        # Latin look-alikes of each other
        "ı": "i",
        "ɩ": "i",
        "ℓ": "l",
        "ø": "o",
        "0": "o",
        "1": "l",
        "|": "l",
    }
)


def clean(text: str | None) -> str:
    """The visible text: invisible characters gone, any run of spaces one space, NFC."""
    if not text:
        return ""
    kept = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in INVISIBLE
    )
    return SPACES.sub(" ", unicodedata.normalize("NFC", kept)).strip()


def skeleton(name: str) -> str:
    """What a name looks like, so that two names a reader cannot tell apart compare equal:
    case folded, compatibility forms unfolded (NFKC: "Ａlice", "ﬁ"), marks off ("Àlice"),
    look-alike letters as Latin, spaces and punctuation between the words ignored."""
    folded = unicodedata.normalize("NFKD", clean(name).translate(CAPITALS).casefold())
    bare = "".join(char for char in folded if not unicodedata.combining(char))
    shaped = unicodedata.normalize("NFKC", bare).translate(LOOKALIKES)
    # "rn" reads as "m", and "vv" as "w", in most typefaces.
    shaped = shaped.replace("rn", "m").replace("vv", "w")
    letters = "".join(char for char in shaped if char.isalnum())
    return letters or shaped.strip()  # a name of symbols only is compared as it is


def suggestion(name: str, platform: str, taken: set[str]) -> str:
    """A name like `name` no one has yet: "Alice Baker (Telegram)", then "Alice Baker 2", …"""
    candidates = [f"{name} ({platform.title()})"] + [f"{name} {n}" for n in range(2, 100)]
    for candidate in candidates:
        if skeleton(candidate) not in taken:
            return candidate
    return f"{name} {len(taken) + 1}"
