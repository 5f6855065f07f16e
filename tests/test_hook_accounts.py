"""The hook runner's lock as two real accounts (issue 19, item 9): one operator after another."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from test_accounts import OWNER, READER, ROOT, SYSTEM_PYTHON, as_user, shared

__all__ = ["shared"]  # the fixture, used by name below


def as_user_with_umask(user: str, umask: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``as_user`` under a strict umask (an operator's umask must not lock the next one out)."""
    probe = as_user(user, "--version", cwd=cwd)
    assert probe.returncode == 0, probe.stderr
    line = " ".join(["umask", umask, ";", "exec", SYSTEM_PYTHON, "-m", "relman_tui", *args])
    return subprocess.run(
        [shutil.which("runuser") or "runuser", "-u", user, "--", "sh", "-c", line],
        capture_output=True,
        text=True,
        env=_env(user, cwd),
        cwd=cwd,
        timeout=60,
    )


def _env(user: str, cwd: Path) -> dict[str, str]:
    import sysconfig

    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "PYTHONPATH": os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]]),
        "RELMAN_TZ": "UTC",
        "XDG_STATE_HOME": str(cwd / f"state-{user}"),
        "XDG_CONFIG_HOME": str(cwd / f"config-{user}"),
    }


def test_a_second_operator_can_run_the_runner_after_the_first(shared: Path) -> None:
    """Repro 9: the lock file was created 0640 (the first operator's umask), so a second operator could
    not run `hooks run` after the first stopped ("Permission denied")."""
    board = shared / "team"
    board.mkdir()
    board.chmod(0o777)  # a shared directory both operators write (so: --trust-writers)
    db = board / "relman.db"
    assert as_user(OWNER, "--db", str(db), "init", cwd=shared).returncode == 0
    db.chmod(0o666)
    first = as_user_with_umask(OWNER, "077", "--db", str(db), "hooks", "run", "--once", "--trust-writers", cwd=shared)
    assert first.returncode == 0, first.stderr
    lock = Path(f"{db}-hooks.lock")
    assert lock.owner() == OWNER and stat.S_IMODE(lock.stat().st_mode) == 0o644  # the board's read bits
    second = as_user(READER, "--db", str(db), "hooks", "run", "--once", "--trust-writers", cwd=shared)
    assert second.returncode == 0, second.stderr
