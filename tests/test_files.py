"""The database file: read-only files, missing directories, foreign or newer files, private modes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, Run, copy_database, one_line

from relman_tui import cli as cli_module
from relman_tui.errors import BadInput
from relman_tui.service import Service
from relman_tui.settings import Settings
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock

WRITES = [
    ["move", "1", "dev"],
    ["release", "add", "ledger", "1.0"],
    ["approve", "1"],
    ["schedule", "1", "dev", "+1h", "--for", "1h"],
    ["freeze", "add", "all", "--start", "+1h", "--end", "+2h", "--reason", "x"],
    ["env", "add", "qa"],
]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def one_release(board: Run) -> Run:
    board.ok("release", "add", "payments-api", "2.4.1", actor="bob")
    return board


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


# --- read-only files ---------------------------------------------------------------------------------------


@pytest.fixture
def not_writable(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """SIMULATED: the tests run as root, who may write any file; os.access says 'not writable' instead."""

    def make(path: Path) -> None:
        real = os.access

        def access(target: Any, how: int, *args: Any, **kwargs: Any) -> bool:
            if Path(target) == path and how & os.W_OK:
                return False
            return real(target, how, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)

    return make


def test_cli_writes_to_a_file_it_may_not_write_exit_2_and_reads_still_work(
    one_release: Run, not_writable: Callable[[Path], None]
) -> None:
    not_writable(one_release.path)
    before = one_release.dump()
    for args in WRITES:
        result = one_release(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert one_line(result.stderr) == f"relman: error: {one_release.db} is open read-only; nothing can be changed"
        assert result.stdout == ""
    assert one_release.dump() == before
    assert one_release.json("release", "list")[0]["name"] == "payments-api"


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """REAL, even for root: `chattr +i` makes the kernel refuse every write (skipped where unsupported)."""
    marked: list[Path] = []

    def make(path: Path) -> None:
        if os.geteuid() != 0 or shutil.which("chattr") is None:
            pytest.skip("needs root and chattr")
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if done.returncode:
            pytest.skip(f"the file system does not support chattr +i: {done.stderr.decode().strip()}")
        marked.append(path)

    yield make
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_truly_unwritable_file_is_opened_read_only_and_never_changed(
    one_release: Run, immutable: Callable[[Path], None]
) -> None:
    immutable(one_release.path)
    assert not os.access(one_release.path, os.W_OK)
    before = one_release.path.read_bytes()
    for args in WRITES:
        result = one_release(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "read-only" in one_line(result.stderr)
    assert one_release.json("release", "list")[0]["name"] == "payments-api"
    assert one_release.path.read_bytes() == before
    store = Store.open(one_release.path)
    try:
        assert store.read_only
    finally:
        store.close()


def test_relman_tui_on_an_unwritable_file_opens_the_board_read_only(
    one_release: Run, not_writable: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`relman tui` without --read-only still hands the app read_only=True when the file says so."""
    not_writable(one_release.path)
    seen: dict[str, Any] = {}

    def fake_run_app(
        service: Service, settings: Settings, tz: str, *, read_only: bool, mouse: bool, ascii_only: bool = False
    ) -> None:
        seen["read_only"] = read_only
        seen["store"] = service.store.read_only

    import relman_tui.tui.app as app_module

    monkeypatch.setattr(app_module, "run_app", fake_run_app)
    one_release.ok("tui")
    assert seen == {"read_only": True, "store": True}
    assert cli_module  # the command under test


async def test_the_board_on_an_unwritable_file_shows_a_read_only_banner_and_writes_nothing(
    one_release: Run, not_writable: Callable[[Path], None]
) -> None:
    from tui.conftest import loaded, screen_text, settle, until

    from relman_tui.tui.app import RelmanApp
    from relman_tui.tui.screens.board import BoardScreen

    not_writable(one_release.path)
    store = Store.open(one_release.path)  # no read_only asked for: the file decides
    assert store.read_only
    app = RelmanApp(
        Service(store, FixedClock(NOW), "alice"), Settings(), "UTC", read_only=store.read_only, poll_interval=0.05
    )
    before = one_release.dump()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        assert "READ-ONLY" in screen_text(app).splitlines()[0]
        for key in (">", "v", "a", "x", "n"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, BoardScreen), key
        await until(pilot, settle(app))
    store.close()
    assert one_release.dump() == before


# --- where the file lives ----------------------------------------------------------------------------------


def test_missing_directories_are_created_private_all_the_way_down(run: Run, tmp_path: Path) -> None:
    base = tmp_path / "srv"
    base.mkdir(mode=0o755)
    db = base / "a" / "b" / "c" / "relman.db"
    old = os.umask(0o022)  # a usual umask: without care, parents would come out 0755
    try:
        run.ok("init", db=db)
        run.ok("release", "add", "x", "1.0", db=db)  # and the WAL files exist
    finally:
        os.umask(old)
    assert mode(base) == 0o755  # what was there is left alone
    for directory in (base / "a", base / "a" / "b", base / "a" / "b" / "c"):
        assert mode(directory) == 0o700, directory
    for name in ("relman.db", "relman.db-wal", "relman.db-shm"):
        if (db.parent / name).exists():
            assert mode(db.parent / name) == 0o600, name


def test_the_default_location_is_created_private_too(run: Run) -> None:
    old = os.umask(0o002)
    try:
        result = run.raw("--as", "alice", "init")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    db = run.home / "data" / "relman" / "relman.db"
    assert db.exists()
    assert mode(run.home / "data") == 0o700 and mode(db.parent) == 0o700 and mode(db) == 0o600


def test_a_directory_that_cannot_be_made_is_bad_input(run: Run, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    result = run("init", db=tmp_path / "blocker" / "sub" / "relman.db")
    assert result.exit_code == 2
    assert one_line(result.stderr).startswith("relman: error: cannot create")


def test_a_shared_board_keeps_the_groups_permissions(run: Run, tmp_path: Path) -> None:
    """The README's jump-host recipe: a setgid group directory and umask 007 give the group rw, others nothing."""
    shared = tmp_path / "srv" / "relman"
    shared.mkdir(parents=True)
    os.chmod(shared, 0o2770)
    old = os.umask(0o007)
    try:
        db = shared / "relman.db"
        run.ok("init", db=db)
        run.ok("release", "add", "x", "1.0", db=db)
    finally:
        os.umask(old)
    # the file is made private (0600) whatever the umask: the team widens it once, on purpose
    assert mode(db) == 0o600
    os.chmod(db, 0o660)
    run.ok("release", "add", "y", "1.0", db=db)
    for name in ("relman.db", "relman.db-wal", "relman.db-shm"):
        if (shared / name).exists():
            assert mode(shared / name) & 0o007 == 0, name
    assert mode(shared) == 0o2770


# --- foreign and newer files -------------------------------------------------------------------------------


def test_a_file_from_a_newer_relman_is_refused_by_every_command_and_left_untouched(
    one_release: Run, tmp_path: Path
) -> None:
    conn = sqlite3.connect(one_release.db)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('relman', 'm100_x', 'x')")
    conn.commit()
    conn.close()
    board_file = tmp_path / "elsewhere" / "board.toml"
    board_file.parent.mkdir()
    before = files_of(one_release.path.parent)
    board_file.write_text("[[environments]]\nname = 'dev'\n")
    for args in (["release", "list"], ["log"], ["init"], ["demo", "--no-tui"], ["import", str(board_file)], *WRITES):
        result = one_release(*args)
        assert result.exit_code == 2, args
        line = one_line(result.stderr)
        assert "newer relman" in line or "already exists" in line or "not a demo" in line, line
    assert files_of(one_release.path.parent) == before


def test_an_empty_database_path_that_is_a_directory_is_bad_usage(run: Run, tmp_path: Path) -> None:
    result = run("release", "list", db=tmp_path)
    assert result.exit_code == 2
    assert "is a directory" in one_line(result.stderr)


def test_store_open_on_a_copy_of_a_wal_database_keeps_the_changes(run: Run, initialised: Path, tmp_path: Path) -> None:
    """A copy taken with its -wal (as backups do) opens with everything in it."""
    copy_database(initialised, tmp_path / "copy.db")
    store = Store.open(tmp_path / "copy.db")
    try:
        assert [e.name for e in store.environments()][:2] == ["dev", "test"]
        assert store.integrity_check() == "ok"
    finally:
        store.close()
    with pytest.raises(BadInput, match="no relman database"):
        Store.open(tmp_path / "missing.db")
