"""A read-only board on a PostgreSQL board whose tables someone holds locked: a message naming them, and `q` quits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from backends import PgBackend

from relman_tui.service import Service
from relman_tui.settings import Settings
from relman_tui.store import pg_connect as store_pg
from relman_tui.timeutil import FixedClock
from relman_tui.tui.app import RelmanApp

from .conftest import TUI_NOW, screen_text, until

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def pg(pg_cluster: Any) -> Iterator[PgBackend]:
    backend = PgBackend(pg_cluster)
    backend.make("init")
    yield backend
    backend.close()


def waiting_on_a_lock(pg: PgBackend) -> bool:
    rows = pg.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = 'alice' "
        "AND wait_event_type = 'Lock'"
    )
    return bool(rows[0][0])


@pytest.mark.parametrize("when", ["before the board opens", "while it runs"])
async def test_a_read_only_board_facing_a_held_lock_says_who_holds_it_and_q_quits(
    pg: PgBackend, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    monkeypatch.setattr(store_pg, "LOCK_TIMEOUT_S", 1.0)
    Service(pg.open("bob"), FixedClock(TUI_NOW), "bob").add_release("payments-api", "2.4.1")
    pg.account("admin")
    holder = psycopg.connect(pg.url("admin") + "&application_name=vacuum-job", autocommit=True)
    try:

        def hold() -> None:
            holder.execute("BEGIN")
            holder.execute("LOCK TABLE relman.events, relman.releases IN ACCESS EXCLUSIVE MODE")

        if when == "before the board opens":
            hold()
        store = pg.open("alice", read_only=True)
        app = RelmanApp(
            Service(store, FixedClock(TUI_NOW), "alice"), Settings(), "UTC", read_only=True, poll_interval=0.05
        )
        async with app.run_test(size=(160, 36)) as pilot:
            if when == "while it runs":
                await until(pilot, lambda: "payments-api" in screen_text(app))
                hold()
                ping = psycopg.connect(pg.url("admin"), autocommit=True)
                ping.execute("NOTIFY relman")  # as a commit would: the board reads, and meets the lock
                ping.close()
            await until(pilot, lambda: "vacuum-job" in screen_text(app))
            assert (
                "is busy: admin (application vacuum-job) holds a lock on events, releases; waited 1 s"
                in screen_text(app)
            )
            await pilot.press("q")
            await until(pilot, lambda: not app.is_running)
        holder.execute("ROLLBACK")
    finally:
        holder.close()


async def test_q_quits_while_the_board_still_waits_for_a_lock(pg: PgBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The poll thread may be inside a wait the server bounds only later: quitting does not wait for it."""
    monkeypatch.setattr(store_pg, "LOCK_TIMEOUT_S", 600.0)  # longer than any safety net here
    Service(pg.open("bob"), FixedClock(TUI_NOW), "bob").add_release("payments-api", "2.4.1")
    pg.account("admin")
    holder = psycopg.connect(pg.url("admin") + "&application_name=vacuum-job", autocommit=True)
    try:
        store = pg.open("alice", read_only=True)
        app = RelmanApp(
            Service(store, FixedClock(TUI_NOW), "alice"), Settings(), "UTC", read_only=True, poll_interval=0.05
        )
        async with app.run_test(size=(160, 36)) as pilot:
            await until(pilot, lambda: "payments-api" in screen_text(app))
            holder.execute("BEGIN")
            holder.execute("LOCK TABLE relman.events, relman.releases IN ACCESS EXCLUSIVE MODE")
            ping = psycopg.connect(pg.url("admin"), autocommit=True)
            ping.execute("NOTIFY relman")
            ping.close()
            await until(pilot, lambda: waiting_on_a_lock(pg))
            await pilot.press("q")
            await until(pilot, lambda: not app.is_running)
        holder.execute("ROLLBACK")
    finally:
        holder.close()
