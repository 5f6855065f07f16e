"""Snapshots of the scheduler: day and week zoom at 120×36, day zoom at 80×24 (demo board, fixed clock).

Update after a deliberate change of look with
``pytest tests/tui/test_scheduler_snapshots.py --snapshot-update`` and look at the SVGs first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from relman_tui.tui.screens.scheduler import SchedulerScreen

from .conftest import loaded, make_app, until


def _scheduler(*keys: str) -> Any:
    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        app = pilot.app
        release = next(r for r in app.snapshot.releases if r.label == "payments-api 2.4.1")  # type: ignore[attr-defined]
        app.screen.jump_to(release.id)  # type: ignore[attr-defined]
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen) and app.screen.timeline.rows)
        await pilot.press(*keys)
        await pilot.pause(0.1)

    return run


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_day_zoom(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_db), terminal_size=size, run_before=_scheduler())


def test_week_zoom(snap_compare: Any, demo_db: Path) -> None:
    assert snap_compare(make_app(demo_db), terminal_size=(120, 36), run_before=_scheduler("minus"))
