"""The board on a jump host as it is: 80×22 inside tmux, resizes, toasts over dialogs, a filter at 80
columns, week zoom without colour (issue 20)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Input

from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.dialogs import (
    ConfirmDialog,
    HelpScreen,
    ReasonDialog,
    RefusedMoveDialog,
    ReleaseForm,
    ScheduleDialog,
)
from relman_tui.tui.screens.scheduler import ReleasePicker, SchedulerScreen
from relman_tui.tui.textual_private import notifications
from relman_tui.tui.widgets.cardlist import CardList
from relman_tui.tui.widgets.timeline import Timeline

from .conftest import TUI_NOW, board, footer, loaded, make_app, other, screen_text, selected, until

SMALL = (80, 22)  # an 80×24 terminal in tmux or screen, less their status line


def on_screen(pilot: Pilot[Any]) -> bool:
    """Is the cursor's card drawn, with its cursor mark, on the screen?"""
    app = pilot.app
    release = selected(app)
    lists = list(board(app).query(CardList))
    here = next(cards for cards in lists if cards.index_of(release.id) is not None)
    region = here.region
    screen = app.screen.region
    return region.width > 0 and screen.contains_region(region) and f"▌{release.name[:12]}" in screen_text(app)


async def test_every_screen_works_at_80x22(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        assert "too small" not in screen_text(app)
        first = selected(app).id
        await pilot.press("j")
        assert selected(app).id != first  # keys act
        assert "Quit" in footer(app) and "Move on" in footer(app)
        for key, screen, back in (
            ("question_mark", HelpScreen, "escape"),
            ("enter", DetailScreen, "escape"),
            ("2", SchedulerScreen, "1"),
        ):
            await pilot.press(key)
            await until(pilot, lambda screen=screen: isinstance(app.screen, screen))  # type: ignore[misc]
            text = screen_text(app)
            assert "too small" not in text
            assert "Quit" in text.splitlines()[-1] or screen is HelpScreen
            await pilot.press(back)
            await until(pilot, lambda: isinstance(app.screen, BoardScreen))


async def test_the_cursor_card_is_on_screen_after_resizes(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press(*"lllll", "j")  # a prod release, off the first screen
        await until(pilot, lambda: on_screen(pilot))
        for size in ((120, 40), (80, 24), SMALL):
            await pilot.resize_terminal(*size)
            await until(pilot, lambda: on_screen(pilot))


async def test_toasts_wait_while_a_dialog_is_up(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("l", "j")  # notifications 1.4.0: deployed in dev, not verified
        await pilot.press("greater_than_sign")
        await until(pilot, lambda: isinstance(app.screen, RefusedMoveDialog))
        for n in range(4):
            app.notify(f"toast number {n} with a long sentence that fills its box", timeout=30)
        bob = other(demo_db)
        bob.add_release("another", "1.0")  # and a change made elsewhere
        await until(pilot, lambda: len(notifications(app)) >= 5)
        await until(pilot, lambda: len(app.screen.query("Toast")) >= 5)  # the toasts are on the dialog, hidden
        text = screen_text(app)
        assert "To move it anyway, give the reason, then press Force move" in " ".join(text.split())
        assert "Force move" in text and "Cancel" in text
        assert "toast number" not in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        await until(pilot, lambda: "toast number" in screen_text(app))  # shown again once it is closed


async def test_a_filter_at_80_columns_puts_the_cursor_on_a_visible_match(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        await pilot.press("l")  # Development: no payments release stands there
        await pilot.press("slash", *"payments", "enter")
        await until(pilot, lambda: board(app).selected_id is not None)
        assert any("payments" in word for word in (selected(app).name, *selected(app).components))
        await until(pilot, lambda: on_screen(pilot))


async def test_week_zoom_draws_a_two_hour_window_without_colour_and_keeps_the_day_label(empty_board: Path) -> None:
    bob = other(empty_board)
    rid = bob.add_release("payments-api", "1.0").id
    start = TUI_NOW + timedelta(days=1)
    bob.schedule(rid, "test", start, start + timedelta(hours=2))
    app = make_app(empty_board)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen))
        await pilot.press("minus")
        await until(pilot, lambda: "week zoom" in screen_text(app))
        lines = screen_text(app).splitlines()
        assert "│Thu 26" in lines[2]  # the now-marker (Thursday noon) does not write over it
        assert "▼" in lines[1] + lines[2]
        row = next(line for line in lines if line[1:].startswith("test"))
        assert "█" in row  # the 2-hour window: one cell, drawn as a block, not as colour only


async def test_done_windows_are_dimmed_in_the_scheduler_and_the_detail_screen(empty_board: Path) -> None:
    bob = other(empty_board)
    rid = bob.add_release("payments-api", "1.0").id
    start = TUI_NOW + timedelta(hours=20)
    bob.schedule(rid, "dev", start, start + timedelta(hours=2))
    bob.schedule(rid, "test", start + timedelta(hours=4), start + timedelta(hours=6))
    bob.move(rid, "dev")  # stands in dev before its window there: the dev window is done
    app = make_app(empty_board)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        assert "test in 1d" in screen_text(app)  # the card's next window is test's, not the done dev one
        await pilot.press("l", "enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.shown)
        lines = screen_text(app).splitlines()
        dev = next(line for line in lines if line.strip().startswith("dev "))
        test = next(line for line in lines if line.strip().startswith("test "))
        assert dev.rstrip().endswith("done") and not test.rstrip().endswith("done")
        view = app.screen.query_one("#detail")
        await pilot.press("end")  # j k home end scroll the detail screen
        await until(pilot, lambda: view.scroll_y > 0)
        await pilot.press("home")
        await until(pilot, lambda: view.scroll_y == 0)
        await pilot.press("j")
        await until(pilot, lambda: view.scroll_y == 1)
        await pilot.press("escape", "2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen))
        timeline = app.screen.query_one(Timeline)
        bars = {bar.environment: bar.done for row in timeline.rows for bar in row.bars}
        assert bars == {"dev": True, "test": False}


async def test_a_stale_save_keeps_focus_and_typing_and_reapplies_on_the_fresh_release(empty_board: Path) -> None:
    bob = other(empty_board)
    rid = bob.add_release("payments-api", "1.0").id
    app = make_app(empty_board)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ReleaseForm))
        form = app.screen
        form.query_one("#notes", Input).value = "rollout plan: canary first"
        bob.edit_release(rid, version="1.1")  # someone else saves first
        form.query_one("#ok", Button).focus()
        await pilot.press("enter")  # Save, on a stale revision
        await until(pilot, lambda: form.query_one("#reload", Button).display)
        assert isinstance(app.screen, ReleaseForm)  # still open
        assert form.query_one("#notes", Input).value == "rollout plan: canary first"  # the typing is kept
        assert form.focused is form.query_one("#reload", Button)  # not Cancel: enter re-applies
        await pilot.press("enter")
        await until(pilot, lambda: form.query_one("#version", Input).value == "1.1")  # the fresh values
        assert form.query_one("#notes", Input).value == "rollout plan: canary first"  # and the operator's edit
        await pilot.press("enter")  # Save, now on the fresh revision
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        saved = other(empty_board).release(rid)
        assert (saved.version, saved.notes) == ("1.1", "rollout plan: canary first")


async def test_a_new_release_form_shows_no_error_before_anything_is_typed(empty_board: Path) -> None:
    app = make_app(empty_board)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ReleaseForm))
        assert "must not be empty" not in screen_text(app)
        assert app.screen.query_one("#ok", Button).disabled
        await pilot.press("x", "backspace")  # typed, then emptied: now it says why
        await until(pilot, lambda: "must not be empty" in screen_text(app))


async def test_smaller_things_an_operator_meets(empty_board: Path) -> None:
    """ctrl+c over typing asks; enter on an empty reason says so; an empty board offers no release keys;
    the palette has no theme switcher; the read-only scheduler does not offer `s`."""
    app = make_app(empty_board)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        assert "Move on" not in footer(app) and "Verify" not in footer(app)  # nothing to move
        assert "New" in footer(app)
        assert list(app.get_system_commands(app.screen)) == []
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ReleaseForm))
        await pilot.press(*"payments-api")
        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "not saved" in screen_text(app)
        await pilot.press("escape")  # no: back to the form, the typing kept
        await until(pilot, lambda: isinstance(app.screen, ReleaseForm))
        assert app.screen.query_one("#name", Input).value == "payments-api"
        assert app.is_running
    rid = other(empty_board).add_release("ledger", "1.0").id
    other(empty_board).move(rid, "dev")
    app = make_app(empty_board)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        await pilot.press("l")
        assert "Verify" in footer(app)
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press("escape")
        await pilot.press("less_than_sign")  # a rollback needs a reason
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press("enter")
        await until(pilot, lambda: "a reason is needed" in screen_text(app))
    app = make_app(empty_board, read_only=True)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen))
        await pilot.press("tab", "tab")
        await until(pilot, lambda: "tab selects a window" in screen_text(app))
        assert "s schedules" not in screen_text(app)


async def test_s_in_the_scheduler_starts_at_the_cursor_and_the_example_is_in_the_future(empty_board: Path) -> None:
    bob = other(empty_board)
    a = bob.add_release("payments-api", "1.0").id
    bob.add_release("ledger", "2.0")
    start = TUI_NOW + timedelta(hours=5)
    bob.schedule(a, "dev", start, start + timedelta(hours=2))
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen))
        await pilot.press("tab")  # the cursor on payments-api's dev window
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen) and app.screen.selected is not None)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ReleasePicker))
        await pilot.press("enter")  # ledger, the one without a dev window
        await until(pilot, lambda: isinstance(app.screen, ScheduleDialog))
        assert app.screen.query_one("#start", Input).value == "2026-11-26 17:00"
        assert "Start (UTC; 2026-11-27 14:00" in screen_text(app)  # an example tomorrow, not in the past


async def test_a_frozen_column_keeps_its_capacity_and_approval(empty_board: Path) -> None:
    setup = other(empty_board, "setup")
    setup.add_freeze(["prod"], "quiet", start=TUI_NOW - timedelta(hours=1), end=TUI_NOW + timedelta(hours=5))
    app = make_app(empty_board)
    async with app.run_test(size=(120, 24)) as pilot:
        await loaded(pilot)
        await until(pilot, lambda: "❄ until 17:00" in screen_text(app))
        header = [line.split("▕")[-2] for line in screen_text(app).splitlines()[1:4]]
        assert [h.strip() for h in header] == ["Production      0", "❄ until 17:00", "cap 1 · approval"]


async def test_vim_keys_as_k9s_and_lazygit_users_expect(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot)
        first = selected(app).id
        await pilot.press("G")
        last = selected(app).id
        assert last != first
        await until(pilot, lambda: on_screen(pilot))
        await pilot.press("g")
        assert selected(app).id == first
        await pilot.press("ctrl+d")
        assert selected(app).id != first
        await pilot.press("ctrl+u")
        assert selected(app).id == first
