"""Shared by the concurrency, crash and fuzz tests: run sizes, the database oracle, and a writer process.

Sizes are small enough for CI; ``RELMAN_STRESS=1`` turns them into a long run, and
``RELMAN_STRESS_REPORT=FILE`` appends each test's figures to FILE as JSON lines.

Run as a script it is a writer that never stops on its own (``python stress_support.py DB ACTOR SEED``):
it writes random changes through the service, one transaction each, and prints ``ready`` once
its store is open, so a test can kill it with SIGKILL in the middle of its writes.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

STRESS = os.environ.get("RELMAN_STRESS", "") not in ("", "0")


def size(ci: int, large: int) -> int:
    """``ci`` in the normal test run, ``large`` with RELMAN_STRESS set."""
    return large if STRESS else ci


def report(name: str, **figures: Any) -> None:
    """Record a test's figures: printed with ``-s``, appended to $RELMAN_STRESS_REPORT when set."""
    line = json.dumps({"test": name, **figures})
    print(f"\nFIGURES {line}")
    target = os.environ.get("RELMAN_STRESS_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")


# --- the oracle: replay the audit log and compare with what is stored ----------------------------------------


@dataclass
class Replayed:
    stage: str = "planned"
    state: str = "pending"
    approved_by: str | None = None
    rev: int = 0
    windows: dict[str, tuple[str, str]] = field(default_factory=dict)


def rows(target: Path | str, statement: str) -> list[tuple[Any, ...]]:
    """Rows straight from a board's tables: a SQLite file, or a PostgreSQL URL naming a role that may read."""
    if isinstance(target, Path):
        conn = sqlite3.connect(target, timeout=30)
        try:
            return [tuple(r) for r in conn.execute(statement).fetchall()]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(target, autocommit=True) as pg:
        pg.execute("SET search_path = relman")
        return [tuple(r) for r in pg.execute(statement).fetchall()]


def check_database(target: Path | str) -> dict[str, int]:
    """Fail unless the board is intact and every change stands with its event, and only then.

    Replays the audit log (the rules of service.py: ``created`` is rev 1, every other event of a
    release is one ``_write`` that bumped ``rev`` once) and compares stage, state, approval, rev
    and windows of every release, and the number of freezes, with what is stored. ``target`` is
    a SQLite file, or a PostgreSQL URL naming a role that may read the board.
    """
    if isinstance(target, Path):
        assert rows(target, "PRAGMA integrity_check") == [("ok",)]
        assert rows(target, "PRAGMA foreign_key_check") == []
    stored = {row[0]: row[1:] for row in rows(target, "SELECT id, stage, state, approved_by, rev FROM releases")}
    windows: dict[int, dict[str, tuple[str, str]]] = {}
    for rid, env, start, end in rows(target, 'SELECT release_id, environment, start, "end" FROM windows'):
        windows.setdefault(rid, {})[env] = (start, end)
    replayed: dict[int, Replayed] = {}
    freezes = 0
    events = rows(target, 'SELECT seq, actor, release, action, "from", "to", forced, reason FROM events ORDER BY seq')
    for seq, actor, rid, action, from_, to, forced, reason in events:
        assert actor, f"event {seq} has no actor"
        if forced or action == "rolled_back":
            assert reason, f"event {seq} ({action}) has no reason"
        if action == "freeze_added":
            freezes += 1
        elif action == "freeze_removed":
            freezes -= 1
        if rid is None:
            continue
        if action == "created":
            assert rid not in replayed, f"release {rid} created twice"
            replayed[rid] = Replayed(rev=1)
            continue
        r = replayed[rid]
        r.rev += 1
        if action in ("moved", "rolled_back"):
            assert from_ == r.stage, f"event {seq}: {action} from {from_} but the release stood in {r.stage}"
            r.stage = to
            r.state = "pending" if action == "rolled_back" and to == "planned" else "deployed"
            if action == "rolled_back":
                r.approved_by = None
        elif action == "verified":
            r.state = "verified"
        elif action == "failed":
            r.state = "failed"
        elif action == "cancelled":
            r.state = "cancelled"
        elif action == "approved":
            r.approved_by = actor
        elif action == "edited" and "approval withdrawn" in (to or ""):
            r.approved_by = None
        elif action == "scheduled":
            env, span = to.split(" ")
            start, end = span.split("/")
            r.windows[env] = (start, end)
        elif action == "unscheduled":
            r.windows.pop(from_.split(" ")[0])
    assert set(stored) == set(replayed), "a release without its created event, or the reverse"
    for rid, (stage, state, approved_by, rev) in stored.items():
        r = replayed[rid]
        assert (stage, state, approved_by, rev) == (r.stage, r.state, r.approved_by, r.rev), (
            rid,
            (stage, state, approved_by, rev),
            r,
        )
        assert windows.get(rid, {}) == r.windows, (rid, windows.get(rid), r.windows)
    assert rows(target, "SELECT count(*) FROM freezes")[0][0] == freezes
    from relman_tui import chain
    from relman_tui.store import open_store

    store = open_store(target, read_only=True)
    try:  # and the log's hash chain holds, however the writers raced or died
        verdict = chain.verify(store.board_id(), store.stored_events())
    finally:
        store.close()
    assert verdict.ok and verdict.chained == len(events), verdict
    return {"releases": len(stored), "events": len(events)}


# --- a writer that runs until it is killed -------------------------------------------------------------------


def _writer(db: str, actor: str, seed: int) -> None:  # pragma: no cover - runs in a child process
    from relman_tui.dburl import target_of
    from relman_tui.errors import RelmanError
    from relman_tui.service import Service
    from relman_tui.store import open_store
    from relman_tui.timeutil import FixedClock

    rng = random.Random(seed)
    # a file, or a PostgreSQL URL that connects as ``actor`` (the server checks who acts)
    service = Service(open_store(target_of(db)), FixedClock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC)), actor)
    print("ready", flush=True)
    stages = service.stages()
    n = 0
    while True:
        n += 1
        ids = [r.id for r in service.releases()] or [0]
        rid = rng.choice(ids)
        env = rng.choice(stages[1:])
        op = rng.random()
        try:
            if op < 0.1 or rid == 0:
                service.add_release(f"svc-{actor}-{n}", f"1.{n}", notes="written by a writer that will be killed")
            elif op < 0.35:
                service.move(rid, rng.choice(stages), force=rng.random() < 0.5, reason="stress")
            elif op < 0.5:
                service.verify(rid)
            elif op < 0.6:
                service.approve(rid)
            elif op < 0.8:
                start = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(10**6))
                service.schedule(rid, env, start, start + timedelta(hours=rng.randint(1, 8)))
            elif op < 0.87:
                service.unschedule(rid, env)
            elif op < 0.95:
                service.rollback(rid, "stress rollback")
            elif op < 0.97:
                start = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(10**5))
                service.add_freeze([env], "stress freeze", start=start, end=start + timedelta(hours=1))
            elif op < 0.99:
                frozen = service.freezes()
                if frozen:
                    service.remove_freeze(rng.choice(frozen).id)
            else:
                service.fail(rid, "stress")
        except RelmanError:
            pass


if __name__ == "__main__":  # pragma: no cover
    _writer(sys.argv[1], sys.argv[2], int(sys.argv[3]))
