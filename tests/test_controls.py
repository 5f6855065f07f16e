"""Controls that hold (issue 9): real identity, delegation, four-eyes without loopholes, break-glass marks,
events that say what changed, and a tamper-evident log. One test per loophole the issue lists, and more."""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import WEEKEND_FREEZE, Run, bad, pre_chain_board, refused, without_records

from relman_tui import chain
from relman_tui.errors import BadInput, Refused
from relman_tui.identity import Identity, os_account, resolve
from relman_tui.service import Service
from relman_tui.store import Store

pytestmark = pytest.mark.both_backends


def add(run: Run, *args: str, actor: str = "alice") -> int:
    return int(run.ok("release", "add", *args, actor=actor).stdout)


def real_account() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


# --- identity comes from the OS account, never from the environment ------------------------------------------


def test_as_cannot_impersonate_without_delegation(board: Run) -> None:
    rid = add(board, "payments-api", "2.4.1", actor="bob")
    before = board.dump()
    line = refused(board.raw("--db", str(board.db), "--as", "carol", "approve", str(rid), account="bob"))
    assert "your account bob may not act for others" in line
    assert "relman settings delegates add bob" in line  # says how delegation works
    assert board.dump() == before


def test_a_delegate_acts_for_someone_and_both_are_logged(board: Run) -> None:
    board.ok("settings", "delegates", "add", "ci-runner", actor="admin")
    rid = add(board, "payments-api", "2.4.1", actor="bob")
    board.ok("--as", "carol", "approve", str(rid), actor="ci-runner")
    event = board.json("log", str(rid))[-1]
    assert (event["action"], event["actor"], event["via"]) == ("approved", "carol", "ci-runner")
    assert "carol via ci-runner" in board.ok("log", str(rid)).stdout
    # a delegate acting "for" the owner is still the owner: four-eyes holds through delegation
    line = refused(board.raw("--db", str(board.db), "--as", "bob", "approve", str(rid), account="ci-runner"))
    assert "already approved" in line


def test_a_delegate_cannot_approve_for_the_owner(board: Run) -> None:
    board.ok("settings", "delegates", "add", "ci-runner", actor="admin")
    rid = add(board, "ledger", "1.0", actor="bob")
    line = refused(board.raw("--db", str(board.db), "--as", "bob", "approve", str(rid), account="ci-runner"))
    assert "four-eyes rule: bob owns ledger 1.0" in line


def test_as_yourself_is_just_you(board: Run) -> None:
    rid = add(board, "ledger", "1.0", actor="bob")
    board.ok("--as", "ALICE", "approve", str(rid), actor="alice")
    event = board.json("log", str(rid))[-1]
    assert (event["actor"], event["via"]) == ("alice", None)


def test_user_logname_and_relman_actor_change_nothing_in_a_real_process(tmp_path: Path) -> None:
    """No variable a shell can set makes relman someone else: a real subprocess, a real account."""
    db = tmp_path / "relman.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELMAN_", "SUDO_"))}
    env |= {
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_DATA_HOME": str(tmp_path / "d"),
        "RELMAN_TZ": "UTC",
        "PYTHONPATH": str(Path(__file__).parents[1]),
    }

    def relman(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "relman_tui", "--db", str(db), *args],
            capture_output=True,
            text=True,
            env=env | extra,
            timeout=60,
        )

    assert relman("init").returncode == 0
    assert relman("release", "add", "payments-api", "2.4.1").stdout.strip() == "1"
    pretend = {"USER": "dave", "LOGNAME": "dave", "RELMAN_ACTOR": "carol", "USERNAME": "dave"}
    done = relman("approve", "1", **pretend)
    assert done.returncode == 1, done.stderr
    assert f"four-eyes rule: {real_account()} owns payments-api 2.4.1" in done.stderr
    done = relman("release", "add", "ledger", "1.0", **pretend)
    assert done.returncode == 0, done.stderr
    log = json.loads(relman("log", "--json").stdout)
    assert {e["actor"] for e in log} == {real_account()}
    owners = {r["owner"] for r in json.loads(relman("release", "list", "--json").stdout)}
    assert owners == {real_account()}


def test_sudo_user_is_trusted_only_under_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUDO_USER", "root")  # names no one else: the account stays root's
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert os_account() == "root"
    some_user = next((p.pw_name for p in pwd.getpwall() if p.pw_uid != 0), None)
    if some_user is None:
        pytest.skip("no account other than root on this machine")
    monkeypatch.setenv("SUDO_USER", some_user)
    assert os_account() == some_user  # euid 0 under sudo: the account that ran sudo
    monkeypatch.setenv("SUDO_USER", "no-such-account-anywhere")
    assert os_account() == "root"
    monkeypatch.setattr(os, "geteuid", lambda: pwd.getpwnam(some_user).pw_uid)
    monkeypatch.setenv("SUDO_USER", "root")  # not root: SUDO_USER means nothing
    assert os_account() == some_user


def test_resolve() -> None:
    assert resolve(None, [], account="alice") == Identity("alice")
    assert resolve("Alice", [], account="alice") == Identity("alice")
    assert resolve("bob", ["CI"], account="ci") == Identity("bob", "ci")
    with pytest.raises(Refused, match="may not act for others"):
        resolve("bob", ["ci"], account="alice")
    with pytest.raises(BadInput, match="not a login name"):
        resolve("b ob", ["ci"], account="ci")


# --- names are login-like: no look-alikes ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["\u0430lice", "alice\u200b", "al ice", "a" * 65, "ålice", "alice;rm"])
def test_look_alike_and_odd_names_are_refused(board: Run, name: str) -> None:
    board.ok("settings", "delegates", "add", "ci", actor="admin")
    before = board.dump()
    assert "not a login name" in bad(board.raw("--db", str(board.db), "--as", name, "release", "list", account="ci"))
    assert "not a login name" in bad(board("release", "add", "x", "1", "--owner", name))
    assert board.dump() == before


def test_names_compare_case_insensitively(service: Service, open_service: Callable[..., Service]) -> None:
    release = service.add_release("ledger", "1.0", owner="Bob")
    with pytest.raises(Refused, match="four-eyes"):
        open_service("BOB").approve(release.id)


# --- four-eyes without loopholes --------------------------------------------------------------------------------


def test_the_creator_cannot_approve_by_naming_another_owner(board: Run) -> None:
    rid = add(board, "payments-api", "2.4.1", "--owner", "bob", actor="alice")
    line = refused(board("approve", str(rid), actor="alice"))
    assert "four-eyes rule: alice created payments-api 2.4.1" in line
    assert board.json("release", "show", str(rid))["created_by"] == "alice"
    board.ok("approve", str(rid), actor="carol")


def test_editing_the_owner_away_and_back_withdraws_the_approval(board: Run) -> None:
    rid = add(board, "ledger", "1.0", "--owner", "bob", actor="ci")  # a pipeline registers bob's release
    board.ok("release", "edit", str(rid), "--owner", "carol", actor="bob")
    board.ok("approve", str(rid), actor="bob")  # bob is now neither owner nor creator
    assert board.json("release", "show", str(rid))["approved_by"] == "bob"
    out = board.ok("release", "edit", str(rid), "--owner", "bob", actor="bob").stdout
    assert "approval withdrawn" in out
    item = board.json("release", "show", str(rid))
    assert (item["owner"], item["approved_by"]) == ("bob", None)
    edit = item["history"][-1]
    assert without_records(edit["details"]) == {"changes": {"owner": ["carol", "bob"]}, "approval_withdrawn": "bob"}
    assert "owner carol → bob; approval by bob withdrawn" in board.ok("log", str(rid)).stdout


@pytest.mark.parametrize(
    ("field", "value"),
    [("--name", "ledger2"), ("--version", "1.0.1"), ("--component", "payments-db"), ("--owner", "erin")],
)
def test_any_change_to_what_is_approved_withdraws_it(board: Run, field: str, value: str) -> None:
    rid = add(board, "ledger", "1.0", actor="bob")
    board.ok("approve", str(rid), actor="carol")
    board.ok("release", "edit", str(rid), field, value, actor="bob")
    item = board.json("release", "show", str(rid))
    assert item["approved_by"] is None
    assert item["history"][-1]["details"]["approval_withdrawn"] == "carol"


def test_notes_and_risk_keep_the_approval(board: Run) -> None:
    rid = add(board, "ledger", "1.0", actor="bob")
    board.ok("approve", str(rid), actor="carol")
    board.ok("release", "edit", str(rid), "--notes", "CAB said yes", "--risk", "high", actor="bob")
    item = board.json("release", "show", str(rid))
    assert item["approved_by"] == "carol"
    assert without_records(item["history"][-1]["details"]) == {
        "changes": {"risk": ["low", "high"], "notes": ["", "CAB said yes"]}
    }


def test_edit_with_a_stale_rev_is_refused(board: Run) -> None:
    rid = add(board, "ledger", "1.0")
    board.ok("release", "edit", str(rid), "--notes", "one")
    line = refused(board("release", "edit", str(rid), "--notes", "two", "--rev", "1"))
    assert "since you saw it" in line


# --- break-glass is visible -------------------------------------------------------------------------------------


def test_a_forced_move_into_prod_without_approval_is_marked_until_approved(board: Run) -> None:
    rid = add(board, "payments-api", "2.4.1", actor="bob")
    board.ok("move", str(rid), "prod", "--force", "--reason", "INC-4711 outage", actor="bob")
    item = board.json("release", "list", "--stage", "prod")[0]
    assert (item["id"], item["unapproved"], item["approved_by"]) == (rid, True, None)
    assert "UNAPPROVED" in board.ok("release", "list").stdout
    assert "break-glass" in board.ok("release", "show", str(rid)).stdout
    moved = board.json("log", str(rid))[-1]
    assert (moved["forced"], without_records(moved["details"])) == (True, {"unapproved": True})
    assert moved["details"]["release"]["unapproved"] is True
    assert "break-glass: entered without approval" in board.ok("log", str(rid)).stdout

    refused(board("approve", str(rid), actor="bob"))  # the owner cannot clear it
    assert board.json("release", "show", str(rid))["unapproved"] is True
    board.ok("approve", str(rid), actor="carol")
    item = board.json("release", "show", str(rid))
    assert (item["unapproved"], item["approved_by"]) == (False, "carol")


def test_a_forced_move_of_an_approved_release_is_not_marked(board: Run) -> None:
    rid = add(board, "payments-api", "2.4.1", actor="bob")
    board.ok("approve", str(rid), actor="carol")
    board.ok("move", str(rid), "prod", "--force", "--reason", "skip the queue", actor="bob")
    assert board.json("release", "show", str(rid))["unapproved"] is False


def test_rolling_back_out_of_prod_clears_the_mark(board: Run) -> None:
    rid = add(board, "payments-api", "2.4.1", actor="bob")
    board.ok("move", str(rid), "prod", "--force", "--reason", "outage", actor="bob")
    board.ok("rollback", str(rid), "--reason", "it broke", actor="bob")
    assert board.json("release", "show", str(rid))["unapproved"] is False


# --- settings changes are events, including those made by import -------------------------------------------------


def test_import_turning_four_eyes_off_is_logged_with_old_and_new(board: Run, tmp_path: Path) -> None:
    path = tmp_path / "board.toml"
    board.ok("export", str(path))
    path.write_text(path.read_text().replace("four_eyes = true", "four_eyes = false"))
    board.ok("import", str(path), actor="admin")
    changed = [e for e in board.json("log") if e["action"] == "setting_changed" and e["details"]["key"] == "four_eyes"]
    assert [(e["actor"], e["details"]) for e in changed] == [("admin", {"key": "four_eyes", "old": True, "new": False})]
    assert "admin  changed four_eyes: on → off" in board.ok("log").stdout


def test_settings_commands_change_and_log(board: Run) -> None:
    fixture = {"admins": board.json("settings")["admins"], "fixed_clock": True}  # the fixture's (per backend)
    assert board.json("settings") == {"four_eyes": True, "delegates": []} | fixture
    board.ok("settings", "four-eyes", "off", actor="admin")  # on a server only the admin role may
    board.ok("settings", "delegates", "add", "ci", "deploy-bot", actor="admin")
    board.ok("settings", "delegates", "remove", "ci", actor="admin")
    assert board.json("settings") == {"four_eyes": False, "delegates": ["deploy-bot"]} | fixture
    changed = [e["details"] for e in board.json("log") if e["action"] == "setting_changed"]
    details = [d for d in changed if d["key"] != "admins"]  # the fixture's own admin
    assert details == [
        {"key": "four_eyes", "old": True, "new": False},
        {"key": "delegates", "old": [], "new": ["ci", "deploy-bot"]},
        {"key": "delegates", "old": ["ci", "deploy-bot"], "new": ["deploy-bot"]},
    ]
    assert "not a delegate" in bad(board("settings", "delegates", "remove", "nobody", actor="admin"))
    assert "not a login name" in bad(board("settings", "delegates", "add", "\u0430lice", actor="admin"))
    assert board.ok("settings", "four-eyes", "off", actor="admin").stdout == "four_eyes is off (unchanged)\n"


def test_import_logs_every_environment_freeze_and_setting_it_changes(board: Run, tmp_path: Path) -> None:
    board.ok("freeze", "add", "prod", "--start", "2026-12-24T00:00", "--end", "2026-12-27T00:00", "--reason", "xmas")
    board.ok(
        "freeze",
        "add",
        "all",
        "--cron",
        "0 18 * * FRI",
        "--for",
        "62h",
        "--zone",
        "Europe/Berlin",
        "--reason",
        "weekend",
    )
    path = tmp_path / "board.toml"
    board.ok("export", str(path))
    seq = board.json("log")[-1]["seq"]
    text = path.read_text()
    text = text.replace('reason = "xmas"', 'reason = "christmas"')  # a changed freeze: removed + added
    text = text.replace(
        'name = "staging", title = "Staging", capacity = 2', 'name = "staging", title = "Staging", capacity = 3'
    )
    preprod = '    { name = "preprod", title = "Pre-production", capacity = 1, requires_approval = false },\n'
    text = text.replace(preprod, "")
    text = text.replace("delegates = []", 'delegates = ["ci"]')
    path.write_text(text)
    board.ok("import", str(path), actor="admin")
    new = [e for e in board.json("log") if e["seq"] > seq]
    assert [e["action"] for e in new] == [
        "env_changed",
        "env_changed",
        "env_removed",
        "freeze_removed",
        "freeze_added",
        "setting_changed",
        "imported",
    ]
    assert without_records(new[0]["details"]) == {"name": "staging", "changes": {"capacity": [2, 3]}}
    assert without_records(new[1]["details"]) == {"name": "prod", "changes": {"position": [5, 4]}}
    assert new[2]["details"]["name"] == "preprod"
    assert without_records(new[3]["details"]) == {
        "id": 1,
        "environments": ["prod"],
        "reason": "xmas",
        "start": "2026-12-24T00:00:00Z",
        "end": "2026-12-27T00:00:00Z",
    }
    assert new[4]["details"]["reason"] == "christmas" and new[4]["details"]["id"] == 3
    assert new[5]["details"] == {"key": "delegates", "old": [], "new": ["ci"]}
    assert [f["id"] for f in board.json("freeze", "list")] == [2, 3]  # the unchanged freeze keeps its id
    # importing the same file again: nothing but the import itself
    board.ok("import", str(path), actor="admin")
    assert [e["action"] for e in board.json("log")][-2:] == ["imported", "imported"]


def test_freeze_events_carry_the_freeze(board: Run) -> None:
    fid = board.ok(*WEEKEND_FREEZE).stdout.strip()
    board.ok("freeze", "remove", fid)
    added, removed = board.json("log")[-2:]
    record = {
        "id": int(fid),
        "environments": ["prod"],
        "reason": "weekend",
        "cron": "0 18 * * FRI",
        "duration": 62 * 3600,
        "zone": "Europe/Berlin",
    }
    assert (added["action"], without_records(added["details"])) == ("freeze_added", record)
    assert added["details"]["freeze"] == record
    assert (removed["action"], without_records(removed["details"])) == ("freeze_removed", record)
    text = board.ok("log", "--limit", "2").stdout
    assert f"added freeze #{fid} on prod: cron 0 18 * * FRI for 2d14h (Europe/Berlin) — weekend" in text


def test_schedule_events_carry_old_and_new_window(board: Run) -> None:
    rid = add(board, "ledger", "1.0")
    board.ok("schedule", str(rid), "dev", "2026-12-02T10:00", "--for", "2h")
    board.ok("schedule", str(rid), "dev", "2026-12-03T10:00", "--for", "1h")
    board.ok("unschedule", str(rid), "dev")
    details = [without_records(e["details"]) for e in board.json("log", str(rid))][-3:]
    assert details == [
        {"environment": "dev", "start": "2026-12-02T10:00:00Z", "end": "2026-12-02T12:00:00Z"},
        {
            "environment": "dev",
            "start": "2026-12-03T10:00:00Z",
            "end": "2026-12-03T11:00:00Z",
            "old_start": "2026-12-02T10:00:00Z",
            "old_end": "2026-12-02T12:00:00Z",
        },
        {"environment": "dev", "old_start": "2026-12-03T10:00:00Z", "old_end": "2026-12-03T11:00:00Z"},
    ]
    lines = board.ok("log", str(rid), tz="Europe/Berlin").stdout.splitlines()
    assert lines[-2].endswith("scheduled dev 2026-12-03 11:00 → 12:00 CET (was 2026-12-02 11:00 → 13:00 CET)")


def test_environment_edits_and_removals_are_logged(board: Run) -> None:
    board.ok("env", "edit", "staging", "--capacity", "3", "--approval", actor="admin")
    rid = add(board, "x", "1")
    board.ok("move", str(rid), "dev")
    assert "still has releases or windows" in refused(board("env", "remove", "dev", actor="admin"))
    board.ok("env", "remove", "preprod", actor="admin")
    assert [e["name"] for e in board.json("env", "list")] == ["dev", "test", "staging", "prod"]
    assert [e["position"] for e in board.json("env", "list")] == [1, 2, 3, 4]
    changed = next(e for e in board.json("log") if e["action"] == "env_changed")
    assert without_records(changed["details"]) == {
        "name": "staging",
        "changes": {"capacity": [2, 3], "requires_approval": [False, True]},
    }
    assert "nothing to change" in bad(board("env", "edit", "prod", actor="admin"))
    assert "unknown environment 'qa'" in bad(board("env", "edit", "qa", "--capacity", "2", actor="admin"))


# --- a tamper-evident log ----------------------------------------------------------------------------------------


def tamper(db: Path, *statements: str) -> None:
    """What someone with write access and the sqlite3 shell can do: drop the guard, rewrite, put it back."""
    conn = sqlite3.connect(db, isolation_level=None)
    guards = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'").fetchall()
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    for statement in statements:
        conn.execute(statement)
    for (sql,) in guards:
        conn.execute(sql)
    conn.close()


def test_log_verify_holds_on_an_honest_board(board: Run) -> None:
    rid = add(board, "ledger", "1.0")
    board.ok("move", str(rid), "dev")
    out = board.ok("log", "--verify").stdout
    assert out.startswith("log verified: ")
    report = board.json("log", "--verify")
    assert report["ok"] is True and report["broken_at"] is None and report["chained"] == report["events"]


@pytest.mark.sqlite_only("rewriting a file with the sqlite3 shell; a server refuses it: tests/test_pg_controls.py")
def test_a_rewritten_actor_is_caught_and_named(board: Run) -> None:
    rid = add(board, "ledger", "1.0", actor="bob")
    board.ok("approve", str(rid), actor="carol")
    board.ok("move", str(rid), "dev")
    approval = board.json("log", str(rid))[1]["seq"]
    tamper(board.path, f"UPDATE events SET actor = 'dave' WHERE seq = {approval}")
    result = board("log", "--verify")
    line = refused(result)
    assert f"event #{approval} does not match its hash" in line
    assert board.json("log", str(rid))[1]["actor"] == "dave"  # the rewrite is there, and it is visible
    report = json.loads(board("log", "--verify", "--json").stdout)
    assert (report["ok"], report["broken_at"]) == (False, approval)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM events WHERE seq = 5",
        "UPDATE events SET reason = 'nothing to see' WHERE seq = 6",
        "UPDATE events SET \"at\" = '2026-01-01T00:00:00Z' WHERE seq = 4",
        "UPDATE events SET seq = 100 WHERE seq = 6",
        "UPDATE events SET hash = NULL WHERE seq = 7",
        "UPDATE settings SET value = 'another-board' WHERE key = 'board_id'",
    ],
)
@pytest.mark.sqlite_only("rewriting a file with the sqlite3 shell; a server refuses it: tests/test_pg_controls.py")
def test_other_rewrites_are_caught(board: Run, statement: str) -> None:
    rid = add(board, "ledger", "1.0", actor="bob")
    for stage in ("dev", "test"):
        board.ok("move", str(rid), stage, "--force", "--reason", "test")
    assert board.ok("log", "--verify").exit_code == 0
    tamper(board.path, statement)
    assert "event #" in refused(board("log", "--verify"))


def test_an_old_database_is_migrated_and_its_history_vouched_for(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    pre_chain_board(
        path,
        'INSERT INTO events (at, actor, release, action, "from", "to") VALUES '
        "('2026-11-01T11:00:00Z', 'bob', 1, 'moved', 'planned', 'dev')",
    )

    store = Store.open(path)
    try:
        events = store.events()
        assert [e.action for e in events] == ["created", "moved", "log_chain_started", "state_checkpoint"]
        assert events[-2].details["events_before"] == 2
        first = store.release(1)
        assert first is not None and first.created_by == "bob"
        assert chain.verify(store.board_id(), store.stored_events()).ok
    finally:
        store.close()
    tamper(path, "UPDATE events SET actor = 'mallory' WHERE seq = 1")  # rewrite history from before the chain
    store = Store.open(path)
    try:
        verdict = chain.verify(store.board_id(), store.stored_events())
    finally:
        store.close()
    assert (verdict.ok, verdict.broken_at) == (False, 1)
    assert "predates the chain and was changed" in verdict.problem


@pytest.mark.sqlite_only("rewriting a file with the sqlite3 shell; a server refuses it: tests/test_pg_controls.py")
def test_a_recomputed_chain_is_caught_by_what_this_account_verified_before(board: Run) -> None:
    """A careful forger rewrites an event and every hash after it; the chain alone then holds, but the
    hash this account saw at its last `log --verify` (kept outside the board) no longer matches."""
    rid = add(board, "ledger", "1.0", actor="bob")
    board.ok("approve", str(rid), actor="carol")
    assert board.ok("log", "--verify").exit_code == 0  # remembered: the latest seq and hash
    approval = board.json("log", str(rid))[-1]["seq"]
    board.ok("move", str(rid), "dev")

    store = Store.open(board.path, read_only=True)
    events, board_id = store.stored_events(), store.board_id()
    store.close()
    previous = chain.genesis(board_id)
    statements = []
    for event in events:
        if event.seq == approval:
            event = chain.StoredEvent(**{**{f: getattr(event, f) for f in event.__slots__}, "actor": "dave"})
        new_hash = chain.link(previous, event)
        statements.append(f"UPDATE events SET actor = '{event.actor}', hash = '{new_hash}' WHERE seq = {event.seq}")
        previous = new_hash
    tamper(board.path, *statements)
    store = Store.open(board.path, read_only=True)
    assert chain.verify(store.board_id(), store.stored_events()).ok  # the chain alone is fooled ...
    store.close()
    line = refused(board("log", "--verify"))  # ... the witness is not
    assert f"event #{approval} no longer has the hash you verified at" in line
    assert "rewritten and its chain recomputed" in line


@pytest.mark.sqlite_only("rewriting a file with the sqlite3 shell; a server refuses it: tests/test_pg_controls.py")
def test_a_log_cut_short_after_it_was_verified_is_caught(board: Run) -> None:
    rid = add(board, "ledger", "1.0")
    board.ok("move", str(rid), "dev")
    last = board.json("log")[-1]["seq"]
    assert board.ok("log", "--verify").exit_code == 0
    tamper(board.path, f"DELETE FROM events WHERE seq = {last}")
    assert f"event #{last}, which you verified at" in refused(board("log", "--verify"))
