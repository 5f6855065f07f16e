"""Fixtures for driving the board with Textual's Pilot on a real database file and a fixed clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from relman_tui.demo import seed
from relman_tui.model import Release, Window
from relman_tui.service import Service
from relman_tui.settings import Settings
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock
from relman_tui.tui.app import RelmanApp
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.textual_private import notifications, screen_lines
from relman_tui.tui.widgets.cardlist import CardList

# A Thursday: no weekend freeze on prod.
TUI_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


_APPS: list[RelmanApp] = []


def make_app(
    path: Path,
    actor: str = "alice",
    *,
    read_only: bool = False,
    now: datetime = TUI_NOW,
    tz: str = "UTC",
    error_log: Path | None = None,
) -> RelmanApp:
    store = Store.open(path, read_only=read_only)
    service = Service(store, FixedClock(now), actor)
    app = RelmanApp(
        service,
        Settings(),
        tz,
        read_only=read_only,
        poll_interval=0.05,
        identity=f"{actor}@jump1",
        error_log=error_log or path.with_name("relman.log"),
    )
    _APPS.append(app)
    return app


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "unexpected_errors: the test makes the board meet unexpected errors")


@pytest.fixture(autouse=True)
def _no_unexpected_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """The board turns an unexpected error into a dialog and goes on; a test must still fail on one."""
    _APPS.clear()
    yield
    if request.node.get_closest_marker("unexpected_errors") is None:
        for app in _APPS:
            assert not app.unexpected, f"unexpected errors on the board: {app.unexpected!r}"


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


def relman(pilot: Pilot[Any]) -> RelmanApp:
    """The app ``pilot`` drives, as the RelmanApp it is."""
    app = pilot.app
    assert isinstance(app, RelmanApp)
    return app


def board(app: App[Any]) -> BoardScreen:
    """The board, which must be the screen on top."""
    screen = app.screen
    assert isinstance(screen, BoardScreen)
    return screen


def selected(app: App[Any]) -> Release:
    """The release under the board's cursor (there must be one)."""
    release = board(app).selected()
    assert release is not None
    return release


def window_of(service: Service, release_id: int, env: str) -> Window:
    """The release's window in ``env`` as ``service`` reads it (there must be one)."""
    window = service.release(release_id).window_in(env)
    assert window is not None, (release_id, env)
    return window


async def until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Let the app run until ``condition()`` holds (thread workers and the poller need real time).

    The timeout is only a safety net for a condition that never comes: nothing waits for it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
    await pilot.pause()


async def loaded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, RelmanApp)
    await until(pilot, lambda: app.snapshots_applied > 0 and len(app.screen.query(CardList)) > 0)


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as plain text lines."""
    return "\n".join(screen_lines(app.screen))


def settle(app: App[Any]) -> Callable[[], bool]:
    """A condition: no service call is still running."""
    return lambda: not [w for w in app.workers if w.group == "service" and not w.is_finished]


def notes(app: App[Any]) -> list[str]:
    """The notifications on screen now."""
    return [str(n.message) for n in notifications(app)]


def footer(app: App[Any]) -> str:
    """The footer line as drawn."""
    return screen_text(app).splitlines()[-1]


async def palette(pilot: Pilot[Any], query: str, expect: str) -> None:
    """Open the command palette, type ``query``, wait for ``expect`` as the first hit, and choose it."""
    from textual.command import CommandList, CommandPalette

    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*query)

    def first() -> str:
        hits = app.screen.query_one(CommandList)
        return str(hits.get_option_at_index(0).prompt) if hits.option_count else ""

    await until(pilot, lambda: expect in first())
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, CommandPalette))
