"""Issue 10 on the board itself: an old database holding what relman now refuses still opens, paints,
stays live and never shows a traceback."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from relman_tui.model import Environment, Freeze
from relman_tui.service import Service
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock
from relman_tui.tui.screens.board import BoardScreen
from relman_tui.tui.screens.scheduler import SchedulerScreen
from relman_tui.tui.widgets.column import StageColumn

from .conftest import TUI_NOW, loaded, make_app, other, screen_text, until

H = timedelta(hours=1)


async def test_a_board_with_a_minute_freeze_a_999999_week_freeze_and_windows_in_8999(empty_board: Path) -> None:
    """The repros: `* * * * *` for 1m, windows now and in 8999, and a 999999-week freeze (accepted by an
    earlier relman) made every board, open or new, stall or die with a traceback."""
    setup = other(empty_board, "setup")
    ledger = setup.add_release("ledger", "1.0")
    setup.schedule(ledger.id, "prod", TUI_NOW + H, TUI_NOW + 3 * H)
    with setup.store.write():  # the service refuses all of this now; an old database may hold it
        setup.store.insert_freeze(
            Freeze(0, ("prod",), "every minute", cron="* * * * *", duration=timedelta(minutes=1), zone="UTC")
        )
        setup.store.insert_freeze(
            Freeze(0, ("all",), "forever", cron="0 0 1 1 *", duration=timedelta(weeks=999999), zone="UTC")
        )
    setup.store.close()
    conn = sqlite3.connect(empty_board)
    conn.execute(
        """INSERT INTO windows VALUES (?, 'dev', '8999-01-01T00:00:00Z', '8999-01-01T02:00:00Z')""", (ledger.id,)
    )
    conn.commit()
    conn.close()
    app = make_app(empty_board)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "ledger 1.0" in text and "❄" in text and "✖" in text  # painted, frozen, its conflicts marked
        other(empty_board, "bob").add_release("auth", "2.0")  # and live
        await until(pilot, lambda: "auth 2.0" in screen_text(app))
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SchedulerScreen) and "Conflicts" in screen_text(app))
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
    # (the autouse fixture fails the test if the board met an unexpected error)


async def test_an_old_board_of_a_hundred_thousand_environments_paints(tmp_path: Path) -> None:
    """The repro: 100,000 environments (written before the limit of 50) took 1.4 GB and never painted."""
    path = tmp_path / "wide.db"
    store = Store.open(path, create=True)
    with store.write():
        store.save_environments([Environment(f"e{i:06d}", f"E{i}", i + 1) for i in range(100_000)])
        # an old board written before the limit: its upgrade checkpointed it (issue 18)
        Service(store, FixedClock(TUI_NOW), "setup").checkpoint("schema upgrade")
    store.close()
    other(path, "setup").add_release("alpha", "1.0")
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert len(app.screen.query(StageColumn)) == 51  # planned and the first 50
        assert "showing the first 50 of 100000 environments" in screen_text(app)
        assert "alpha 1.0" in screen_text(app)
