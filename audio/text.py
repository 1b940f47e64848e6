"""Text an operator gives (titles, names, dialect tags, what to speak), checked to be text the
store and the speech engine can take: not empty, not too long, UTF-8, no control characters."""

from __future__ import annotations

import unicodedata

SURROGATES = range(0xD800, 0xE000)
# Python decodes a command-line byte that is not UTF-8 as the lone surrogate U+DC80 + byte
ESCAPED_BYTES = range(0xDC80, 0xDD00)


def check_text(value: str, what: str, max_chars: int, *, lines: bool = False) -> str:
    """``value`` stripped, or ValueError naming ``what``: empty, over ``max_chars``, holding a
    byte that was not UTF-8 (a lone surrogate) or a control character (newlines and tabs are
    allowed when ``lines``)."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError(f"{what} is empty")
    if len(text) > max_chars:
        raise ValueError(f"{what} is longer than {max_chars} characters ({len(text)})")
    for i, ch in enumerate(text, 1):
        code = ord(ch)
        if code in ESCAPED_BYTES:
            byte = code - 0xDC00
            raise ValueError(f"{what} holds a byte that is not UTF-8 (0x{byte:02x} at {i})")
        if code in SURROGATES:
            raise ValueError(f"{what} holds a lone surrogate (U+{code:04X} at {i}), not text")
        if unicodedata.category(ch) == "Cc" and not (lines and ch in "\n\r\t"):
            raise ValueError(f"{what} holds a control character (U+{code:04X} at {i})")
    return text
