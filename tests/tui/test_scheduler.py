"""The scheduler, driven by key and mouse: what the operator sees, and what lands in the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from relman_tui.demo import add_default_pipeline
from relman_tui.model import Risk, Severity, State
from relman_tui.service import Service
from relman_tui.store import NewRelease, Store
from relman_tui.timeutil import FixedClock
from relman_tui.tui.app import RelmanApp
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.dialogs import ConfirmDialog, HelpScreen, ScheduleDialog
from relman_tui.tui.screens.scheduler import ReleasePicker, SchedulerScreen
from relman_tui.tui.textual_private import notifications
from relman_tui.tui.widgets.timeline import DAY, HEADER, WEEK, Timeline

from .conftest import TUI_NOW, footer, loaded, make_app, other, palette, screen_text, settle, until

TUE = datetime(2026, 12, 1, tzinfo=UTC)  # no freezes on this board; nothing else that day
H = timedelta(hours=1)


@pytest.fixture
def sched_db(tmp_path: Path) -> Path:
    """The default pipeline; alpha and beta back to back in prod, delta alone in test, gamma unscheduled."""
    path = tmp_path / "sched.db"
    store = Store.open(path, create=True)
    service = Service(store, FixedClock(TUI_NOW), "setup")
    add_default_pipeline(service)
    alpha = service.add_release("alpha", "1.0")
    beta = service.add_release("beta", "2.0")
    service.add_release("gamma", "3.0")
    delta = service.add_release("delta", "4.0")
    service.schedule(alpha.id, "prod", TUE + 10 * H, TUE + 12 * H)
    service.schedule(beta.id, "prod", TUE + 12 * H, TUE + 14 * H)
    service.schedule(delta.id, "test", TUE + 10 * H, TUE + 12 * H)
    store.close()
    return path


def ids(path: Path) -> dict[str, int]:
    return {r.name: r.id for r in other(path, "reader").releases()}


def sched(app: App[Any]) -> SchedulerScreen:
    screen = app.screen
    assert isinstance(screen, SchedulerScreen)
    return screen


async def open_scheduler(pilot: Pilot[Any]) -> SchedulerScreen:
    await loaded(pilot)
    await pilot.press("2")
    await until(pilot, lambda: isinstance(pilot.app.screen, SchedulerScreen) and pilot.app.screen.timeline.rows)
    return sched(pilot.app)


async def select(pilot: Pilot[Any], release_id: int) -> None:
    screen = sched(pilot.app)
    screen.select_window(None)
    screen.select_release(release_id)
    await pilot.pause()
    assert screen.selected is not None and screen.selected[0] == release_id


def window(path: Path, release_id: int, env: str) -> tuple[datetime, datetime] | None:
    found = other(path, "reader").release(release_id).window_in(env)
    return (found.start, found.end) if found else None


def previews(screen: SchedulerScreen, expected: tuple[datetime, datetime]) -> Callable[[], bool]:
    """A condition: the screen previews the window ``expected`` (a loop's window, bound now)."""
    return lambda: screen.preview is not None and (screen.preview.start, screen.preview.end) == expected


def notes(app: RelmanApp) -> str:
    return "\n".join(str(n.message) for n in notifications(app))


async def apply(
    pilot: Pilot[Any], expected: tuple[datetime, datetime] | None, path: Path, key: tuple[int, str]
) -> None:
    """Wait for the preview's verdict, press enter, and wait for the window to be written."""
    screen = sched(pilot.app)
    await until(pilot, lambda: screen.preview is not None and screen.preview.diff is not None)
    await pilot.press("enter")
    await until(pilot, lambda: window(path, *key) == expected)
    await until(pilot, lambda: not screen.busy and screen.preview is None)


# -- getting there ------------------------------------------------------------------------------


async def test_2_opens_the_scheduler_and_1_returns_with_the_same_release(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert app.snapshot is not None
        payments = next(r for r in app.snapshot.releases if r.label == "payments-api 2.4.1")
        board = app.screen
        assert isinstance(board, BoardScreen)
        board.jump_to(payments.id)
        screen = await open_scheduler(pilot)
        assert screen.selected == (payments.id, "prod")
        text = screen_text(app)
        assert "payments-api 2.4.1 · prod" in text  # the status line
        assert "Conflicts (12)" in text
        for env in ("dev", "test", "staging", "preprod", "prod"):
            assert env in text
        await pilot.press("tab")  # the next window in prod
        chosen = screen.selected
        assert chosen is not None and chosen[0] != payments.id and chosen[1] == "prod"
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        back = app.screen
        assert isinstance(back, BoardScreen)
        assert back.selected_id == chosen[0]
        await pilot.press("2")  # the same scheduler again, on the board's release
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen))
        assert sched(app).selected == chosen


async def test_the_palette_opens_the_scheduler_and_the_board(sched_db: Path) -> None:
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await palette(pilot, "open sched", "Open the scheduler  2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen))
        await palette(pilot, "open the board", "Open the board  1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))


# -- the timeline -------------------------------------------------------------------------------


async def test_zoom_scroll_and_now(sched_db: Path) -> None:
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        timeline = screen.timeline
        assert timeline.view_start is not None  # the screen has placed the view
        assert timeline.zoom is DAY and "day zoom" in screen_text(app)
        assert screen.selected is not None  # the board's release, in view
        assert timeline.view_start <= TUE + 10 * H < timeline.view_end
        await pilot.press("t")
        assert timeline.view_start <= TUI_NOW < timeline.view_end  # the now-line is in view
        assert "now" in screen_text(app)
        start = timeline.view_start
        await pilot.press("right")
        assert timeline.view_start == start + H
        await pilot.press("left", "left")
        assert timeline.view_start == start - H
        await pilot.press("pagedown")
        assert timeline.view_start > start + 10 * H
        await pilot.press("pageup", "pageup")
        assert timeline.view_start < start - 10 * H
        await pilot.press("t")
        assert timeline.view_start <= TUI_NOW < timeline.view_end
        await pilot.press("minus")
        assert timeline.zoom is WEEK and "week zoom" in screen_text(app)
        assert timeline.view_end - timeline.view_start >= timedelta(days=5)
        week_start = timeline.view_start
        await pilot.press("right")
        assert timeline.view_start == week_start + timedelta(days=1)
        labels = [label for _, label, _ in timeline.ticks()]
        assert len(labels) >= 5 and all(label in screen_text(app) for label in labels[:5])  # "Tue 01"…
        await pilot.press("plus")
        assert timeline.zoom is DAY


async def test_u_shows_the_axis_in_utc_or_the_operators_zone(sched_db: Path) -> None:
    app = make_app(sched_db, tz="Europe/Berlin")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        await select(pilot, ids(sched_db)["alpha"])
        assert "CET" in screen_text(app)
        assert "2026-12-01 11:00 → 13:00 CET" in screen_text(app)
        await pilot.press("u")
        await until(pilot, lambda: "2026-12-01 10:00 → 12:00 UTC" in screen_text(app))
        assert screen.timeline.tz == "UTC"


async def test_a_window_across_the_dst_change_is_drawn_at_its_true_length(empty_board: Path) -> None:
    service = other(empty_board, "setup")
    release = service.add_release("nightly", "1.0")
    start, end = datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 25, 4, 0, tzinfo=UTC)
    service.schedule(release.id, "prod", start, end)  # 00:00 CEST → 05:00 CET: 5 hours on the wall, 6 real
    app = make_app(empty_board, tz="Europe/Berlin", now=datetime(2026, 10, 24, 20, 0, tzinfo=UTC))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        timeline = screen.timeline
        assert timeline.zoom is DAY
        x0, x1 = timeline.span_cells(start, end)
        assert x1 - x0 == 24  # six hours of 15-minute cells
        # the drawn line: 24 cells in the bar colour
        line = next(
            i for i, (row, lane) in enumerate(timeline._lines) if timeline.rows[row].name == "prod" and lane == 0
        )
        strip = timeline.render_line(HEADER + line - int(timeline.scroll_offset.y))
        bar = {timeline.get_component_rich_style(name).bgcolor for name in ("timeline--bar", "timeline--selected")}
        assert sum(len(s.text) for s in strip if s.style is not None and s.style.bgcolor in bar) == 24
        # the hour of the change is shown twice, on the wall clock
        labels = [label for _, label, _ in timeline.ticks()]
        assert labels[labels.index("00") : labels.index("00") + 6] == ["00", "01", "02", "02", "03", "04"]


async def test_windows_in_conflict_take_the_colour_of_the_worst(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        severities = {bar.key: bar.severity for row in screen.timeline.rows for bar in row.bars}
        assert app.snapshot is not None
        names = {r.id: r.label for r in app.snapshot.releases}
        by_label = {(names[rid], env): sev for (rid, env), sev in severities.items()}
        assert by_label[("catalog-api 4.2.0", "staging")] is Severity.ERROR  # capacity
        assert by_label[("payments-api 2.4.1", "prod")] is Severity.WARNING  # component only
        assert by_label[("notifications 1.4.0", "test")] is None
        await pilot.press("n")
        first = screen.conflicts[0]
        mark = "✖" if first.severity is Severity.ERROR else "⚠"
        assert f"{mark} {first.message[:40]}" in screen_text(app).replace("\n", " ")  # the status line


# -- selecting ----------------------------------------------------------------------------------


async def test_up_down_change_rows_and_tab_walks_along_a_row(sched_db: Path) -> None:
    known = ids(sched_db)
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        await select(pilot, known["alpha"])
        assert screen.row_index == 4
        await pilot.press("tab")
        assert screen.selected == (known["beta"], "prod")
        await pilot.press("tab")  # wraps round
        assert screen.selected == (known["alpha"], "prod")
        await pilot.press("shift+tab")
        assert screen.selected == (known["beta"], "prod")
        assert "beta 2.0 · prod" in screen_text(app)
        await pilot.press("up")  # preprod: no windows
        assert screen.row_index == 3 and screen.selected is None
        assert "preprod: no window selected" in screen_text(app)
        await pilot.press("up", "up")  # test: delta's window
        assert screen.selected == (known["delta"], "test")
        await pilot.press("down", "down", "down")
        assert screen.row_index == 4 and screen.selected is not None and screen.selected[1] == "prod"


# -- changing windows ---------------------------------------------------------------------------


async def test_brackets_shift_and_braces_stretch_through_the_service(sched_db: Path) -> None:
    delta = ids(sched_db)["delta"]
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        await select(pilot, delta)
        steps = [
            ("right_square_bracket", (TUE + 11 * H, TUE + 13 * H)),
            ("left_square_bracket", (TUE + 10 * H, TUE + 12 * H)),
            ("right_curly_bracket", (TUE + 10 * H, TUE + 13 * H)),
            ("left_curly_bracket", (TUE + 10 * H, TUE + 12 * H)),
            ("left_curly_bracket", (TUE + 10 * H, TUE + 11 * H)),
        ]
        for key, expected in steps:
            await pilot.press(key)
            # a preview: drawn and described, not written
            await until(pilot, previews(screen, expected))
            assert window(sched_db, delta, "test") != expected
            assert "enter applies · esc discards" in screen_text(app)
            await apply(pilot, expected, sched_db, (delta, "test"))
        await until(pilot, lambda: "11:00 UTC · 1h" in screen_text(app))  # the status line follows
        await pilot.press("left_curly_bracket")  # one step is the shortest
        await until(pilot, settle(app))
        assert screen.preview is None
        assert window(sched_db, delta, "test") == (TUE + 10 * H, TUE + 11 * H)
        assert "at least one step" in notes(app)
        await pilot.press("right_square_bracket", "right_square_bracket")  # previews add up: two steps
        await until(pilot, lambda: screen.preview is not None and screen.preview.start == TUE + 12 * H)
        await pilot.press("escape")  # discarded: nothing written
        assert screen.preview is None
        await until(pilot, settle(app))
        assert window(sched_db, delta, "test") == (TUE + 10 * H, TUE + 11 * H)
        await pilot.press("minus", "right_square_bracket")  # week zoom: a calendar day
        await apply(pilot, (TUE + 34 * H, TUE + 35 * H), sched_db, (delta, "test"))
        events = other(sched_db, "reader").events(delta)
        assert [e.action for e in events].count("scheduled") == 6 + 1  # the setup's and ours
        assert events[-1].actor == "alice" and events[-1].to == "test 2026-12-02T10:00:00Z/2026-12-02T11:00:00Z"


async def test_a_change_that_creates_an_error_says_so_before_enter_and_the_toast_agrees(sched_db: Path) -> None:
    known = ids(sched_db)
    alpha = known["alpha"]
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        await select(pilot, alpha)
        await pilot.press("right_square_bracket")  # into beta's window: prod holds one at a time
        await until(pilot, lambda: "✖ puts it in 1 error (capacity)" in screen_text(app))
        assert "enter applies" in footer(app).replace("enter Apply", "enter applies") and "esc Discard" in footer(app)
        await pilot.press("escape")
        assert screen.preview is None and "Apply" not in footer(app)
        await until(pilot, settle(app))
        assert window(sched_db, alpha, "prod") == (TUE + 10 * H, TUE + 12 * H)
        await pilot.press("right_square_bracket")
        await apply(pilot, (TUE + 11 * H, TUE + 13 * H), sched_db, (alpha, "prod"))
        await until(pilot, lambda: "Conflicts (1)" in screen_text(app))  # the panel follows at once
        assert "✖ 1 error" in screen_text(app).splitlines()[0]
        assert "now ✖ 1 error  ⚠ 0 warnings" in notes(app)  # the toast says what the top bar says
        await until(
            pilot, lambda: any(bar.severity is Severity.ERROR for row in screen.timeline.rows for bar in row.bars)
        )
        await pilot.press("left_square_bracket")  # back out of it
        await until(pilot, lambda: "✓ takes it out of 1 conflict" in screen_text(app))
        # and the previewed bar agrees: no ✖ on it any more (beta's, still where it is, keeps its own)
        assert screen.preview is not None and screen.preview.severity is None
        assert "✖alpha" not in screen_text(app)
        await apply(pilot, (TUE + 10 * H, TUE + 12 * H), sched_db, (alpha, "prod"))
        await until(pilot, lambda: "now ✖ 0 errors  ⚠ 0 warnings" in notes(app))
        await until(pilot, lambda: "Conflicts (0)" in screen_text(app))


async def test_f_moves_the_window_to_the_next_free_slot(sched_db: Path) -> None:
    known = ids(sched_db)
    other(sched_db, "setup").schedule(known["gamma"], "prod", TUE + 11 * H, TUE + 13 * H)  # overlaps both
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        assert "Conflicts (1)" in screen_text(app)  # one span where prod holds three
        await select(pilot, known["gamma"])
        await pilot.press("f")
        # a preview from where the window is, never earlier: after beta, 14:00
        await until(pilot, lambda: screen.preview is not None and screen.preview.diff is not None)
        assert screen.preview is not None
        assert (screen.preview.start, screen.preview.end) == (TUE + 14 * H, TUE + 16 * H)
        assert "to the next free slot" in screen_text(app) and "✓ takes it out of 1 conflict" in screen_text(app)
        assert window(sched_db, known["gamma"], "prod") == (TUE + 11 * H, TUE + 13 * H)
        await apply(pilot, (TUE + 14 * H, TUE + 16 * H), sched_db, (known["gamma"], "prod"))
        assert not [c for c in other(sched_db, "r").conflicts() if c.severity is Severity.ERROR]
        await until(pilot, lambda: "now ✖ 0 errors" in notes(app))
        await until(pilot, lambda: "Conflicts (0)" in screen_text(app))
        assert screen.selected == (known["gamma"], "prod")


async def test_d_removes_the_window_after_asking(sched_db: Path) -> None:
    beta = ids(sched_db)["beta"]
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        await select(pilot, beta)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Remove the window of beta 2.0 in prod?" in screen_text(app)
        await pilot.press("enter")  # the focused button is "No"
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen) and not screen.busy)
        assert window(sched_db, beta, "prod") is not None
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#confirm")
        await until(pilot, lambda: window(sched_db, beta, "prod") is None)
        await until(pilot, lambda: screen.selected is None and not screen.busy)
        assert other(sched_db, "r").events(beta, limit=1)[0].action == "unscheduled"
        assert "beta" not in {bar.label.split()[0] for row in screen.timeline.rows for bar in row.bars}


async def test_s_schedules_a_release_that_has_no_window_here(sched_db: Path) -> None:
    gamma = ids(sched_db)["gamma"]
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        await select(pilot, ids(sched_db)["alpha"])  # the prod row
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ReleasePicker))
        picker = app.screen.query_one(OptionList)
        labels = [str(picker.get_option_at_index(i).prompt) for i in range(picker.option_count)]
        assert labels == ["gamma 3.0  (planned)", "delta 4.0  (planned)"]  # alpha and beta have one
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ScheduleDialog))
        app.screen.query_one("#start", Input).value = "2026-12-01 16:00"
        await until(pilot, lambda: not app.screen.query_one("#ok").disabled)
        await pilot.click("#ok")
        await until(pilot, lambda: window(sched_db, gamma, "prod") == (TUE + 16 * H, TUE + 18 * H))
        await until(pilot, lambda: screen.selected == (gamma, "prod"))
        assert "gamma 3.0 · prod" in screen_text(app)


async def test_n_and_p_walk_the_conflicts_and_select_their_windows(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        conflicts = screen.conflicts
        assert [c.start for c in conflicts] == sorted(c.start for c in conflicts)
        await pilot.press("n")
        assert screen.conflict_index == 0
        first = conflicts[0]
        assert screen.selected is not None and screen.selected[0] in first.releases
        assert screen.selected[1] in first.environments
        assert screen.timeline.view_start is not None  # the screen has placed the view
        assert screen.timeline.view_start <= first.start < screen.timeline.view_end
        await pilot.press("n")
        assert screen.conflict_index == 1
        assert screen.query_one("#conflicts", OptionList).highlighted == 1
        await pilot.press("p", "p")
        assert screen.conflict_index == len(conflicts) - 1
        last = conflicts[-1]
        assert screen.selected is not None and screen.selected[0] in last.releases
        assert screen.timeline.view_start <= last.start < screen.timeline.view_end
        # choosing one in the panel with the mouse does the same
        panel = screen.query_one("#conflicts", OptionList)
        panel.post_message(OptionList.OptionSelected(panel, panel.get_option_at_index(2), 2))
        await pilot.pause()
        assert screen.conflict_index == 2 and screen.selected is not None
        assert screen.selected[0] in conflicts[2].releases


async def test_dragging_a_bar_shifts_the_window(sched_db: Path) -> None:
    delta = ids(sched_db)["delta"]
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        await select(pilot, delta)
        timeline = screen.timeline
        found = window(sched_db, delta, "test")
        assert found is not None
        start = found[0]
        x = timeline.label_width + timeline.x_of(start) + 1
        line = next(
            i for i, (row, lane) in enumerate(timeline._lines) if timeline.rows[row].name == "test" and lane == 0
        )
        y = HEADER + line
        await pilot.mouse_down(Timeline, offset=(x, y))
        await pilot.hover(Timeline, offset=(x + 4, y))
        assert timeline.drag is not None
        await pilot.hover(Timeline, offset=(x + 8, y))  # two hours later
        await pilot.mouse_up(Timeline, offset=(x + 8, y))
        assert timeline.drag is None
        # a drop is a preview like the keys': enter applies it
        await until(pilot, lambda: screen.preview is not None)
        assert (screen.preview.start, screen.preview.end) == (TUE + 12 * H, TUE + 14 * H)
        assert window(sched_db, delta, "test") == (TUE + 10 * H, TUE + 12 * H)
        await apply(pilot, (TUE + 12 * H, TUE + 14 * H), sched_db, (delta, "test"))


# -- live, read-only, help ----------------------------------------------------------------------


async def test_changes_by_others_appear_within_a_second(sched_db: Path) -> None:
    gamma = ids(sched_db)["gamma"]
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        other(sched_db, "bob").schedule(gamma, "dev", TUE + 9 * H, TUE + 11 * H)
        await until(pilot, lambda: any(bar.release_id == gamma for row in screen.timeline.rows for bar in row.bars))
        await until(pilot, lambda: "bob scheduled gamma 3.0" in notes(app))


async def test_read_only_hides_and_refuses_every_change(sched_db: Path) -> None:
    known = ids(sched_db)
    app = make_app(sched_db, read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        await select(pilot, known["delta"])
        for key in ("right_square_bracket", "left_curly_bracket", "f", "d", "s"):
            await pilot.press(key)
        await until(pilot, settle(app))
        assert isinstance(app.screen, SchedulerScreen)
        assert window(sched_db, known["delta"], "test") == (TUE + 10 * H, TUE + 12 * H)
        assert screen.preview is None
        assert "Free slot" not in footer(app) and "Shift window" not in footer(app) and "Keys" in footer(app)
        assert not screen.check_action("shift", (1,))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        assert "Read-only board" in text and "next free slot" not in text and "drag a window" not in text


async def test_question_mark_lists_the_keys_and_enter_opens_the_detail(sched_db: Path) -> None:
    app = make_app(sched_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_scheduler(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        for words in (
            "next free slot",
            "1h in day zoom",
            "next / previous conflict",
            "apply the preview",
            "drag a window along its row",
        ):
            assert words in text
        await pilot.press("escape")
        await select(pilot, ids(sched_db)["alpha"])
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "DetailScreen")


# -- scale ----------------------------------------------------------------------------------------


async def test_two_thousand_windows_over_ten_environments_draw_and_scroll(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    store = Store.open(path, create=True)
    service = Service(store, FixedClock(TUI_NOW), "setup")
    service.found_board()  # setup made it: its first admin
    envs = [f"env{i:02d}" for i in range(10)]
    for name in envs:
        service.add_environment(name, capacity=2)
    releases, windows = [], []
    for i in range(2000):
        releases.append(NewRelease(f"svc-{i}", "1.0", (f"svc-{i}",), "bob", Risk.LOW, "", "planned", State.PENDING))
        start = TUI_NOW - timedelta(days=30) + i * timedelta(minutes=97)
        windows.append([(envs[i % 10], start, start + 2 * H)])
    with store.write():
        store.insert_releases_bulk(releases, windows, TUI_NOW)
    store.close()
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        timeline = screen.timeline
        assert sum(len(row.bars) for row in timeline.rows) == 2000
        assert len(timeline.rows) == 10
        for key in ("pagedown", "pagedown", "minus", "pagedown", "pageup", "plus", "t", "tab", "down"):
            await pilot.press(key)
        await pilot.pause()
        assert timeline.view_start is not None  # the screen has placed the view
        visible = [bar for row in timeline.rows for bar in row.between(timeline.view_start, timeline.view_end)]
        assert 0 < len(visible) < 100  # a line draws what is in view, not all 2,000
        assert "svc-" in screen_text(app)


async def test_every_error_conflict_of_the_demo_can_be_cleared_from_the_keyboard(demo_db: Path) -> None:
    """The issue's "done when": open the scheduler, walk to each error with `n`, and `f` it away."""
    app = make_app(demo_db)
    reader = other(demo_db, "reader")

    def errors() -> list[object]:
        return [c for c in reader.conflicts(TUI_NOW) if c.severity is Severity.ERROR]

    def changed_from(before: list[object]) -> Callable[[], bool]:
        """A condition: the errors are no longer ``before`` (a loop's list, bound now)."""
        return lambda: errors() != before

    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_scheduler(pilot)
        assert errors()
        for _ in range(30):
            remaining = errors()
            if not remaining:
                break
            target = next(i for i, c in enumerate(screen.conflicts) if c.severity is Severity.ERROR)
            while screen.conflict_index != target:
                await pilot.press("n")
            await pilot.press("f")
            await until(pilot, lambda: screen.preview is not None and screen.preview.diff is not None)
            await pilot.press("enter")
            # a move can shrink a three-way clash to a two-way one: wait for any change
            await until(pilot, changed_from(remaining))
            await until(pilot, lambda: not screen.busy and len(screen.conflicts) == len(reader.conflicts(TUI_NOW)))
        assert errors() == []
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        # the board draws the new times: its snapshot holds exactly the windows in the file
        assert app.snapshot is not None
        board_windows = {(w.release_id, w.environment, w.start) for r in app.snapshot.releases for w in r.windows}
        file_windows = {(w.release_id, w.environment, w.start) for r in reader.releases() for w in r.windows}
        assert board_windows == file_windows
        assert "✖ 0 errors" in screen_text(app)
