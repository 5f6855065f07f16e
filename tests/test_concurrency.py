"""Several processes writing one board at once through the real CLI, with a board polling live: on a
SQLite file and on a PostgreSQL server (where the processes connect as one delegate role).

Every call must end with exit 0, 1 or 2 and one clear line, never a traceback or SQLite's
"database is locked"; afterwards the audit log replays to exactly what is stored.
``RELMAN_STRESS=1`` makes the run long (see stress_support.py).
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from backends import Backend, PgBackend, SqliteBackend
from conftest import NOW, NOW_TEXT
from pg_support import SUPERUSER
from stress_support import check_database, report, rows, size

from relman_tui.dburl import Target
from relman_tui.demo import DEFAULT_PIPELINE, add_default_pipeline
from relman_tui.errors import RelmanError
from relman_tui.identity import os_account
from relman_tui.service import Service
from relman_tui.store import BoardStore, Store
from relman_tui.store import sqlite as store_module
from relman_tui.timeutil import FixedClock

WORKERS = 4
CALLS_PER_WORKER = size(18, 250)
CALLS_PER_WORKER_PG = size(10, 250)  # each call is a process that also imports psycopg: fewer, same races
RELEASES = 5
STAGES = ["planned", *(name for name, *_ in DEFAULT_PIPELINE)]
CHANGES = {"move", "verify", "approve", "schedule", "unschedule", "rollback", "fail", "cancel"}


@dataclass(frozen=True)
class Call:
    actor: str
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELMAN_")}
    env |= {
        "RELMAN_NOW": NOW_TEXT,
        "RELMAN_TZ": "UTC",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
    }
    return env


def relman(db: Target, env: dict[str, str], actor: str, *args: str) -> Call:
    done = subprocess.run(
        [sys.executable, "-m", "relman_tui", "--db", str(db), "--as", actor, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return Call(actor, args, done.returncode, done.stdout, done.stderr)


@pytest.fixture
def shared_board(tmp_path: Path) -> Iterator[Path]:
    """The default pipeline and a few releases owned by `setup`, so every worker may approve them."""
    path = tmp_path / "team" / "relman.db"
    store = Store.open(path, create=True)
    service = Service(store, FixedClock(NOW), "setup")
    add_default_pipeline(service)
    service.set_delegates([os_account()])  # so the test's processes may act for named operators (--as)
    for i in range(RELEASES):
        service.add_release(f"service-{i}", "1.0")
    store.close()
    yield path


@dataclass(frozen=True)
class Team:
    """A shared board, and how the test's processes reach it."""

    target: Target  # what --db gets
    reader: Target  # what the checks read straight from (on PostgreSQL, as the superuser)
    open_board: Callable[[], BoardStore]  # a read-only store for the live board
    setup_actor: str
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def team(backend: Backend, tmp_path: Path) -> Team:
    """The default pipeline and a few releases owned by the setup account, so every worker may approve them;
    the processes' account (on PostgreSQL the role ``runner``) is a delegate, acting for named operators."""
    if isinstance(backend, PgBackend):
        backend.make("empty")
        store, setup_actor, runner = backend.open("admin"), "admin", "runner"
        backend.account(runner)
    else:
        assert isinstance(backend, SqliteBackend)
        backend.make("empty")
        store, setup_actor, runner = Store.open(backend.path, create=True), "setup", os_account()
    service = Service(store, FixedClock(NOW), setup_actor)
    add_default_pipeline(service)
    service.set_delegates([runner])
    for i in range(RELEASES):
        service.add_release(f"service-{i}", "1.0")
    store.close()
    if isinstance(backend, PgBackend):
        return Team(
            backend.target(),
            backend.url(SUPERUSER),
            lambda: backend.open("board", read_only=True),
            setup_actor,
            {"PGUSER": runner},
        )
    assert isinstance(backend, SqliteBackend)
    path = backend.path
    return Team(path, path, lambda: Store.open(path, read_only=True), setup_actor)


def worker_calls(db: Target, env: dict[str, str], actor: str, index: int, count: int) -> list[Call]:
    """A script's life: mostly moving releases on, verifying and approving, sometimes racing on --rev."""
    rng = random.Random(1000 + index)
    calls: list[Call] = []
    for n in range(count):
        rid = str(rng.randint(1, RELEASES))
        env_name = rng.choice(STAGES[1:])
        pick = rng.random()
        if pick < 0.30:
            args: list[str] = ["move", rid, rng.choice(STAGES)]
            if rng.random() < 0.4:
                args += ["--force", "--reason", f"{actor} is in a hurry"]
            elif rng.random() < 0.3:
                args += ["--reason", "back"]
        elif pick < 0.45:
            args = ["verify", rid]
        elif pick < 0.55:
            args = ["approve", rid]
        elif pick < 0.75:
            # unique per worker and call, so every successful schedule is a change with its event
            minutes = index * 100_000 + n * 7
            args = ["schedule", rid, env_name, f"+{minutes}m", "--for", f"{rng.randint(1, 6)}h"]
        elif pick < 0.82:
            args = ["unschedule", rid, env_name]
        elif pick < 0.88:
            args = ["rollback", rid, "--reason", f"{actor}: smoke test failed"]
        elif pick < 0.92:
            args = ["fail", rid, "--reason", "health check"]
        else:
            # read, decide, write: the window between them is where stale writes come from
            shown = relman(db, env, actor, "release", "show", rid, "--json")
            calls.append(shown)
            rev = shown.stdout.split('"rev": ')[1].split(",")[0] if shown.code == 0 else "1"
            args = ["move", rid, rng.choice(STAGES), "--rev", rev, "--force", "--reason", "scripted"]
        calls.append(relman(db, env, actor, *args))
    return calls


class Poller(threading.Thread):
    """What the board's live view does: watch data_version, read a snapshot and the new events."""

    def __init__(self, open_board: Callable[[], BoardStore]) -> None:
        super().__init__(daemon=True)
        self.open_board = open_board
        self.stop = threading.Event()
        self.polls = 0
        self.snapshots = 0
        self.events_seen = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            store = self.open_board()
            reader = Service(store, FixedClock(NOW), "board")
            last_version: int | None = None
            last_seq = store.last_seq()
            try:
                while not self.stop.is_set():
                    self.polls += 1
                    version = store.data_version()
                    if version != last_version:
                        last_version = version
                        snapshot = reader.snapshot()
                        self.snapshots += 1
                        new = reader.changes_since(last_seq)
                        # seqs are handed out inside the write lock, so commits arrive in order: no gaps
                        assert [e.seq for e in new] == list(range(last_seq + 1, last_seq + 1 + len(new)))
                        self.events_seen += len(new)
                        last_seq = max(last_seq, snapshot.last_seq, *(e.seq for e in new))
                    time.sleep(0.02)
                self.events_seen += len(reader.changes_since(last_seq))
            finally:
                store.close()
        except BaseException as exc:  # reported by the test
            self.error = exc


def assert_one_clear_line(call: Call) -> None:
    text = call.stdout + call.stderr
    assert call.code in (0, 1, 2), call
    for bad in ("Traceback", "database is locked", "internal error", "OperationalError", "busy"):
        assert bad not in text, call
    if call.code:
        lines = call.stderr.splitlines()
        assert len(lines) == 1, call
        assert lines[0].startswith(("relman: refused: ", "relman: error: ")), call


@pytest.mark.stress
@pytest.mark.both_backends
def test_four_writers_and_a_live_board_lose_nothing(team: Team, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home") | team.env
    before = check_database(team.reader)
    poller = Poller(team.open_board)
    per_worker = CALLS_PER_WORKER if isinstance(team.target, Path) else CALLS_PER_WORKER_PG
    poller.start()
    results: list[list[Call]] = [[] for _ in range(WORKERS)]

    def work(i: int) -> None:
        results[i] = worker_calls(team.target, env, f"ops{i}", i, per_worker)

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    poller.stop.set()
    poller.join(30)
    assert poller.error is None, repr(poller.error)

    calls = [call for batch in results for call in batch]
    for call in calls:
        assert_one_clear_line(call)
    figures = check_database(team.reader)  # every release stands where its last logged move put it

    # every successful change has exactly one event by its actor, and nothing else was logged
    logged = Counter(
        actor for (actor,) in rows(team.reader, f"SELECT actor FROM events WHERE actor <> '{team.setup_actor}'")
    )
    succeeded = Counter(c.actor for c in calls if c.code == 0 and c.args[0] in CHANGES)
    assert not any(c.args[:2] == ("release", "add") for c in calls)  # (or they would count too)
    assert logged == succeeded
    assert poller.events_seen == figures["events"] - before["events"]
    assert poller.snapshots > 1

    codes = Counter(c.code for c in calls)
    assert codes[0] > 0 and codes[1] > 0  # the run really raced: some changes landed, some were refused
    report(
        f"concurrency/{'sqlite' if isinstance(team.reader, Path) else 'postgres'}",
        processes=len(calls),
        workers=WORKERS,
        exit_0=codes[0],
        refused_1=codes[1],
        bad_input_2=codes[2],
        stale=sum("since you saw it" in c.stderr for c in calls),
        events=figures["events"],
        releases=figures["releases"],
        board_snapshots=poller.snapshots,
        board_events_seen=poller.events_seen,
        seconds=round(elapsed, 1),
    )


# --- the busy path itself ----------------------------------------------------------------------------------


def test_a_busy_begin_immediate_is_retried_until_the_lock_is_free(
    shared_board: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock is held longer than one busy timeout; the write waits it out by retrying BEGIN IMMEDIATE."""
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.05)
    monkeypatch.setattr(store_module, "_BEGIN_RETRIES", 6)
    begins: list[str] = []
    store = Store.open(shared_board)
    real = store._conn

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # passed on as they came
            if sql == "BEGIN IMMEDIATE":
                begins.append(sql)
                if len(begins) == 2:  # the first BEGIN was turned away busy: the other writer lets go now
                    holder.execute("ROLLBACK")
            return real.execute(sql, *args)

    monkeypatch.setattr(store, "_conn", Counting())
    service = Service(store, FixedClock(NOW), "bob")
    holder = sqlite3.connect(shared_board, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    try:
        moved = service.move(1, "dev")
    finally:
        holder.close()
        store._conn = real
        store.close()
    assert moved.stage == "dev"
    assert len(begins) > 1  # the first BEGIN IMMEDIATE timed out busy and was tried again
    check_database(shared_board)


def test_no_busy_or_locked_text_reaches_a_person_even_when_the_lock_never_comes(
    shared_board: Path, tmp_path: Path
) -> None:
    """A writer that holds the lock for longer than relman waits: the CLI says so in its own words."""
    holder = sqlite3.connect(shared_board, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    env = cli_env(tmp_path / "home")
    script = (
        "import sys; from relman_tui.store import sqlite as store; "
        "store.BUSY_TIMEOUT_S = 0.05; store._BEGIN_RETRIES = 2; "
        "from relman_tui.cli import main; sys.argv[0] = 'relman'; main(sys.argv[1:])"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, "--db", str(shared_board), "--as", "bob", "move", "1", "dev"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        reading = relman(shared_board, env, "bob", "release", "list", "--json")  # WAL: readers go on
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("relman: error: ") and done.stderr.count("\n") == 1
    assert "is busy (another process holds a write lock); nothing was changed, try again" in done.stderr
    assert "database is locked" not in done.stderr and "Traceback" not in done.stderr
    assert reading.code == 0 and '"stage": "planned"' in reading.stdout
    assert check_database(shared_board)["events"] == RELEASES + len(DEFAULT_PIPELINE) + 2  # + board_created, delegates


def test_relman_error_is_what_the_store_raises_for_every_sqlite_failure(shared_board: Path) -> None:
    """The store translates: callers (the CLI, the board's poll worker) only ever see RelmanError."""
    store = Store.open(shared_board)
    try:
        holder = sqlite3.connect(shared_board, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            store._conn.execute("PRAGMA busy_timeout = 10")
            with pytest.raises(RelmanError) as caught, store.write():
                pass
            assert "locked" not in str(caught.value)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    finally:
        store.close()
