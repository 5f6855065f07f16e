"""Controls the PostgreSQL server enforces, tried the way a person with psql would: a real login role in
``relman_operator`` (or ``relman_reader``) on a connection of its own, writing SQL, no relman in between."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from backends import PgBackend
from conftest import NOW

from relman_tui import chain
from relman_tui.service import Service
from relman_tui.timeutil import FixedClock, to_stamp

psycopg = pytest.importorskip("psycopg")

Psql = Callable[[str], Any]


@pytest.fixture
def pg(pg_cluster: Any) -> Iterator[PgBackend]:
    backend = PgBackend(pg_cluster)
    backend.make("pipeline")
    yield backend
    backend.close()


@pytest.fixture
def psql(pg: PgBackend) -> Iterator[Psql]:
    """``psql("alice")``: a session as the login role alice, as the psql shell would open it."""
    opened: list[Any] = []

    def session(role: str) -> Any:
        pg.account(role)
        conn = psycopg.connect(pg.url(role), autocommit=True)
        conn.execute("SET search_path = relman")
        opened.append(conn)
        return conn

    yield session
    for conn in opened:
        conn.close()


def as_person(pg: PgBackend, name: str) -> Service:
    return Service(pg.open(name), FixedClock(NOW), name)


def refused(conn: Any, statement: str, *params: Any) -> str:
    """Run ``statement``; it must fail with "insufficient privilege" (a grant or a control). The message."""
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(statement, params or None)
    assert caught.value.sqlstate == "42501", (statement, caught.value.sqlstate, str(caught.value))
    return str(caught.value.diag.message_primary)


def release_by_bob(pg: PgBackend) -> int:
    return as_person(pg, "bob").add_release("payments-api", "2.4.1").id


# --- the audit log ----------------------------------------------------------------------------------------------


def test_an_operator_cannot_update_delete_or_truncate_the_log(pg: PgBackend, psql: Psql) -> None:
    release_by_bob(pg)
    alice = psql("alice")
    before = pg.query("SELECT * FROM events ORDER BY seq")
    assert "permission denied for table events" in refused(alice, "UPDATE events SET actor = 'mallory'")
    assert "permission denied for table events" in refused(alice, "DELETE FROM events")
    assert "permission denied for table events" in refused(alice, "TRUNCATE events")
    assert pg.query("SELECT * FROM events ORDER BY seq") == before


def test_not_even_the_admin_role_can_rewrite_the_log_through_sql(pg: PgBackend, psql: Psql) -> None:
    """The triggers hold for the table's owner too (only dropping them would not, and leaves a trace in DDL)."""
    release_by_bob(pg)
    admin = psql("admin")
    assert "append-only" in refused(admin, "UPDATE events SET actor = 'mallory'")
    assert "append-only" in refused(admin, "DELETE FROM events")
    assert "append-only" in refused(admin, "TRUNCATE events")


def test_an_operator_cannot_drop_or_disable_a_trigger(pg: PgBackend, psql: Psql) -> None:
    alice = psql("alice")
    assert "must be owner" in refused(alice, "DROP TRIGGER events_no_update ON events")
    assert "must be owner" in refused(alice, "DROP TRIGGER releases_guard ON releases")
    assert "must be owner" in refused(alice, "ALTER TABLE events DISABLE TRIGGER ALL")
    assert "must be owner" in refused(alice, "DROP FUNCTION releases_guard() CASCADE")
    refused(alice, "SET session_replication_role = replica")  # the switch that would skip every trigger
    refused(alice, "CREATE FUNCTION link(previous text, e events) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$")
    assert (
        pg.query("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'relman.events'::regclass AND NOT tgisinternal")[0][0]
        == 5
    )


def test_an_operator_cannot_log_as_someone_else_or_choose_seq_and_hash(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    alice = psql("alice")
    said = refused(
        alice, "INSERT INTO events (at, actor, release, action) VALUES (%s, 'bob', %s, 'approved')", to_stamp(NOW), rid
    )
    assert "actor is the role the server authenticated (alice), not bob" in said
    assert "may not act for others" in refused(
        alice,
        "INSERT INTO events (at, actor, via, release, action) VALUES (%s, 'carol', 'alice', %s, 'approved')",
        to_stamp(NOW),
        rid,
    )
    # as herself she may log, but the server picks the seq and computes the hash: the chain holds
    seq, digest = alice.execute(
        "INSERT INTO events (seq, at, actor, release, action, hash) VALUES (1000, %s, 'alice', %s, 'noted', 'f00') "
        "RETURNING seq, hash",
        (to_stamp(NOW), rid),
    ).fetchone()
    assert seq == 2 and digest != "f00"
    store = pg.open("alice")
    try:
        assert chain.verify(store.board_id(), store.stored_events()).ok
    finally:
        store.close()


def test_copy_mode_is_for_the_admin_role_only(pg: PgBackend, psql: Psql) -> None:
    alice = psql("alice")
    alice.execute("SELECT set_config('relman.copy', 'on', false)")
    said = refused(
        alice, "INSERT INTO events (seq, at, actor, action, hash) VALUES (7, %s, 'mallory', 'x', NULL)", to_stamp(NOW)
    )
    assert "only the board's admin role may copy a board in" in said


# --- four-eyes, revisions, break-glass --------------------------------------------------------------------------


def test_an_operator_cannot_approve_its_own_release_through_sql(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    bob = psql("bob")
    said = refused(
        bob,
        "UPDATE releases SET approved_by = 'bob', approved_at = %s, rev = rev + 1 WHERE id = %s",
        to_stamp(NOW),
        rid,
    )
    assert "four-eyes rule: bob may not approve release" in said
    said = refused(
        bob,
        "UPDATE releases SET approved_by = 'BOB', approved_at = %s, rev = rev + 1 WHERE id = %s",
        to_stamp(NOW),
        rid,
    )
    assert "four-eyes rule" in said  # case does not make another person
    said = refused(
        bob,
        "UPDATE releases SET approved_by = 'carol', approved_at = %s, rev = rev + 1 WHERE id = %s",
        to_stamp(NOW),
        rid,
    )
    assert "approval is given by the role the server authenticated (bob), not carol" in said
    assert pg.query("SELECT approved_by, rev FROM releases WHERE id = ?", rid) == [(None, 1)]
    # carol may, and her approval is hers
    psql("carol").execute(
        "UPDATE releases SET approved_by = 'carol', approved_at = %s, rev = rev + 1 WHERE id = %s", (to_stamp(NOW), rid)
    )
    assert pg.query("SELECT approved_by, rev FROM releases WHERE id = ?", rid) == [("carol", 2)]


def test_a_release_created_for_someone_else_is_still_its_creators(pg: PgBackend, psql: Psql) -> None:
    alice = psql("alice")
    row = ("ledger", "1.0", '["ledger"]', "bob", "low", "planned", "pending", "", to_stamp(NOW), to_stamp(NOW))
    said = refused(
        alice,
        "INSERT INTO releases (name, version, components, owner, risk, stage, state, notes, "
        "created_at, updated_at, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'bob')",
        *row,
    )
    assert "created by the role the server authenticated (alice), not bob" in said
    rid = alice.execute(
        "INSERT INTO releases (name, version, components, owner, risk, stage, state, notes, "
        "created_at, updated_at, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'alice') "
        "RETURNING id",
        row,
    ).fetchone()[0]
    assert "four-eyes rule: alice may not approve" in refused(
        alice,
        "UPDATE releases SET approved_by = 'alice', approved_at = %s, rev = rev + 1 WHERE id = %s",
        to_stamp(NOW),
        rid,
    )
    said = refused(alice, "UPDATE releases SET created_by = 'carol', rev = rev + 1 WHERE id = %s", rid)
    assert "cannot be changed" in said


def test_four_eyes_off_is_the_admins_to_decide(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    bob = psql("bob")
    assert "permission denied for table settings" in refused(
        bob, "UPDATE settings SET value = 'false' WHERE key = 'four_eyes'"
    )
    assert "permission denied for table settings" in refused(
        bob, "INSERT INTO settings (key, value) VALUES ('delegates', '[\"bob\"]')"
    )
    assert pg.query("SELECT value FROM settings WHERE key = 'four_eyes'") == [("true",)]
    psql("admin").execute("UPDATE settings SET value = 'false' WHERE key = 'four_eyes'")
    bob.execute(
        "UPDATE releases SET approved_by = 'bob', approved_at = %s, rev = rev + 1 WHERE id = %s", (to_stamp(NOW), rid)
    )
    assert pg.query("SELECT approved_by FROM releases WHERE id = ?", rid) == [("bob",)]


def test_an_update_must_raise_the_revision_by_exactly_one(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    alice = psql("alice")
    for statement in (
        "UPDATE releases SET notes = 'sneaky' WHERE id = %s",
        "UPDATE releases SET notes = 'sneaky', rev = rev + 2 WHERE id = %s",
        "UPDATE releases SET notes = 'sneaky', rev = 1 WHERE id = %s",
    ):
        assert "raises its revision by one" in refused(alice, statement, rid)
    alice.execute("UPDATE releases SET notes = 'seen', rev = rev + 1 WHERE id = %s", (rid,))
    assert pg.query("SELECT notes, rev FROM releases WHERE id = ?", rid) == [("seen", 2)]


def test_changing_what_was_approved_must_withdraw_the_approval(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    as_person(pg, "carol").approve(rid)
    bob = psql("bob")
    for change in ("version = '2.4.2'", "name = 'payments'", "owner = 'dave'", "components = '[\"x\"]'"):
        assert "withdraws its approval" in refused(
            bob, f"UPDATE releases SET {change}, rev = rev + 1 WHERE id = %s", rid
        )
    bob.execute("UPDATE releases SET notes = 'still approved', rev = rev + 1 WHERE id = %s", (rid,))
    bob.execute(
        "UPDATE releases SET version = '2.4.2', approved_by = NULL, approved_at = NULL, rev = rev + 1 WHERE id = %s",
        (rid,),
    )
    assert pg.query("SELECT version, approved_by FROM releases WHERE id = ?", rid) == [("2.4.2", None)]


def test_entering_prod_without_approval_carries_the_mark_and_only_an_approval_clears_it(
    pg: PgBackend, psql: Psql
) -> None:
    rid = release_by_bob(pg)
    bob = psql("bob")
    assert "must carry the unapproved mark" in refused(
        bob, "UPDATE releases SET stage = 'prod', state = 'deployed', rev = rev + 1 WHERE id = %s", rid
    )
    bob.execute(
        "UPDATE releases SET stage = 'prod', state = 'deployed', unapproved = true, rev = rev + 1 WHERE id = %s", (rid,)
    )
    assert "cleared by an approval only" in refused(
        bob, "UPDATE releases SET unapproved = false, rev = rev + 1 WHERE id = %s", rid
    )
    psql("carol").execute(
        "UPDATE releases SET unapproved = false, approved_by = 'carol', approved_at = %s, rev = rev + 1 WHERE id = %s",
        (to_stamp(NOW), rid),
    )
    assert pg.query("SELECT stage, unapproved, approved_by FROM releases WHERE id = ?", rid) == [
        ("prod", False, "carol")
    ]


def test_a_release_is_born_planned_and_never_deleted(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    alice = psql("alice")
    said = refused(
        alice,
        "INSERT INTO releases (name, version, components, owner, risk, stage, state, notes, "
        "created_at, updated_at, created_by, unapproved) VALUES ('x', '1', '[\"x\"]', 'alice', 'low', "
        "'prod', 'deployed', '', %s, %s, 'alice', true)",
        to_stamp(NOW),
        to_stamp(NOW),
    )
    assert "starts planned" in said
    assert "permission denied for table releases" in refused(alice, "DELETE FROM releases WHERE id = %s", rid)
    assert "never deleted" in refused(psql("admin"), "DELETE FROM releases WHERE id = %s", rid)


# --- what each role may do ----------------------------------------------------------------------------------


def test_environments_are_the_admins_and_freezes_the_operators(pg: PgBackend, psql: Psql) -> None:
    alice = psql("alice")
    assert "permission denied for table environments" in refused(
        alice, "UPDATE environments SET requires_approval = false WHERE name = 'prod'"
    )
    assert "permission denied for table environments" in refused(alice, "DELETE FROM environments")
    fid = alice.execute(
        'INSERT INTO freezes (environments, reason, start, "end") VALUES '
        "('[\"prod\"]', 'incident', '2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z') RETURNING id"
    ).fetchone()[0]
    alice.execute("DELETE FROM freezes WHERE id = %s", (fid,))
    assert "permission denied for table freezes" in refused(alice, "UPDATE freezes SET reason = 'x'")


def test_a_reader_reads_and_writes_nothing(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    pg.account("wallboard")
    reader = psql("wallboard")
    assert reader.execute("SELECT name FROM releases").fetchall() == [("payments-api",)]
    refused(reader, "INSERT INTO events (at, actor, action) VALUES (%s, 'wallboard', 'noted')", to_stamp(NOW))
    refused(reader, "UPDATE releases SET notes = 'x', rev = rev + 1 WHERE id = %s", rid)
    refused(
        reader,
        "INSERT INTO freezes (environments, reason, cron, duration, zone) VALUES "
        "('[\"all\"]', 'x', '0 0 * * *', 60, 'UTC')",
    )


def test_a_role_outside_both_groups_sees_nothing(pg: PgBackend, pg_cluster: Any) -> None:
    pg_cluster.sql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stranger') THEN "
        "CREATE ROLE stranger LOGIN; END IF; END $$"
    )
    conn = psycopg.connect(pg.url("stranger"), autocommit=True)
    try:
        refused(conn, "SELECT * FROM relman.events")
    finally:
        conn.close()
