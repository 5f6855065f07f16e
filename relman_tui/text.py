"""Showing untrusted text safely: inert control characters, and text cut to terminal cells by a measure (pure)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

import wcwidth

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


def one_line(text: str) -> str:
    """Fold a multi-line text onto one line (for tables and messages)."""
    return " ".join(text.split())


_BREAKS = " -_./:@+"


Clusters = Callable[[str], Iterable[tuple[str, int]]]
"""A measure: ``text`` as its grapheme clusters (what a terminal draws as one symbol), each with its width in cells."""


def terminal_clusters(text: str) -> Iterable[tuple[str, int]]:
    """The measure the CLI prints by: wcwidth's, the maintained port of the POSIX ``wcwidth()`` terminals
    implement, with today's Unicode tables and grapheme clusters (an emoji with a skin tone or a ZWJ
    family is one symbol of two cells; a zero-width space takes none)."""
    for grapheme in wcwidth.iter_graphemes(text):
        yield grapheme, max(0, wcwidth.width(grapheme))


class Cells:
    """Cutting, padding and wrapping text by terminal cells, as one measure counts them."""

    def __init__(self, clusters: Clusters) -> None:
        self.clusters = clusters

    def len(self, text: str) -> int:
        """How many cells ``text`` takes."""
        if text.isascii():
            return len(text)
        return sum(width for _, width in self.clusters(text))

    def truncate(self, text: str, width: int) -> str:
        """Cut ``text`` to at most ``width`` terminal cells, marking the cut with an ellipsis."""
        if self.len(text) <= width:
            return text
        if width <= 0:
            return ""
        out, used = [], 0
        for symbol, w in self.clusters(text):
            if used + w > width - 1:
                break
            out.append(symbol)
            used += w
        return "".join(out) + ELLIPSIS

    def pad(self, text: str, width: int) -> str:
        """Truncate or pad ``text`` to exactly ``width`` cells."""
        cut = self.truncate(text, width)
        return cut + " " * (width - self.len(cut))

    def cut_words(self, text: str, width: int) -> str:
        """Cut ``text`` to ``width`` cells at a word boundary (a space or ``-_./:@+``), marking the cut
        with an ellipsis; a single word longer than ``width`` is cut where it must be."""
        if self.len(text) <= width:
            return text
        if width <= 1:
            return ELLIPSIS if width == 1 else ""
        room, used, last_break, at = width - 1, 0, 0, 0
        for symbol, w in self.clusters(text):
            if used + w > room:
                break
            used += w
            at += len(symbol)
            if symbol in _BREAKS:
                last_break = at - (symbol == " ")  # keep a hyphen or dot, drop a space
        if last_break >= 3:
            return text[:last_break].rstrip() + ELLIPSIS
        return self.truncate(text, width)

    def wrap_words(self, text: str, width: int, lines: int) -> list[str]:
        """``text`` broken into at most ``lines`` lines of ``width`` cells, at word boundaries where it can;
        the last line is cut with an ellipsis if the text does not fit."""
        out: list[str] = []
        rest = text
        while rest and len(out) < lines:
            if self.len(rest) <= width or len(out) == lines - 1:
                out.append(self.cut_words(rest, width))
                break
            used, last_space, last_break, stop, at = 0, 0, 0, len(rest), 0
            for symbol, w in self.clusters(rest):
                if used + w > width:
                    stop = at
                    break
                used += w
                at += len(symbol)
                if symbol == " ":
                    last_space = at
                elif symbol in _BREAKS:
                    last_break = at
            cut = last_space or last_break or stop  # between words first, then after a hyphen or dot
            out.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
        return out or [""]


TERMINAL = Cells(terminal_clusters)
"""The CLI's measure (the TUI measures with its renderer's own: ``relman_tui.tui.cells``)."""
cell_len = TERMINAL.len
truncate = TERMINAL.truncate
pad = TERMINAL.pad
cut_words = TERMINAL.cut_words
wrap_words = TERMINAL.wrap_words
