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


_BREAKS = " -_./:@+"


def cut_words(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` cells at a word boundary (a space or ``-_./:@+``), marking the cut
    with an ellipsis; a single word longer than ``width`` is cut where it must be."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS if width == 1 else ""
    room, used, last_break = width - 1, 0, 0
    for i, char in enumerate(text):
        w = char_width(char)
        if used + w > room:
            break
        used += w
        if char in _BREAKS:
            last_break = i + (char != " ")  # keep a hyphen or dot, drop a space
    if last_break >= 3:
        return text[:last_break].rstrip() + ELLIPSIS
    return truncate(text, width)


def wrap_words(text: str, width: int, lines: int) -> list[str]:
    """``text`` broken into at most ``lines`` lines of ``width`` cells, at word boundaries where it can;
    the last line is cut with an ellipsis if the text does not fit."""
    out: list[str] = []
    rest = text
    while rest and len(out) < lines:
        if cell_len(rest) <= width or len(out) == lines - 1:
            out.append(cut_words(rest, width))
            break
        used, last_space, last_break, stop = 0, 0, 0, len(rest)
        for i, char in enumerate(rest):
            w = char_width(char)
            if used + w > width:
                stop = i
                break
            used += w
            if char == " ":
                last_space = i + 1
            elif char in _BREAKS:
                last_break = i + 1
        cut = last_space or last_break or stop  # between words first, then after a hyphen or dot
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return out or [""]
