"""Snapshots of the scheduler at 80×24 and 120×36: day and week zoom, a preview, its help and its picker.

Update after a deliberate change of look with
``pytest tests/tui/test_scheduler_snapshots.py --snapshot-update`` and look at the SVGs first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from relman_tui.tui.screens.dialogs import HelpScreen
from relman_tui.tui.screens.scheduler import ReleasePicker, SchedulerScreen

from .conftest import board, loaded, make_app, relman, until
from .test_snapshots import SIZES, Step, steady


def _scheduler(*keys: str, wait: Callable[[Any], object] | None = None) -> Step:
    async def run(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        app = relman(pilot)
        assert app.snapshot is not None
        release = next(r for r in app.snapshot.releases if r.label == "payments-api 2.4.1")
        board(app).jump_to(release.id)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen) and app.screen.timeline.rows)
        await pilot.press(*keys)
        if wait is not None:
            await until(pilot, lambda: wait(app))
        await steady(pilot)

    return run


def _previewed(app: Any) -> bool:
    screen = app.screen
    return isinstance(screen, SchedulerScreen) and screen.preview is not None and screen.preview.diff is not None


@pytest.mark.parametrize("size", SIZES)
def test_day_zoom(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_db), terminal_size=size, run_before=_scheduler())


@pytest.mark.parametrize("size", SIZES)
def test_week_zoom(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_db), terminal_size=size, run_before=_scheduler("minus"))


@pytest.mark.parametrize("size", SIZES)
def test_preview(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    """``]`` twice: the window drawn where it would go, and what it would do, before enter."""
    run = _scheduler("right_square_bracket", "right_square_bracket", wait=_previewed)
    assert snap_compare(make_app(demo_db), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_scheduler_help(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    run = _scheduler("question_mark", wait=lambda app: isinstance(app.screen, HelpScreen))
    assert snap_compare(make_app(demo_db), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_release_picker(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    run = _scheduler("up", "s", wait=lambda app: isinstance(app.screen, ReleasePicker))
    assert snap_compare(make_app(demo_db), terminal_size=size, run_before=run)
