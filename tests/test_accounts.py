"""Real accounts on one board file (issue 10): a reader with nothing but read access, and the owner after it.

The tests run as root, which may read and write anything; these run relman as two real, unprivileged
accounts instead (`postgres` owns the board, `nobody` only reads it), with the system's Python and this
checkout on its path. Where that cannot be done here, they are skipped saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OWNER, READER = "postgres", "nobody"
SYSTEM_PYTHON = "/usr/bin/python3"


def as_user(user: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "PYTHONPATH": os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]]),
        "RELMAN_NOW": "2026-12-01T10:00:00Z",
        "RELMAN_TZ": "UTC",
        "XDG_STATE_HOME": str(cwd / f"state-{user}"),
        "XDG_CONFIG_HOME": str(cwd / f"config-{user}"),
    }
    return subprocess.run(
        [shutil.which("runuser") or "runuser", "-u", user, "--", SYSTEM_PYTHON, "-m", "relman_tui", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=60,
    )  # fmt: skip


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Path]:
    """A directory everyone may enter; relman runnable as both accounts (else a skip saying why)."""
    if os.geteuid() != 0 or shutil.which("runuser") is None or not os.path.exists(SYSTEM_PYTHON):
        pytest.skip("needs root, runuser and the system's python3 to act as other accounts")
    folder = Path(tempfile.mkdtemp(prefix="relman-accounts-"))
    folder.chmod(0o755)
    try:
        for user in (OWNER, READER):
            probe = as_user(user, "--version", cwd=folder)
            if probe.returncode != 0:
                pytest.skip(f"cannot run relman as {user} here: {probe.stderr.strip()[-200:]}")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_board_readable_only_by_others_is_read_and_leaves_its_owner_able_to_write(shared: Path) -> None:
    """The repro: a database readable only by "others" could not be read even with --read-only ("not a
    relman database"), and a read-only open left -wal/-shm owned by the reader, locking the owner out."""
    board = shared / "team"
    board.mkdir()
    shutil.chown(board, OWNER)
    board.chmod(0o777)  # anyone may create files beside the board: the reader could leave its own there
    db = board / "relman.db"
    assert as_user(OWNER, "--db", str(db), "init", cwd=shared).returncode == 0
    assert as_user(OWNER, "--db", str(db), "release", "add", "ledger", "1.0", cwd=shared).returncode == 0
    db.chmod(0o604)  # the owner may write it; the reader is only "others", with read access

    read = as_user(READER, "--db", str(db), "release", "list", "--json", cwd=shared)
    assert read.returncode == 0, read.stderr
    assert [r["name"] for r in json.loads(read.stdout)] == ["ledger"]
    tui_flag = as_user(READER, "--db", str(db), "release", "add", "x", "1", cwd=shared)
    assert tui_flag.returncode == 2 and "read-only" in tui_flag.stderr  # refused, in one line
    readers_files = [p.name for p in board.iterdir() if p.owner() == READER]
    assert readers_files == []  # no -wal, no -shm of the reader's

    wrote = as_user(OWNER, "--db", str(db), "release", "add", "auth", "2.0", cwd=shared)
    assert wrote.returncode == 0, wrote.stderr  # the owner is not locked out
    again = as_user(READER, "--db", str(db), "release", "list", "--json", cwd=shared)
    assert [r["name"] for r in json.loads(again.stdout)] == ["ledger", "auth"]


def test_a_board_in_a_directory_the_reader_may_not_write_is_read(shared: Path) -> None:
    """The repro: a database in a read-only directory could not be read even with --read-only."""
    board = shared / "locked"
    board.mkdir()
    shutil.chown(board, OWNER)
    board.chmod(0o755)
    db = board / "relman.db"
    assert as_user(OWNER, "--db", str(db), "init", cwd=shared).returncode == 0
    assert as_user(OWNER, "--db", str(db), "release", "add", "ledger", "1.0", cwd=shared).returncode == 0
    db.chmod(0o644)
    read = as_user(READER, "--db", str(db), "--tz", "UTC", "log", "--json", cwd=shared)
    assert read.returncode == 0, read.stderr
    assert [e["action"] for e in json.loads(read.stdout)][-1] == "created"
