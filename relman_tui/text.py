"""Showing untrusted text safely: inert control characters and terminal-cell widths (pure)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ELLIPSIS = "…"


@lru_cache(maxsize=4096)
def inert(text: str) -> str:
    """``text`` with every control, format (bidi override, zero-width) or line-separator
    character replaced by a visible escape, so it cannot steer a terminal or reorder a line."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") and char != " ":
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(char_width(c) for c in text)


def truncate(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` terminal cells, marking the cut with an ellipsis."""
    if cell_len(text) <= width:
        return text
    if width <= 0:
        return ""
    out, used = [], 0
    for char in text:
        w = char_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, width: int) -> str:
    """Truncate or pad ``text`` to exactly ``width`` cells."""
    cut = truncate(text, width)
    return cut + " " * (width - cell_len(cut))


def one_line(text: str) -> str:
    """Fold a multi-line text onto one line (for tables and messages)."""
    return " ".join(text.split())
