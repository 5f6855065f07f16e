"""Issue 18 on a file board: the board is the replay of a verified log; admins, fixed-clock, four-eyes with via,
and a copy that verifies its source. Attacks are made as an attacker would: with sqlite3 on the file."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from conftest import Run, bad, pre_chain_board, refused

from relman_tui import chain
from relman_tui.store import stored_event

ACCOUNTS = ("bob", "alice", "newcomer")  # the attacker, another account that verified before, a fresh account


def verify(board: Run, account: str) -> Result:
    """`relman log --verify` as ``account``, with that account's own witness (its own state directory)."""
    state = board.home / "accounts" / account
    return board.raw("--db", str(board.db), "log", "--verify", env={"XDG_STATE_HOME": str(state)}, account=account)


def witnessed(board: Run) -> None:
    """The attacker and one other account verify the board before the attack (the newcomer never did)."""
    for account in ACCOUNTS[:2]:
        assert verify(board, account).exit_code == 0


def sql(path: Path, *statements: str) -> None:
    """Run statements on the board file with Python's sqlite3 module, as someone with write access can."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


def refused_for_everyone(board: Run, words: str | None = None) -> list[str]:
    lines = []
    for account in ACCOUNTS:
        result = verify(board, account)
        line = refused(result)
        if words is not None and account == "newcomer":
            assert words in line, line
        lines.append(line)
    return lines


def add(board: Run, name: str, actor: str = "bob", *args: str) -> int:
    return int(board.ok("release", "add", name, "1.0", *args, actor=actor).stdout)


# --- repro 4: rows changed with sqlite3 and no event ------------------------------------------------------------


def test_an_approval_and_a_stage_written_into_the_table_are_named(board: Run) -> None:
    rid = add(board, "ledger")
    witnessed(board)
    sql(board.path, f"UPDATE releases SET approved_by = 'carol', stage = 'prod', state = 'deployed' WHERE id = {rid}")
    lines = refused_for_everyone(board)
    assert all("the board does not match its log" in line for line in lines[1:])
    assert f"release {rid}: stage is prod in the table, planned in the log" in lines[2]


def test_an_approval_alone_is_named_with_its_field(board: Run) -> None:
    rid = add(board, "ledger")
    witnessed(board)
    sql(board.path, f"UPDATE releases SET approved_by = 'carol' WHERE id = {rid}")
    refused_for_everyone(board, f"release {rid}: approved_by is carol in the table, none in the log")


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE settings SET value = 'false' WHERE key = 'four_eyes'", "setting four_eyes: false in the table"),
        ("UPDATE environments SET requires_approval = 0 WHERE name = 'prod'", "environment prod: requires_approval"),
        (
            "INSERT OR REPLACE INTO settings (key, value) VALUES ('hooks', "
            """'[{"on": "moved", "run": ["sh", "-c", "id"], "timeout": 30, "environment": null, "added_seq": 1}]')""",
            "in the table, not in the log",
        ),
        ("INSERT OR REPLACE INTO settings (key, value) VALUES ('delegates', '[\"bob\"]')", "setting delegates"),
        ("DELETE FROM windows", "window of release 1 in dev: in the log, not in the table"),
    ],
)
def test_rules_changed_in_the_table_are_named(board: Run, statement: str, named: str) -> None:
    rid = add(board, "ledger")
    board.ok("schedule", str(rid), "dev", "2026-12-02T10:00", "--for", "2h")
    witnessed(board)
    sql(board.path, statement)
    refused_for_everyone(board, named)


# --- repro 5: a recomputed chain under a new board id, a stripped chain ------------------------------------------


def test_a_new_board_id_with_a_recomputed_chain_is_reported(board: Run) -> None:
    add(board, "ledger")
    witnessed(board)
    conn = sqlite3.connect(board.path, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE settings SET value = 'forged' WHERE key = 'board_id'")
    rows = conn.execute(
        'SELECT seq, at, actor, via, release, action, "from", "to", forced, reason, details, hash FROM events '
        "ORDER BY seq"
    ).fetchall()
    previous = chain.genesis("forged")
    for row in rows:
        event = stored_event(row)
        previous = chain.link(previous, event)
        conn.execute("UPDATE events SET hash = ? WHERE seq = ?", (previous, row[0]))
    conn.close()
    lines = refused_for_everyone(board)
    assert "the log was rewritten" in lines[0] and "the log was rewritten" in lines[1]
    assert "the board id is forged in the table" in lines[2]


def test_a_log_with_every_hash_stripped_fails(board: Run) -> None:
    add(board, "ledger")
    witnessed(board)
    sql(board.path, "DROP TRIGGER events_no_update", "UPDATE events SET hash = NULL")
    lines = refused_for_everyone(board)
    assert "event #1 has no hash" in lines[2]


def test_a_clean_board_verifies_and_says_it_replayed(board: Run) -> None:
    rid = add(board, "ledger")
    board.ok("move", str(rid), "dev")
    board.ok("schedule", str(rid), "test", "2026-12-02T10:00", "--for", "2h")
    board.ok("freeze", "add", "prod", "--start", "2026-12-01T00:00", "--end", "2026-12-02T00:00", "--reason", "x")
    board.ok("move", str(rid), "prod", "--force", "--reason", "hotfix")  # skips, unverified, frozen: forced
    board.ok("approve", str(rid), actor="carol")
    board.ok("env", "add", "dr", "--after", "test", actor="admin")  # shifts the positions after it
    board.ok("rollback", str(rid), "--reason", "bad", "--to", "dev")
    out = verify(board, "newcomer").stdout
    assert "the replay matches the board" in out
    assert "a fixed-clock board" in out  # the tests' boards are
    data = json.loads(board.ok("log", "--verify", "--json").stdout)
    assert (data["ok"], data["check"], data["fixed_clock"], data["replayed_from"]) == (True, None, True, 0)


def test_an_event_inserted_out_of_rules_is_named(board: Run) -> None:
    """A forged approval event and its effect, chained with relman's own code: the rule names it."""
    rid = add(board, "ledger", "bob")
    conn = sqlite3.connect(board.path, isolation_level=None)
    last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    record = json.loads(conn.execute("SELECT details FROM events WHERE seq = ?", (last[0],)).fetchone()[0])["release"]
    record |= {"approved_by": "bob", "approved_at": "2026-12-01T10:00:00Z", "rev": record["rev"] + 1}
    event = chain.StoredEvent(
        last[0] + 1, "2026-12-01T10:00:00Z", "bob", None, rid, "approved", None, "planned", False, None,
        chain.details_text({"release": record}), None,
    )  # fmt: skip
    conn.execute(
        'INSERT INTO events (seq, at, actor, via, release, action, "from", "to", forced, reason, details, hash) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (event.seq, event.at, "bob", None, rid, "approved", None, "planned", 0, None, event.details,
         chain.link(last[1], event)),
    )  # fmt: skip
    conn.execute(f"UPDATE releases SET approved_by = 'bob', approved_at = '2026-12-01T10:00:00Z', rev = rev + 1 "
                 f"WHERE id = {rid}")  # fmt: skip
    conn.close()
    line = refused(verify(board, "newcomer"))
    assert "four-eyes rule: bob owns ledger 1.0" in line


# --- repro 6: $RELMAN_NOW is for reading --------------------------------------------------------------------------


def test_relman_now_cannot_date_a_write_on_a_real_clock_board(run: Run) -> None:
    real = {"RELMAN_NOW": None}
    run.raw("--db", str(run.db), "init", env=real)
    rid = int(run.raw("--db", str(run.db), "release", "add", "ledger", "1.0", env=real).stdout)
    before = run.dump()
    line = bad(run("move", str(rid), "dev"))  # run() sets RELMAN_NOW
    assert "$RELMAN_NOW is set" in line
    assert run.dump() == before
    assert run.json("settings")["fixed_clock"] is False
    # only an admin turns it on, and then it is logged
    assert "only the board's admins" in refused(run.raw("--db", str(run.db), "settings", "fixed-clock", "on",
                                                        env=real, account="bob"))  # fmt: skip
    run.raw("--db", str(run.db), "settings", "fixed-clock", "on", env=real)
    run.ok("move", str(rid), "dev")
    assert "fixed-clock board" in run.ok("log", "--verify").stdout


# --- repro 7: copy verifies its source ----------------------------------------------------------------------------


def test_copy_refuses_a_tampered_source_and_writes_nothing(board: Run, tmp_path: Path) -> None:
    rid = add(board, "ledger")
    sql(board.path, f"UPDATE releases SET approved_by = 'bob' WHERE id = {rid}")
    target = tmp_path / "copy.db"
    line = refused(board.raw("copy", str(board.path), str(target)))
    assert "does not verify" in line and "approved_by is bob in the table" in line
    assert not target.exists()


def test_a_copy_makes_the_copier_its_first_admin_and_verifies(board: Run, tmp_path: Path) -> None:
    add(board, "ledger")
    target = tmp_path / "copy.db"
    board.raw("copy", str(board.path), str(target), account="carol")
    assert board.json("settings", db=target)["admins"][0] == "carol"
    assert board.json("log", db=target)[-1]["action"] == "board_copied"
    board.ok("log", "--verify", db=target)


# --- repro 8: four-eyes with via, nobody grants themselves ---------------------------------------------------------


def test_a_delegate_cannot_approve_its_own_release_by_naming_someone_else(board: Run) -> None:
    board.ok("settings", "delegates", "add", "ci", actor="admin")
    rid = add(board, "ledger", "ci")
    before = board.dump()
    line = refused(board.raw("--db", str(board.db), "--as", "carol", "approve", str(rid), account="ci"))
    assert "four-eyes rule: ci (acting for carol) owns ledger 1.0" in line
    assert board.dump() == before
    board.ok("log", "--verify")


def test_nobody_adds_themselves_and_rules_are_for_admins(board: Run) -> None:
    before = board.dump()
    assert "only the board's admins" in refused(board("settings", "delegates", "add", "bob", actor="bob"))
    assert "only the board's admins" in refused(board("settings", "admins", "add", "bob", actor="bob"))
    assert "only the board's admins" in refused(board("settings", "four-eyes", "off", actor="bob"))
    assert "only the board's admins" in refused(board("env", "add", "qa", actor="bob"))
    assert "nobody adds themselves to delegates" in refused(
        board("settings", "delegates", "add", "admin", actor="admin")
    )
    assert board.dump() == before
    board.ok("settings", "admins", "add", "carol", actor="admin")
    assert board.ok("settings", "admins", "list").stdout.split() == ["alice", "admin", "carol"]
    assert "a board keeps at least one admin" in refused(
        board("settings", "admins", "remove", "alice", "admin", "carol", actor="carol")
    )
    board.ok("log", "--verify")


def test_a_delegate_acting_as_an_admin_is_not_an_admin(board: Run) -> None:
    board.ok("settings", "delegates", "add", "ci", actor="admin")
    line = refused(board.raw("--db", str(board.db), "--as", "admin", "settings", "four-eyes", "off", account="ci"))
    assert "ci is not one" in line


def test_the_creator_is_the_first_admin(run: Run) -> None:
    run.ok("init", actor="carol")
    assert run.json("settings")["admins"] == ["carol"]
    assert run.json("log")[0]["action"] == "board_created"


def test_the_top_bar_says_what_relman_now_does(tmp_path: Path) -> None:
    from conftest import NOW, new_store

    from relman_tui.service import Service
    from relman_tui.timeutil import FixedClock
    from relman_tui.tui.app import identity_line

    store = new_store(tmp_path / "b.db")  # a fixed-clock board
    try:
        pinned = Service(store, FixedClock(NOW, from_environment=True), "alice")
        assert identity_line(pinned).endswith(" · FIXED CLOCK")
        with store.write():
            store.set_setting("fixed_clock", "off")
        assert identity_line(pinned).endswith(" · $RELMAN_NOW: writes refused")
        assert "·" not in identity_line(Service(store, FixedClock(NOW), "alice"))
    finally:
        store.close()


# --- an old database: one honest checkpoint, then replay ----------------------------------------------------------


def test_an_old_database_gets_a_checkpoint_and_verifies_from_it(run: Run) -> None:
    path = run.path
    pre_chain_board(path)  # a board from before the chain
    real = {"RELMAN_NOW": None}
    out = run.raw("--db", str(path), "log", "--verify", env=real).stdout  # opening it upgrades it
    assert "replayed from the state checkpoint #3 (history before it is not replayable)" in out
    events = run.json("log")
    assert [e["action"] for e in events] == ["created", "log_chain_started", "state_checkpoint"]
    assert events[-1]["details"]["state"]["releases"][0]["stage"] == "dev"  # the state as it stood
    assert run.json("settings")["admins"]  # the file's owner
    sql(path, "UPDATE releases SET approved_by = 'mallory'")
    line = refused(run.raw("--db", str(path), "log", "--verify", env=real))
    assert "release 1: approved_by is mallory in the table, none in the log" in line


def test_a_deleted_migration_record_writes_no_second_checkpoint_over_a_tampered_table(run: Run) -> None:
    """Not in the issue: the checkpoint migration's row in sqlite-utils' table deleted by hand made the next
    relman run it again, and its new checkpoint vouched for rows changed behind the log's back."""
    path = run.path
    pre_chain_board(path)
    real = {"RELMAN_NOW": None}
    assert run.raw("--db", str(path), "log", "--verify", env=real).exit_code == 0  # upgraded: checkpoint #3
    admins = run.json("settings")["admins"]
    sql(
        path,
        "UPDATE releases SET approved_by = 'mallory'",
        "DELETE FROM _sqlite_migrations WHERE name = 'm006_state_checkpoint'",
    )
    line = refused(run.raw("--db", str(path), "log", "--verify", env=real))
    assert "release 1: approved_by is mallory in the table, none in the log" in line
    assert [e["action"] for e in run.json("log")].count("state_checkpoint") == 1
    assert run.json("settings")["admins"] == admins


def test_a_checkpoint_appended_over_a_tampered_table_is_named(run: Run) -> None:
    """Not in the issue: anyone who can write the file can append a chained checkpoint of tables they changed;
    replay checks a checkpoint after the one it starts from against the state the log replays to."""
    from relman_tui.service import Service
    from relman_tui.store import Store
    from relman_tui.timeutil import FixedClock

    path = run.path
    pre_chain_board(path)
    real = {"RELMAN_NOW": None}
    assert run.raw("--db", str(path), "log", "--verify", env=real).exit_code == 0  # upgraded: checkpoint #3
    rid = 1
    sql(path, f"UPDATE releases SET owner = 'mallory' WHERE id = {rid}")
    store = Store.open(path)
    try:
        with store.write():
            after = store.events()[-1].at + timedelta(minutes=1)  # dated in order: only the state is forged
            seq = Service(store, FixedClock(after), "mallory").checkpoint("nothing to see")
    finally:
        store.close()
    line = refused(run.raw("--db", str(path), "log", "--verify", env=real))
    assert (
        f"event #{seq} (state_checkpoint) does not hold the state the log replays to: "
        f"release {rid}: owner is mallory in the checkpoint, bob in the log"
    ) in line


def test_a_first_checkpoint_appended_to_a_board_init_made_is_named(board: Run) -> None:
    """The same on a board with no checkpoint yet: only a board from before replayable events, or a demo's
    made-up history, starts replay at a checkpoint; a board `init` made replays from its first event."""
    from relman_tui.service import Service
    from relman_tui.store import Store
    from relman_tui.timeutil import FixedClock

    rid = add(board, "ledger")
    sql(board.path, f"UPDATE releases SET owner = 'mallory' WHERE id = {rid}")
    store = Store.open(board.path)
    try:
        with store.write():
            after = store.events()[-1].at + timedelta(minutes=1)
            seq = Service(store, FixedClock(after), "mallory").checkpoint("nothing to see")
    finally:
        store.close()
    line = refused(board("log", "--verify"))
    assert (
        f"event #{seq} (state_checkpoint) does not hold the state the log replays to: "
        f"release {rid}: owner is mallory in the checkpoint, bob in the log"
    ) in line
