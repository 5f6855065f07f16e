"""Controls the PostgreSQL server enforces, tried the way a person with psql would: a real login role in
``relman_operator`` (or ``relman_reader``) on a connection of its own, writing SQL, no relman in between."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from backends import PgBackend
from conftest import NOW

from relman_tui import chain
from relman_tui.service import Service
from relman_tui.store.pg_functions import OPERATOR_FUNCTIONS, RUNNER_FUNCTIONS
from relman_tui.timeutil import FixedClock, to_stamp

psycopg = pytest.importorskip("psycopg")

Psql = Callable[[str], Any]


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


CHANGE = "SELECT relman.release_event(%s::jsonb)"


def event_json(action: str, *, actor: str | None = None, details: dict[str, Any] | None = None, **fields: Any) -> str:
    """An event as psql would hand it to a write function."""
    event = {"action": action, "actor": actor, "at": to_stamp(NOW), "details": details} | fields
    return json.dumps(event)


def release_event(
    pg: PgBackend,
    rid: int,
    action: str,
    *,
    actor: str | None = None,
    via: str | None = None,
    frm: str | None = None,
    to: str | None = None,
    forced: bool = False,
    reason: str | None = None,
    **changes: Any,
) -> str:
    """A release event carrying the release as stored with ``changes`` and the next revision."""
    (record,) = pg.query("SELECT to_jsonb(r) FROM releases r WHERE id = ?", rid)[0]
    record["components"] = json.loads(record["components"])
    record = record | {"rev": record["rev"] + 1} | changes
    return event_json(
        action,
        actor=actor,
        via=via,
        release=rid,
        forced=forced,
        reason=reason,
        details={"release": record},
        **{"from": frm, "to": to},
    )


def new_release(rid: int, **changes: Any) -> str:
    record = {
        "id": rid,
        "name": "ledger",
        "version": "1.0",
        "components": ["ledger"],
        "owner": "alice",
        "risk": "low",
        "stage": "planned",
        "state": "pending",
        "approved_by": None,
        "approved_at": None,
        "unapproved": False,
        "notes": "",
        "created_at": to_stamp(NOW),
        "created_by": "alice",
        "updated_at": to_stamp(NOW),
        "rev": 1,
    } | changes
    return event_json("created", release=rid, to="planned", details={"release": record})


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


def test_an_operator_cannot_drop_or_disable_a_trigger_or_a_function(pg: PgBackend, psql: Psql) -> None:
    alice = psql("alice")
    assert "must be owner" in refused(alice, "DROP TRIGGER events_no_update ON events")
    assert "must be owner" in refused(alice, "ALTER TABLE events DISABLE TRIGGER ALL")
    assert "must be owner" in refused(alice, "DROP FUNCTION relman.release_event(jsonb)")
    assert "must be owner" in refused(alice, "ALTER FUNCTION relman.release_event(jsonb) SECURITY INVOKER")
    assert "must be owner" in refused(alice, "ALTER FUNCTION relman.release_event(jsonb) RESET search_path")
    refused(alice, "SET session_replication_role = replica")  # the switch that would skip every trigger
    refused(alice, "CREATE FUNCTION relman.link(previous text, e events) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$")
    assert (
        pg.query("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'relman.events'::regclass AND NOT tgisinternal")[0][0]
        == 4
    )


def test_operators_may_call_exactly_the_write_functions_and_the_runner_its_own(pg: PgBackend) -> None:
    """EXECUTE is revoked from PUBLIC on every function; each group role has the ones it needs, no more; each
    write function is SECURITY DEFINER with pg_temp last on its search_path."""
    granted = {
        role: {
            str(name)
            for (name,) in pg.query(
                "SELECT 'relman.' || p.oid::regprocedure::text FROM pg_proc p "
                "WHERE p.pronamespace = 'relman'::regnamespace AND has_function_privilege(?, p.oid, 'EXECUTE')",
                role,
            )
        }
        for role in ("public", "relman_operator", "relman_reader", "relman_runner")
    }
    assert granted["public"] == set()
    assert granted["relman_operator"] == set(OPERATOR_FUNCTIONS)
    assert granted["relman_runner"] == set(RUNNER_FUNCTIONS)
    assert granted["relman_reader"] == {"relman.lock_holders()", "relman.is_admin()"}
    definers = pg.query(
        "SELECT p.proname, p.prosecdef, p.proconfig FROM pg_proc p WHERE p.pronamespace = 'relman'::regnamespace "
        "AND p.proname IN ('release_event', 'freeze_event', 'admin_event', 'runner_event', 'runner_lock')"
    )
    assert len(definers) == 5
    for name, secdef, config in definers:
        assert secdef and config == ["search_path=pg_catalog, relman, pg_temp"], name


def test_an_operator_cannot_log_as_someone_else_or_choose_seq_and_hash(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    alice = psql("alice")
    said = refused(alice, CHANGE, release_event(pg, rid, "cancelled", actor="bob", state="cancelled"))
    assert "actor is the role the server authenticated (alice)" in said and "not bob" in said
    assert "may not act for others" in refused(
        alice, CHANGE, release_event(pg, rid, "cancelled", actor="carol", via="alice", state="cancelled")
    )
    assert "only an admin of the board" in refused(
        alice, "SELECT relman.admin_event(%s::jsonb, '[]'::jsonb)", event_json("noted", actor="alice")
    )
    # as herself she may, and the server picks the seq and computes the hash: nothing in the call says them
    event = json.loads(release_event(pg, rid, "edited", notes="seen"))
    event |= {"seq": 1000, "hash": "f00"}
    (seq,) = alice.execute(CHANGE, (json.dumps(event),)).fetchone()
    assert seq == 2 and pg.query("SELECT hash FROM events WHERE seq = 2")[0][0] != "f00"
    store = pg.open("alice")
    try:
        assert chain.verify(store.board_id(), store.stored_events()).ok
    finally:
        store.close()


def test_the_event_and_its_effect_cannot_disagree(pg: PgBackend, psql: Psql) -> None:
    """The effect is the record the event carries: an event about one release cannot change another, a
    move says where it goes, and only an edit changes what a release is."""
    rid = release_by_bob(pg)
    other = release_by_bob(pg)
    bob = psql("bob")
    event = json.loads(release_event(pg, rid, "edited", notes="x"))
    event["release"] = other
    assert "is about release #2 but carries release #1" in refused(bob, CHANGE, json.dumps(event))
    said = refused(
        bob, CHANGE, release_event(pg, rid, "moved", frm="planned", to="prod", stage="dev", state="deployed")
    )
    assert "the event says planned to prod, the release goes planned to dev" in said
    assert "only an edit changes what release #1 is" in refused(
        bob, CHANGE, release_event(pg, rid, "cancelled", state="cancelled", version="9.9")
    )
    assert "only a move changes the stage" in refused(bob, CHANGE, release_event(pg, rid, "verified", stage="prod"))
    assert pg.query("SELECT count(*) FROM events")[0][0] == 2


def test_an_operator_cannot_approve_its_own_release_through_sql(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    bob = psql("bob")
    assert "four-eyes rule: bob may not approve release #1" in refused(
        bob, CHANGE, release_event(pg, rid, "approved", approved_by="bob")
    )
    assert "four-eyes rule" in refused(bob, CHANGE, release_event(pg, rid, "approved", approved_by="BOB"))
    said = refused(bob, CHANGE, release_event(pg, rid, "approved", approved_by="carol"))
    assert "an approval is given by the one who acts (bob), not carol" in said
    assert pg.query("SELECT approved_by, rev FROM releases WHERE id = ?", rid) == [(None, 1)]
    psql("carol").execute(CHANGE, (release_event(pg, rid, "approved", approved_by="carol"),))
    assert pg.query("SELECT approved_by, approved_at, rev FROM releases WHERE id = ?", rid) == [
        ("carol", to_stamp(NOW), 2)
    ]


def test_a_delegate_cannot_approve_its_own_release_by_naming_someone_else(pg: PgBackend, psql: Psql) -> None:
    """Four-eyes holds the delegate account too (issue 18, item 8): `--as carol approve` by bob's own CI."""
    psql("admin").execute(
        "SELECT relman.admin_event(NULL, %s::jsonb)",
        (json.dumps([{"op": "setting", "key": "delegates", "value": '["bob"]'}]),),
    )
    rid = release_by_bob(pg)
    bob = psql("bob")
    said = refused(bob, CHANGE, release_event(pg, rid, "approved", actor="carol", via="bob", approved_by="carol"))
    assert "four-eyes rule: bob may not approve release #1" in said and "not even by naming carol" in said
    assert pg.query("SELECT approved_by FROM releases WHERE id = ?", rid) == [(None,)]


def test_a_release_created_for_someone_else_is_still_its_creators(pg: PgBackend, psql: Psql) -> None:
    alice = psql("alice")
    (rid,) = alice.execute("SELECT relman.reserve_id('release')").fetchone()
    said = refused(alice, CHANGE, new_release(rid, created_by="bob", owner="bob"))
    assert "a release is created by the one who acts (alice), not bob" in said
    alice.execute(CHANGE, (new_release(rid, created_by="alice", owner="bob"),))
    assert "four-eyes rule: alice may not approve" in refused(
        alice, CHANGE, release_event(pg, rid, "approved", approved_by="alice")
    )
    said = refused(alice, CHANGE, release_event(pg, rid, "edited", created_by="carol"))
    assert "cannot be changed" in said


def test_four_eyes_off_is_the_admins_to_decide(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    bob = psql("bob")
    off = json.dumps([{"op": "setting", "key": "four_eyes", "value": "false"}])
    assert "only an admin of the board may change the board's settings: bob is not one" in refused(
        bob, "SELECT relman.admin_event(NULL, %s::jsonb)", off
    )
    assert "permission denied for table settings" in refused(
        bob, "UPDATE settings SET value = 'false' WHERE key = 'four_eyes'"
    )
    assert pg.query("SELECT value FROM settings WHERE key = 'four_eyes'") == [("true",)]
    psql("admin").execute("SELECT relman.admin_event(NULL, %s::jsonb)", (off,))
    bob.execute(CHANGE, (release_event(pg, rid, "approved", approved_by="bob"),))
    assert pg.query("SELECT approved_by FROM releases WHERE id = ?", rid) == [("bob",)]


def test_a_change_must_raise_the_revision_by_exactly_one(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    alice = psql("alice")
    for rev in (1, 3):
        event = json.loads(release_event(pg, rid, "edited", notes="sneaky"))
        event["details"]["release"]["rev"] = rev
        with pytest.raises(psycopg.Error) as caught:
            alice.execute(CHANGE, (json.dumps(event),))
        assert caught.value.sqlstate == "RM409" and "changed since it was read" in str(caught.value)
    alice.execute(CHANGE, (release_event(pg, rid, "edited", notes="seen"),))
    assert pg.query("SELECT notes, rev FROM releases WHERE id = ?", rid) == [("seen", 2)]


def test_changing_what_was_approved_must_withdraw_the_approval(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    as_person(pg, "carol").approve(rid)
    bob = psql("bob")
    for change in ({"version": "2.4.2"}, {"name": "payments"}, {"owner": "dave"}, {"components": ["x"]}):
        assert "withdraws its approval" in refused(bob, CHANGE, release_event(pg, rid, "edited", **change))
    bob.execute(CHANGE, (release_event(pg, rid, "edited", notes="still approved"),))
    bob.execute(CHANGE, (release_event(pg, rid, "edited", version="2.4.2", approved_by=None, approved_at=None),))
    assert pg.query("SELECT version, approved_by FROM releases WHERE id = ?", rid) == [("2.4.2", None)]


def test_entering_prod_without_approval_carries_the_mark_and_only_an_approval_clears_it(
    pg: PgBackend, psql: Psql
) -> None:
    rid = release_by_bob(pg)
    bob = psql("bob")
    into_prod: dict[str, Any] = {"frm": "planned", "to": "prod", "stage": "prod", "state": "deployed"}
    assert "skips a stage" in refused(bob, CHANGE, release_event(pg, rid, "moved", unapproved=True, **into_prod))
    said = refused(bob, CHANGE, release_event(pg, rid, "moved", forced=True, reason="hotfix", **into_prod))
    assert "the unapproved mark must say so (break-glass)" in said
    bob.execute(CHANGE, (release_event(pg, rid, "moved", forced=True, reason="hotfix", unapproved=True, **into_prod),))
    assert "the unapproved mark on release #1 is set by a move and cleared by an approval" in refused(
        bob, CHANGE, release_event(pg, rid, "edited", unapproved=False)
    )
    psql("carol").execute(
        CHANGE, (release_event(pg, rid, "approved", approved_by="carol", approved_at=None, unapproved=False),)
    )
    assert pg.query("SELECT stage, unapproved, approved_by FROM releases WHERE id = ?", rid) == [
        ("prod", False, "carol")
    ]


def test_the_server_keeps_stage_order_and_verification_unless_forced(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    bob = psql("bob")
    bob.execute(CHANGE, (release_event(pg, rid, "moved", frm="planned", to="dev", stage="dev", state="deployed"),))
    to_test: dict[str, Any] = {"frm": "dev", "to": "test", "stage": "test", "state": "deployed"}
    assert "is deployed in dev, not verified" in refused(bob, CHANGE, release_event(pg, rid, "moved", **to_test))
    assert "a forced move needs a reason" in refused(
        bob, CHANGE, release_event(pg, rid, "moved", forced=True, **to_test)
    )
    bob.execute(CHANGE, (release_event(pg, rid, "moved", forced=True, reason="smoke-tested by hand", **to_test),))
    assert pg.query("SELECT stage FROM releases") == [("test",)]
    assert pg.query("SELECT forced, reason FROM events WHERE seq = 3") == [(True, "smoke-tested by hand")]


def test_a_release_is_born_planned_and_never_deleted(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    alice = psql("alice")
    (new_id,) = alice.execute("SELECT relman.reserve_id('release')").fetchone()
    said = refused(alice, CHANGE, new_release(new_id, stage="prod", state="deployed", unapproved=True))
    assert "starts planned" in said
    assert "takes an id the server reserved" in refused(alice, CHANGE, new_release(new_id + 1000))
    assert "permission denied for table releases" in refused(alice, "DELETE FROM releases WHERE id = %s", rid)


# --- what each role may do ----------------------------------------------------------------------------------


def test_environments_are_the_admins_and_freezes_the_operators(pg: PgBackend, psql: Psql) -> None:
    alice = psql("alice")
    assert "permission denied for table environments" in refused(
        alice, "UPDATE environments SET requires_approval = false WHERE name = 'prod'"
    )
    lax = [{"name": "prod", "title": "Prod", "position": 4, "capacity": 1, "requires_approval": False}]
    assert "only an admin of the board may change environments: alice is not one" in refused(
        alice, "SELECT relman.admin_event(NULL, %s::jsonb)", json.dumps([{"op": "environments", "list": lax}])
    )
    (fid,) = alice.execute("SELECT relman.reserve_id('freeze')").fetchone()
    freeze = {"id": fid, "environments": ["prod"], "reason": "incident", "start": "2026-12-01T00:00:00Z"}
    freeze["end"] = "2026-12-02T00:00:00Z"
    alice.execute("SELECT relman.freeze_event(%s::jsonb)", (event_json("freeze_added", details={"freeze": freeze}),))
    alice.execute("SELECT relman.freeze_event(%s::jsonb)", (event_json("freeze_removed", details={"freeze": freeze}),))
    assert "permission denied for table freezes" in refused(alice, "UPDATE freezes SET reason = 'x'")
    assert [a for (a,) in pg.query("SELECT action FROM events ORDER BY seq")] == ["freeze_added", "freeze_removed"]


def test_a_reader_reads_and_writes_nothing(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    pg.account("wallboard")
    reader = psql("wallboard")
    assert reader.execute("SELECT name FROM releases").fetchall() == [("payments-api",)]
    refused(reader, "INSERT INTO events (at, actor, action) VALUES (%s, 'wallboard', 'noted')", to_stamp(NOW))
    refused(reader, "UPDATE releases SET notes = 'x', rev = rev + 1 WHERE id = %s", rid)
    assert "permission denied for function release_event" in refused(
        reader, CHANGE, release_event(pg, rid, "edited", notes="x")
    )
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


def test_the_server_lets_an_unapproved_release_into_prod_only_forced_and_marked(pg: PgBackend, psql: Psql) -> None:
    rid = release_by_bob(pg)
    bob = as_person(pg, "bob")
    for stage in ("dev", "test", "staging", "preprod"):
        bob.move(rid, stage)
        bob.verify(rid)
    into_prod: dict[str, Any] = {"frm": "preprod", "to": "prod", "stage": "prod", "state": "deployed"}
    said = refused(psql("bob"), CHANGE, release_event(pg, rid, "moved", unapproved=True, **into_prod))
    assert "prod requires approval and release #1 is not approved (or force it with a reason)" in said
    assert pg.query("SELECT stage FROM releases") == [("preprod",)]


def test_what_every_board_reads_is_checked_before_it_is_stored(pg: PgBackend, psql: Psql) -> None:
    """A freeze or window a board could not read (a bad time, a cron of one field, an unknown zone or
    environment, a span past the limits) is refused, not stored for every board to trip over."""
    rid = release_by_bob(pg)
    alice = psql("alice")
    (fid,) = alice.execute("SELECT relman.reserve_id('freeze')").fetchone()
    one_off = {"id": fid, "environments": ["prod"], "reason": "x"}
    for bad, said in (
        (one_off | {"start": "garbage", "end": "2026-12-02T00:00:00Z"}, "a time is stored as YYYY-MM-DDTHH:MM:SSZ"),
        (one_off | {"start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"}, "a freeze runs from before"),
        (one_off | {"start": "2026-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z"}, "a freeze runs from before"),
        (
            one_off | {"environments": ["nowhere"], "start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"},
            "names environments of the pipeline",
        ),
        (one_off | {"cron": "never", "duration": 60, "zone": "UTC"}, "a cron of five fields"),
        (one_off | {"cron": "0 18 * * FRI", "duration": 60, "zone": "Mars/Olympus"}, "a cron of five fields"),
    ):
        event = event_json("freeze_added", details={"freeze": bad})
        assert said in refused(alice, "SELECT relman.freeze_event(%s::jsonb)", event), bad
    window = {"environment": "dev", "start": "2026-12-01T00:00:00Z", "end": "2027-12-01T00:00:00Z"}
    event = json.loads(release_event(pg, rid, "scheduled"))
    event["details"]["window"] = window
    assert "a window runs from before its end, for at most" in refused(alice, CHANGE, json.dumps(event))
    assert "within relman's limits" in refused(alice, CHANGE, release_event(pg, rid, "edited", name="x" * 500))
    said = refused(alice, CHANGE, release_event(pg, rid, "edited", components=["x" * 500]))
    assert "components are a list of names" in said
    assert pg.query("SELECT count(*) FROM freezes") == [(0,)] and pg.query("SELECT count(*) FROM windows") == [(0,)]
