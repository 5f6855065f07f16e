"""The board an operator trusts at 3 a.m. (issues 10 and 11): each surprise, shown gone."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.color import Color
from textual import events
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Button, Input

from relman_tui.model import Environment, Risk, State
from relman_tui.service import Service
from relman_tui.store import NewRelease, Store
from relman_tui.timeutil import FixedClock
from relman_tui.tui import errorlog
from relman_tui.tui.app import to_next_minute
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.dialogs import ErrorDialog, RefusedMoveDialog, ReleaseForm, ScheduleDialog
from relman_tui.tui.screens.scheduler import SchedulerScreen
from relman_tui.tui.textual_private import notifications
from relman_tui.tui.widgets.column import StageColumn
from relman_tui.tui.widgets.topbar import Summary
from relman_tui.undo import Change, Write

from .conftest import (
    TUI_NOW,
    board,
    footer,
    loaded,
    make_app,
    notes,
    other,
    screen_text,
    selected,
    settle,
    until,
    window_of,
)

TUE = datetime(2026, 12, 1, tzinfo=UTC)
H = timedelta(hours=1)


def release_named(path: Path, label: str) -> int:
    return next(r.id for r in other(path, "r").releases() if r.label == label)


async def on(pilot: Pilot[Any], release_id: int) -> None:
    board(pilot.app).jump_to(release_id)
    await pilot.pause()
    assert board(pilot.app).selected_id == release_id


# -- keys ------------------------------------------------------------------------------------------


async def test_keys_typed_before_a_dialog_opened_do_not_land_in_it(empty_board: Path) -> None:
    """`v > v > v`: the `v`s typed while the refusal was on its way must not fill the reason."""
    service = other(empty_board, "bob")
    release_id = service.add_release("payments-api", "1.0", owner="bob").id
    service.move(release_id, "dev")  # deployed, not verified: `>` is refused
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await on(pilot, release_id)
        typed_ahead = [events.Key("v", "v"), events.Key("greater_than_sign", ">"), events.Key("v", "v")]
        await pilot.press(">")
        await until(pilot, lambda: isinstance(app.screen, RefusedMoveDialog))
        for key in typed_ahead:  # they reach the app only now, as a slow terminal delivers them
            app.post_message(key)
        await until(pilot, settle(app))
        reason = app.screen.query_one("#reason", Input)
        assert reason.value == ""
        assert other(empty_board, "r").release(release_id).state is State.DEPLOYED  # and nothing verified
        await pilot.press("x")  # typed after it opened: it lands
        assert reason.value == "x"


async def test_ctrl_z_undoes_the_last_change_through_the_service(empty_board: Path) -> None:
    release_id = other(empty_board, "bob").add_release("payments-api", "1.0", owner="bob").id
    app = make_app(empty_board)
    reader = other(empty_board, "r")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await on(pilot, release_id)
        await pilot.press("ctrl+z")
        await until(pilot, lambda: "nothing to undo in this session" in notes(app))
        await pilot.press(">")
        await until(pilot, lambda: reader.release(release_id).stage == "dev")
        await until(pilot, settle(app))
        await pilot.press("ctrl+z")  # a move is undone as a rollback with the reason "undo"
        await until(pilot, lambda: reader.release(release_id).stage == "planned")
        event = reader.events(release_id, limit=1)[0]
        assert (event.action, event.reason, event.actor) == ("rolled_back", "undo", "alice")
        await until(pilot, lambda: any("undone: payments-api 1.0 moved to dev" in m for m in notes(app)))
        await until(pilot, lambda: selected(app).stage == "planned")
        # a window change in the scheduler, undone from there
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen))
        scheduler = app.screen
        assert isinstance(scheduler, SchedulerScreen)
        rev = reader.release(release_id).rev
        app.session.write(
            scheduler,
            Change(Write.SCHEDULE, release_id, "test"),
            lambda service: service.schedule(release_id, "test", TUE + 10 * H, TUE + 12 * H, rev=rev),
            context=(None, (0, 0)),
        )
        await until(pilot, lambda: reader.release(release_id).window_in("test") is not None)
        await until(pilot, lambda: scheduler.selected == (release_id, "test"))
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: scheduler.preview is not None and scheduler.preview.diff is not None)
        await pilot.press("enter")
        await until(pilot, lambda: window_of(reader, release_id, "test").start == TUE + 11 * H)
        await until(pilot, settle(app))
        await pilot.press("ctrl+z")
        await until(pilot, lambda: window_of(reader, release_id, "test").start == TUE + 10 * H)
        await pilot.press("ctrl+z")  # and the schedule before it
        await until(pilot, lambda: reader.release(release_id).window_in("test") is None)
        actions = [(e.action, e.actor) for e in reader.events(release_id)]
        assert actions[-3:] == [("scheduled", "alice"), ("scheduled", "alice"), ("unscheduled", "alice")]
        # what cannot be undone says so
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        await pilot.press("ctrl+z")
        await until(pilot, lambda: "nothing to undo in this session" in notes(app))


async def test_the_palette_shows_each_action_with_its_key_and_keys_once(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))

        def prompts() -> list[str]:
            hits = app.screen.query_one(CommandList)
            return [str(hits.get_option_at_index(i).prompt) for i in range(hits.option_count)]

        await until(pilot, lambda: len(prompts()) > 10)
        shown = prompts()
        assert "Verify the release  v" in shown and "Open the scheduler  2" in shown
        assert "Show every key  ?" in shown
        assert not [p for p in shown if p.startswith(("Keys", "Show keys"))]
        assert len([p for p in shown if "key" in p.lower()]) == 1


async def test_scheduler_footer_words_say_what_the_keys_change(sched_board: Path) -> None:
    app = make_app(sched_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen))
        line = footer(app)
        assert "[ ] Shift window" in line and "f Free slot" in line and "? Keys" in line and "q Quit" in line
        assert "Earlier" not in line and "Later" not in line


async def test_the_clock_ticks_on_the_minute_boundary(empty_board: Path) -> None:
    assert to_next_minute(datetime(2026, 11, 26, 12, 0, 25, tzinfo=UTC)) == pytest.approx(35.05)
    assert to_next_minute(datetime(2026, 11, 26, 12, 0, 59, 900_000, tzinfo=UTC)) == pytest.approx(0.5)
    app = make_app(empty_board, now=TUI_NOW + timedelta(seconds=25))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert app.next_tick_in == pytest.approx(35.05)
        clock = app.service.clock
        assert isinstance(clock, FixedClock)
        clock.advance(timedelta(seconds=35))
        app._tick()
        await until(pilot, lambda: "Thu 26 Nov 12:01 UTC" in screen_text(app))


# -- what the board says ---------------------------------------------------------------------------


@pytest.fixture
def cards_board(empty_board: Path) -> Path:
    service = other(empty_board, "bob")
    planned = service.add_release("alpha", "1.0")
    deployed = service.add_release("bravo", "1.0")
    service.move(deployed.id, "dev")
    unapproved = service.add_release("charlie", "1.0")
    approved = service.add_release("delta", "1.0")
    for release in (unapproved, approved):
        for stage in ("dev", "test", "staging", "preprod"):
            service.move(release.id, stage)
            service.verify(release.id)
    other(empty_board, "carol").approve(approved.id)
    service.add_release("payments-gateway-service", "2.6.0-beta.1")
    assert planned.stage == "planned"
    return empty_board


async def test_a_card_says_its_next_step_and_the_focused_card_its_whole_name(cards_board: Path) -> None:
    app = make_app(cards_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "ready for dev" in text  # alpha, planned
        assert "needs verify" in text  # bravo, deployed in dev
        assert "needs approval" in text  # charlie, verified in preprod, prod needs approval
        assert re.search(r"ready for prod +✓▕", text)  # delta, approved: the tick is never cut
        # the long name: cut between words when not under the cursor, the version on its own line
        assert "payments-gateway-…" in text and "2.6.0-beta.1 · low" in text
        assert "payment…" not in text and "2.6.0-be…" not in text
        long_id = release_named(cards_board, "payments-gateway-service 2.6.0-beta.1")
        await on(pilot, long_id)
        lines = [line[:20].rstrip("▕ ") for line in screen_text(app).splitlines()]
        start = lines.index("▌payments-gateway-")
        assert lines[start : start + 4] == ["▌payments-gateway-", "▌service", "▌2.6.0-beta.1", "▌pending · low risk"]


async def test_an_approved_card_keeps_its_tick_and_a_frozen_column_says_until_when(cards_board: Path) -> None:
    other(cards_board, "setup").add_freeze(["prod"], "incident review", start=TUI_NOW - H, end=TUI_NOW + 72 * H)
    app = make_app(cards_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "✓" in [line.split("▕")[4].strip()[-1:] for line in text.splitlines() if "ready for prod" in line]
        header = [line for line in text.splitlines() if "❄" in line]
        assert header and "❄ until Sun 12:00" in header[0] and "…" not in header[0]
    app = make_app(cards_board)
    async with app.run_test(size=(200, 36)) as pilot:
        await loaded(pilot)
        assert "❄ frozen until Sun 12:00" in screen_text(app)


async def test_the_error_count_is_red_and_the_top_bar_says_who_and_which_board(demo_db: Path) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        summary = app.screen.query_one(Summary)
        text = summary.render()
        errors = next(span for span in text.spans if text.plain[span.start : span.end] == "✖ 8 errors")
        style = errors.style
        assert not isinstance(style, str) and style.color is not None
        red = Color.parse(app.current_theme.error).triplet
        assert style.color.triplet is not None and red is not None
        assert all(abs(a - b) <= 2 for a, b in zip(style.color.triplet, red, strict=True))  # the theme's error
        assert "demo.db · alice@jump1" in text.plain
    # at 80 columns the counts come first, and who and which board still fit
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert "✖ 8 errors  ⚠ 4 warnings  demo.db · alice@jump1" in screen_text(app).splitlines()[0]


async def test_times_in_messages_are_in_the_operators_zone(empty_board: Path) -> None:
    service = other(empty_board, "bob")
    release_id = service.add_release("payments-api", "1.0", owner="bob").id
    service.move(release_id, "dev")
    service.verify(release_id)
    service.schedule(release_id, "prod", TUE + 10 * H, TUE + 12 * H)
    other(empty_board, "setup").add_freeze(["test"], "audit", start=TUI_NOW - H, end=TUI_NOW + 49 * H)
    app = make_app(empty_board, tz="Europe/Berlin")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await on(pilot, release_id)
        await pilot.press(">")  # test is frozen
        await until(pilot, lambda: isinstance(app.screen, RefusedMoveDialog))
        text = screen_text(app)
        assert "test is frozen until 2026-11-28 14:00 CET" in text
        assert not re.search(r"\d{2}:\d{2}:\d{2}Z", text)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and "History" in screen_text(app))
        text = screen_text(app)
        assert "scheduled prod 2026-12-01 11:00 → 13:00 CET" in text
        assert not re.search(r"\d{2}:\d{2}:\d{2}Z", text)
        await pilot.press("u")  # UTC, one key away
        await until(pilot, lambda: "prod 2026-12-01 10:00 → 12:00 UTC" in screen_text(app))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        other(empty_board, "carol").schedule(release_id, "staging", TUE + 8 * H, TUE + 9 * H)
        await until(
            pilot,
            lambda: any(
                "carol scheduled payments-api 1.0 in staging 2026-12-01 08:00 → 09:00 UTC" in m for m in notes(app)
            ),
        )


async def test_changes_made_elsewhere_are_one_toast_not_a_stack(demo_db: Path) -> None:
    app = make_app(demo_db)
    app.session.poll_interval = 30  # the test says when the board looks
    bob, carol = other(demo_db, "bob"), other(demo_db, "carol")
    payments = release_named(demo_db, "payments-api 2.4.1")
    ledger = release_named(demo_db, "ledger 1.9.3")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        bob.move(payments, "prod")
        carol.verify(ledger)
        bob.edit_release(ledger, notes="checked")
        app.session.refresh()
        await until(
            pilot,
            lambda: any(
                m.startswith(
                    "3 changes: bob moved payments-api 2.4.1 → prod, carol verified "
                    "ledger 1.9.3, bob edited ledger 1.9.3"
                )
                for m in notes(app)
            ),
        )
        carol.schedule(ledger, "prod", TUE + 10 * H, TUE + 11 * H)
        app.session.refresh()
        await until(pilot, lambda: any(m.startswith("4 changes:") and m.endswith("and 1 more") for m in notes(app)))
        assert len([n for n in notifications(app) if n.title == "Changed elsewhere"]) == 1


# -- no traceback, ever ----------------------------------------------------------------------------


@pytest.mark.unexpected_errors
async def test_an_unexpected_error_opens_a_dialog_is_logged_and_the_board_goes_on(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "state" / "relman" / "relman.log"
    app = make_app(demo_db, error_log=log)

    def broken(self: Service, *args: object, **kwargs: object) -> None:
        raise RuntimeError("boom \x1b[2J\u202e")

    monkeypatch.setattr(Service, "verify", broken)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await on(pilot, release_named(demo_db, "ledger 1.9.3"))
        await pilot.press("v")  # in a worker
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        text = screen_text(app)
        assert "Something went wrong" in text and "RuntimeError: boom \\x1b[2J\\u202e" in text
        said = " ".join(str(w.render()) for w in app.screen.query(".dialog-body"))
        assert str(log) in said  # where the traceback went (drawn wrapped: a test's tmp path is long)
        assert "\x1b" not in text
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))

        def also_broken(self: BoardScreen) -> None:
            raise ValueError("a handler failed")

        monkeypatch.setattr(BoardScreen, "action_detail", also_broken)
        await pilot.press("enter")  # in a key handler on the event loop
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        before = board(app).col
        await pilot.press("right")  # the board goes on
        assert board(app).col == before + 1
        assert app.is_running
    assert [type(e) for e in app.unexpected] == [RuntimeError, ValueError]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    written = log.read_text()
    assert written.count("Traceback (most recent call last)") == 2
    assert "boom \\x1b[2J\\u202e" in written and "\x1b" not in written and "\u202e" not in written
    assert "ValueError: a handler failed" in written


def test_the_log_lives_under_xdg_state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert errorlog.default_path() == tmp_path / "state" / "relman" / "relman.log"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert errorlog.default_path() == Path.home() / ".local" / "state" / "relman" / "relman.log"


async def test_the_schedule_dialog_refuses_times_out_of_range_and_keeps_a_failed_save(demo_db: Path) -> None:
    app = make_app(demo_db)
    payments = release_named(demo_db, "payments-api 2.4.1")
    reader = other(demo_db, "r")
    before = reader.release(payments).window_in("prod")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await on(pilot, payments)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScheduleDialog))
        dialog = app.screen
        start = dialog.query_one("#start", Input)
        for typed in ("0001-01-01", "9999-12-31 23:00", "1969-06-01 00:00"):
            start.value = typed
            await until(pilot, lambda: "out of range" in screen_text(app))
            assert dialog.query_one("#ok").disabled
        assert isinstance(app.screen, ScheduleDialog) and app.is_running
        start.value = "2026-12-02 10:00"
        await until(pilot, lambda: not dialog.query_one("#ok").disabled)
        other(demo_db, "bob").edit_release(payments, notes="changed meanwhile")  # the save will be stale
        dialog.query_one("#ok", Button).press()
        await until(pilot, lambda: "not saved:" in screen_text(app))
        assert isinstance(app.screen, ScheduleDialog)
        assert start.value == "2026-12-02 10:00"  # the input is kept
        assert "bob" in screen_text(app)  # and who changed it
        assert reader.release(payments).window_in("prod") == before


async def test_the_edit_form_shows_stored_escapes_inert_and_leaves_unchanged_fields_alone(empty_board: Path) -> None:
    store = Store.open(empty_board)
    name = "evil\x1b[2J\u202ename"
    notes_text = "first line\nsecond\u202e line"
    with store.write():
        release_id = store.insert_release(
            NewRelease(name, "1.0", ("core",), "bob", Risk.LOW, notes_text, "planned", State.PENDING), TUI_NOW
        )
    store.close()
    reader = other(empty_board, "r")
    app = make_app(empty_board)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await on(pilot, release_id)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ReleaseForm))
        form = app.screen
        assert form.query_one("#name", Input).value == "evil\\x1b[2J\\u202ename"
        assert form.query_one("#notes", Input).value == "first line\\nsecond\\u202e line"
        assert "\x1b" not in screen_text(app) and "\u202e" not in screen_text(app)
        form.query_one("#version", Input).value = "1.1"
        await until(pilot, lambda: not form.query_one("#ok").disabled)
        form.query_one("#ok", Button).press()
        await until(pilot, lambda: reader.release(release_id).version == "1.1")
        saved = reader.release(release_id)
        assert (saved.name, saved.notes) == (name, notes_text)  # untouched, byte for byte
        assert reader.events(release_id, limit=1)[0].to == "version"
        # a changed field that still holds an escape is refused: what was meant cannot be known
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ReleaseForm))
        form = app.screen
        form.query_one("#name", Input).value += "-2"
        await until(pilot, lambda: "remove \\x1b" in screen_text(app))
        assert form.query_one("#ok").disabled
        form.query_one("#name", Input).value = "clean-name"
        form.query_one("#notes", Input).value = "one\\ntwo"
        await until(pilot, lambda: not form.query_one("#ok").disabled)
        form.query_one("#ok", Button).press()
        await until(pilot, lambda: reader.release(release_id).name == "clean-name")
        assert reader.release(release_id).notes == "one\ntwo"  # \n in a note is a line break


async def test_a_board_of_two_thousand_environments_paints_with_a_notice(tmp_path: Path) -> None:
    """An older database may hold more environments than the 50 a new one allows."""
    path = tmp_path / "wide.db"
    store = Store.open(path, create=True)
    with store.write():
        store.save_environments([Environment(f"env{i:04d}", f"Env {i}", i + 1) for i in range(2000)])
        # an old board written before the limit: its upgrade checkpointed it (issue 18)
        Service(store, FixedClock(TUI_NOW), "setup").checkpoint("schema upgrade")
    store.close()
    other(path, "bob").add_release("alpha", "1.0")
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert len(app.screen.query(StageColumn)) == 51  # planned and the first 50
        text = screen_text(app)
        assert "showing the first 50 of 2000 environments" in text
        assert "alpha 1.0" in text
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen) and app.screen.timeline.rows)
        scheduler = app.screen
        assert isinstance(scheduler, SchedulerScreen)
        assert len(scheduler.timeline.rows) == 2000  # the timeline draws only what is in view


async def test_the_poll_thread_stops_at_once(demo_db: Path) -> None:
    app = make_app(demo_db)
    app.session.poll_interval = 30
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        poll = next(w for w in app.workers if w.name == "poll")
        app.session.stop()
        await until(pilot, lambda: poll.is_finished, timeout=10)  # not 30 s later


@pytest.fixture
def sched_board(empty_board: Path) -> Path:
    """Three capacity clashes one after another on Tuesday: dev at 8, test at 12, preprod at 16."""
    service = other(empty_board, "setup")
    for env, hour, names in (("dev", 8, ("a1", "a2")), ("test", 12, ("b1", "b2")), ("preprod", 16, ("c1", "c2"))):
        for offset, name in enumerate(names):
            release = service.add_release(name, "1.0")
            service.schedule(release.id, env, TUE + (hour + offset) * H, TUE + (hour + offset + 2) * H)
    return empty_board


async def test_after_a_write_n_goes_on_from_the_conflict_you_were_on(sched_board: Path) -> None:
    app = make_app(sched_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen) and app.screen.timeline.rows)
        screen = app.screen
        assert isinstance(screen, SchedulerScreen)
        assert [c.environments for c in screen.conflicts] == [("dev",), ("test",), ("preprod",)]
        await pilot.press("n", "n")
        assert screen.conflict_index == 1 and screen.selected is not None and screen.selected[1] == "test"
        await pilot.press("f")  # b1 after b2: the test clash is gone
        await until(pilot, lambda: screen.preview is not None and screen.preview.diff is not None)
        await pilot.press("enter")
        await until(pilot, lambda: [c.environments for c in screen.conflicts] == [("dev",), ("preprod",)])
        await until(pilot, lambda: not screen.busy)
        await pilot.press("n")  # on from where it was: preprod, not back to dev
        assert screen.conflicts[screen.conflict_index].environments == ("preprod",)
        await pilot.press("p", "p")
        assert screen.conflicts[screen.conflict_index].environments == ("preprod",)
