"""Snapshots of the board, its help and every dialog, at 80×24 and 120×36 (demo board, fixed clock).

Update after a deliberate change of look with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs before committing them. Text fields do not blink here, so a snapshot
never catches the cursor half way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.dialogs import (
    ConfirmDialog,
    ErrorDialog,
    HelpScreen,
    ReasonDialog,
    RefusedMoveDialog,
    ReleaseForm,
    ScheduleDialog,
    StagePicker,
)

from .conftest import loaded, make_app, other, relman, screen_text, settle, until

SIZES = [(80, 24), (120, 36)]
Step = Callable[[Pilot[Any]], Awaitable[None]]


async def steady(pilot: Pilot[Any]) -> None:
    """No blinking cursor, nothing still running: the same picture every time."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await until(pilot, settle(pilot.app))
    await pilot.pause()


def on(label: str, *keys: str, then: type | None = None) -> Step:
    """Put the cursor on ``label``, press ``keys``, and wait for a screen of type ``then``."""

    async def run(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        app = relman(pilot)
        release = next(r for r in other(app.service.store.path, "r").releases() if r.label == label)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        screen.jump_to(release.id)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        if then is not None:
            await until(pilot, lambda: isinstance(app.screen, then))
        await steady(pilot)

    return run


def shoot(snap_compare: Any, path: Path, size: tuple[int, int], step: Step) -> None:
    assert snap_compare(make_app(path), terminal_size=size, run_before=step)


@pytest.mark.parametrize("size", SIZES)
def test_board(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    shoot(snap_compare, demo_db, size, on("payments-api 2.4.1"))


@pytest.mark.parametrize("size", SIZES)
def test_board_help(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    shoot(snap_compare, demo_db, size, on("payments-api 2.4.1", "question_mark", then=HelpScreen))


@pytest.mark.parametrize("size", SIZES)
def test_detail(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await on("payments-api 2.4.1", "enter", then=DetailScreen)(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.shown)
        assert "Adds 3-D Secure" in screen_text(pilot.app)
        await steady(pilot)

    shoot(snap_compare, demo_db, size, run)


def test_board_at_80x22(snap_compare: Any, demo_db: Path) -> None:
    """An 80×24 terminal in tmux or screen, less their status line."""
    shoot(snap_compare, demo_db, (80, 22), on("payments-api 2.4.1"))


def test_refused_move_dialog_at_80x22(snap_compare: Any, demo_db: Path) -> None:
    shoot(snap_compare, demo_db, (80, 22), on("search-indexer 0.18.2", "shift+right", then=RefusedMoveDialog))


@pytest.mark.parametrize("size", SIZES)
def test_refused_move_dialog(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    shoot(snap_compare, demo_db, size, on("search-indexer 0.18.2", "shift+right", then=RefusedMoveDialog))


@pytest.mark.parametrize("size", SIZES)
def test_rollback_reason_dialog(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    shoot(snap_compare, demo_db, size, on("search-indexer 0.18.2", "less_than_sign", then=ReasonDialog))


@pytest.mark.parametrize("size", SIZES)
def test_cancel_confirm_dialog(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    shoot(snap_compare, demo_db, size, on("ledger 1.10.0", "x", then=ConfirmDialog))


@pytest.mark.parametrize("size", SIZES)
def test_stage_picker(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    shoot(snap_compare, demo_db, size, on("ledger 1.10.0", "m", then=StagePicker))


@pytest.mark.parametrize("size", SIZES)
def test_new_release_form(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    shoot(snap_compare, demo_db, size, on("ledger 1.10.0", "n", then=ReleaseForm))


@pytest.mark.parametrize("size", SIZES)
def test_edit_release_form(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    shoot(snap_compare, demo_db, size, on("ledger 1.10.0", "e", then=ReleaseForm))


@pytest.mark.parametrize("size", SIZES)
def test_schedule_dialog(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await on("payments-api 2.4.1", "s", then=ScheduleDialog)(pilot)
        pilot.app.screen.query_one("#start", Input).value = "2026-11-28 10:00"  # into the weekend freeze
        await until(pilot, lambda: "Schedule anyway" in str(pilot.app.screen.query_one("#ok", Button).label))
        await steady(pilot)

    shoot(snap_compare, demo_db, size, run)


@pytest.mark.parametrize("size", SIZES)
def test_error_dialog(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await on("payments-api 2.4.1")(pilot)
        pilot.app.push_screen(
            ErrorDialog(RuntimeError("the disk went away"), "/home/alice/.local/state/relman/relman.log")
        )
        await until(pilot, lambda: isinstance(pilot.app.screen, ErrorDialog))
        await steady(pilot)

    shoot(snap_compare, demo_db, size, run)


def test_too_small(snap_compare: Any, demo_db: Path) -> None:
    shoot(snap_compare, demo_db, (70, 20), on("payments-api 2.4.1"))
