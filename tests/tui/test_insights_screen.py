"""The insights screen (key `3`): the figures of `relman insights` with a weekly trend, at 80×22, in ASCII too."""

from __future__ import annotations

from pathlib import Path

import pytest

from relman_tui.demo import seed
from relman_tui.insights_text import rows
from relman_tui.service import Service
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock
from relman_tui.tui.screens import base
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.insights import InsightsScreen
from relman_tui.tui.widgets.trend import Trend

from .conftest import TUI_NOW, loaded, make_app, other, palette, screen_text, until


@pytest.fixture
def history_db(tmp_path: Path) -> Path:
    """A generated demo board: 300 releases with a delivery history to count."""
    path = tmp_path / "history.db"
    store = Store.open(path, create=True)
    seed(Service(store, FixedClock(TUI_NOW), "demo"), 300)
    store.close()
    return path


def expected(path: Path, environment: str, days: int) -> list[tuple[str, str]]:
    store = Store.open(path, read_only=True)
    try:
        return rows(Service(store, FixedClock(TUI_NOW), "reader").insights(environment, days).figures)
    finally:
        store.close()


def insights_screen(app: object) -> InsightsScreen | None:
    screen = getattr(app, "screen", None)
    return screen if isinstance(screen, InsightsScreen) else None


async def test_the_insights_screen_at_80x22_shows_every_figure_with_its_trend(
    history_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MIN_HEIGHT", 22)  # 80×22 is the size the board is usable at (issue 20)
    app = make_app(history_db)
    async with app.run_test(size=(80, 22)) as pilot:
        await loaded(pilot)
        await pilot.press("3")
        await until(pilot, lambda: (s := insights_screen(app)) is not None and s.shown is not None)
        want = expected(history_db, "prod", 90)
        await until(pilot, lambda: all(value in screen_text(app) for _, value in want))
        text = screen_text(app)
        assert "Insights: prod, the 90 days to" in text
        for label, _ in want:
            assert label in text
        trends = list(app.screen.query(Trend))
        assert len(trends) == 5 and all(t.data and len(t.data) == 13 for t in trends)
        assert any(ch in text for ch in "▁▂▃▄▅▆▇█")  # the sparklines are drawn
        assert "too small" not in text

        await pilot.press("e")  # the next environment after the last is the first
        want = expected(history_db, "dev", 90)
        await until(pilot, lambda: "Insights: dev" in screen_text(app))
        await until(pilot, lambda: all(value in screen_text(app) for _, value in want))
        await pilot.press("p")
        want = expected(history_db, "dev", 180)
        await until(pilot, lambda: "Insights: dev, the 180 days" in screen_text(app))
        await until(pilot, lambda: all(value in screen_text(app) for _, value in want))

        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))


async def test_insights_in_ascii_mode_show_only_ascii(history_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "MIN_HEIGHT", 22)
    app = make_app(history_db)
    app.ascii_only = True  # the app's ASCII mode (issue 20: --ascii, LANG=C)
    async with app.run_test(size=(80, 22)) as pilot:
        await loaded(pilot)
        await pilot.press("3")
        await until(pilot, lambda: (s := insights_screen(app)) is not None and s.shown is not None)
        want = expected(history_db, "prod", 90)
        await until(pilot, lambda: all(value in screen_text(app) for _, value in want))
        lines = screen_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if "Insights: prod" in line)
        body = lines[first:-1]  # from the title to the footer (the top bar and footer are the app's)
        assert all(line.isascii() for line in body), [line for line in body if not line.isascii()]
        assert any(ch in "\n".join(body) for ch in "_.,-=+*#")


async def test_key_3_is_in_the_board_help_and_palette(history_db: Path) -> None:
    app = make_app(history_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: "insights: delivery figures (DORA)" in screen_text(app))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        await palette(pilot, "insights", "Open the insights")
        await until(pilot, lambda: insights_screen(app) is not None)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))


async def test_insights_follow_the_log_as_it_moves_on(history_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "MIN_HEIGHT", 22)
    app = make_app(history_db)
    async with app.run_test(size=(80, 22)) as pilot:
        await loaded(pilot)
        await pilot.press("3")
        before = expected(history_db, "prod", 90)[0][1]
        await until(pilot, lambda: before in screen_text(app))
        writer = other(history_db, "bob")
        rid = writer.add_release("hotfix", "9.9").id
        writer.move(rid, "prod", force=True, reason="outage")
        writer.store.close()
        after = expected(history_db, "prod", 90)[0][1]
        assert after != before
        await until(pilot, lambda: after in screen_text(app))
