"""The README's systemd unit and tmux recipe for the hook runner, checked for real (issue 19, item 6)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Run
from test_hook_runner import alive, install_stubborn, outcomes, runs, wait_for
from test_hooks import add_and_move, runner_env, start_runner

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
RELMAN = Path(sys.executable).parent / "relman"  # this checkout's, installed in the test environment


def readme_block(after: str, language: str) -> str:
    start = README.index(after)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(README, start)
    assert match is not None, f"no {language} block after {after!r}"
    return match.group(1)


@pytest.fixture
def stubborn(board: Run, tmp_path: Path) -> Path:
    return install_stubborn(board, tmp_path)


def test_the_readmes_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """Repro 6: the unit's default KillMode TERMed the hook on stop, and its calendar hook used a bare
    `relman` the unit's PATH does not find."""
    unit = readme_block("As a systemd service", "ini")
    assert "KillMode=mixed" in unit and "ExecStart=/" in unit
    assert all(line.split("=", 1)[1].startswith("/") for line in unit.splitlines() if line.startswith("ExecStart="))
    for block in re.findall(r"```toml\n(.*?)```", README, re.S):
        for run in re.findall(r'^run = \["([^"]+)"', block, re.M):
            assert run.startswith("/"), f"a hook command without an absolute path: {run}"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    assert RELMAN.exists()
    path = tmp_path / "relman-hooks.service"
    path.write_text(unit.replace("/opt/relman/.venv/bin/relman", str(RELMAN)))
    done = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_a_stop_under_killmode_mixed_lets_the_hook_finish_and_a_restart_does_not_run_it_again(
    board: Run, tmp_path: Path, stubborn: Path
) -> None:
    """`systemctl restart` with KillMode=mixed: TERM to the runner only, a new runner started at once."""
    env = runner_env(tmp_path, board)
    first = start_runner(board.db, env)
    add_and_move(board, "svc", "prod")
    wait_for(lambda: len(runs(stubborn)) == 1, "the hook to start", first)
    first.send_signal(signal.SIGTERM)
    assert first.stderr is not None
    assert "once the running hook (if any) finishes" in first.stderr.readline()
    second = start_runner(board.db, env)
    try:
        assert second.stderr is not None
        assert "waiting for it" in second.stderr.readline()
        (stubborn / "finish").write_text("")
        _out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        assert outcomes(board) == ["hook_ran"]
    finally:
        second.send_signal(signal.SIGTERM)
        _out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert len(runs(stubborn)) == 1  # run to completion once, not again


def test_the_readmes_tmux_recipe_survives_kill_session(board: Run, tmp_path: Path, stubborn: Path) -> None:
    """Repro 3: `tmux kill-session` sends SIGHUP, which killed the runner and left its hook running."""
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux is not installed here")
    (recipe,) = [line for line in readme_block("Or in a tmux pane", "sh").splitlines() if line.startswith("tmux new")]
    socket = tmp_path / "tmux.sock"
    command = recipe.replace("/opt/relman/.venv/bin/relman", str(RELMAN)).replace(
        "/srv/relman/relman.db", str(board.db)
    )
    env = runner_env(tmp_path, board)
    line = f"{tmux} -S {socket} -f /dev/null {command.removeprefix('tmux ')}"  # a server of the test's own
    started = subprocess.run(["sh", "-c", line], env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    try:
        pane = subprocess.run(
            [tmux, "-S", str(socket), "display", "-p", "-t", "relman-hooks", "#{pane_pid}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        runner_pid = int(pane.stdout.strip())
        add_and_move(board, "svc", "prod")
        wait_for(lambda: len(runs(stubborn)) == 1, "the hook to start in the tmux pane")
        subprocess.run([tmux, "-S", str(socket), "kill-session", "-t", "relman-hooks"], env=env, timeout=60)
        (run,) = runs(stubborn)
        assert alive(int(str(run["pid"])))  # the hook goes on
        (stubborn / "finish").write_text("")
        wait_for(lambda: not alive(runner_pid), "the runner to finish the hook and exit")
        assert outcomes(board) == ["hook_ran"]  # run to completion, recorded once
        assert not alive(int(str(run["child"])))
    finally:
        subprocess.run([tmux, "-S", str(socket), "kill-server"], capture_output=True, env=env, timeout=60)
    again = start_runner(board.db, env, "--once")
    assert again.wait(timeout=60) == 0
    assert len(runs(stubborn)) == 1 and outcomes(board) == ["hook_ran"]  # and not again
