"""ASCII forms of every symbol the board draws, and whether the terminal's locale needs them (pure)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

# One cell for one cell, so the layout is the same in both forms. Meaning first: an error, a
# warning and a break-glass mark stay three different characters.
ASCII_FORMS: dict[str, str] = {
    "✖": "X",  # an error conflict
    "⚠": "!",  # a warning conflict
    "⚑": "F",  # break-glass: forced in without approval
    "❄": "*",  # frozen
    "✓": "+",
    "✔": "+",
    "×": "x",
    "→": ">",
    "←": "<",
    "↑": "^",
    "↓": "v",
    "▲": "^",
    "▼": "v",
    "◀": "<",
    "▶": ">",
    "…": "~",
    "—": "-",
    "–": "-",
    "·": "|",
    "•": "*",
    "●": "*",
    "○": "o",
    "░": ".",
    "▒": ":",
    "▓": "#",
    "█": "#",
    "■": "#",
    "▪": "#",
    "▌": ">",  # the selected row's mark
    "▐": "|",
    "▊": "[",  # Textual's "tall" borders (buttons, fields)
    "▎": "]",
    "▔": "-",
    "▁": "_",
    "┊": ":",
    "┆": ":",
    "╌": "-",
    "═": "=",
    "║": "|",
    "▕": "|",  # the board's column separators
    "▀": "-",  # Textual's "thick" and "outer" borders (dialogs)
    "▄": "-",
    "╍": "-",
}
for _c in "▖▗▘▙▚▛▜▝▞▟":
    ASCII_FORMS[_c] = "+"
for _c in "─━┄┅┈┉╴╶╸╺":
    ASCII_FORMS[_c] = "-"
for _c in "│┃╎╏╵╷╹╻":
    ASCII_FORMS[_c] = "|"
for _c in "┌┐└┘╭╮╰╯┏┓┗┛╔╗╚╝├┤┬┴┼┠┨┯┷┿╟╢╤╧╪╠╣╦╩╬┝┥┰┸╂":
    ASCII_FORMS[_c] = "+"
for _c in "▂▃▄▅▆▇▉▋▍▏":  # scrollbar thumbs' partial cells
    ASCII_FORMS[_c] = " "


def ascii_char(char: str) -> str:
    """The ASCII form of one character, as many cells wide: a name's letters become ``?``."""
    if char < "\x80":
        return char
    form = ASCII_FORMS.get(char)
    if form is not None:
        return form
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return ""
    wide = unicodedata.east_asian_width(char) in ("W", "F")
    return "??" if wide else "?"


def to_ascii(text: str) -> str:
    """``text`` with every non-ASCII character in its ASCII form (the same width in cells)."""
    if text.isascii():
        return text
    return "".join(map(ascii_char, text))


def wants_ascii(environ: Mapping[str, str], utf8_mode: bool, codeset: str) -> bool:
    """Is the terminal's locale one that cannot show UTF-8 (``C``, ``POSIX``, unset, a legacy charset)?

    The locale is ``LC_ALL``, else ``LC_CTYPE``, else ``LANG``. Python itself hides a C locale:
    it turns on its UTF-8 mode (``utf8_mode``) and sets ``LC_CTYPE=C.UTF-8`` for itself — so that
    mode, unless asked for with ``PYTHONUTF8=1``, means the terminal's locale was C or POSIX.
    """
    if utf8_mode and environ.get("PYTHONUTF8") != "1":
        return True
    if codeset.replace("-", "").lower() != "utf8":
        return True
    name = next((environ[k] for k in ("LC_ALL", "LC_CTYPE", "LANG") if environ.get(k)), "C")
    return "utf8" not in name.replace("-", "").lower()


def terminal_wants_ascii() -> bool:
    """:func:`wants_ascii` for this process, at start."""
    import locale
    import os
    import sys

    return wants_ascii(os.environ, bool(sys.flags.utf8_mode), locale.nl_langinfo(locale.CODESET))
