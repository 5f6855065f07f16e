"""Fixtures for driving the board with Textual's Pilot on a real database file and a fixed clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from relman_tui.demo import seed
from relman_tui.service import Service
from relman_tui.settings import Settings
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock
from relman_tui.tui.app import RelmanApp
from relman_tui.tui.widgets.cardlist import CardList

# A Thursday: no weekend freeze on prod.
TUI_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def make_app(
    path: Path, actor: str = "alice", *, read_only: bool = False, now: datetime = TUI_NOW, tz: str = "UTC"
) -> RelmanApp:
    store = Store.open(path, read_only=read_only)
    service = Service(store, FixedClock(now), actor)
    return RelmanApp(service, Settings(), tz, read_only=read_only, poll_interval=0.05)


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    store = Store.open(path, create=True)
    seed(Service(store, FixedClock(TUI_NOW), "demo"))
    store.close()
    return path


@pytest.fixture
def empty_board(tmp_path: Path) -> Path:
    """The default pipeline and nothing else."""
    path = tmp_path / "board.db"
    store = Store.open(path, create=True)
    service = Service(store, FixedClock(TUI_NOW), "setup")
    from relman_tui.demo import add_default_pipeline

    add_default_pipeline(service)
    store.close()
    return path


def other(path: Path, actor: str = "bob") -> Service:
    """Another process's view of the file: its own connection."""
    return Service(Store.open(path), FixedClock(TUI_NOW), actor)


async def until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Let the app run until ``condition()`` holds (thread workers and the poller need real time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
    await pilot.pause()


async def loaded(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, RelmanApp)
    await until(pilot, lambda: app.snapshots_applied > 0 and len(app.screen.query(CardList)) > 0)


def screen_text(app: RelmanApp) -> str:
    """What the terminal shows, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def settle(app: RelmanApp) -> Callable[[], bool]:
    """A condition: no service call is still running."""
    return lambda: not [w for w in app.workers if w.group == "service" and not w.is_finished]
