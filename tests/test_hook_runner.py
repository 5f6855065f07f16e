"""The hook runner against real processes (issue 19): the version the event recorded, no orphans, no doubles,
one runner per board, whole groups stopped, a stop that is not a failure, a waiting runner that can be stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run
from test_hooks import add_and_move, admin, hook_toml, install, runner_env, start_runner

from relman_tui import hooks as hooks_module
from relman_tui.hooks import hook_environment, recorded_release
from relman_tui.model import Event

pytestmark = pytest.mark.both_backends

# A hook that notes each run (its pid, and whether an earlier run's processes were still alive when it
# started), leaves a child in its group that ignores SIGTERM, and finishes when the test says so.
STUBBORN = textwrap.dedent("""
    import json, os, signal, subprocess, sys, time
    from pathlib import Path
    folder = Path(sys.argv[1])

    def alive(pid):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state not in ("Z", "X")

    earlier = [int(p.read_text()) for p in folder.glob("pid-*")]
    run = len(list(folder.glob("run-*.json")))
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)"])
    (folder / f"pid-leader-{run}").write_text(str(os.getpid()))
    (folder / f"pid-child-{run}").write_text(str(child.pid))
    env = {k: v for k, v in os.environ.items() if k.startswith("RELMAN_")}
    note = {"pid": os.getpid(), "child": child.pid, "alive_before": [p for p in earlier if alive(p)], "env": env}
    (folder / f"run-{run}.json.tmp").write_text(json.dumps(note))
    os.replace(folder / f"run-{run}.json.tmp", folder / f"run-{run}.json")
    while not (folder / "finish").exists():
        time.sleep(0.02)
""")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for(condition: Callable[[], bool], what: str, runner: subprocess.Popen[str] | None = None) -> None:
    """Wait for ``condition`` (a safety-net timeout for a broken runner, not a timing bound)."""
    deadline = time.monotonic() + 60
    while not condition():
        if runner is not None and runner.poll() is not None:
            _out, err = runner.communicate()
            raise AssertionError(f"the runner exited ({runner.returncode}) before {what}: {err}")
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def runs(folder: Path) -> list[dict[str, object]]:
    return [json.loads((folder / f"run-{i}.json").read_text()) for i in range(len(list(folder.glob("run-*.json"))))]


def outcomes(board: Run) -> list[str]:
    return [e["action"] for e in board.json("log") if e["action"] in ("hook_ran", "hook_failed")]


@pytest.fixture
def stubborn(board: Run, tmp_path: Path) -> Path:
    return install_stubborn(board, tmp_path)


def install_stubborn(board: Run, tmp_path: Path) -> Path:
    """The STUBBORN hook on `moved`, and the folder it notes its runs in."""
    folder = tmp_path / "runs"
    folder.mkdir()
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)
    install(board, tmp_path, hook_toml("moved", [sys.executable, str(script), str(folder)], timeout="10m"))
    return folder


def test_a_hook_gets_the_name_version_and_components_the_move_recorded(board: Run, tmp_path: Path) -> None:
    """Repro 1: `move`, then `release edit --version 9.9.9 --name renamed-svc`, then `hooks run --once` gave
    the edited version, which never passed the gates."""
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "finish").write_text("")
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)
    install(board, tmp_path, hook_toml("moved", [sys.executable, str(script), str(folder)]))
    rid = int(board.ok("release", "add", "svc", "1.0", "--component", "api", "--component", "db").stdout)
    board.ok("move", str(rid), "dev")
    board.ok("release", "edit", str(rid), "--version", "9.9.9", "--name", "renamed-svc", "--component", "other")
    board.ok("hooks", "run", "--once")
    (run,) = runs(folder)
    env = run["env"]
    assert isinstance(env, dict)
    assert (env["RELMAN_RELEASE"], env["RELMAN_VERSION"]) == ("svc", "1.0")
    assert (env["RELMAN_COMPONENTS"], env["RELMAN_RELEASE_RECORDED"]) == ("api,db", "yes")
    moved = [e for e in board.json("log", str(rid)) if e["action"] == "moved"][-1]
    assert moved["details"]["release"] | {"updated_at": None, "created_at": None} == {
        "id": rid,
        "name": "svc",
        "version": "1.0",
        "components": ["api", "db"],
        "owner": "alice",
        "risk": "low",
        "stage": "dev",
        "state": "deployed",
        "approved_by": None,
        "approved_at": None,
        "unapproved": False,
        "notes": "",
        "created_at": None,
        "created_by": "alice",
        "updated_at": None,
        "rev": moved["details"]["release"]["rev"],
        "changed_at": None,
    }


@pytest.mark.sqlite_only("a pure function over an event; nothing of the store")
def test_an_event_from_before_releases_were_recorded_gives_the_id_only_and_says_so() -> None:
    from datetime import UTC, datetime

    old = Event(7, datetime(2026, 1, 1, tzinfo=UTC), "bob", 4, "moved", "dev", "prod", details={})
    release = recorded_release(old)
    assert release is not None and not release.recorded
    assert release.describe() == "release #4 (name and version not recorded in this event)"
    env = hook_environment(old, release)
    assert (env["RELMAN_RELEASE_ID"], env["RELMAN_RELEASE"], env["RELMAN_VERSION"]) == ("4", "", "")
    assert env["RELMAN_RELEASE_RECORDED"] == "no"


def test_a_sigkilled_runner_takes_its_hook_with_it_and_the_next_one_stops_the_leftovers_first(
    board: Run, tmp_path: Path, stubborn: Path
) -> None:
    """Repro 3: a SIGKILLed runner left its hook running, and the restarted runner ran the same hook for
    the same event beside it."""
    env = runner_env(tmp_path, board)
    first = start_runner(board.db, env)
    add_and_move(board, "svc", "dev")
    wait_for(lambda: len(runs(stubborn)) == 1, "the hook's first run", first)
    (run,) = runs(stubborn)
    first.send_signal(signal.SIGKILL)
    first.wait()
    wait_for(lambda: not alive(int(str(run["pid"]))), "the hook's leader to die with its runner")
    second = start_runner(board.db, env)
    try:
        wait_for(lambda: len(runs(stubborn)) == 2, "the delivery to run again", second)
        assert runs(stubborn)[1]["alive_before"] == []  # the leftover child was stopped before it ran again
        assert not alive(int(str(run["child"])))
        (stubborn / "finish").write_text("")
        wait_for(lambda: outcomes(board) == ["hook_ran"], "the outcome", second)
    finally:
        second.send_signal(signal.SIGTERM)
        _out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "stopped what a hook left running" in err
    assert not alive(int(str(runs(stubborn)[1]["child"])))  # nothing left behind after it finished either


def test_sighup_stops_the_runner_after_its_hook_finishes(board: Run, tmp_path: Path, stubborn: Path) -> None:
    """Repro 3 (tmux kill-session sends SIGHUP, unhandled): the runner died and left its hook running."""
    runner = start_runner(board.db, runner_env(tmp_path, board))
    add_and_move(board, "svc", "dev")
    wait_for(lambda: len(runs(stubborn)) == 1, "the hook to start", runner)
    runner.send_signal(signal.SIGHUP)
    (stubborn / "finish").write_text("")
    _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert outcomes(board) == ["hook_ran"]  # it ran to completion, once
    (run,) = runs(stubborn)
    assert not alive(int(str(run["child"])))


def test_a_hook_cut_off_by_the_runners_stop_is_no_failure_and_runs_again(
    board: Run, tmp_path: Path, stubborn: Path
) -> None:
    """Repro 6: systemd's default KillMode TERMs the hook with the runner; the runner recorded `hook_failed`
    and never ran that delivery again."""
    env = runner_env(tmp_path, board)
    runner = start_runner(board.db, env)
    add_and_move(board, "svc", "dev")
    wait_for(lambda: len(runs(stubborn)) == 1, "the hook to start", runner)
    (run,) = runs(stubborn)
    runner.send_signal(signal.SIGTERM)  # the whole control group is told to stop, hook too
    os.kill(int(str(run["pid"])), signal.SIGTERM)
    _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert outcomes(board) == []  # not an outcome
    (stubborn / "finish").write_text("")
    again = start_runner(board.db, env, "--once")
    _out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert len(runs(stubborn)) == 2 and outcomes(board) == ["hook_ran"]


def test_an_idle_runner_stops_at_the_signal_not_at_the_end_of_its_wait(board: Run, tmp_path: Path) -> None:
    """A stop signal ends the runner's wait at once: with ``--poll 60`` the old runner looked at its stop
    flag only when a wait ended (on a server a LISTEN wait, on a file a loop of looks), up to a minute later."""
    install(board, tmp_path, hook_toml("moved", ["true"]))
    runner = start_runner(board.db, runner_env(tmp_path, board), "--poll", "60")
    add_and_move(board, "svc", "dev")
    wait_for(lambda: outcomes(board) == ["hook_ran"], "the hook to run", runner)  # then the runner waits, idle
    runner.send_signal(signal.SIGTERM)
    try:
        _out, err = runner.communicate(timeout=45)  # well inside the 60 s wait that used to hold the stop back
    except subprocess.TimeoutExpired:
        runner.kill()
        runner.communicate()
        raise AssertionError("the runner went on waiting after SIGTERM") from None
    assert runner.returncode == 0, err
    assert "stopping once the running hook (if any) finishes" in err


def test_a_second_signal_cuts_the_hook_off_and_it_runs_again(board: Run, tmp_path: Path, stubborn: Path) -> None:
    env = runner_env(tmp_path, board)
    runner = start_runner(board.db, env)
    add_and_move(board, "svc", "dev")
    wait_for(lambda: len(runs(stubborn)) == 1, "the hook to start", runner)
    runner.send_signal(signal.SIGINT)
    assert runner.stderr is not None
    assert "signal again to cut it off" in runner.stderr.readline()  # the first was heard
    runner.send_signal(signal.SIGINT)
    _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    (run,) = runs(stubborn)
    assert not alive(int(str(run["pid"]))) and not alive(int(str(run["child"])))
    assert outcomes(board) == []
    (stubborn / "finish").write_text("")
    again = start_runner(board.db, env, "--once")
    assert again.wait(timeout=60) == 0
    assert outcomes(board) == ["hook_ran"]


def test_a_timeout_kills_group_members_that_outlive_an_obedient_leader(
    board: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Repro 5: KILL followed TERM only if the leader survived; a child ignoring TERM lived on."""
    monkeypatch.setattr(hooks_module, "KILL_GRACE_S", 0.2)
    stubborn = tmp_path / "runs"
    stubborn.mkdir()
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)
    install(board, tmp_path, hook_toml("moved", [sys.executable, str(script), str(stubborn)], timeout="1s"))
    add_and_move(board, "svc", "dev")
    board.ok("hooks", "run", "--once")
    (run,) = runs(stubborn)
    assert not alive(int(str(run["pid"])))
    assert not alive(int(str(run["child"])))
    failed = [e for e in board.json("log") if e["action"] == "hook_failed"]
    assert [e["details"]["problem"] for e in failed] == ["timed out after 1s"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_runner_waiting_for_the_lock_stops_when_told(
    board: Run, tmp_path: Path, stubborn: Path, sig: signal.Signals
) -> None:
    """Repro 7: a second runner waiting for the lock ignored SIGTERM and ctrl+c."""
    env = runner_env(tmp_path, board)
    first = start_runner(board.db, env)
    try:
        add_and_move(board, "svc", "dev")
        wait_for(lambda: len(runs(stubborn)) == 1, "the first runner to hold the lock and run a hook", first)
        second = start_runner(board.db, env)
        assert second.stderr is not None
        assert "waiting for it" in second.stderr.readline()
        second.send_signal(sig)
        assert second.wait(timeout=60) == 0
    finally:
        (stubborn / "finish").write_text("")
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert outcomes(board) == ["hook_ran"]


@pytest.mark.sqlite_only("a symlink to a file")
def test_a_symlink_to_the_board_is_the_same_board_for_the_runner(board: Run, tmp_path: Path) -> None:
    """Repro 4: `--db alias.db` (a symlink) ran a second runner beside the first."""
    install(board, tmp_path, hook_toml("moved", ["true"]))
    alias = tmp_path / "alias.db"
    alias.symlink_to(board.path)
    env = runner_env(tmp_path, board)
    first = start_runner(board.db, env)
    try:
        wait_for(lambda: Path(f"{board.path}-hooks.lock").exists(), "the first runner's lock")
        second = start_runner(alias, env, "--once")
        assert second.stderr is not None
        assert "another hook runner holds this board's lock; waiting" in second.stderr.readline()
        assert second.poll() is None
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)


def test_hooks_add_remove_and_list_are_logged_with_the_hooks_record(board: Run) -> None:
    add = ("hooks", "add", "--on", "moved", "--environment", "prod", "--timeout", "15m", "--", "deploy", "-x")
    out = board.ok(*add, actor=admin(board))
    (hook,) = board.json("hooks", "list")
    assert hook | {"added_seq": 0} == {
        "hook": hook["hook"],
        "on": "moved",
        "environment": "prod",
        "run": ["deploy", "-x"],
        "timeout": 900,
        "added_seq": 0,
    }
    assert f"added hook {hook['hook']}" in out.stdout
    added = board.json("log")[-1]
    assert added["action"] == "hook_added" and added["seq"] == hook["added_seq"]
    assert added["details"]["hook"] == {k: v for k, v in hook.items() if k != "added_seq"}
    assert "added hook" in board.ok("log").stdout.splitlines()[-1]
    board.ok("hooks", "remove", hook["hook"], actor=admin(board))
    removed = board.json("log")[-1]
    assert removed["action"] == "hook_removed" and removed["details"]["hook"] == hook
    assert board.json("hooks", "list") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--on", "hook_failed", "--", "true"], "--on: must be an event action"),
        (["--on", "moved", "--environment", "qa", "--", "true"], "--environment: unknown stage 'qa'"),
        (["--on", "moved", "--timeout", "2d", "--", "true"], "--timeout: is longer than"),
        (["--on", "moved", "--", "a\x1b[2J"], "must not contain control characters"),
    ],
)
def test_bad_hooks_add_is_refused_in_one_line_and_changes_nothing(board: Run, args: list[str], message: str) -> None:
    before = board.dump()
    result = board("hooks", "add", *args, actor=admin(board))
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert board.dump() == before


def test_removing_an_unknown_hook_is_refused(board: Run) -> None:
    result = board("hooks", "remove", "nope", actor=admin(board))
    assert result.exit_code == 2 and "no hook with id 'nope'" in result.stderr


@pytest.mark.sqlite_only("file permissions")
@pytest.mark.parametrize(
    ("target", "mode", "said"),
    [
        ("file", 0o660, "can be written by its group (mode 0660)"),
        ("file", 0o606, "can be written by every account (mode 0606)"),
        ("dir", 0o777, "the board's directory"),
    ],
)
def test_hooks_run_refuses_a_board_other_accounts_can_write(
    board: Run, tmp_path: Path, target: str, mode: int, said: str
) -> None:
    """Repro 8: any writer of a shared file could make the runner run its command."""
    pwned = tmp_path / "pwned.txt"
    install(board, tmp_path, hook_toml("moved", ["sh", "-c", f"id > {pwned}"]))
    add_and_move(board, "svc", "dev")
    folder = board.path.parent
    (board.path if target == "file" else folder).chmod(mode)
    try:
        result = board("hooks", "run", "--once")
        assert result.exit_code == 1 and said in result.stderr, result.stderr
        assert "--trust-writers" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert not pwned.exists()
        board.ok("hooks", "run", "--once", "--trust-writers")
        assert pwned.exists()
    finally:
        board.path.chmod(0o600)
        folder.chmod(0o700)


def test_a_runner_started_under_nohup_goes_on_after_a_hangup(board: Run, tmp_path: Path, stubborn: Path) -> None:
    env = runner_env(tmp_path, board)
    runner = subprocess.Popen(
        ["nohup", sys.executable, "-m", "relman_tui", "--db", str(board.db), "hooks", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        (stubborn / "finish").write_text("")
        add_and_move(board, "one", "dev")
        wait_for(lambda: outcomes(board) == ["hook_ran"], "the first hook", runner)
        runner.send_signal(signal.SIGHUP)  # ignored, as nohup asked
        add_and_move(board, "two", "dev")
        wait_for(lambda: outcomes(board) == ["hook_ran", "hook_ran"], "the second hook after the hangup", runner)
    finally:
        runner.send_signal(signal.SIGTERM)
        _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
