"""The board shows the controls (issues 9, 10 and 14): who you are, break-glass marks, a tampered log,
a replaced database file, and failed hooks."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from relman_tui.hooks import recorded_release, run_hook
from relman_tui.model import Hook
from relman_tui.service import HookOutcome
from relman_tui.store import Store
from relman_tui.tui.app import REOPEN
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.textual_private import notifications
from relman_tui.tui.widgets.topbar import Summary

from .conftest import loaded, make_app, notes, other, screen_text, until


def warning_bar(app: App[Any]) -> str:
    return str(app.screen.query_one("#warning-bar").render())


async def test_a_release_forced_into_prod_wears_its_mark_until_someone_approves_it(empty_board: Path) -> None:
    bob = other(empty_board, "bob")
    rid = bob.add_release("payments-api", "2.4.1").id
    bob.move(rid, "prod", force=True, reason="INC-4711")
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "⚑ UNAPPROVED" in text
        assert "⚑ 1 unapproved" in app.screen.query_one(Summary).render().plain
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        screen.jump_to(rid)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and "History" in screen_text(app))
        detail = screen_text(app)
        assert "NO — forced in without approval (break-glass)" in detail
        assert "by bob" in detail  # created by
        assert "break-glass: entered without approval" in detail
        await pilot.press("escape")
        other(empty_board, "carol").approve(rid)  # someone allowed to approve it
        await until(pilot, lambda: "UNAPPROVED" not in screen_text(app))
        assert "unapproved" not in app.screen.query_one(Summary).render().plain
        card = [line.split("▕")[5] for line in screen_text(app).splitlines() if "needs verify" in line]
        assert card and card[0].rstrip().endswith("✓")


async def test_a_tampered_log_puts_a_warning_bar_on_the_board(empty_board: Path) -> None:
    bob = other(empty_board, "bob")
    rid = bob.add_release("ledger", "1.0").id
    other(empty_board, "carol").approve(rid)
    bob.store.close()
    seq = other(empty_board, "r").events(rid)[-1].seq
    conn = sqlite3.connect(empty_board, isolation_level=None)
    guard = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events_no_update'").fetchone()[0]
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute(f"UPDATE events SET actor = 'bob' WHERE seq = {seq}")  # "bob approved it"
    conn.execute(guard)
    conn.close()
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await until(pilot, lambda: "tampered" in warning_bar(app))
        assert f"the audit log was tampered with: event #{seq} does not match its hash" in warning_bar(app)


async def test_an_honest_log_shows_no_warning(empty_board: Path) -> None:
    other(empty_board, "bob").add_release("ledger", "1.0")
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await until(pilot, lambda: app.session is not None and pilot.app.workers is not None)
        other(empty_board, "carol").add_release("auth", "2.0")  # the poll thread is past its log check ...
        await until(pilot, lambda: "auth 2.0" in screen_text(app))
        assert not app.screen.query_one("#warning-bar").display  # ... and found nothing to say


async def test_a_replaced_database_file_is_said_writes_are_refused_and_ctrl_r_reopens(
    empty_board: Path, tmp_path: Path
) -> None:
    rid = other(empty_board, "bob").add_release("ledger", "1.0").id
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        replacement = tmp_path / "restored.db"
        store = Store.open(replacement, create=True)
        store.close()
        os.replace(replacement, empty_board)  # someone restores a backup over the board
        await until(pilot, lambda: "was replaced by another file" in warning_bar(app))
        assert "press ctrl+r to open it again" in warning_bar(app)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        screen.jump_to(rid)
        await pilot.press("greater_than_sign")  # a move: refused, nothing written anywhere
        await until(
            pilot, lambda: any("replaced by another file" in n and "nothing was written" in n for n in notes(app))
        )
        await pilot.press("ctrl+r")
        await until(pilot, lambda: app.return_value == REOPEN)
    # nothing was moved, in whatever file now answers to that name
    assert [r.stage for r in other(empty_board, "r").releases()] in ([], ["planned"])


async def test_a_failed_hook_tells_every_board_and_marks_the_card(empty_board: Path, tmp_path: Path) -> None:
    rid = other(empty_board, "bob").add_release("payments-api", "2.4.1").id
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        runner = other(empty_board, "hooks")
        event = runner.events(rid)[-1]
        hook = Hook("created", ("sh", "-c", "echo deploy broke; exit 4"), __import__("datetime").timedelta(seconds=5))
        outcome = run_hook(hook, event, recorded_release(event))
        assert isinstance(outcome, HookOutcome) and outcome.problem == "exit status 4"
        runner.record_hook_outcome(event, hook, outcome, [hook.id])
        await until(pilot, lambda: "hook ✖" in screen_text(app))
        toasts = [n for n in notifications(app) if n.title == "Hook failed"]
        assert toasts and toasts[0].severity == "error"
        assert "hooks hook failed payments-api 2.4.1" in toasts[0].message


async def test_the_first_frame_comes_before_the_conflicts_and_the_marks_follow(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relman_tui.settings import Settings
    from relman_tui.tui.app import RelmanApp
    from relman_tui.tui.session import Session

    start = Session.start
    monkeypatch.setattr(Session, "start", lambda self: None)  # the poll thread waits until we have looked

    from .conftest import TUI_NOW

    service = other(demo_db, "alice")
    service.clock = __import__("relman_tui.timeutil", fromlist=["FixedClock"]).FixedClock(TUI_NOW)
    first = service.snapshot(conflicts=False)
    assert first.conflicts == () and not first.checked
    app = RelmanApp(service, Settings(), "UTC", poll_interval=0.05, first_snapshot=first, identity="alice@jump1")
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "checking conflicts…" in app.screen.query_one(Summary).render().plain)
        assert "✖" not in screen_text(app).split("\n", 1)[1]  # the first frame: cards, no marks yet
        start(app.session)
        await until(pilot, lambda: "✖ 8 errors" in app.screen.query_one(Summary).render().plain)
        assert "✖" in screen_text(app).split("\n", 1)[1]  # and the cards carry their marks
