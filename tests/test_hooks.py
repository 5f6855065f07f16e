"""Hooks (issue 14): commands the runner starts for new events — in order, at least once, only in the runner."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from backends import PgBackend
from conftest import Run, one_line
from pg_support import ADMIN_LOGIN

from relman_tui import hooks as hooks_module

pytestmark = pytest.mark.both_backends

ROOT = Path(__file__).parents[1]

RECORDER = textwrap.dedent("""
    import json, os, sys, time
    name, log = sys.argv[1], sys.argv[2]
    event = json.load(sys.stdin)
    keys = ["RELMAN_EVENT_SEQ", "RELMAN_ACTION", "RELMAN_RELEASE_ID", "RELMAN_RELEASE", "RELMAN_VERSION",
            "RELMAN_FROM", "RELMAN_TO", "RELMAN_ACTOR"]
    seen = {k: os.environ.get(k) for k in keys}
    pause = float(os.environ.get("HOOK_PAUSE", "0"))
    if pause:
        time.sleep(pause)
    with open(log, "a") as out:
        out.write(json.dumps({"hook": name, "env": seen, "stdin_seq": event["seq"],
                              "stdin_name": event["release_name"]}) + "\\n")
""")


def hook_toml(on: str, run: list[str], environment: str | None = None, timeout: str = "30s") -> str:
    env = f'environment = "{environment}"\n' if environment else ""
    return f'\n[[hooks]]\non = "{on}"\n{env}run = {json.dumps(run)}\ntimeout = "{timeout}"\n'


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    return script


def admin(board: Run) -> str:
    """Who may import a board file: anyone on a file; on a server, the board's admin."""
    return ADMIN_LOGIN if isinstance(board.backend, PgBackend) else "alice"


def install(board: Run, tmp_path: Path, *hooks: str) -> None:
    path = tmp_path / "board.toml"
    board.ok("export", str(path))
    path.write_text(path.read_text() + "".join(hooks))
    board.ok("import", str(path), actor=admin(board))


def calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def written(log: Path) -> int:
    """How many whole lines the hooks have written (one still being written is not counted)."""
    return log.read_bytes().count(b"\n") if log.exists() else 0


def add_and_move(board: Run, name: str, *stages: str) -> int:
    rid = int(board.ok("release", "add", name, "1.0", actor="bob").stdout)
    for stage in stages:
        board.ok("move", str(rid), stage, "--force", "--reason", "hook test", actor="bob")
    return rid


def test_a_hook_on_moved_to_prod_runs_once_per_move_with_the_event(board: Run, tmp_path: Path, recorder: Path) -> None:
    log = tmp_path / "calls.jsonl"
    add_and_move(board, "history", "prod")  # before the hook: never replayed
    install(board, tmp_path, hook_toml("moved", [sys.executable, str(recorder), "deploy", str(log)], "prod"))
    rid = add_and_move(board, "payments-api", "dev", "prod")
    add_and_move(board, "ledger", "dev")  # not into prod: no call
    assert calls(log) == []  # CLI commands never run hooks
    out = board.ok("hooks", "run", "--once").stdout
    assert "moved payments-api 1.0" in out and "— ok in" in out
    (call,) = calls(log)
    moved = [e for e in board.json("log", str(rid)) if e["action"] == "moved"][-1]
    assert call["env"] == {
        "RELMAN_EVENT_SEQ": str(moved["seq"]),
        "RELMAN_ACTION": "moved",
        "RELMAN_RELEASE_ID": str(rid),
        "RELMAN_RELEASE": "payments-api",
        "RELMAN_VERSION": "1.0",
        "RELMAN_FROM": "dev",
        "RELMAN_TO": "prod",
        "RELMAN_ACTOR": "bob",
    }
    assert (call["stdin_seq"], call["stdin_name"]) == (moved["seq"], "payments-api")
    ran = board.json("log", str(rid))[-1]
    assert ran["action"] == "hook_ran" and ran["details"]["event_seq"] == moved["seq"]
    assert ran["details"]["exit_status"] == 0
    board.ok("hooks", "run", "--once")  # nothing new: nothing runs again
    assert len(calls(log)) == 1
    assert board.ok("log", "--verify").exit_code == 0


def test_failures_timeouts_and_hostile_output_are_recorded_inert(
    board: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hooks_module, "KILL_GRACE_S", 0.2)
    marker = tmp_path / "child-still-running"
    install(
        board,
        tmp_path,
        hook_toml("approved", ["sh", "-c", "printf 'ok\\033]0;pwned\\007\\033[2J\\n'; exit 3"]),
        hook_toml("approved", ["/no/such/program"]),
        # never exits, ignores SIGTERM, and leaves a child behind: the whole group is killed
        hook_toml("approved", ["sh", "-c", f"trap '' TERM; (sleep 30; touch {marker}) & sleep 30"], timeout="1s"),
    )
    rid = int(board.ok("release", "add", "ledger", "1.0", actor="bob").stdout)
    board.ok("approve", str(rid), actor="carol")
    out = board.ok("hooks", "run", "--once").stdout
    assert out.count("FAILED") == 3 and "\x1b" not in out
    failed = [e for e in board.json("log", str(rid)) if e["action"] == "hook_failed"]
    assert [e["details"]["problem"] for e in failed] == [
        "exit status 3",
        "cannot start /no/such/program: No such file or directory",
        "timed out after 1s",
    ]
    assert failed[0]["details"]["output"] == "ok\\x1b]0;pwned\\x07\\x1b[2J"  # stored inert
    text = board.ok("log", str(rid)).stdout
    assert "\x1b" not in text and "failed: exit status 3" in text
    assert failed[2]["details"]["exit_status"] is None


def test_a_hook_added_later_never_replays_and_a_removed_hook_stops(board: Run, tmp_path: Path, recorder: Path) -> None:
    log = tmp_path / "calls.jsonl"
    hook = hook_toml("moved", [sys.executable, str(recorder), "h", str(log)])
    install(board, tmp_path, hook)
    add_and_move(board, "one", "dev")
    board.ok("hooks", "run", "--once")
    path = tmp_path / "board.toml"
    path.write_text(path.read_text().replace(hook, ""))
    board.ok("import", str(path), actor=admin(board))
    add_and_move(board, "two", "dev")  # no hook now
    board.ok("hooks", "run", "--once")
    path.write_text(path.read_text() + hook)
    board.ok("import", str(path), actor=admin(board))  # back again: from here on only
    add_and_move(board, "three", "dev")
    board.ok("hooks", "run", "--once")
    assert [c["stdin_name"] for c in calls(log)] == ["one", "three"]
    actions = [e["action"] for e in board.json("log") if e["action"].startswith("hook_")]
    assert actions == ["hook_added", "hook_ran", "hook_removed", "hook_added", "hook_ran"]


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        ('[[hooks]]\non = "hook_failed"\nrun = ["true"]\n', "key 'hooks[0].on': must be an event action"),
        ('[[hooks]]\non = "moved"\nenvironment = "qa"\nrun = ["true"]\n', "key 'hooks[0].environment': unknown stage"),
        ('[[hooks]]\non = "moved"\nrun = "deploy.sh --all"\n', "key 'hooks[0].run': must be a command as a list"),
        ('[[hooks]]\non = "moved"\nrun = []\n', "key 'hooks[0].run'"),
        ('[[hooks]]\non = "moved"\nrun = ["true"]\ntimeout = "2d"\n', "key 'hooks[0].timeout': is longer than"),
        ('[[hooks]]\non = "moved"\nrun = ["true"]\ntimeout = 0\n', "key 'hooks[0].timeout'"),
        ('[[hooks]]\non = "moved"\nrun = ["a\\u001b[2J"]\n', "must not contain control characters"),
        ('[[hooks]]\non = "moved"\nrun = ["true"]\nshell = true\n', "key 'hooks[0].shell': unknown key"),
    ],
)
def test_bad_hooks_are_refused_with_the_key_named(board: Run, tmp_path: Path, hook: str, message: str) -> None:
    path = tmp_path / "board.toml"
    board.ok("export", str(path))
    path.write_text(path.read_text() + "\n" + hook)
    before = board.dump()
    result = board("import", str(path), actor=admin(board))
    assert result.exit_code == 2 and message in one_line(result.stderr), result.stderr
    assert board.dump() == before


def test_hooks_round_trip_through_the_board_file(board: Run, tmp_path: Path) -> None:
    install(board, tmp_path, hook_toml("moved", ["deploy", "--to", "prod"], "prod", "15m"))
    again = tmp_path / "again.toml"
    board.ok("export", str(again))
    assert (
        'run = [\n    "deploy",\n    "--to",\n    "prod",\n]' in again.read_text()
        or '"deploy", "--to", "prod"' in again.read_text()
    )
    assert board.json("hooks", "list")[0] | {"added_seq": 0} == {
        "hook": board.json("hooks", "list")[0]["hook"],
        "on": "moved",
        "environment": "prod",
        "run": ["deploy", "--to", "prod"],
        "timeout": 900,
        "added_seq": 0,
    }
    seq = board.json("log")[-1]["seq"]
    board.ok("import", str(again), actor=admin(board))  # the same hooks: nothing added or removed, nothing replayed
    assert [e["action"] for e in board.json("log") if e["seq"] > seq] == ["imported"]


# --- at least once, in order, through SIGKILL ------------------------------------------------------------------------


def runner_env(tmp_path: Path, board: Run) -> dict[str, str]:
    """A real process's environment: on a server, the runner's role is an operator (``hooks``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELMAN_", "PG"))}
    if board.backend is not None:
        board.backend.account("hooks")
    return env | {
        "PYTHONPATH": str(ROOT),
        "RELMAN_TZ": "UTC",
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_DATA_HOME": str(tmp_path / "d"),
        "XDG_STATE_HOME": str(tmp_path / "s"),
        "PGUSER": "hooks",
    }


def start_runner(db: object, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "relman_tui", "--db", str(db), "hooks", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_a_runner_killed_at_enumerated_points_skips_nothing_and_repeats_only_the_hook_in_flight(
    board: Run, tmp_path: Path, recorder: Path
) -> None:
    log = tmp_path / "calls.jsonl"
    install(
        board,
        tmp_path,
        hook_toml("moved", [sys.executable, str(recorder), "first", str(log)], "prod"),
        hook_toml("moved", [sys.executable, str(recorder), "second", str(log)], "prod"),
    )
    ids = [add_and_move(board, f"svc-{i}", "prod") for i in range(12)]
    moves = [e["seq"] for e in board.json("log") if e["action"] == "moved"][-len(ids) :]
    env = runner_env(tmp_path, board) | {"HOOK_PAUSE": "0.05"}
    kills = 0
    for point in range(40):
        if len({(c["hook"], c["stdin_seq"]) for c in calls(log)}) == 2 * len(moves):
            break
        # enumerated kill points, not a wall-clock delay: once the k-th hook of this run has written its
        # line (it is about to exit, the runner has not yet recorded it), k = 1, 2, 3, 1, ...
        target = written(log) + 1 + point % 3
        proc = start_runner(board.db, env, "--once")
        deadline = time.monotonic() + 60  # a safety net only
        while written(log) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    proc = start_runner(board.db, env, "--once")  # and one that finishes
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    assert kills > 0

    seen = [(str(c["hook"]), int(str(c["stdin_seq"]))) for c in calls(log)]
    expected = [(hook, seq) for seq in moves for hook in ("first", "second")]
    firsts = list(dict.fromkeys(seen))
    assert firsts == expected  # every hook for every event, in order: nothing skipped
    repeats = Counter(seen) - Counter(firsts)
    assert sum(repeats.values()) <= kills  # at most the one in flight per kill ...
    for i in range(1, len(seen)):
        if seen[i] in seen[:i]:
            assert seen[i] == seen[i - 1]  # ... and only ever the one just run, again
    ran = Counter(
        (e["details"]["on"], e["details"]["event_seq"], e["details"]["run"][2])
        for e in board.json("log")
        if e["action"] == "hook_ran"
    )
    assert set(ran.values()) == {1} and len(ran) == len(expected)  # each outcome recorded exactly once
    assert board.ok("log", "--verify").exit_code == 0


def test_a_second_runner_waits_for_the_first_and_nothing_runs_twice(board: Run, tmp_path: Path, recorder: Path) -> None:
    log = tmp_path / "calls.jsonl"
    install(board, tmp_path, hook_toml("moved", [sys.executable, str(recorder), "h", str(log)]))
    env = runner_env(tmp_path, board)
    first = start_runner(board.db, env, "--poll", "0.1")
    add_and_move(board, "one", "dev")
    deadline = time.monotonic() + 60
    while not calls(log) and time.monotonic() < deadline:  # wait for the condition: the first runner ran it
        time.sleep(0.05)
    assert len(calls(log)) == 1
    second = start_runner(board.db, env, "--once")
    assert second.stderr is not None
    line = second.stderr.readline()  # blocks until the second runner says it is waiting
    assert "another hook runner holds this board's lock; waiting" in line
    assert second.poll() is None
    add_and_move(board, "two", "dev")
    deadline = time.monotonic() + 60
    while len(calls(log)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    handled_by_first = len(calls(log)) == 2
    first.send_signal(signal.SIGTERM)  # stops after the hook it runs: the lock passes to the second
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert handled_by_first, (out, err)  # the runner that holds the lock goes on running hooks
    assert second.wait(timeout=60) == 0
    assert [c["stdin_name"] for c in calls(log)] == ["one", "two"]
    assert sum(1 for e in board.json("log") if e["action"] == "hook_ran") == 2


def test_an_event_committed_while_a_hook_runs_is_handled_without_another_write(
    board: Run, tmp_path: Path, recorder: Path
) -> None:
    """The missed wake-up (issue 19, item 2), made exact: the hook itself commits the next event."""
    log = tmp_path / "calls.jsonl"
    rid = int(board.ok("release", "add", "chain", "1.0", actor="bob").stdout)
    verify = [sys.executable, "-m", "relman_tui", "--db", str(board.db), "verify", str(rid)]
    install(
        board,
        tmp_path,
        hook_toml("moved", verify),  # commits `verified` while the runner is busy with this hook
        hook_toml("verified", [sys.executable, str(recorder), "after", str(log)]),
    )
    env = runner_env(tmp_path, board)
    runner = start_runner(board.db, env, "--poll", "0.2")
    try:
        board.ok("move", str(rid), "dev", actor="bob")  # the last write from outside: nothing wakes the runner after it
        deadline = time.monotonic() + 60  # a safety net for a broken runner, not a timing bound
        while not calls(log) and time.monotonic() < deadline and runner.poll() is None:
            time.sleep(0.05)
        assert [c["hook"] for c in calls(log)] == ["after"], runner.poll()
    finally:
        runner.send_signal(signal.SIGTERM)
        _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err


def test_a_hook_can_publish_the_calendar(board: Run, tmp_path: Path) -> None:
    ics = tmp_path / "releases.ics"
    run = [sys.executable, "-m", "relman_tui", "--db", str(board.db), "calendar", str(ics)]
    install(board, tmp_path, hook_toml("scheduled", run))
    rid = int(board.ok("release", "add", "ledger", "1.0").stdout)
    board.ok("schedule", str(rid), "dev", "2026-12-02T10:00", "--for", "2h")
    env = runner_env(tmp_path, board) | {"RELMAN_NOW": "2026-12-01T10:00:00Z"}
    done = subprocess.run(
        [sys.executable, "-m", "relman_tui", "--db", str(board.db), "hooks", "run", "--once"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "ok in" in done.stdout
    assert "SUMMARY:ledger 1.0 → dev" in ics.read_text()


@pytest.mark.sqlite_only("copies to a second file; tests/test_pg.py copies across backends")
def test_a_copied_board_carries_the_runners_progress(board: Run, tmp_path: Path, recorder: Path) -> None:
    log = tmp_path / "calls.jsonl"
    install(board, tmp_path, hook_toml("moved", [sys.executable, str(recorder), "h", str(log)]))
    add_and_move(board, "one", "dev")
    board.ok("hooks", "run", "--once")
    copy = tmp_path / "copy.db"
    board.ok("copy", str(board.db), str(copy))
    board.ok("hooks", "run", "--once", db=copy)  # nothing to do: the copy knows what was handled
    add_and_move_on = int(board.ok("release", "add", "two", "1.0", db=copy).stdout)
    board.ok("move", str(add_and_move_on), "dev", db=copy)
    board.ok("hooks", "run", "--once", db=copy)
    assert [c["stdin_name"] for c in calls(log)] == ["one", "two"]
