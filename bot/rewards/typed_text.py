"""What people type (the `/reward` text, the reward form, reject and cancel reasons), cleaned
before anything reads it, so it is stored and shown the same way on SQLite and PostgreSQL.

Pure: no Slack, HTTP or database.
"""

from __future__ import annotations

import re
import unicodedata

_LINE_BREAK = re.compile(r"\r\n?")
# Bidi embedding, override and isolate controls: they reorder how the text after them shows.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Unicode's Default_Ignorable_Code_Point ranges: characters that show nothing by themselves
# (zero-width spaces and joiners, the word joiner, the byte order mark, variation selectors,
# Hangul fillers, tags).
_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def is_control(char: str) -> bool:
    """C0 and C1 control characters (newline included) and the bidi controls."""
    return unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS


def is_invisible(char: str) -> bool:
    """Spaces and characters that show nothing by themselves (e.g. U+200B, U+2060, U+FEFF)."""
    code = ord(char)
    return char.isspace() or any(low <= code <= high for low, high in _IGNORABLE)


def clean_typed_text(text: str) -> str:
    """`text` as typed, without control characters: C0 and C1 controls and the bidi override and
    isolate controls are removed, a tab becomes a space, line breaks stay (as `\\n`). Text with
    nothing visible left (only spaces and zero-width characters) becomes empty. Emoji with
    zero-width joiners, accents and any script stay as they are; applying it twice changes
    nothing."""
    text = _LINE_BREAK.sub("\n", text).replace("\t", " ")
    kept = "".join(char for char in text if char == "\n" or not is_control(char))
    if all(is_invisible(char) for char in kept):
        return ""
    return kept
