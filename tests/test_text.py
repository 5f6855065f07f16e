"""Untrusted text is shown inert, cut by terminal cells, and never interpreted as escapes or markup."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Callable

import pytest
import wcwidth
from conftest import Run, one_line
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len as rich_cell_len

from relman_tui.text import cell_len, inert, pad, truncate
from relman_tui.tui import cells as drawn

ESC_SEQUENCES = [
    "\x1b[31mred\x1b[0m",  # CSI colour
    "\x1b[2J\x1b[H",  # clear screen, cursor home
    "\x1b]52;c;cm0gLXJmIH4=\x07",  # OSC 52: write the clipboard
    "\x1b]0;pwned\x1b\\",  # OSC title, ST-terminated
    "\x9b31m",  # C1 CSI
    "bell\x07",
    "back\x08space",
    "carriage\rreturn",
]
INVISIBLE = ["\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\ufeff", "\u2028", "\u2029"]
HARMLESS = ["payments-api 2.4.1", "支付服务 2.4", "déploiement", "🚀 launch", "[bold red]x[/]", "tab\tnot here"]


@pytest.mark.parametrize("text", ESC_SEQUENCES)
def test_inert_neutralises_terminal_controls(text: str) -> None:
    shown = inert(text)
    assert not any(unicodedata.category(c) == "Cc" for c in shown), repr(shown)
    assert "\\x1b" in shown or "\\x07" in shown or "\\x9b" in shown or "\\x08" in shown or "\\x0d" in shown


@pytest.mark.parametrize("char", INVISIBLE)
def test_inert_makes_invisible_and_reordering_characters_visible(char: str) -> None:
    shown = inert(f"abc{char}def")
    assert char not in shown
    assert shown == f"abc\\u{ord(char):04x}def"


def test_inert_shows_a_bidi_override_where_it_was() -> None:
    # "invoice_‮fdp.exe" would display as "invoice_exe.pdf"
    assert inert("invoice_\u202efdp.exe") == "invoice_\\u202efdp.exe"


@pytest.mark.parametrize("text", [t for t in HARMLESS if "\t" not in t])
def test_inert_keeps_ordinary_text(text: str) -> None:
    assert inert(text) == text


def test_inert_escapes_tabs_and_newlines_too() -> None:
    assert inert("a\tb\nc") == "a\\x09b\\x0ac"


@given(st.text())
def test_inert_output_never_holds_a_control_or_format_character(text: str) -> None:
    shown = inert(text)
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") for c in shown)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))))
def test_inert_is_the_identity_on_printable_text(text: str) -> None:
    assert inert(text) == text


# --- cell widths ------------------------------------------------------------------------------------


def test_cell_len() -> None:
    assert cell_len("abc") == 3
    assert cell_len("支付") == 4
    assert cell_len("🚀") == 2
    assert cell_len("e\u0301") == 1  # a combining accent takes no cell


# what Textual draws (Rich) and what the terminal's wcwidth says: the old hand count said 4, 8 and 1
GRAPHEMES = [("👍🏽", 2), ("👨\u200d👩\u200d👧\u200d👦", 2), ("\u200b", 0), ("❤\ufe0f", 2), ("支付", 4), ("e\u0301", 1)]


@pytest.mark.parametrize(("text", "width"), GRAPHEMES)
def test_the_cli_and_the_tui_measure_a_grapheme_as_drawn(text: str, width: int) -> None:
    assert cell_len(text) == width  # the CLI: wcwidth
    assert drawn.cell_len(text) == width == rich_cell_len(text)  # the TUI: Rich's own measure


@pytest.mark.parametrize("measure", [pad, drawn.pad])
def test_a_cut_never_splits_a_grapheme(measure: Callable[[str, int], str]) -> None:
    assert measure("👍🏽👍🏽👍🏽", 5) == "👍🏽👍🏽…"
    assert measure("👍🏽 ok", 6) == "👍🏽 ok "
    assert measure("a\u200bb", 3) == "a\u200bb "


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("payments-api", 20, "payments-api"),
        ("payments-api", 8, "payment…"),
        ("支付服务平台", 6, "支付…"),  # 2+2+1: a wide character that would straddle the edge is left out
        ("支付服务平台", 7, "支付服…"),
        ("支付服务平台", 12, "支付服务平台"),
        ("🚀🚀🚀", 4, "🚀…"),
        ("abc", 0, ""),
    ],
)
def test_truncate_respects_cells(text: str, width: int, expected: str) -> None:
    cut = truncate(text, width)
    assert cut == expected
    assert cell_len(cut) <= width


@given(st.lists(st.sampled_from(["a", "支", "🚀", "é", "e\u0301", " "]), max_size=30).map("".join), st.integers(1, 40))
def test_pad_is_exactly_the_width(text: str, width: int) -> None:
    assert cell_len(pad(text, width)) == width


# --- through the CLI -------------------------------------------------------------------------------


HOSTILE_NAME = "evil\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J"
HOSTILE_NOTES = "line one\x1b[31m red\nrtl \u202eoverride\u202c and zero\u200bwidth"


@pytest.fixture
def hostile(board: Run) -> Run:
    """A release whose name and notes another tool wrote straight into the file, past relman's input checks."""
    board.ok("release", "add", "payments-api", "2.4.1", "--component", "payments-db")
    board.ok("release", "add", "ledger", "1.9.3", "--component", "payments-db")
    conn = sqlite3.connect(board.db)
    conn.execute(
        "UPDATE releases SET name = ?, notes = ?, owner = ? WHERE id = 1",
        (HOSTILE_NAME, HOSTILE_NOTES, "mallory\x1b[8m"),
    )
    conn.execute(
        "INSERT INTO events (at, actor, release, action, reason) VALUES (?, ?, 1, 'edited', ?)",
        ("2026-12-01T10:00:00Z", "mallory\x1b[8m", "hidden\x1b[8m"),
    )
    conn.commit()
    conn.close()
    board.ok("schedule", "1", "dev", "2026-12-02T10:00", "--for", "2h")
    board.ok("schedule", "2", "test", "2026-12-02T10:00", "--for", "2h")
    return board


def assert_inert(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text and "\u200b" not in text, repr(text)


@pytest.mark.parametrize(
    "args",
    [
        ["release", "list"],
        ["release", "show", "1"],
        ["log"],
        ["log", "1"],
        ["conflicts"],
        ["verify", "1"],
    ],
)
def test_cli_prints_hostile_names_and_notes_inert(hostile: Run, args: list[str]) -> None:
    result = hostile(*args)
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    if args[0] == "release":
        assert "evil\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J" in result.stdout


def test_release_show_prints_notes_inert_line_by_line(hostile: Run) -> None:
    lines = hostile.ok("release", "show", "1").stdout.splitlines()
    assert "  line one\\x1b[31m red" in lines
    assert "  rtl \\u202eoverride\\u202c and zero\\u200bwidth" in lines


def test_json_output_escapes_control_characters(hostile: Run) -> None:
    out = hostile.ok("release", "show", "1", "--json").stdout
    assert "\x1b" not in out and "\x07" not in out
    assert json.loads(out)["name"] == HOSTILE_NAME  # and a script still gets the exact value


def test_error_messages_are_inert_too(hostile: Run) -> None:
    for args in (["move", "1", "test"], ["move", "1", "test", "--rev", "1"]):
        result = hostile(*args)
        assert result.exit_code == 1
        assert_inert(one_line(result.stderr))
        assert "evil\\x1b" in result.stderr


@pytest.mark.parametrize("name", ["bad\x1b[31mname", "bell\x07", "rtl\u202eoverride", "zero\u200bwidth", "two\nlines"])
def test_control_characters_in_names_are_refused_at_input(board: Run, name: str) -> None:
    result = board("release", "add", name, "1.0")
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert "must not contain control or invisible characters" in line
    assert_inert(line)
    assert board.json("release", "list") == []


def test_control_characters_in_the_actor_are_refused(board: Run) -> None:
    result = board("release", "add", "x", "1.0", actor="mal\x1b[8mlory")
    assert result.exit_code == 2
    assert_inert(one_line(result.stderr))
    assert board.json("release", "list") == []


def test_control_characters_in_notes_are_refused_but_newlines_kept(board: Run) -> None:
    result = board("release", "add", "x", "1.0", "--notes", "evil\x1b[2J")
    assert result.exit_code == 2
    assert "control characters" in one_line(result.stderr)
    board.ok("release", "add", "x", "1.0", "--notes", "first\nsecond")
    assert board.json("release", "show", "1")["notes"] == "first\nsecond"


def test_rich_markup_is_stored_and_printed_literally(board: Run) -> None:
    board.ok("release", "add", "[bold red]x[/]", "1.0", "--notes", "[link=http://evil]click[/link]")
    assert board.json("release", "show", "1")["name"] == "[bold red]x[/]"
    assert "[bold red]x[/]" in board.ok("release", "list").stdout
    shown = board.ok("release", "show", "1").stdout
    assert "name        [bold red]x[/]" in shown
    assert "  [link=http://evil]click[/link]" in shown


def test_wide_names_keep_the_table_aligned(board: Run) -> None:
    board.ok("release", "add", "支付服务", "1.0")
    board.ok("release", "add", "payments", "2.0")
    lines = board.ok("release", "list").stdout.splitlines()
    columns = [cell_len(line[: line.index(version)]) for line, version in zip(lines[1:], ["1.0", "2.0"], strict=True)]
    assert columns[0] == columns[1]


def test_skin_toned_names_keep_the_table_aligned(board: Run) -> None:
    """The CLI pads by wcwidth: an emoji with a skin tone is two cells, as the terminal draws it."""
    names = ["👍🏽 payments", "👍🏽👍🏽 ledger", "plain"]
    for name in names:
        board.ok("release", "add", name, "1.0")
    lines = board.ok("release", "list").stdout.splitlines()
    header = wcwidth.wcswidth(lines[0][: lines[0].index("VERSION")])
    columns = [wcwidth.wcswidth(line[: line.index(" 1.0 ")]) + 1 for line in lines[1:]]
    assert columns == [header] * len(names), lines
