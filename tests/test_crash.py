"""Writers killed with SIGKILL at enumerated moments: the board stays intact, and every change stands
with its audit event or neither does — on a SQLite file and on a PostgreSQL server.
``RELMAN_STRESS=1`` kills many more times."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from backends import Backend, PgBackend, SqliteBackend
from conftest import NOW, NOW_TEXT
from pg_support import SUPERUSER
from stress_support import check_database, report, rows, size

from relman_tui.dburl import Target
from relman_tui.demo import DEFAULT_PIPELINE, add_default_pipeline
from relman_tui.identity import os_account
from relman_tui.service import Service
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock

WRITER = Path(__file__).with_name("stress_support.py")
SERVICE_KILLS = size(10, 300)
CLI_KILLS = size(8, 200)


@pytest.fixture
def board_db(tmp_path: Path) -> Path:
    path = tmp_path / "relman.db"
    store = Store.open(path, create=True)
    service = Service(store, FixedClock(NOW), "setup")
    add_default_pipeline(service)
    service.set_delegates([os_account()])  # so the test's processes may act for named operators (--as)
    for i in range(4):
        service.add_release(f"service-{i}", "1.0")
    store.close()
    return path


class Crashing:
    """A board for writers to be killed on: where they write as whom, and where the checks read."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.pg = isinstance(backend, PgBackend)

    def writer_target(self, actor: str) -> str:
        """What a killed writer opens: the file, or the URL as the role ``actor`` (the server checks who acts)."""
        if isinstance(self.backend, PgBackend):
            self.backend.account(actor)
            return self.backend.url(actor)
        return str(self.backend.target())

    @property
    def reader(self) -> Target:
        return self.backend.url(SUPERUSER) if isinstance(self.backend, PgBackend) else self.backend.target()

    @property
    def cli_env(self) -> dict[str, str]:
        return {"PGUSER": "runner"} if self.pg else {}


@pytest.fixture
def crashing(backend: Backend) -> Crashing:
    """The default pipeline and four releases; the CLI's account (PostgreSQL: the role runner) is a delegate."""
    board = Crashing(backend)
    backend.make("empty")
    if isinstance(backend, PgBackend):
        store, actor, runner = backend.open("admin"), "admin", "runner"
        backend.account(runner)
    else:
        assert isinstance(backend, SqliteBackend)
        store, actor, runner = Store.open(backend.path, create=True), "setup", os_account()
    service = Service(store, FixedClock(NOW), actor)
    add_default_pipeline(service)
    service.set_delegates([runner])
    for i in range(4):
        service.add_release(f"service-{i}", "1.0")
    store.close()
    return board


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELMAN_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).parents[1]), env.get("PYTHONPATH")) if p)
    return env


def kill_after(proc: subprocess.Popen[bytes], delay: float) -> bool:
    """SIGKILL ``proc`` after ``delay``; True if it was still running (it died mid-flight)."""
    time.sleep(delay)
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    return alive


def events_now(reader: Target) -> int:
    """How many events the board holds (committed changes)."""
    return int(rows(reader, "SELECT count(*) FROM events")[0][0])


def kill_when(proc: subprocess.Popen[bytes], reader: Target, events: int) -> bool:
    """SIGKILL ``proc`` once the board holds ``events`` events; True if it was still running (it died mid-flight)."""
    deadline = time.monotonic() + 120  # a safety net only
    while events_now(reader) < events and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    return alive


@pytest.mark.stress
@pytest.mark.both_backends
def test_writers_killed_mid_transaction_leave_every_change_with_its_event(crashing: Crashing) -> None:
    env = child_env()
    kills = 0
    events_before = check_database(crashing.reader)["events"]
    grew = 0
    for round_ in range(SERVICE_KILLS):
        actor = f"writer{round_ % 3}"
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), crashing.writer_target(actor), actor, str(round_)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready == b"ready\n", (ready, proc.stderr.read() if proc.stderr else b"")
        # an enumerated point, not a wall-clock delay: once the writer has committed its 1st .. 5th
        # change, in whatever transaction it is in the middle of by then
        kills += kill_when(proc, crashing.reader, events_before + 1 + round_ % 5)
        assert proc.stderr is not None
        errors = proc.stderr.read().decode()
        proc.stdout.close()
        proc.stderr.close()
        assert "Traceback" not in errors, errors
        figures = check_database(crashing.reader)  # intact, and the log replays to exactly what is stored
        grew += figures["events"] > events_before
        events_before = figures["events"]
    assert kills == SERVICE_KILLS
    assert grew == SERVICE_KILLS  # every kill landed while its writer was writing
    report(
        f"crash/service/{crashing.backend.name}",
        kills_survived=kills,
        rounds_with_new_changes=grew,
        **check_database(crashing.reader),
    )


@pytest.mark.stress
@pytest.mark.both_backends
def test_cli_commands_killed_at_enumerated_moments(crashing: Crashing, tmp_path: Path) -> None:
    """Killing `relman move` and friends anywhere from start-up to commit never half-writes."""
    rng = random.Random(11)
    env = (
        child_env()
        | crashing.cli_env
        | {
            "RELMAN_NOW": NOW_TEXT,
            "RELMAN_TZ": "UTC",
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
        }
    )
    stages = ["planned", *(name for name, *_ in DEFAULT_PIPELINE)]
    commands = [
        lambda: ["move", str(rng.randint(1, 4)), rng.choice(stages), "--force", "--reason", "kill test"],
        lambda: ["verify", str(rng.randint(1, 4))],
        lambda: [
            "schedule",
            str(rng.randint(1, 4)),
            rng.choice(stages[1:]),
            f"+{rng.randint(1, 10**5)}m",
            "--for",
            "1h",
        ],
        lambda: ["release", "add", f"killed-{rng.randint(0, 10**9)}", "1.0"],
        lambda: [
            "freeze",
            "add",
            "prod",
            "--start",
            "2030-01-01T00:00",
            "--end",
            "2030-01-02T00:00",
            "--reason",
            "kill test",
        ],
    ]
    killed = finished = 0
    for i in range(CLI_KILLS):
        args = rng.choice(commands)()
        proc = subprocess.Popen(
            [sys.executable, "-m", "relman_tui", "--db", str(crashing.backend.target()), "--as", "killer", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        # start-up takes ~0.15 s: delays enumerated evenly around it hit imports, opening and the write
        # itself; the first (0.05 s, inside the imports) always kills
        if kill_after(proc, 0.05 + 0.3 * i / max(1, CLI_KILLS - 1)):
            killed += 1
        else:
            finished += 1
            assert proc.returncode in (0, 1, 2)
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()
        proc.stderr.close()
        check_database(crashing.reader)
    assert killed > 0
    report(
        f"crash/cli/{crashing.backend.name}",
        commands=CLI_KILLS,
        killed=killed,
        finished=finished,
        **check_database(crashing.reader),
    )


def test_the_database_itself_refuses_a_forced_move_or_rollback_without_a_reason(board_db: Path) -> None:
    """Not only the service: any writer of the file, SQL included, is held to the audit rules."""
    import sqlite3

    from relman_tui.errors import BadInput

    service = Service(Store.open(board_db), FixedClock(NOW), "alice")
    try:
        calls: list[Callable[[], object]] = [
            lambda: service.move(1, "test", force=True, reason="  "),
            lambda: service.rollback(1, ""),
        ]
        for call in calls:
            with pytest.raises(BadInput, match="reason"):
                call()
    finally:
        service.store.close()
    conn = sqlite3.connect(board_db)
    try:
        for sql in (
            "INSERT INTO events (at, actor, release, action, forced) VALUES ('x', 'mallory', 1, 'moved', 1)",
            "INSERT INTO events (at, actor, release, action, reason) VALUES ('x', 'mallory', 1, 'rolled_back', '')",
            "INSERT INTO events (at, actor, release, action) VALUES ('x', NULL, 1, 'moved')",
            "UPDATE events SET actor = 'someone else'",
            "DELETE FROM events",
        ):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(sql)
    finally:
        conn.close()
    check_database(board_db)
