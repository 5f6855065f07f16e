"""Text another tool wrote into the file cannot steer the terminal: Rich markup, CSI and OSC
sequences (screen clears, OSC 52 clipboard writes, OSC 8 hyperlinks), C1 controls, bidi
overrides and zero-width characters are shown inert in plain CLI output, JSON, and the board.

(test_text.py covers ``inert`` itself and the basic CLI tables; this file covers every other
place a stored string is printed.)
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from conftest import Run

HOSTILE = {
    "csi": "clear\x1b[2J\x1b[H",
    "osc52": "clip\x1b]52;c;cm0gLXJmIH4=\x07",
    "osc8": "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "c1": "eight-bit\x9b31m\x9d0;title\x9c",
    "del": "del\x7f\x08\x08",
    "bidi": "txt\u202egnp.exe\u202c \u2066iso\u2069 \u200fRLM",
    "zero": "zero\u200bwidth\u200d\u2060\ufeff",
    "markup": "[bold red]pwned[/] [link=https://evil.example]click[/link]",
    "lines": "one\u2028two\u2029three\rfour",
}
ALL = " ".join(HOSTILE.values())


def unsafe(text: str) -> list[str]:
    """Characters a terminal acts on or that hide or reorder text (newline, tab, space apart)."""
    return sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if c not in "\n\t " and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")
        }
    )


@pytest.fixture
def hostile_board(board: Run) -> Run:
    """Every stored string that is ever printed, set past relman's input checks by another tool."""
    board.ok("release", "add", "payments-api", "2.4.1", "--component", "payments-db")
    board.ok("release", "add", "ledger", "1.9.3", "--component", "payments-db")
    board.ok("schedule", "2", "test", "2026-12-02T10:00", "--for", "2h")
    board.ok("freeze", "add", "prod", "--start", "2026-12-20T00:00", "--end", "2026-12-27T00:00", "--reason", "x")
    conn = sqlite3.connect(board.db)
    with conn:
        conn.execute(
            "UPDATE releases SET name = ?, version = ?, owner = ?, components = ?, notes = ? WHERE id = 1",
            (
                HOSTILE["osc8"] + HOSTILE["markup"],
                HOSTILE["bidi"],
                HOSTILE["c1"],
                json.dumps([HOSTILE["zero"], "payments-db"]),
                ALL,
            ),
        )
        conn.execute("UPDATE environments SET title = ? WHERE name = 'test'", (HOSTILE["csi"] + HOSTILE["markup"],))
        conn.execute("UPDATE freezes SET reason = ?", (HOSTILE["osc52"] + HOSTILE["lines"],))
        conn.execute(
            'INSERT INTO events (at, actor, release, action, "from", "to", reason) VALUES (?, ?, 1, ?, ?, ?, ?)',
            (
                "2026-12-01T10:00:00Z",
                HOSTILE["del"] + HOSTILE["markup"],
                "edited" + HOSTILE["bidi"],
                HOSTILE["c1"],
                HOSTILE["osc52"],
                ALL,
            ),
        )
    conn.close()
    return board


READERS = [
    ["release", "list"],
    ["release", "list", "--json"],
    ["release", "show", "1"],
    ["release", "show", "1", "--json"],
    ["env", "list"],
    ["env", "list", "--json"],
    ["freeze", "list"],
    ["freeze", "list", "--json"],
    ["log"],
    ["log", "--json"],
    ["log", "1", "--limit", "2"],
    ["conflicts", "--now", "2026-12-01T10:00"],
    ["conflicts", "--json"],
]


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_every_reading_command_prints_stored_text_inert(hostile_board: Run, args: list[str]) -> None:
    result = hostile_board.ok(*args)
    assert unsafe(result.stdout) == [], result.stdout
    assert unsafe(result.stderr) == []
    if "--json" in args:
        json.loads(result.stdout)  # still JSON


def test_json_keeps_the_exact_value_for_scripts(hostile_board: Run) -> None:
    shown = hostile_board.json("release", "show", "1")
    assert shown["name"] == HOSTILE["osc8"] + HOSTILE["markup"]
    assert shown["version"] == HOSTILE["bidi"] and shown["notes"] == ALL
    assert hostile_board.json("freeze", "list")[0]["reason"] == HOSTILE["osc52"] + HOSTILE["lines"]


def test_markup_is_printed_as_the_characters_it_is(hostile_board: Run) -> None:
    out = hostile_board.ok("release", "show", "1").stdout
    assert "[bold red]pwned[/] [link=https://evil.example]click[/link]" in out
    assert "\\x1b]8;;https://evil.example\\x1b\\link" in out  # the hyperlink is visible text, not a link
    assert "txt\\u202egnp.exe\\u202c" in out  # the override is shown where it was, not obeyed


def test_messages_on_stderr_are_inert_too(hostile_board: Run) -> None:
    # a refusal names the release; a schedule warns about conflicts naming it
    for args in (["move", "1", "test"], ["approve", "1"], ["schedule", "1", "test", "2026-12-02T10:00", "--for", "1h"]):
        result = hostile_board(*args)
        assert unsafe(result.stderr) == [], (args, result.stderr)
        assert unsafe(result.stdout) == [], (args, result.stdout)
        if result.exit_code:
            assert len(result.stderr.splitlines()) == 1


def test_an_export_of_hostile_text_round_trips_without_raw_controls(hostile_board: Run, tmp_path: Path) -> None:
    path = tmp_path / "board.toml"
    hostile_board.ok("export", str(path))
    text = path.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text  # TOML escapes control characters
    # the stored freeze reason is refused on import, by the same rule as `freeze add`: it was never valid input
    result = hostile_board("import", str(path))
    assert result.exit_code == 2 and "must not contain control" in result.stderr


# --- the board ------------------------------------------------------------------------------------------


async def test_the_board_detail_and_scheduler_show_hostile_text_inert(hostile_board: Run) -> None:
    from conftest import NOW
    from tui.conftest import loaded, screen_text, until

    from relman_tui.service import Service
    from relman_tui.settings import Settings
    from relman_tui.store import Store
    from relman_tui.timeutil import FixedClock
    from relman_tui.tui.app import RelmanApp
    from relman_tui.tui.screens.board import BoardScreen
    from relman_tui.tui.screens.detail import DetailScreen
    from relman_tui.tui.screens.scheduler import SchedulerScreen

    store = Store.open(hostile_board.path)
    app = RelmanApp(Service(store, FixedClock(NOW), "alice"), Settings(), "UTC", poll_interval=0.05)
    seen: list[str] = []
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(pilot)
        seen.append(screen_text(app))
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        screen.jump_to(1)
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and "pwned" in screen_text(app))
        seen.append(screen_text(app))
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("2")

        def scheduler_drawn() -> bool:  # the scheduler is up, with a line for each environment
            screen = app.screen
            if not isinstance(screen, SchedulerScreen) or not screen.timeline.rows:
                return False
            labels = {line[1:].split(" ")[0] for line in screen_text(app).splitlines()}  # after the cursor mark
            return all(row.name in labels for row in screen.timeline.rows)

        await until(pilot, scheduler_drawn)
        seen.append(screen_text(app))
    store.close()
    for text in seen:
        assert unsafe(text) == [], unsafe(text)
    assert "\\x1b]8;;ht" in seen[0]  # the card shows the hyperlink's bytes, not a link
    assert "clear\\x1b[2J" in seen[0]  # the column header shows the screen clear, and does not clear
    assert "[bold red]pwned[/] [link=https://evil.example]click[/link]" in seen[1]


async def test_notifications_naming_a_release_do_not_read_its_name_as_markup(board: Run) -> None:
    """A live change and a refusal both notify with the release's name: it must stay text."""
    from conftest import NOW
    from tui.conftest import loaded, screen_text, until

    from relman_tui.service import Service
    from relman_tui.settings import Settings
    from relman_tui.store import Store
    from relman_tui.timeutil import FixedClock
    from relman_tui.tui.app import RelmanApp
    from relman_tui.tui.screens.board import BoardScreen
    from relman_tui.tui.screens.dialogs import RefusedMoveDialog
    from relman_tui.tui.textual_private import notifications

    board.ok("release", "add", "[link=https://evil.example]payments[/link]", "1.0", actor="bob")
    store = Store.open(board.path)
    app = RelmanApp(Service(store, FixedClock(NOW), "alice"), Settings(), "UTC", poll_interval=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        board.ok("move", "1", "dev", actor="bob")  # another process: a "changed elsewhere" notification
        await until(pilot, lambda: any("payments" in n.message for n in notifications(app)))
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        screen.jump_to(1)
        await pilot.pause()
        await pilot.press(">")  # not verified in dev: refused, and the refusal names it
        await until(pilot, lambda: isinstance(app.screen, RefusedMoveDialog))
        assert "[link=https://evil.example]payments[/link]" in screen_text(app)  # named as text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        notes = [n for n in notifications(app) if "[link=" in n.message]
        assert notes, [n.message for n in notifications(app)]
        assert all(not n.markup for n in notes), [(n.title, n.message) for n in notes if n.markup]
    store.close()
