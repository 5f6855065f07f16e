"""ASCII mode: the locale decides (LC_ALL, LC_CTYPE, LANG), and a board under LANG=C draws no non-ASCII byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from relman_tui.tui.glyphs import ASCII_FORMS, to_ascii, wants_ascii
from relman_tui.tui.textual_private import border_chars

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from pty_driver import Terminal

RELMAN = str(Path(sys.executable).with_name("relman"))


@pytest.mark.parametrize(
    ("environ", "utf8_mode", "codeset", "ascii"),
    [
        ({"LANG": "C.UTF-8"}, False, "UTF-8", False),
        ({"LANG": "en_GB.utf8"}, False, "UTF-8", False),
        ({"LC_CTYPE": "C.UTF-8", "LANG": "C"}, False, "UTF-8", False),
        # Python's own coercion of a C locale: LC_CTYPE=C.UTF-8 set for itself, and UTF-8 mode on
        ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, True, "UTF-8", True),
        ({"LC_CTYPE": "C.UTF-8"}, True, "UTF-8", True),  # LANG unset: the POSIX locale
        ({"LC_ALL": "C", "LANG": "C.UTF-8"}, True, "ANSI_X3.4-1968", True),  # LC_ALL wins
        ({"LC_ALL": "POSIX", "LANG": "en_US.UTF-8"}, False, "ANSI_X3.4-1968", True),
        ({"LANG": "de_DE.ISO-8859-1"}, False, "ISO-8859-1", True),
        ({}, False, "UTF-8", True),  # nothing set: POSIX
        ({"PYTHONUTF8": "1", "LANG": "C.UTF-8"}, True, "UTF-8", False),  # UTF-8 mode asked for
    ],
)
def test_the_locale_chooses_ascii(environ: dict[str, str], utf8_mode: bool, codeset: str, ascii: bool) -> None:
    assert wants_ascii(environ, utf8_mode, codeset) is ascii


def test_every_symbol_has_a_distinct_single_cell_ascii_form() -> None:
    assert all(len(form) <= 1 and form.isascii() for form in ASCII_FORMS.values())
    marks = [to_ascii(c) for c in "✖⚠⚑"]  # error, warning, break-glass: still told apart
    assert len(set(marks)) == 3
    assert to_ascii("✖ 1 · ⚠ 2 ◀ 3 more ▶ │Fri 04 ▼ ░░ ▌dev …") == "X 1 | ! 2 < 3 more > |Fri 04 v .. >dev ~"
    assert to_ascii("名前") == "????"  # two cells each: the layout keeps its width
    assert to_ascii("café").isascii()


def test_textual_borders_and_scrollbars_have_ascii_forms_not_question_marks() -> None:
    from textual.scrollbar import ScrollBarRender

    drawn = set(border_chars())
    drawn |= set(ScrollBarRender.VERTICAL_BARS + ScrollBarRender.HORIZONTAL_BARS)
    assert {c for c in drawn if to_ascii(c) == "?"} == set()


def _only_ascii(data: bytes) -> None:
    bad = sorted({b for b in data if b >= 0x80})
    assert not bad, f"non-ASCII bytes drawn: {bad[:10]} around {data[data.index(bytes([bad[0]])) - 80 :][:160]!r}"


@pytest.mark.parametrize("locale_env", [{"LANG": "C"}, {"LANG": "en_US.UTF-8", "LC_ALL": "POSIX"}, {"ascii": ""}])
def test_a_board_in_a_c_locale_draws_only_ascii(tmp_path: Path, locale_env: dict[str, str]) -> None:
    db = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "RELMAN", "PYTHONUTF8"))}
    env |= {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_STATE_HOME": str(tmp_path / "s")}
    subprocess.run([RELMAN, "--db", str(db), "demo", "--no-tui"], env=env, check=True, capture_output=True)
    argv = [RELMAN, "--db", str(db), "tui"]
    if "ascii" in locale_env:  # a UTF-8 locale, and --ascii
        argv.append("--ascii")
        locale_env = {"LANG": "C.UTF-8"}
    with Terminal(argv, env={**env, "LANG": "", **locale_env}, columns=80, lines=22) as term:
        term.wait_for("Planned")
        term.wait_for("more")  # the column marks
        # help, the scheduler (week zoom), the detail screen, the palette, a move (a toast or a dialog)
        steps = [b"?", b"\x1b", b"2", b"w", b"\x1b", b"\r", b"\x1b", b"\x10", b"\x1b", b"j", b">", b"m"]
        for keys in steps:
            term.type(keys)
            term.settle(quiet=0.3)  # whatever the key drew has been written
        _only_ascii(term.output())
