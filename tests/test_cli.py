"""Every command of the DESIGN.md command line through click's CliRunner: output, exit status, what was stored."""

from __future__ import annotations

import json
import random
import sqlite3
import stat
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW, WEEKEND_FREEZE, Run, copy_database, one_line, without_records

from relman_tui import settings as user_settings
from relman_tui.model import State
from relman_tui.service import Service

HOUR = timedelta(hours=1)
PIPELINE_JSON = [
    {"name": "dev", "title": "Development", "position": 1, "capacity": 1, "requires_approval": False},
    {"name": "test", "title": "Test", "position": 2, "capacity": 1, "requires_approval": False},
    {"name": "staging", "title": "Staging", "position": 3, "capacity": 2, "requires_approval": False},
    {"name": "preprod", "title": "Pre-production", "position": 4, "capacity": 1, "requires_approval": False},
    {"name": "prod", "title": "Production", "position": 5, "capacity": 1, "requires_approval": True},
]
RELEASE_KEYS = [
    "id",
    "name",
    "version",
    "stage",
    "state",
    "components",
    "owner",
    "risk",
    "approved_by",
    "unapproved",
    "rev",
    "changed_at",
    "windows",
]
EVENT_KEYS = ["seq", "at", "actor", "via", "release", "action", "from", "to", "forced", "reason", "details", "hash"]


@pytest.fixture
def stored(board: Run, open_service: Callable[..., Service]) -> Callable[[], Service]:
    """A Service on the CLI's database file, on a connection of its own, to check what was written."""
    return lambda: open_service("checker", path=board.db)


def add(run: Run, *args: str, actor: str = "alice") -> int:
    out = run.ok("release", "add", *args, actor=actor).stdout
    return int(out)


def refused(result_code: int, stderr: str) -> str:
    assert result_code == 1, stderr
    line = one_line(stderr)
    assert line.startswith("relman: refused: ")
    return line


def bad(result_code: int, stderr: str) -> str:
    assert result_code == 2, stderr
    line = one_line(stderr)
    assert line.startswith("relman: error: ")
    return line


# --- init and environments ----------------------------------------------------------------------------


def test_init_creates_a_private_database_with_the_default_pipeline(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "team" / "relman.db"
    result = run.ok("init", db=db)
    assert result.stdout == f"created {db} with environments dev, test, staging, preprod, prod\n"
    assert stat.S_IMODE(db.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert run.json("env", "list", db=db) == PIPELINE_JSON


def test_init_refuses_an_existing_file(board: Run) -> None:
    before = board.path.read_bytes()
    result = board("init")
    assert "already exists" in bad(result.exit_code, result.stderr)
    assert board.path.read_bytes() == before


def test_env_list(board: Run) -> None:
    assert board.json("env", "list") == PIPELINE_JSON
    lines = board.ok("env", "list").stdout.splitlines()
    assert lines[0].split() == ["POS", "NAME", "TITLE", "CAPACITY", "APPROVAL"]
    assert lines[3].split() == ["3", "staging", "Staging", "2", "-"]
    assert lines[5].split() == ["5", "prod", "Production", "1", "yes"]


def test_env_add(board: Run, stored: Callable[[], Service]) -> None:
    result = board.ok(
        "env", "add", "qa", "--title", "Quality assurance", "--capacity", "3", "--after", "test", "--approval"
    )
    assert result.stdout == "added qa at position 3\n"
    assert board.ok("env", "add", "dr").stdout == "added dr at position 7\n"
    envs = board.json("env", "list")
    assert [(e["name"], e["position"]) for e in envs] == [
        ("dev", 1),
        ("test", 2),
        ("qa", 3),
        ("staging", 4),
        ("preprod", 5),
        ("prod", 6),
        ("dr", 7),
    ]
    assert envs[2] == {
        "name": "qa",
        "title": "Quality assurance",
        "position": 3,
        "capacity": 3,
        "requires_approval": True,
    }
    assert envs[6] == {"name": "dr", "title": "Dr", "position": 7, "capacity": 1, "requires_approval": False}
    assert stored().stages() == ["planned", "dev", "test", "qa", "staging", "preprod", "prod", "dr"]
    assert stored().events()[-1].action == "env_added"


# --- releases ---------------------------------------------------------------------------------------


def test_release_add_prints_the_id_alone(board: Run, stored: Callable[[], Service]) -> None:
    assert board.ok("release", "add", "payments-api", "2.4.1").stdout == "1\n"
    result = board.ok(
        "release",
        "add",
        "ledger",
        "1.9.3",
        "--component",
        "ledger",
        "--component",
        "payments-db",
        "--owner",
        "carol",
        "--risk",
        "high",
        "--notes",
        "Shares payments-db.",
        actor="bob",
    )
    assert result.stdout == "2\n"
    first, second = stored().releases()
    assert (first.name, first.version, first.components, first.owner, first.risk, first.stage, first.state) == (
        "payments-api",
        "2.4.1",
        ("payments-api",),
        "alice",
        "low",
        "planned",
        State.PENDING,
    )
    assert (second.components, second.owner, second.risk, second.notes) == (
        ("ledger", "payments-db"),
        "carol",
        "high",
        "Shares payments-db.",
    )
    created = stored().events(2)[0]
    assert (created.action, created.actor, created.to) == ("created", "bob", "planned")


def test_release_list(board: Run) -> None:
    one = add(board, "payments-api", "2.4.1")
    two = add(board, "ledger", "1.9.3", "--component", "ledger", "--component", "payments-db")
    board.ok("move", str(one), "dev")
    board.ok("schedule", str(one), "test", "2026-12-02T10:00", "2026-12-02T12:00")

    items = board.json("release", "list")
    assert [list(item) for item in items] == [RELEASE_KEYS, RELEASE_KEYS]
    assert items[0] == {
        "id": one,
        "name": "payments-api",
        "version": "2.4.1",
        "stage": "dev",
        "state": "deployed",
        "components": ["payments-api"],
        "owner": "alice",
        "risk": "low",
        "approved_by": None,
        "unapproved": False,
        "rev": 3,
        "changed_at": None,
        "windows": {"test": {"start": "2026-12-02T10:00:00Z", "end": "2026-12-02T12:00:00Z", "done": False}},
    }
    assert items[1]["components"] == ["ledger", "payments-db"]
    assert items[1]["windows"] == {}

    assert [item["id"] for item in board.json("release", "list", "--stage", "dev")] == [one]
    assert [item["id"] for item in board.json("release", "list", "--stage", "planned")] == [two]
    assert board.json("release", "list", "--stage", "prod") == []

    lines = board.ok("release", "list").stdout.splitlines()
    assert lines[0].split() == [
        "ID",
        "NAME",
        "VERSION",
        "STAGE",
        "STATE",
        "RISK",
        "OWNER",
        "APPROVED",
        "NEXT",
        "WINDOW",
    ]
    assert lines[1].split() == [
        "1",
        "payments-api",
        "2.4.1",
        "dev",
        "deployed",
        "low",
        "alice",
        "-",
        "test",
        "2026-12-02",
        "10:00",
    ]
    assert lines[2].split()[:4] == ["2", "ledger", "1.9.3", "planned"]


def test_release_list_leaves_out_cancelled_releases_unless_asked(board: Run) -> None:
    one = add(board, "payments-api", "2.4.1")
    add(board, "ledger", "1.9.3")
    board.ok("cancel", str(one))
    assert [item["id"] for item in board.json("release", "list")] == [2]
    assert [(item["id"], item["state"]) for item in board.json("release", "list", "--all")] == [
        (1, "cancelled"),
        (2, "pending"),
    ]


def test_release_show(board: Run) -> None:
    rid = add(board, "payments-api", "2.4.1", "--notes", "Adds 3-D Secure.\nNeeds a CAB slot.")
    board.ok("move", str(rid), "dev")
    board.ok("schedule", str(rid), "test", "2026-12-02T10:00", "--for", "2h")

    text = board.ok("release", "show", str(rid)).stdout
    lines = text.splitlines()
    assert "name        payments-api" in lines
    assert "stage       dev" in lines
    assert "state       deployed" in lines
    assert "approved    no" in lines
    assert "rev         3" in lines
    assert "  Adds 3-D Secure." in lines and "  Needs a CAB slot." in lines
    assert "  test       2026-12-02 10:00 UTC → 2026-12-02 12:00 UTC" in lines
    assert lines[lines.index("history") + 1 :] == [
        "  2026-12-01 10:00 UTC  alice  created in planned (owner alice)",
        "  2026-12-01 10:00 UTC  alice  moved planned → dev",
        "  2026-12-01 10:00 UTC  alice  scheduled test 2026-12-02 10:00 → 12:00 UTC",
    ]

    item = board.json("release", "show", str(rid))
    assert list(item) == [*RELEASE_KEYS, "approved_at", "notes", "created_at", "updated_at", "created_by", "history"]
    assert item["notes"] == "Adds 3-D Secure.\nNeeds a CAB slot."
    assert (item["created_at"], item["updated_at"], item["approved_at"]) == (
        "2026-12-01T10:00:00Z",
        "2026-12-01T10:00:00Z",
        None,
    )
    assert [list(e) for e in item["history"]] == [EVENT_KEYS] * 3
    assert [e["action"] for e in item["history"]] == ["created", "moved", "scheduled"]


def test_release_show_in_another_zone(board: Run) -> None:
    rid = add(board, "payments-api", "2.4.1")
    board.ok("schedule", str(rid), "dev", "2026-12-02T10:00Z", "--for", "2h")
    lines = board.ok("release", "show", str(rid), tz="Europe/Berlin").stdout.splitlines()
    assert "  dev        2026-12-02 11:00 CET → 2026-12-02 13:00 CET" in lines


# --- moves and the other release actions --------------------------------------------------------------


def test_move(board: Run, stored: Callable[[], Service]) -> None:
    rid = add(board, "payments-api", "2.4.1")
    assert board.ok("move", str(rid), "dev").stdout == "payments-api 2.4.1 → dev (deployed)\n"
    assert stored().release(rid).stage == "dev"

    result = board("move", str(rid), "staging")
    line = refused(result.exit_code, result.stderr)
    assert "skips test" in line and "not verified" in line and "--force --reason" in line
    assert result.stdout == ""
    assert stored().release(rid).stage == "dev"


def test_forced_move(board: Run, stored: Callable[[], Service]) -> None:
    rid = add(board, "payments-api", "2.4.1")
    result = board("move", str(rid), "staging", "--force")
    assert "needs a reason" in bad(result.exit_code, result.stderr)

    out = board.ok("move", str(rid), "staging", "--force", "--reason", "hotfix for INC-4711").stdout
    assert out == "payments-api 2.4.1 → staging (deployed), forced\n"
    last = stored().events(rid)[-1]
    assert (last.action, last.from_, last.to, last.forced, last.reason) == (
        "moved",
        "planned",
        "staging",
        True,
        "hotfix for INC-4711",
    )
    assert (
        board.ok("log", str(rid))
        .stdout.splitlines()[-1]
        .endswith("#1 payments-api 2.4.1: moved planned → staging (forced) — hotfix for INC-4711")
    )


def test_backwards_move_needs_a_reason(board: Run, stored: Callable[[], Service]) -> None:
    rid = add(board, "payments-api", "2.4.1")
    board.ok("move", str(rid), "dev")
    result = board("move", str(rid), "planned")
    assert "needs a reason" in bad(result.exit_code, result.stderr)
    board.ok("move", str(rid), "planned", "--reason", "wrong build")
    assert stored().events(rid)[-1].action == "rolled_back"


def test_verify_fail_approve(board: Run, stored: Callable[[], Service]) -> None:
    rid = add(board, "payments-api", "2.4.1")
    board.ok("move", str(rid), "dev")
    assert board.ok("fail", str(rid), "--reason", "smoke red").stdout == "payments-api 2.4.1: failed in dev\n"
    assert (stored().release(rid).state, stored().events(rid)[-1].reason) == (State.FAILED, "smoke red")
    assert board.ok("verify", str(rid)).stdout == "payments-api 2.4.1: verified in dev\n"
    assert stored().release(rid).state is State.VERIFIED

    result = board("approve", str(rid))  # alice owns it
    assert "four-eyes" in refused(result.exit_code, result.stderr)
    assert stored().release(rid).approved_by is None
    out = board.ok("approve", str(rid), actor="bob").stdout
    assert out == "payments-api 2.4.1: verified in dev, approved by bob\n"
    assert (stored().release(rid).approved_by, stored().release(rid).approved_at) == ("bob", NOW)


def test_rollback(board: Run, stored: Callable[[], Service]) -> None:
    rid = add(board, "payments-api", "2.4.1")
    board.ok("move", str(rid), "dev")
    board.ok("verify", str(rid))
    board.ok("move", str(rid), "test")
    board.ok("approve", str(rid), actor="bob")

    result = board("rollback", str(rid))
    assert "--reason" in bad(result.exit_code, result.stderr)
    out = board.ok("rollback", str(rid), "--reason", "error budget burnt").stdout
    assert out == "payments-api 2.4.1 rolled back → dev (deployed)\n"
    back = stored().release(rid)
    assert (back.stage, back.state, back.approved_by) == ("dev", State.DEPLOYED, None)
    last = stored().events(rid)[-1]
    assert (last.action, last.from_, last.to, last.reason) == ("rolled_back", "test", "dev", "error budget burnt")

    board.ok("rollback", str(rid), "--reason", "start over", "--to", "planned")
    assert stored().release(rid).state is State.PENDING


def test_cancel(board: Run, stored: Callable[[], Service]) -> None:
    rid = add(board, "payments-api", "2.4.1")
    out = board.ok("cancel", str(rid), "--reason", "superseded").stdout
    assert out == "payments-api 2.4.1: cancelled in planned\n"
    last = stored().events(rid)[-1]
    assert (last.action, last.reason) == ("cancelled", "superseded")
    result = board("move", str(rid), "dev")
    assert "cancelled" in refused(result.exit_code, result.stderr)
    assert board.json("release", "show", str(rid))["state"] == "cancelled"  # it stays in the database


# --- windows --------------------------------------------------------------------------------------------


def test_schedule_start_end(board: Run, stored: Callable[[], Service]) -> None:
    rid = add(board, "payments-api", "2.4.1")
    result = board.ok("schedule", str(rid), "dev", "2026-12-02T10:00", "2026-12-02T12:30")
    assert result.stdout == "payments-api 2.4.1 in dev: 2026-12-02 10:00 UTC → 2026-12-02 12:30 UTC\n"
    (window,) = stored().release(rid).windows
    assert (window.environment, window.start, window.end) == ("dev", NOW + 24 * HOUR, NOW + 26.5 * HOUR)
    last = stored().events(rid)[-1]
    assert (last.action, last.from_, last.to) == (
        "scheduled",
        None,
        "dev 2026-12-02T10:00:00Z/2026-12-02T12:30:00Z",
    )

    board.ok("schedule", str(rid), "dev", "+2h", "--for", "90m")  # moves the window: one per environment
    (window,) = stored().release(rid).windows
    assert (window.start, window.end) == (NOW + 2 * HOUR, NOW + 3.5 * HOUR)
    assert stored().events(rid)[-1].from_ == "dev 2026-12-02T10:00:00Z/2026-12-02T12:30:00Z"


def test_schedule_reads_times_in_the_operators_zone(board: Run, stored: Callable[[], Service]) -> None:
    rid = add(board, "payments-api", "2.4.1")
    board.ok("schedule", str(rid), "dev", "2026-12-02 10:00", "--for", "1h", tz="Europe/Berlin")
    assert stored().release(rid).windows[0].start == NOW + 23 * HOUR  # 10:00 CET is 09:00 UTC


def test_schedule_next_free(board: Run, stored: Callable[[], Service]) -> None:
    first = add(board, "payments-api", "2.4.1")
    second = add(board, "ledger", "1.9.3")
    board.ok("schedule", str(first), "dev", "now", "--for", "2h")  # dev holds one window at a time
    out = board.ok("schedule", str(second), "dev", "--next-free", "--for", "1h").stdout
    assert out == "ledger 1.9.3 in dev: 2026-12-01 12:00 UTC → 2026-12-01 13:00 UTC\n"
    assert stored().release(second).windows[0].start == NOW + 2 * HOUR

    board.ok("schedule", str(second), "test", "--next-free", "--for", "1h", "--after", "2026-12-03T08:00")
    window = stored().release(second).window_in("test")
    assert window is not None and window.start == NOW + 46 * HOUR


def test_schedule_warns_about_the_conflicts_it_creates(board: Run) -> None:
    board.ok("freeze", "add", "dev", "--start", "2026-12-02T00:00", "--end", "2026-12-03T00:00", "--reason", "audit")
    rid = add(board, "payments-api", "2.4.1")
    result = board.ok("schedule", str(rid), "dev", "2026-12-02T10:00", "--for", "1h")
    assert result.stderr.startswith("warning: creates a freeze conflict: payments-api 2.4.1")
    result = board.ok("schedule", str(rid), "dev", "2026-12-03T10:00", "--for", "1h")
    assert result.stderr.startswith("resolves a freeze conflict")


def test_unschedule(board: Run, stored: Callable[[], Service]) -> None:
    rid = add(board, "payments-api", "2.4.1")
    board.ok("schedule", str(rid), "dev", "2026-12-02T10:00", "--for", "2h")
    assert board.ok("unschedule", str(rid), "dev").stdout == "payments-api 2.4.1: no window in dev\n"
    assert stored().release(rid).windows == ()
    last = stored().events(rid)[-1]
    assert (last.action, last.from_, last.to) == ("unscheduled", "dev 2026-12-02T10:00:00Z/2026-12-02T12:00:00Z", None)
    result = board("unschedule", str(rid), "dev")
    assert "has no window in dev" in bad(result.exit_code, result.stderr)


# --- freezes ---------------------------------------------------------------------------------------------


def test_freeze_add_one_off_and_recurring(board: Run, stored: Callable[[], Service]) -> None:
    out = board.ok(
        "freeze", "add", "all", "--start", "2026-12-24T00:00", "--end", "2026-12-27T00:00", "--reason", "christmas"
    ).stdout
    assert out == "1\n"
    out = board.ok(*WEEKEND_FREEZE).stdout
    assert out == "2\n"
    assert board.ok("freeze", "add", "dev", "--cron", "0 0 * * *", "--for", "1h", "--reason", "nightly").stdout == (
        "3\n"
    )
    one_off, weekend, nightly = stored().freezes()
    assert (one_off.environments, one_off.start, one_off.end, one_off.cron) == (
        ("all",),
        NOW + timedelta(days=22, hours=14),
        NOW + timedelta(days=25, hours=14),
        None,
    )
    assert (weekend.environments, weekend.cron, weekend.duration, weekend.zone, weekend.start) == (
        ("prod",),
        "0 18 * * FRI",
        timedelta(hours=62),
        "Europe/Berlin",
        None,
    )
    assert nightly.zone == "UTC"  # the cron is read in --tz unless --zone says otherwise


def test_freeze_list(board: Run) -> None:
    board.ok("freeze", "add", "all", "--start", "2026-12-24T00:00", "--end", "2026-12-27T00:00", "--reason", "xmas")
    board.ok(*WEEKEND_FREEZE)
    assert board.json("freeze", "list") == [
        {
            "id": 1,
            "environments": ["all"],
            "reason": "xmas",
            "start": "2026-12-24T00:00:00Z",
            "end": "2026-12-27T00:00:00Z",
        },
        {
            "id": 2,
            "environments": ["prod"],
            "reason": "weekend",
            "cron": "0 18 * * FRI",
            "duration": 62 * 3600,
            "zone": "Europe/Berlin",
        },
    ]
    lines = board.ok("freeze", "list").stdout.splitlines()
    assert lines[0].split() == ["ID", "ENVIRONMENTS", "WHEN", "REASON"]
    assert lines[1].split() == ["1", "all", "2026-12-24", "00:00", "UTC", "→", "2026-12-27", "00:00", "UTC", "xmas"]
    assert lines[2].split()[:2] == ["2", "prod"] and lines[2].endswith("weekend")


def test_freeze_remove(board: Run, stored: Callable[[], Service]) -> None:
    board.ok("freeze", "add", "all", "--start", "+1h", "--end", "+2h", "--reason", "x")
    assert board.ok("freeze", "remove", "1").stdout == "removed freeze 1\n"
    assert stored().freezes() == []
    assert stored().events()[-1].action == "freeze_removed"
    result = board("freeze", "remove", "1")
    assert "no freeze with id 1" in bad(result.exit_code, result.stderr)


# --- conflicts and the log ---------------------------------------------------------------------------------


def test_conflicts(board: Run) -> None:
    assert board.json("conflicts") == []
    assert board.ok("conflicts").stdout == "no conflicts\n"

    rid = add(board, "payments-api", "2.4.1")
    board.ok("freeze", "add", "dev", "--start", "2026-12-02T11:00", "--end", "2026-12-02T13:00", "--reason", "audit")
    board.ok("schedule", str(rid), "dev", "2026-12-02T10:00", "2026-12-02T12:00")
    board.ok("schedule", str(rid), "test", "2026-12-02T11:00", "2026-12-02T12:00")

    found = board.json("conflicts")
    assert [list(c) for c in found] == [["kind", "severity", "environments", "releases", "start", "end", "message"]] * 2
    assert [(c["kind"], c["severity"], c["environments"], c["releases"], c["start"], c["end"]) for c in found] == [
        ("freeze", "error", ["dev"], [rid], "2026-12-02T11:00:00Z", "2026-12-02T12:00:00Z"),
        ("order", "error", ["dev", "test"], [rid], "2026-12-02T11:00:00Z", "2026-12-02T12:00:00Z"),
    ]
    assert all(c["message"] and "\n" not in c["message"] for c in found)

    later = board.json("conflicts", "--now", "2026-12-03T00:00")
    assert [(c["kind"], c["environments"], c["start"]) for c in later] == [  # by start, then kind
        ("missed", ["dev"], "2026-12-02T10:00:00Z"),
        ("freeze", ["dev"], "2026-12-02T11:00:00Z"),
        ("missed", ["test"], "2026-12-02T11:00:00Z"),
        ("order", ["dev", "test"], "2026-12-02T11:00:00Z"),
    ]

    lines = board.ok("conflicts").stdout.splitlines()
    assert lines[0].split() == ["KIND", "SEVERITY", "START", "END", "ENVS", "RELEASES", "MESSAGE"]
    assert lines[1].split()[:5] == ["freeze", "error", "2026-12-02", "11:00", "2026-12-02"]
    assert lines[-1] == "2 conflicts: 2 errors, 0 warnings (times in UTC)"


def test_conflicts_fail_on_gives_scripts_an_exit_status(board: Run) -> None:
    """Issue 11: `conflicts` exited 0 with errors on the board; scripts want `--fail-on error`."""
    assert board("conflicts", "--fail-on", "error").exit_code == 0  # nothing: 0
    rid = add(board, "payments-api", "2.4.1")
    board.ok("schedule", str(rid), "dev", "2026-12-01T08:00", "--for", "1h")  # ended: a missed warning
    assert board("conflicts", "--fail-on", "error").exit_code == 0  # a warning is not an error
    warned = board("conflicts", "--fail-on", "warning", "--json")
    assert warned.exit_code == 1
    assert json.loads(warned.stdout)[0]["kind"] == "missed"  # the list is printed all the same
    assert warned.stderr == "relman: 1 conflict(s) at or above warning (--fail-on warning)\n"
    board.ok("freeze", "add", "test", "--start", "2026-12-02T00:00", "--end", "2026-12-03T00:00", "--reason", "x")
    board.ok("schedule", str(rid), "test", "2026-12-02T10:00", "--for", "1h")
    failed = board("conflicts", "--fail-on", "error")
    assert failed.exit_code == 1 and "freeze" in failed.stdout
    wrong = board("conflicts", "--fail-on", "sometimes")
    assert "--fail-on" in bad(wrong.exit_code, wrong.stderr)


def test_the_demo_history_is_a_believable_past(run: Run, tmp_path: Path) -> None:
    """Issue 11: the demo's history had an unforced planned → preprod jump dated before the release was
    created. Now every move is one stage on, nothing is forced, nothing happens before its release was
    created, and the log is in time order."""
    db = tmp_path / "demo.db"
    run.ok("demo", "--no-tui", db=db)
    stages = ["planned", "dev", "test", "staging", "preprod", "prod"]
    ids = [r["id"] for r in run.json("release", "list", "--all", db=db)]
    created = {i: run.json("release", "show", str(i), db=db)["created_at"] for i in ids}
    log = run.json("log", db=db)
    assert [e["at"] for e in log] == sorted(e["at"] for e in log)
    for e in log:
        assert not e["forced"]
        if e["release"] is not None:
            assert e["at"] >= created[e["release"]], e
        if e["action"] == "moved":
            assert stages.index(e["to"]) == stages.index(e["from"]) + 1, e
    for item in run.json("release", "list", db=db):  # each stands where its history put it
        history = [e for e in log if e["release"] == item["id"] and e["action"] in ("created", "moved")]
        assert history[-1]["to"] == item["stage"]
    text = run.ok("log", "1", db=db).stdout
    assert "created in planned" in text and "verified in dev" in text and " → " in text
    assert "verified deployed" not in text and "created  →" not in text


def test_log(board: Run) -> None:
    one = add(board, "payments-api", "2.4.1")
    two = add(board, "ledger", "1.9.3", actor="bob")
    board.ok("move", str(one), "dev")

    everything = board.json("log")
    assert [list(e) for e in everything] == [EVENT_KEYS] * len(everything)
    assert [e["action"] for e in everything][-3:] == ["created", "created", "moved"]
    assert [e["seq"] for e in everything] == sorted(e["seq"] for e in everything)  # oldest first
    assert everything[-2]["details"]["release"]["version"] == "1.9.3"  # the full record (issue 18)
    assert everything[-2] | {"details": without_records(everything[-2]["details"])} == {
        "seq": everything[-2]["seq"],
        "at": "2026-12-01T10:00:00Z",
        "actor": "bob",
        "via": None,
        "release": two,
        "action": "created",
        "from": None,
        "to": "planned",
        "forced": False,
        "reason": None,
        "details": {"name": "ledger", "version": "1.9.3", "components": ["ledger"], "owner": "bob", "risk": "low"},
        "hash": everything[-2]["hash"],
    }
    assert len(everything[-2]["hash"]) == 64 and everything[-2]["hash"] != everything[-1]["hash"]

    assert [(e["release"], e["action"]) for e in board.json("log", str(one))] == [(one, "created"), (one, "moved")]
    newest = board.json("log", "--limit", "2")
    assert [e["seq"] for e in newest] == [e["seq"] for e in everything[-2:]]

    lines = board.ok("log", str(one)).stdout.splitlines()
    assert [line.split(maxsplit=1)[1] for line in lines] == [
        "2026-12-01 10:00 UTC  alice  #1 payments-api 2.4.1: created in planned (owner alice)",
        "2026-12-01 10:00 UTC  alice  #1 payments-api 2.4.1: moved planned → dev",
    ]
    assert len(board.ok("log", "--limit", "1").stdout.splitlines()) == 1


# --- the board as code ----------------------------------------------------------------------------------


def test_export_import_round_trip(board: Run, tmp_path: Path) -> None:
    board.ok("env", "add", "qa", "--after", "test", "--capacity", "2", "--title", "QA")
    board.ok("freeze", "add", "all", "--start", "2026-12-24T00:00", "--end", "2026-12-27T00:00", "--reason", "xmas")
    board.ok(*WEEKEND_FREEZE)
    first, second = tmp_path / "board.toml", tmp_path / "again.toml"
    assert board.ok("export", str(first)).stdout == f"wrote {first}\n"

    fresh = tmp_path / "fresh.db"
    out = board.ok("import", str(first), db=fresh).stdout
    assert out == f"imported 6 environments and 2 freezes from {first}\n"
    board.ok("export", str(second), db=fresh)
    assert second.read_text() == first.read_text()
    assert board.json("env", "list", db=fresh) == board.json("env", "list")
    assert board.json("freeze", "list", db=fresh) == board.json("freeze", "list")


def test_import_of_a_bad_file_creates_no_database(board: Run, tmp_path: Path) -> None:
    bad_file = tmp_path / "bad.toml"
    bad_file.write_text("[[environments]]\nname = 'dev'\ncolour = 'red'\n")
    fresh = tmp_path / "fresh.db"
    result = board("import", str(bad_file), db=fresh)
    line = bad(result.exit_code, result.stderr)
    assert str(bad_file) in line and "environments[0].colour" in line
    assert not fresh.exists()


# --- config and demo ----------------------------------------------------------------------------------------


def test_config_init(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "conf" / "config.toml"
    result = run.raw("--config", str(path), "config", "init")
    assert (result.exit_code, result.stdout) == (0, f"wrote {path}\n")
    assert user_settings.load(path, required=True) == user_settings.Settings()
    assert "# " in path.read_text()  # commented

    again = run.raw("--config", str(path), "config", "init")
    assert "already exists" in bad(again.exit_code, again.stderr)
    assert run.raw("--config", str(path), "config", "init", "--force").exit_code == 0


def test_config_init_default_path_is_under_xdg_config_home(run: Run) -> None:
    result = run.raw("config", "init")
    assert result.exit_code == 0
    assert (run.home / "config" / "relman" / "config.toml").exists()


def test_the_user_config_sets_zone_and_database(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    db = tmp_path / "from-config.db"
    config.write_text(f'timezone = "Europe/Berlin"\ndatabase = "{db}"\n')
    assert run.raw("--config", str(config), "--as", "alice", "init").exit_code == 0
    run.raw("--config", str(config), "--as", "alice", "release", "add", "x", "1")
    run.raw("--config", str(config), "--as", "alice", "schedule", "1", "dev", "2026-12-02 10:00", "--for", "1h")
    item = json.loads(run.raw("--config", str(config), "release", "show", "1", "--json").stdout)
    assert item["windows"]["dev"]["start"] == "2026-12-02T09:00:00Z"


def test_demo(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = run.ok("demo", "--no-tui", db=db)
    assert result.stderr == f"seeded 30 releases into {db}\n"
    kinds = {c["kind"] for c in run.json("conflicts", db=db)}
    assert kinds == {"capacity", "freeze", "order", "component", "missed"}
    stages = {r["stage"] for r in run.json("release", "list", db=db)}
    assert stages == {"planned", "dev", "test", "staging", "preprod", "prod"}

    run.ok("demo", "--no-tui", db=db)  # a demo file is replaced, not added to
    assert len(run.json("release", "list", db=db)) == 30


def test_demo_at_scale(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    assert run.ok("demo", "--no-tui", "--releases", "500", db=db).stderr == f"seeded 500 releases into {db}\n"
    releases = run.json("release", "list", db=db)
    assert len(releases) == 500
    assert all(list(r) == RELEASE_KEYS for r in releases)
    assert sum(len(r["windows"]) for r in releases) > 500


def test_demo_refuses_a_board_that_is_not_a_demo(board: Run) -> None:
    before = board.path.read_bytes()
    result = board("demo", "--no-tui")
    assert "not a demo" in bad(result.exit_code, result.stderr)
    assert board.path.read_bytes() == before


# --- who acts and which file ----------------------------------------------------------------------------------


def test_the_database_comes_from_the_environment_and_the_actor_from_the_account(board: Run) -> None:
    result = board.raw("release", "add", "x", "1", env={"RELMAN_DB": str(board.db)}, account="carol")
    assert (result.exit_code, result.stdout) == (0, "1\n")
    assert board.json("release", "show", "1")["owner"] == "carol"


def test_help_and_version(run: Run) -> None:
    assert run.raw("--help").exit_code == 0
    assert "relman" in run.raw("--version").stdout


# --- bad input: exit 2, one line, nothing changed ---------------------------------------------------------


@pytest.fixture(scope="module")
def busy_template(tmp_path_factory: pytest.TempPathFactory, initialised: Path) -> Path:
    """A board with something in it: two releases, a window and a freeze (built once, copied per test)."""
    home = tmp_path_factory.mktemp("busy")
    board = Run(home / "busy.db", home)
    copy_database(initialised, board.path)
    one = add(board, "payments-api", "2.4.1")
    add(board, "ledger", "1.9.3", actor="bob")
    board.ok("move", str(one), "dev")
    board.ok("schedule", str(one), "test", "2026-12-02T10:00", "--for", "2h")
    board.ok(*WEEKEND_FREEZE)
    return board.path


@pytest.fixture
def busy_board(run: Run, busy_template: Path) -> Run:
    copy_database(busy_template, run.path)
    return run


BAD_INPUT = [
    # unknown id
    (["move", "99", "dev"], "no release with id 99"),
    (["release", "show", "99"], "no release with id 99"),
    (["verify", "99"], "no release with id 99"),
    (["approve", "99"], "no release with id 99"),
    (["cancel", "99"], "no release with id 99"),
    (["log", "99"], "no release with id 99"),
    (["schedule", "99", "dev", "+1h", "--for", "1h"], "no release with id 99"),
    (["schedule", "99", "dev", "--next-free", "--for", "1h"], "no release with id 99"),
    (["unschedule", "99", "dev"], "no release with id 99"),
    (["freeze", "remove", "99"], "no freeze with id 99"),
    (["move", "one", "dev"], "'one' is not a valid integer"),
    # unknown stage or environment
    (["move", "1", "qa"], "unknown stage 'qa'"),
    (["release", "list", "--stage", "qa"], "unknown stage 'qa'"),
    (["rollback", "1", "--reason", "x", "--to", "qa"], "cannot roll"),
    (["schedule", "1", "qa", "+1h", "--for", "1h"], "unknown environment 'qa'"),
    (["schedule", "1", "qa", "--next-free", "--for", "1h"], "unknown environment 'qa'"),
    (["unschedule", "1", "qa"], "unknown environment 'qa'"),
    (["freeze", "add", "qa", "--start", "+1h", "--end", "+2h", "--reason", "x"], "unknown environment 'qa'"),
    (["env", "add", "qa", "--after", "uat"], "no environment named 'uat'"),
    (["env", "add", "dev"], "already exists"),
    (["env", "add", "Q A"], "bad environment name"),
    (["env", "add", "all"], "bad environment name"),
    (["env", "add", "qa", "--capacity", "0"], "capacity must be a whole number from 1 to 1000"),
    # bad times and durations
    (["schedule", "1", "test", "tuesday", "--for", "1h"], "bad time 'tuesday'"),
    (["schedule", "1", "test", "2026-12-02T10:00", "2026-12-02T25:00"], "bad time"),
    (["schedule", "1", "test", "2026-12-02T10:00", "2026-12-02T09:00"], "must end after it starts"),
    (["schedule", "1", "test", "2026-12-02T10:00", "2026-12-02T10:00"], "must end after it starts"),
    (["schedule", "1", "test", "+1h", "--for", "0m"], "must be longer than zero"),
    (["schedule", "1", "test", "+1h", "--for", "-5m"], "bad duration '-5m'"),
    (["schedule", "1", "test", "+1h", "--for", "2x"], "bad duration '2x'"),
    (["schedule", "1", "test", "--next-free", "--for", "0m"], "must be longer than zero"),
    (["schedule", "1", "test", "--next-free", "--for", "1h", "--after", "soon"], "bad time 'soon'"),
    (["schedule", "1", "test", "--next-free", "+1h", "--for", "1h"], "give no START"),
    (["schedule", "1", "test", "--next-free"], "needs --for"),
    (["schedule", "1", "test", "+1h", "--after", "+2h", "--for", "1h"], "--after only goes with --next-free"),
    (["schedule", "1", "test", "+1h"], "give START and END"),
    (["schedule", "1", "test", "+1h", "+2h", "--for", "1h"], "give START and END"),
    (["freeze", "add", "all", "--start", "+2h", "--end", "+1h", "--reason", "x"], "must end after it starts"),
    (["freeze", "add", "all", "--start", "later", "--end", "+1h", "--reason", "x"], "bad time 'later'"),
    (["freeze", "add", "all", "--start", "+1h", "--reason", "x"], "--start T --end T"),
    (["freeze", "add", "all", "--start", "+1h", "--end", "+2h", "--for", "1h", "--reason", "x"], "go with --cron"),
    (["freeze", "add", "all", "--cron", "0 18 * * FRI", "--for", "0m", "--reason", "x"], "longer than zero"),
    (["freeze", "add", "all", "--cron", "0 18 * * FRI", "--reason", "x"], "needs --for"),
    (["freeze", "add", "all", "--cron", "0 18 * * FRI", "--for", "1h", "--reason", " "], "needs a reason"),
    (["conflicts", "--now", "whenever"], "bad time 'whenever'"),
    # unknown zone, bad cron
    (
        ["freeze", "add", "prod", "--cron", "0 18 * * FRI", "--for", "1h", "--zone", "Mars/Base", "--reason", "x"],
        "unknown time zone 'Mars/Base'",
    ),
    (["freeze", "add", "prod", "--cron", "61 * * * *", "--for", "1h", "--reason", "x"], "cron"),
    (["freeze", "add", "prod", "--cron", "every friday", "--for", "1h", "--reason", "x"], "cron"),
    (["freeze", "add", "prod", "--cron", "0 18 * *", "--for", "1h", "--reason", "x"], "cron"),
    # names and other fields
    (["release", "add", "", "1.0"], "must not be empty"),
    (["release", "add", "x", "1.0", "--risk", "extreme"], "extreme"),
    (["release", "add", "bad\x1bname", "1.0"], "control"),
    (["release", "add", "x" * 121, "1.0"], "at most 120"),
    # usage
    (["move", "1"], "Missing argument"),
    (["rollback", "1"], "Missing option '--reason'"),
    (["log", "--limit", "0"], "--limit"),
    (["frobnicate"], "No such command"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[" ".join(a)[:60] for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(busy_board: Run, args: list[str], message: str) -> None:
    before = busy_board.dump()
    result = busy_board(*args)
    line = bad(result.exit_code, result.stderr)
    assert message in line
    assert result.stdout == ""
    assert busy_board.dump() == before


def test_an_unknown_zone_given_with_tz_is_bad_input_for_every_command(busy_board: Run) -> None:
    for args in (["env", "list"], ["log"], ["release", "list", "--json"], ["freeze", "list", "--json"]):
        result = busy_board(*args, tz="Mars/Base")
        assert "unknown time zone 'Mars/Base'" in bad(result.exit_code, result.stderr)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[environments]\nname = 'dev'\n", "line 1"),
        ("relman_board = 1\nrelman_board = 2\n", "line 2"),
        ("[[environments]]\nname = 'dev'\ncolour = 'red'\n", "key 'environments[0].colour'"),
        ("[[environments]]\nname = 'dev'\ncapacity = 0\n", "key 'environments[0].capacity'"),
        (
            "[[environments]]\nname = 'dev'\n[[freezes]]\nenvironments = ['dev']\nreason = 'x'\ncron = 'nope'\n"
            "duration = '1h'\n",
            "key 'freezes[0]",
        ),
    ],
)
def test_bad_board_files_are_refused_naming_path_and_key(
    busy_board: Run, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "board.toml"
    path.write_text(text)
    before = busy_board.dump()
    result = busy_board("import", str(path))
    line = bad(result.exit_code, result.stderr)
    assert str(path) in line and message in line
    assert busy_board.dump() == before


def test_import_of_a_missing_file(busy_board: Run, tmp_path: Path) -> None:
    result = busy_board("import", str(tmp_path / "nothing.toml"))
    assert "does not exist" in bad(result.exit_code, result.stderr)


def test_a_missing_database_is_bad_input_and_not_created(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    exported = tmp_path / "board.toml"
    for args in (
        ["release", "list"],
        ["env", "list", "--json"],
        ["move", "1", "dev"],
        ["log"],
        ["conflicts"],
        ["freeze", "add", "all", "--start", "+1h", "--end", "+2h", "--reason", "x"],
        ["export", str(exported)],
    ):
        result = run(*args, db=db)
        assert "no relman database" in bad(result.exit_code, result.stderr)
    assert not db.exists()
    assert not exported.exists()


@pytest.mark.parametrize("kind", ["sqlite", "random"])
def test_a_file_that_is_not_relman_is_refused_and_untouched(run: Run, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "other.db"
    if kind == "sqlite":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
        conn.commit()
        conn.close()
    else:
        path.write_bytes(random.Random(1).randbytes(4096))
    before = path.read_bytes()
    for args in (
        ["release", "list"],
        ["release", "add", "x", "1"],
        ["import", "/dev/null"],
        ["demo", "--no-tui"],
        ["init"],
    ):
        result = run(*args, db=path)
        bad(result.exit_code, result.stderr)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("other")) == ["other.db"]


# --- refused by a rule: exit 1, one line, nothing changed -----------------------------------------------


@pytest.mark.parametrize(
    ("args", "actor", "message"),
    [
        (["move", "1", "staging"], "alice", "skips test"),
        (["move", "1", "test"], "alice", "not verified"),
        (["move", "1", "dev"], "alice", "already in dev"),
        (["approve", "1"], "alice", "four-eyes"),
        (["verify", "2"], "alice", "not deployed anywhere"),
        (["fail", "2"], "alice", "nothing to mark failed"),
        (["rollback", "2", "--reason", "x"], "alice", "nothing to roll back"),
        (["move", "1", "test", "--rev", "1"], "alice", "changed by alice (scheduled)"),
        (["verify", "2", "--rev", "7"], "alice", "changed by bob (created)"),
    ],
)
def test_refused_by_a_rule_exits_1_with_one_line_and_changes_nothing(
    busy_board: Run, args: list[str], actor: str, message: str
) -> None:
    before = busy_board.dump()
    result = busy_board(*args, actor=actor)
    line = refused(result.exit_code, result.stderr)
    assert message in line
    assert result.stdout == ""
    assert busy_board.dump() == before


def test_a_stale_rev_names_who_changed_it(busy_board: Run) -> None:
    rev = busy_board.json("release", "show", "1")["rev"]
    busy_board.ok("verify", "1", actor="bob")
    before = busy_board.dump()
    result = busy_board("move", "1", "test", "--rev", str(rev))
    line = refused(result.exit_code, result.stderr)
    assert f"changed by bob (verified) since you saw it (rev {rev}, now {rev + 1}); nothing was written" in line
    assert busy_board.dump() == before
    busy_board.ok("move", "1", "test", "--rev", str(rev + 1))


def test_a_freeze_refuses_a_move(busy_board: Run) -> None:
    busy_board.ok("verify", "1")
    busy_board.ok("freeze", "add", "test", "--start", "-1h", "--end", "+1h", "--reason", "load test")
    before = busy_board.dump()
    result = busy_board("move", "1", "test")
    assert "test is frozen until 2026-12-01 11:00 UTC (load test)" in refused(result.exit_code, result.stderr)
    assert busy_board.dump() == before
