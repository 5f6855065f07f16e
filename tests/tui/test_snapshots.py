"""Snapshots of each screen at 80×24 and 120×36 on the demo board at a fixed clock.

Update after a deliberate change of look with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.dialogs import RefusedMoveDialog

from .conftest import loaded, make_app, other, until


async def _ready(pilot: Pilot[None]) -> None:
    await loaded(pilot)
    await pilot.pause(0.1)


def _select(label: str) -> Any:
    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        release = next(r for r in other(pilot.app.service.store.path, "r").releases() if r.label == label)
        pilot.app.screen.jump_to(release.id)
        await pilot.pause(0.1)

    return run


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_board(snap_compare: Any, demo_db: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_db), terminal_size=size, run_before=_ready)


def test_detail(snap_compare: Any, demo_db: Path) -> None:
    async def run(pilot: Pilot[None]) -> None:
        await _select("payments-api 2.4.1")(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen) and pilot.app.screen.sub_title)
        await pilot.pause(0.1)

    assert snap_compare(make_app(demo_db), terminal_size=(120, 36), run_before=run)


def test_refused_move_dialog(snap_compare: Any, demo_db: Path) -> None:
    async def run(pilot: Pilot[None]) -> None:
        await _select("search-indexer 0.18.2")(pilot)
        await pilot.press("shift+right")
        await until(pilot, lambda: isinstance(pilot.app.screen, RefusedMoveDialog))
        await pilot.pause(0.1)

    assert snap_compare(make_app(demo_db), terminal_size=(80, 24), run_before=run)
