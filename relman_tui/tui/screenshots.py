"""Write the README's screenshots: ``python -m relman_tui.tui.screenshots [DIR]`` (demo board, fixed clock)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from relman_tui.demo import seed
from relman_tui.service import Service
from relman_tui.settings import Settings
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock
from relman_tui.tui.app import RelmanApp
from relman_tui.tui.glyphs import to_ascii
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.dialogs import HelpScreen, RefusedMoveDialog
from relman_tui.tui.screens.insights import InsightsScreen
from relman_tui.tui.screens.scheduler import SchedulerScreen

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
Step = Callable[[Pilot[str | None]], Awaitable[None]]


async def _wait(pilot: Pilot[str | None], condition: Callable[[], object]) -> None:
    """Until ``condition()`` holds (at most 5 s), then until nothing is left to do."""
    for _ in range(250):
        if condition():
            break
        await pilot.pause(0.02)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def _loaded(pilot: Pilot[str | None]) -> Awaitable[None]:
    app = pilot.app
    assert isinstance(app, RelmanApp)
    return _wait(pilot, lambda: app.snapshots_applied > 0)


async def _select(pilot: Pilot[str | None], label: str) -> None:
    await _loaded(pilot)
    app = pilot.app
    assert isinstance(app, RelmanApp) and app.snapshot is not None
    release = next(r for r in app.snapshot.releases if r.label == label)
    screen = app.screen
    assert isinstance(screen, BoardScreen)
    screen.jump_to(release.id)
    await pilot.pause()


async def _detail(pilot: Pilot[str | None]) -> None:
    await _select(pilot, "payments-api 2.4.1")
    await pilot.press("enter")
    await _wait(pilot, lambda: isinstance(pilot.app.screen, DetailScreen) and pilot.app.screen.shown)


async def _refused(pilot: Pilot[str | None]) -> None:
    await _select(pilot, "search-indexer 0.18.2")
    await pilot.press("shift+right")
    await _wait(pilot, lambda: isinstance(pilot.app.screen, RefusedMoveDialog))


async def _scheduler(pilot: Pilot[str | None], *keys: str) -> None:
    await _select(pilot, "payments-api 2.4.1")
    await pilot.press("2")
    await _wait(pilot, lambda: isinstance(pilot.app.screen, SchedulerScreen) and pilot.app.screen.timeline.rows)
    if keys:
        await pilot.press(*keys)
        await _wait(pilot, lambda: _settled(pilot))


def _settled(pilot: Pilot[str | None]) -> bool:
    screen = pilot.app.screen
    return not isinstance(screen, SchedulerScreen) or screen.preview is None or screen.preview.diff is not None


async def _scheduler_day(pilot: Pilot[str | None]) -> None:
    await _scheduler(pilot)


async def _scheduler_week(pilot: Pilot[str | None]) -> None:
    await _scheduler(pilot, "minus")


async def _scheduler_preview(pilot: Pilot[str | None]) -> None:
    await _scheduler(pilot, "right_square_bracket", "right_square_bracket")


async def _help(pilot: Pilot[str | None]) -> None:
    await _select(pilot, "payments-api 2.4.1")
    await pilot.press("question_mark")
    await _wait(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))


async def _insights(pilot: Pilot[str | None]) -> None:
    await _loaded(pilot)
    await pilot.press("3")
    await _wait(pilot, lambda: isinstance(pilot.app.screen, InsightsScreen) and pilot.app.screen.shown is not None)


SHOTS: list[tuple[str, tuple[int, int], Step]] = [
    ("board.svg", (120, 36), _loaded),
    ("board-80x24.svg", (80, 24), _loaded),
    ("board-80x22.svg", (80, 22), _loaded),  # an 80×24 terminal in tmux, less its status line
    ("board-ascii.svg", (80, 22), _loaded),  # LANG=C or --ascii: what the ASCII driver writes
    ("detail.svg", (120, 36), _detail),
    ("refused-move.svg", (100, 30), _refused),
    ("scheduler-day.svg", (120, 36), _scheduler_day),
    ("scheduler-week.svg", (120, 36), _scheduler_week),
    ("scheduler-preview.svg", (120, 36), _scheduler_preview),
    ("scheduler-80x24.svg", (80, 24), _scheduler_day),
    ("help.svg", (120, 36), _help),
]
# on a `relman demo --releases 300` board, whose releases have a delivery history to count
HISTORY_SHOTS: list[tuple[str, tuple[int, int], Step]] = [("insights.svg", (100, 30), _insights)]
HISTORY_RELEASES = 300


async def _shoot(db: Path, out: Path, name: str, size: tuple[int, int], step: Step) -> None:
    store = Store.open(db)
    app = RelmanApp(
        Service(store, FixedClock(NOW), "alice"), Settings(), "UTC", poll_interval=0.05, identity="alice@jump1"
    )
    try:
        async with app.run_test(size=size) as pilot:
            await step(pilot)
            if "ascii" in name:
                # the same translation the ASCII driver applies to everything it writes
                (out / name).write_text(to_ascii(app.export_screenshot(title=name)), encoding="utf-8")
            else:
                app.save_screenshot(name, str(out))
    finally:
        store.close()


def main(argv: list[str]) -> None:
    out = Path(argv[0] if argv else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        store = Store.open(db, create=True)
        seed(Service(store, FixedClock(NOW), "demo"))
        store.close()
        for name, size, step in SHOTS:
            asyncio.run(_shoot(db, out, name, size, step))
            print(out / name)
        db = Path(tmp) / "history.db"
        store = Store.open(db, create=True)
        seed(Service(store, FixedClock(NOW), "demo"), HISTORY_RELEASES)
        store.close()
        for name, size, step in HISTORY_SHOTS:
            asyncio.run(_shoot(db, out, name, size, step))
            print(out / name)


if __name__ == "__main__":
    main(sys.argv[1:])
