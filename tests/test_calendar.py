"""`relman calendar`: windows and freezes as an RFC 5545 file a standard parser reads, with stable UIDs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from conftest import WEEKEND_FREEZE, Run, one_line


def read(path: Path) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    events = {str(e["uid"]): e for e in cal.events}
    assert len(events) == len(cal.events)  # UIDs are unique
    return events


def utc(event: icalendar.Event, key: str) -> datetime:
    value = event.decoded(key)
    assert isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() == timedelta(0)  # in UTC
    return value


def test_windows_become_events_with_stable_uids_and_update_in_place(board: Run, tmp_path: Path) -> None:
    rid = int(board.ok("release", "add", "payments-api", "2.4.1", "--risk", "high", actor="bob").stdout)
    other = int(board.ok("release", "add", "ledger", "1.0").stdout)
    board.ok("schedule", str(rid), "dev", "2026-12-02T10:00", "--for", "2h")
    board.ok("schedule", str(rid), "test", "2026-12-03T10:00", "--for", "2h")
    board.ok("schedule", str(other), "dev", "2026-11-30T10:00", "--for", "2h")  # ended before now: left out
    path = tmp_path / "releases.ics"
    assert board.ok("calendar", str(path)).stdout == f"wrote 2 events to {path}\n"
    first = read(path)
    (dev_uid,) = [u for u in first if u.startswith(f"window-{rid}-dev-")]
    dev = first[dev_uid]
    assert str(dev["summary"]) == "payments-api 2.4.1 → dev"
    assert (utc(dev, "dtstart"), utc(dev, "dtend")) == (
        datetime(2026, 12, 2, 10, tzinfo=UTC),
        datetime(2026, 12, 2, 12, tzinfo=UTC),
    )
    description = str(dev["description"])
    assert "Owner: bob" in description and "Risk: high" in description and "Stands in: planned (pending)" in description

    board.ok("schedule", str(rid), "dev", "2026-12-04T08:00", "--for", "1h")  # moved: same UID, updated
    board.ok("unschedule", str(rid), "test")  # removed: gone from the next export
    board.ok("calendar", str(path))
    second = read(path)
    assert list(second) == [dev_uid]
    assert utc(second[dev_uid], "dtstart") == datetime(2026, 12, 4, 8, tzinfo=UTC)
    assert int(second[dev_uid].decoded("sequence")) > int(dev.decoded("sequence"))
    board.ok("cancel", str(rid))
    board.ok("calendar", str(path))
    assert read(path) == {}


def test_conflicts_are_in_the_description(board: Run, tmp_path: Path) -> None:
    a = int(board.ok("release", "add", "a", "1").stdout)
    b = int(board.ok("release", "add", "b", "1").stdout)
    for rid in (a, b):
        board.ok("schedule", str(rid), "prod", "2026-12-02T10:00", "--for", "2h")
    path = tmp_path / "c.ics"
    board.ok("calendar", str(path))
    event = next(e for u, e in read(path).items() if u.startswith(f"window-{a}-prod-"))
    assert "ERROR capacity: prod holds 2 windows at once" in str(event["description"])
    assert str(event["status"]) == "TENTATIVE"


def test_recurring_freezes_are_expanded_in_their_zone_across_a_dst_change(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    env = {"RELMAN_NOW": "2026-10-14T12:00:00Z"}
    run.raw("--db", str(db), "init", env=env)
    assert (
        run.raw(
            "--db",
            str(db),
            *WEEKEND_FREEZE,
            env=env,
        ).exit_code
        == 0
    )
    path = tmp_path / "f.ics"
    assert run.raw("--db", str(db), "calendar", str(path), "--days", "21", env=env).exit_code == 0
    events = sorted(read(path).values(), key=lambda e: utc(e, "dtstart"))
    starts = [utc(e, "dtstart") for e in events]
    assert starts == [
        datetime(2026, 10, 16, 16, tzinfo=UTC),
        datetime(2026, 10, 23, 16, tzinfo=UTC),
        datetime(2026, 10, 30, 17, tzinfo=UTC),
    ]  # 18:00 CEST, 18:00 CEST, 18:00 CET
    assert all((utc(e, "dtend") - utc(e, "dtstart")).total_seconds() == 62 * 3600 for e in events)
    assert all(str(e["summary"]) == "❄ prod frozen: weekend" for e in events)
    uids = set(read(path))
    assert run.raw("--db", str(db), "calendar", str(path), "--days", "21", env=env).exit_code == 0
    assert set(read(path)) == uids  # stable across exports


def test_environment_filter_days_and_bad_input(board: Run, tmp_path: Path) -> None:
    rid = int(board.ok("release", "add", "a", "1").stdout)
    board.ok("schedule", str(rid), "dev", "2026-12-02T10:00", "--for", "2h")
    board.ok("schedule", str(rid), "test", "2026-12-03T10:00", "--for", "2h")
    board.ok("freeze", "add", "prod", "--start", "2026-12-24T00:00", "--end", "2026-12-27T00:00", "--reason", "x")
    path = tmp_path / "c.ics"
    board.ok("calendar", str(path), "--environment", "test")
    assert [str(e["summary"]) for e in read(path).values()] == ["a 1 → test"]
    board.ok("calendar", str(path), "--days", "10")
    assert len(read(path)) == 2  # the freeze is 23 days away
    board.ok("calendar", str(path), "--days", "30")
    assert len(read(path)) == 3
    before = path.read_bytes()
    for args, message in (
        (["--environment", "qa"], "unknown environment 'qa'"),
        (["--days", "0"], "--days"),
    ):
        result = board("calendar", str(path), *args)
        assert result.exit_code == 2 and message in one_line(result.stderr)
    assert path.read_bytes() == before


def test_the_file_is_replaced_by_rename_never_written_in_place(board: Run, tmp_path: Path) -> None:
    path = tmp_path / "c.ics"
    board.ok("calendar", str(path))
    inode = path.stat().st_ino
    path.chmod(0o640)
    board.ok("calendar", str(path))
    assert path.stat().st_ino != inode  # a new file moved into place
    assert path.stat().st_mode & 0o777 == 0o640  # keeping the mode it had
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".c.ics")) == []


@pytest.mark.parametrize("name", ["evil\x1b]0;x\x07", "[bold]markup[/bold]"])
def test_hostile_names_stay_text(board: Run, tmp_path: Path, name: str) -> None:
    result = board("release", "add", name, "1")
    if result.exit_code:  # control characters are refused at input ...
        assert result.exit_code == 2
        return
    board.ok("schedule", "1", "dev", "2026-12-02T10:00", "--for", "1h")
    path = tmp_path / "c.ics"
    board.ok("calendar", str(path))
    assert str(next(iter(read(path).values()))["summary"]) == f"{name} 1 → dev"  # ... markup is just text


def test_a_minute_freeze_is_one_event_not_thousands(board: Run, tmp_path: Path) -> None:
    board.ok("freeze", "add", "prod", "--cron", "* * * * *", "--for", "1m", "--reason", "hold everything")
    path = tmp_path / "c.ics"
    assert board.ok("calendar", str(path), "--days", "60").stdout.startswith("wrote 1 events")
    (event,) = read(path).values()
    assert utc(event, "dtstart") <= datetime(2026, 12, 1, 10, tzinfo=UTC) < utc(event, "dtend")


def test_a_never_ending_freeze_keeps_its_uid_from_one_export_to_the_next(board: Run, tmp_path: Path) -> None:
    """Repro 10: the UID of a cover that never ends was built from a start clamped to *now*: a new
    UID every export (khal showed duplicates)."""
    board.ok("freeze", "add", "prod", "--cron", "* * * * *", "--for", "1m", "--reason", "hold everything")
    path = tmp_path / "c.ics"
    board.ok("calendar", str(path))
    first = set(read(path))
    later = board.raw("--db", str(board.db), "calendar", str(path), env={"RELMAN_NOW": "2026-12-09T17:31:07Z"})
    assert later.exit_code == 0, later.stderr
    assert set(read(path)) == first and len(first) == 1


def test_a_symlinked_calendar_stays_a_symlink_and_its_target_is_replaced(board: Run, tmp_path: Path) -> None:
    """Repro 10: `calendar LINK.ics` replaced the symlink itself with a file."""
    published = tmp_path / "www"
    published.mkdir()
    target = published / "releases.ics"
    target.write_text("old")
    link = tmp_path / "LINK.ics"
    link.symlink_to(target)
    board.ok("calendar", str(link))
    assert link.is_symlink() and link.resolve() == target
    assert target.read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert sorted(p.name for p in published.iterdir()) == ["releases.ics"]  # no temporary file left


def _special(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    return path


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
@pytest.mark.parametrize("command", ["calendar", "export", "config"])
def test_a_path_that_is_not_a_regular_file_is_refused_and_never_blocks(
    board: Run, tmp_path: Path, kind: str, command: str
) -> None:
    """Repro 10: `calendar FIFO` (and `export FIFO`) blocked for ever; as root, `calendar /dev/null`
    replaced the device with a regular file."""
    path = _special(tmp_path, kind)
    link = tmp_path / "link"
    link.symlink_to(path)  # through a symlink too
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELMAN_")} | {
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_STATE_HOME": str(tmp_path / "s"),
    }
    args = ["--config", str(link), "config", "init", "--force"] if command == "config" else [command, str(link)]
    before = os.lstat(path)
    done = subprocess.run(
        [sys.executable, "-m", "relman_tui", "--db", str(board.db), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,  # a safety net: the old code blocked here for ever on a FIFO
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    if kind != "directory":  # click itself turns a directory away ("is a directory")
        assert "writes only a regular file" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    after = os.lstat(path)
    assert (after.st_ino, stat.S_IFMT(after.st_mode)) == (before.st_ino, stat.S_IFMT(before.st_mode))
