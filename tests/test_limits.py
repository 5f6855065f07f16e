"""No input takes the board down (issue 10): limits checked before anything is written, bad bytes and bad
files answered in one line, and a database file that is read-only, replaced or deleted handled with care."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path

import pytest
from conftest import NOW, Run, bad, new_store

from relman_tui.errors import BadInput
from relman_tui.service import Service
from relman_tui.store import WAL_SIZE_LIMIT, Store
from relman_tui.timeutil import FixedClock

# --- times, lengths and counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("now", ["0001-01-01T00:00Z", "1999-12-31T23:59Z", "2100-01-01T00:00Z", "9999-12-31T23:59Z"])
def test_an_out_of_range_now_commits_nothing(board: Run, now: str) -> None:
    before = board.dump()
    line = bad(board.raw("--db", str(board.db), "release", "add", "a", "1", env={"RELMAN_NOW": now}))
    assert "$RELMAN_NOW" in line and "out of range" in line
    assert board.dump() == before  # and everything still reads back


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schedule", "1", "dev", "8999-01-01T00:00", "--for", "1h"], "out of range"),
        (["schedule", "1", "dev", "1969-06-01 00:00", "--for", "1h"], "out of range"),
        (["schedule", "1", "dev", "0001-01-01", "--for", "1h"], "out of range"),
        (["schedule", "1", "dev", "2099-12-31T23:00", "--for", "2h"], "out of range"),
        (["schedule", "1", "dev", "now", "--for", "91d"], "at most 90 days"),
        (["schedule", "1", "dev", "now", "now+90d1m"], "at most 90 days"),
        (["freeze", "add", "prod", "--cron", "0 0 1 1 *", "--for", "999999w", "--reason", "x"], "at most 366 days"),
        (["freeze", "add", "prod", "--cron", "* * * * *", "--for", "367d", "--reason", "x"], "at most 366 days"),
        (["freeze", "add", "prod", "--start", "now", "--end", "now+400d", "--reason", "x"], "at most 366 days"),
        (
            ["freeze", "add", "prod", "--start", "2099-12-01T00:00", "--end", "2100-01-02T00:00", "--reason", "x"],
            "out of range",
        ),
        (["env", "add", "qa", "--capacity", "99999999999999999999"], "is too large"),
        (["env", "add", "qa", "--capacity", "1001"], "from 1 to 1000"),
    ],
)
def test_limits_are_checked_before_anything_is_written(board: Run, args: list[str], message: str) -> None:
    board.ok("release", "add", "payments-api", "2.4.1")
    before = board.dump()
    assert message in bad(board(*args))
    assert board.dump() == before


def test_the_edges_of_the_limits_are_allowed(board: Run) -> None:
    board.ok("release", "add", "payments-api", "2.4.1")
    board.ok("schedule", "1", "dev", "2099-12-31T21:00", "--for", "2h")  # ends before 2100
    board.ok("schedule", "1", "test", "now", "--for", "90d")
    board.ok("freeze", "add", "prod", "--cron", "0 0 1 1 *", "--for", "366d", "--reason", "x")
    board.ok("env", "add", "qa", "--capacity", "1000")


def test_at_most_fifty_environments(board: Run) -> None:
    for i in range(45):
        board.ok("env", "add", f"env{i:02d}")
    before = board.dump()
    assert "at most 50 are allowed" in bad(board("env", "add", "one-too-many"))
    assert board.dump() == before


# --- board files --------------------------------------------------------------------------------------------------


def envs(count: int) -> str:
    return "".join(f'[[environments]]\nname = "e{i}"\n' for i in range(count))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (envs(51), "key 'environments': has 51 environments; at most 50 are allowed"),
        (
            envs(2)
            + "".join(
                '[[freezes]]\nenvironments = ["all"]\nreason = "x"\n'
                "start = 2027-01-01T00:00:00Z\nend = 2027-01-02T00:00:00Z\n"
                for _ in range(10_001)
            ),
            "key 'freezes': has 10001 freezes; at most 10000 are allowed",
        ),
        ("relman_board = true\n" + envs(1), "key 'relman_board': format True is not supported"),
        (
            '[[environments]]\nname = "dev"\ncapacity = 99999999999999999999\n',
            "key 'environments[0].capacity': must be a whole number from 1 to 1000",
        ),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ('[access]\ndelegates = ["\u0430lice"]\n' + envs(1), "key 'access.delegates'"),
        (
            envs(1) + '[[freezes]]\nenvironments = ["all"]\nreason = "x"\ncron = "* * * * *"\nduration = "400d"\n',
            "at most 366 days",
        ),
    ],
)
def test_bad_board_files_are_refused_with_the_key_named(board: Run, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "board.toml"
    path.write_text(text)
    before = board.dump()
    line = bad(board("import", str(path)))
    assert message in line, line
    assert board.dump() == before


def test_a_board_file_past_ten_megabytes_is_refused_unread(board: Run, tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(envs(1) + "# " + "x" * (10 * 1024 * 1024) + "\n")
    assert "larger than 10 MB" in bad(board("import", str(path)))


def test_a_full_disk_during_import_changes_nothing(store: Store, clock: FixedClock, tmp_path: Path) -> None:
    from relman_tui.boardfile import import_board

    service = Service(store, clock, "alice")
    path = tmp_path / "board.toml"
    path.write_text(
        envs(2)
        + "".join(
            f'[[freezes]]\nenvironments = ["all"]\nreason = "{"r" * 9000} {i}"\n'
            "start = 2027-01-01T00:00:00Z\nend = 2027-01-02T00:00:00Z\n"
            for i in range(300)
        )
    )
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages + 20}")  # the disk fills up part-way
    before = (service.environments(), service.freezes(), service.events())
    with pytest.raises(BadInput, match="disk is full or failing; nothing was changed"):
        import_board(service, path)
    assert (service.environments(), service.freezes(), service.events()) == before
    service.add_release("still-works", "1.0")


# --- bad bytes ------------------------------------------------------------------------------------------------------


def test_arguments_that_are_not_utf8_are_refused_not_stored(tmp_path: Path) -> None:
    db = tmp_path / "relman.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELMAN_")}
    env |= {
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_DATA_HOME": str(tmp_path / "d"),
        "RELMAN_TZ": "UTC",
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "LC_ALL": "C.UTF-8",
    }

    def relman(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "relman_tui", "--db", str(db), *args], capture_output=True, env=env, timeout=60
        )

    assert relman("init").returncode == 0
    assert relman("release", "add", "ok", "1.0").returncode == 0
    for args in (
        [b"release", b"add", b"caf\xc3", b"1.0"],
        [b"release", b"add", b"x", b"1.0", b"--notes", b"\xff\xfe"],
        [b"release", b"add", b"x", b"1.0", b"--owner", b"b\xffb"],
        [b"freeze", b"add", b"prod", b"--start", b"now", b"--end", b"+1h", b"--reason", b"\xc3("],
        [b"schedule", b"1", b"dev", b"\xff", b"--for", b"1h"],
        [b"--tz", b"Europe/\xff", b"release", b"list"],
        [b"move", b"1", b"d\xffv"],
    ):
        done = relman(*args)
        assert done.returncode == 2, (args, done.stderr)
        err = done.stderr.decode("utf-8")  # what reaches the terminal is valid UTF-8 ...
        assert err.count("\n") == 1 and err.startswith("relman: error: "), (args, err)
        assert "internal error" not in err and "Traceback" not in err
    listed = relman("release", "list", "--json").stdout.decode("utf-8")
    assert '"name": "ok"' in listed and "\\udc" not in listed  # ... and nothing undecodable was stored


# --- the database file ---------------------------------------------------------------------------------------------


def test_a_device_is_not_a_database(run: Run) -> None:
    existed = os.path.exists("/dev/null-journal")
    assert "not a regular file" in bad(run("init", db=Path("/dev/null")))
    assert "not a regular file" in bad(run("release", "list", db=Path("/dev/null")))
    assert os.path.exists("/dev/null-journal") == existed


def test_a_deleted_file_is_noticed_and_not_written_to(db_path: Path, clock: FixedClock) -> None:
    store = new_store(db_path)
    service = Service(store, clock, "alice")
    service.add_release("ledger", "1.0")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    assert store.file_problem() == f"{db_path} was deleted after relman opened it"
    with pytest.raises(BadInput, match="was deleted after relman opened it; nothing was written"):
        service.add_release("lost", "1.0")
    store.close()


def test_a_replaced_file_is_noticed_and_not_written_to(db_path: Path, tmp_path: Path, clock: FixedClock) -> None:
    store = new_store(db_path)
    service = Service(store, clock, "alice")
    other = new_store(tmp_path / "other.db")
    other.close()
    os.replace(tmp_path / "other.db", db_path)
    assert store.file_problem() == f"{db_path} was replaced by another file after relman opened it"
    with pytest.raises(BadInput, match="replaced by another file"):
        service.add_release("lost", "1.0")
    store.close()
    reopened = Store.open(db_path)
    assert reopened.releases() == [] and reopened.file_problem() is None
    reopened.close()


@pytest.fixture
def frozen_dir(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """`chattr +i` on a directory: nobody, not even root, may create a file in it."""
    import shutil

    marked: list[Path] = []

    def make(path: Path) -> None:
        if os.geteuid() != 0 or shutil.which("chattr") is None:
            pytest.skip("needs root and chattr")
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("the file system does not support chattr +i")
        marked.append(path)

    yield make
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_board_in_a_read_only_directory_can_be_read(
    run: Run, tmp_path: Path, frozen_dir: Callable[[Path], None]
) -> None:
    folder = tmp_path / "boards"
    folder.mkdir()
    db = folder / "relman.db"
    run.ok("init", db=db)
    run.ok("release", "add", "ledger", "1.0", db=db)
    assert sorted(p.name for p in folder.iterdir()) == ["relman.db"]  # the writer closed: no -wal, -shm
    frozen_dir(folder)
    items = run.json("release", "list", db=db)
    assert [r["name"] for r in items] == ["ledger"]
    assert "read-only" in bad(run("release", "add", "x", "1", db=db))
    assert sorted(p.name for p in folder.iterdir()) == ["relman.db"]


def test_a_read_only_reader_never_creates_the_wal_files_and_still_sees_changes(
    db_path: Path, clock: FixedClock
) -> None:
    writer = new_store(db_path)
    writer.close()
    assert not Path(f"{db_path}-shm").exists()
    reader = Store.open(db_path, read_only=True)
    reader_service = Service(reader, clock, "wallboard")
    assert reader_service.snapshot().releases == ()
    first = reader.data_version()
    assert not Path(f"{db_path}-shm").exists() and not Path(f"{db_path}-wal").exists()

    writer = Store.open(db_path)  # an operator opens the board and writes
    Service(writer, clock, "alice").add_release("ledger", "1.0")
    second = reader.data_version()
    assert second != first
    assert [r.name for r in reader_service.snapshot().releases] == ["ledger"]
    Service(writer, clock, "alice").add_release("auth", "2.0")
    assert reader.data_version() != second
    assert [r.name for r in reader_service.snapshot().releases] == ["ledger", "auth"]
    writer.close()

    third = reader.data_version()
    assert [r.name for r in reader_service.snapshot().releases] == ["ledger", "auth"]
    assert reader.data_version() == third  # nothing changed, nothing to draw
    reader.close()
    writer = Store.open(db_path)  # whatever the reader left, the owner goes on writing
    Service(writer, clock, "alice").add_release("later", "1.0")
    writer.close()
    assert sorted(p.name for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)) == [db_path.name]


def test_the_wal_is_cut_back_after_a_long_reader_lets_go(db_path: Path, clock: FixedClock) -> None:
    store = new_store(db_path)
    service = Service(store, clock, "alice")
    assert store._conn.execute("PRAGMA journal_size_limit").fetchone()[0] == WAL_SIZE_LIMIT
    reader = sqlite3.connect(db_path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM events").fetchone()  # a long read transaction pins the WAL
    notes = "n" * 8000
    for i in range(700):
        service.add_release(f"svc-{i}", "1.0", notes=notes)
    wal = Path(f"{db_path}-wal")
    assert wal.stat().st_size > WAL_SIZE_LIMIT  # it grew behind the reader ...
    reader.execute("ROLLBACK")
    reader.close()
    service.add_release("after", "1.0")
    store._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    service.add_release("after-checkpoint", "1.0")  # the next write after a full checkpoint resets the WAL
    assert wal.stat().st_size <= WAL_SIZE_LIMIT  # ... and is cut back once it let go
    store.close()


def test_paths_are_printed_inert(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "evil\x1b]0;pwned\x07.db"
    out = run.ok("init", db=db).stdout
    assert "\x1b" not in out and "\\x1b]0;pwned\\x07" in out
    export = tmp_path / "b\x1b[2J.toml"
    assert "\x1b" not in run.ok("export", str(export), db=db).stdout
    assert "\x1b" not in run.ok("import", str(export), db=db).stdout
    demo = run.ok("demo", "--no-tui", db=tmp_path / "demo\x1b[2J\u202e.db")
    assert "\x1b" not in demo.stderr and "\u202e" not in demo.stderr and "\\x1b[2J\\u202e" in demo.stderr


def test_store_clock_checks_now(store: Store) -> None:
    from datetime import datetime

    service = Service(store, FixedClock(datetime(1999, 12, 31, tzinfo=UTC)), "alice")
    with pytest.raises(BadInput, match="now 1999-12-31 00:00 UTC is out of range"):
        service.add_release("x", "1")
    assert store.releases() == [] and store.events() == []
    assert Service(store, FixedClock(NOW), "alice").add_release("y", "1").name == "y"


def test_an_export_or_a_calendar_never_writes_over_a_database(board: Run, tmp_path: Path) -> None:
    """Not in the issue; a tired operator's slip: `relman --db b.db export b.db` replaced the board, history
    and all, with a page of TOML (and `calendar b.db` with an empty calendar). Now every file relman writes
    for a person is refused over the board's own files and over any other database, saying so."""
    board.ok("release", "add", "ledger", "1.0")
    db = board.path
    other_board = tmp_path / "other.db"
    board.ok("init", db=other_board)
    link = tmp_path / "link.toml"
    link.symlink_to(db)
    before, other_before = db.read_bytes(), other_board.read_bytes()
    state = board.dump()
    for args, words in (
        (["export", str(db)], "this board's own database file; an export would destroy it"),
        (["export", str(link)], "this board's own database file"),
        (["export", f"{db}-wal"], "this board's own database file"),
        (["calendar", str(db)], "this board's own database file; the calendar would destroy it"),
        (["export", str(other_board)], "is a database file; an export does not write over it"),
        (["calendar", str(other_board)], "is a database file; the calendar does not write over it"),
    ):
        assert words in bad(board(*args)), args
    assert bad(board.raw("--config", str(other_board), "config", "init", "--force")).endswith(
        "is a database file; config init does not write over it. Give another file name"
    )
    assert (db.read_bytes(), other_board.read_bytes()) == (before, other_before)
    assert board.dump() == state
    board.ok("export", str(tmp_path / "board.toml"))  # a file of its own is written as ever
