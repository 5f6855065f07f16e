"""Issue 18, items 1–3, as a hostile operator with psql would try them: a login role in ``relman_operator``
(mallory, not a hook runner) on a connection of its own, writing SQL, no relman in between."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import PgBackend
from conftest import NOW, Run
from test_pg_controls import CHANGE, refused, release_event

from relman_tui import chain
from relman_tui.service import Service
from relman_tui.store import open_store
from relman_tui.timeutil import FixedClock, to_stamp

psycopg = pytest.importorskip("psycopg")

Psql = Callable[..., Any]
OLD_LOCK_KEYS = (0x72656C6D616E, 0x72656C6D686B)  # the advisory keys the board and its runner used to take
TABLES = ("releases", "windows", "freezes", "events", "environments", "settings", "hook_cursor", "migrations", "locks")


@pytest.fixture
def psql(pg: PgBackend) -> Iterator[Psql]:
    """``psql("mallory")``: a session as that login role, as the psql shell opens it."""
    opened: list[Any] = []

    def session(role: str, application: str = "psql") -> Any:
        pg.account(role)
        conn = psycopg.connect(pg.url(role) + f"&application_name={application}", autocommit=True)
        opened.append(conn)
        return conn

    yield session
    for conn in opened:
        conn.close()


def person(pg: PgBackend, name: str) -> Service:
    return Service(pg.open(name), FixedClock(NOW), name)


def board_rows(pg: PgBackend) -> list[Any]:
    return [pg.query(f"SELECT * FROM {table} ORDER BY 1") for table in TABLES if table != "migrations"]


# --- item 1: a temporary table named like one of relman's, or pg_namespace, changes nothing -----------------


def test_a_temp_settings_table_does_not_turn_four_eyes_off(pg: PgBackend, psql: Psql) -> None:
    rid = person(pg, "mallory").add_release("payments-api", "2.4.1").id
    mallory = psql("mallory")
    mallory.execute("CREATE TEMP TABLE settings (key text PRIMARY KEY, value text)")
    mallory.execute("INSERT INTO settings VALUES ('four_eyes', 'false'), ('admins', '[\"mallory\"]')")
    mallory.execute("GRANT SELECT ON settings TO PUBLIC")
    before = board_rows(pg)
    assert "permission denied for table releases" in refused(
        mallory, "UPDATE relman.releases SET approved_by = 'mallory', rev = rev + 1 WHERE id = %s", rid
    )
    said = refused(mallory, CHANGE, release_event(pg, rid, "approved", approved_by="mallory"))
    assert "four-eyes rule: mallory may not approve release #1" in said
    assert "only an admin of the board" in refused(
        mallory,
        "SELECT relman.admin_event(NULL, %s::jsonb)",
        json.dumps([{"op": "setting", "key": "four_eyes", "value": "false"}]),
    )
    mallory.execute("SET search_path = pg_temp, relman, pg_catalog")  # her own session, as hostile as it gets
    assert "four-eyes rule" in refused(mallory, CHANGE, release_event(pg, rid, "approved", approved_by="mallory"))
    assert board_rows(pg) == before


def test_a_temp_environments_table_does_not_let_an_unapproved_release_into_prod_unmarked(
    pg: PgBackend, psql: Psql
) -> None:
    rid = person(pg, "mallory").add_release("payments-api", "2.4.1").id
    mallory = psql("mallory")
    mallory.execute(
        "CREATE TEMP TABLE environments (name text PRIMARY KEY, title text, position integer, capacity integer, "
        "requires_approval boolean)"
    )
    mallory.execute("INSERT INTO environments VALUES ('prod', 'Production', 1, 9, false)")
    mallory.execute("SET search_path = pg_temp, relman")
    before = board_rows(pg)
    into_prod: dict[str, Any] = {"frm": "planned", "to": "prod", "stage": "prod", "state": "deployed"}
    said = refused(mallory, CHANGE, release_event(pg, rid, "moved", forced=True, reason="because", **into_prod))
    assert "the unapproved mark must say so (break-glass)" in said
    assert "skips a stage" in refused(mallory, CHANGE, release_event(pg, rid, "moved", **into_prod))
    assert board_rows(pg) == before


def test_a_temp_pg_namespace_does_not_make_an_operator_an_admin(pg: PgBackend, psql: Psql) -> None:
    rid = person(pg, "bob").add_release("payments-api", "2.4.1").id
    mallory = psql("mallory")
    (me,) = mallory.execute("SELECT oid FROM pg_roles WHERE rolname = session_user").fetchone()
    mallory.execute("CREATE TEMP TABLE pg_namespace (oid oid, nspname name, nspowner oid)")
    mallory.execute("INSERT INTO pg_namespace VALUES (1, 'relman', %s)", (me,))
    mallory.execute("CREATE TEMP TABLE pg_roles (oid oid, rolname name)")
    mallory.execute("INSERT INTO pg_roles VALUES (%s, 'relman_admin')", (me,))
    mallory.execute("SET search_path = pg_temp, relman, pg_catalog")
    before = board_rows(pg)
    assert not mallory.execute("SELECT relman.is_admin()").fetchone()[0]
    assert "only an admin of the board" in refused(
        mallory,
        "SELECT relman.admin_event(%s::jsonb, '[]'::jsonb)",
        json.dumps({"action": "imported", "at": to_stamp(NOW)}),
    )
    said = refused(
        mallory, CHANGE, release_event(pg, rid, "approved", actor="carol", via="mallory", approved_by="carol")
    )
    assert "mallory may not act for others" in said
    assert board_rows(pg) == before


def test_a_temp_events_table_does_not_break_the_chain(pg: PgBackend, psql: Psql) -> None:
    rid = person(pg, "bob").add_release("payments-api", "2.4.1").id
    mallory = psql("mallory")
    mallory.execute("CREATE TEMP TABLE events (seq bigint, at text, hash text)")
    mallory.execute("INSERT INTO events VALUES (999999, '9999-12-31T00:00:00Z', 'bad')")
    mallory.execute("SET search_path = pg_temp, relman, pg_catalog")
    (seq,) = mallory.execute(CHANGE, (release_event(pg, rid, "edited", notes="mine"),)).fetchone()
    assert seq == 2
    store = pg.open("alice")
    try:
        assert [e.seq for e in store.stored_events()] == [1, 2]
        assert chain.verify(store.board_id(), store.stored_events()).ok
    finally:
        store.close()


# --- item 2: no table may be written by an operator, a reader or the runner ------------------------------


def test_no_group_role_may_write_any_table(pg: PgBackend) -> None:
    held = pg.query(
        "SELECT r.rolname, c.relname, p.priv FROM pg_class c CROSS JOIN pg_roles r "
        "CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(priv) "
        "WHERE c.relnamespace = 'relman'::regnamespace AND c.relkind IN ('r', 'S') "
        "AND r.rolname IN ('relman_operator', 'relman_reader', 'relman_runner') "
        "AND has_table_privilege(r.oid, c.oid, p.priv)"
    )
    assert held == []


def test_plain_dml_by_an_operator_is_refused_and_changes_nothing(pg: PgBackend, psql: Psql) -> None:
    writer = person(pg, "bob")
    rid = writer.add_release("payments-api", "2.4.1").id
    writer.add_freeze(["prod"], "quarter end", start=NOW, end=NOW.replace(year=NOW.year + 1))
    mallory = psql("mallory")
    before = board_rows(pg)
    for statement, table in (
        ("UPDATE relman.releases SET stage = 'prod', state = 'deployed', rev = rev + 1 WHERE id = 1", "releases"),
        ("DELETE FROM relman.freezes", "freezes"),
        (
            'INSERT INTO relman.events (at, actor, release, action, "from", "to") '
            "VALUES ('2026-01-01T00:00:00Z', 'mallory', 1, 'moved', 'staging', 'prod')",
            "events",
        ),
        ("UPDATE relman.hook_cursor SET seq = 0", "hook_cursor"),
        ("INSERT INTO relman.hook_cursor (id, seq) VALUES (1, 1000)", "hook_cursor"),
        ("TRUNCATE relman.windows", "windows"),
        ("INSERT INTO relman.windows VALUES (1, 'prod', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z')", "windows"),
        ("UPDATE relman.settings SET value = '[\"mallory\"]' WHERE key = 'admins'", "settings"),
        ("DELETE FROM relman.environments", "environments"),
        ("SELECT * FROM relman.locks FOR UPDATE", "locks"),
    ):
        assert f"permission denied for table {table}" in refused(mallory, statement), statement
    assert board_rows(pg) == before
    assert pg.query("SELECT stage FROM releases WHERE id = ?", rid) == [("planned",)]


def test_the_hook_cursor_is_the_runners_alone(pg: PgBackend, psql: Psql) -> None:
    person(pg, "bob").add_release("payments-api", "2.4.1")
    mallory = psql("mallory")  # an operator who is not in relman_runner
    assert "permission denied for function runner_event" in refused(
        mallory, "SELECT relman.runner_event(NULL, 1, '[]'::jsonb)"
    )
    assert "permission denied for function runner_lock" in refused(mallory, "SELECT relman.runner_lock(true)")
    hooked = json.dumps({"action": "hook_ran", "at": to_stamp(NOW), "details": {"event_seq": 1}})
    assert "permission denied for function runner_event" in refused(
        mallory, "SELECT relman.runner_event(%s::jsonb, NULL, NULL)", hooked
    )
    assert "not a release event: hook_ran" in refused(mallory, "SELECT relman.release_event(%s::jsonb)", hooked)
    runner = psql("alice")  # the tests' operators run hooks too (GRANT relman_runner TO alice)
    runner.execute("SELECT relman.runner_event(NULL, 2, '[]'::jsonb)")
    assert "the hook cursor stays within the log" in refused(runner, "SELECT relman.runner_event(NULL, 1000, NULL)")
    assert pg.query("SELECT seq FROM hook_cursor") == [(2,)]


def test_an_operator_cannot_log_a_hook_event_or_an_admin_event_by_naming_it(pg: PgBackend, psql: Psql) -> None:
    """The deploy hook of issue 18 ran for a release that never moved: an event is written only with its change."""
    rid = person(pg, "bob").add_release("payments-api", "2.4.1").id
    mallory = psql("mallory")
    moved = json.loads(release_event(pg, rid, "moved", frm="staging", to="prod"))
    moved["details"] = None
    assert "carries the release after the change" in refused(mallory, CHANGE, json.dumps(moved))
    assert "only an admin of the board" in refused(
        mallory, "SELECT relman.admin_event(%s::jsonb, '[]'::jsonb)", json.dumps(moved)
    )
    assert pg.query("SELECT action FROM events ORDER BY seq") == [("created",)]


# --- item 3: locks a stranger cannot take; a held lock is a message, never a hang ------------------------------


def test_a_role_without_relman_grants_holding_the_old_advisory_keys_blocks_nothing(
    pg: PgBackend, pg_cluster: Any, tmp_path: Path
) -> None:
    pg_cluster.sql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stranger') THEN "
        "CREATE ROLE stranger LOGIN; END IF; END $$"
    )
    stranger = psycopg.connect(pg.url("stranger"), autocommit=True)
    try:
        for key in OLD_LOCK_KEYS:
            stranger.execute("SELECT pg_advisory_lock(%s)", (key,))
        refused(stranger, "SELECT relman.take_board_lock()")
        stranger.execute("BEGIN")
        refused(stranger, "SELECT 1 FROM relman.locks FOR UPDATE")
        stranger.execute("ROLLBACK")
        alice = person(pg, "alice")
        rid = alice.add_release("ledger", "1.0").id
        assert alice.move(rid, "dev").stage == "dev"
        store = pg.open("alice")
        try:
            with store.runner_lock(wait=False) as got:
                assert got
        finally:
            store.close()
        assert Run(pg.target(), tmp_path / "home", pg)("hooks", "run", "--once").exit_code == 0
    finally:
        stranger.close()


@pytest.mark.parametrize(
    "mode",
    [
        "ROW SHARE",
        "ROW EXCLUSIVE",
        "SHARE UPDATE EXCLUSIVE",
        "SHARE",
        "SHARE ROW EXCLUSIVE",
        "EXCLUSIVE",
        "ACCESS EXCLUSIVE",
    ],
)
def test_an_operator_cannot_lock_a_relman_table_against_others(pg: PgBackend, psql: Psql, mode: str) -> None:
    """Only ACCESS SHARE (what a SELECT takes; it blocks nothing but DDL) is open to SELECT alone."""
    mallory = psql("mallory")
    for table in TABLES:
        mallory.execute("BEGIN")
        assert "permission denied for table" in refused(mallory, f"LOCK TABLE relman.{table} IN {mode} MODE")
        mallory.execute("ROLLBACK")


def test_a_held_lock_fails_release_list_in_one_line_naming_who_holds_it(
    pg: PgBackend, psql: Psql, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relman_tui.store import pg_connect as store_pg

    person(pg, "bob").add_release("payments-api", "2.4.1")
    monkeypatch.setattr(store_pg, "LOCK_TIMEOUT_S", 0.3)
    holder = psql("admin", "nightly-maintenance")  # only the tables' owner can take such a lock
    holder.execute("BEGIN")
    holder.execute("LOCK TABLE relman.releases IN ACCESS EXCLUSIVE MODE")
    cli = Run(pg.target(), tmp_path / "home", pg)
    for args in (("release", "list"), ("release", "show", "1"), ("move", "1", "dev")):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        said = result.output.strip()
        assert "\n" not in said and "Traceback" not in said
        assert "is busy: admin (application nightly-maintenance) holds a lock on releases; waited" in said
    holder.execute("ROLLBACK")
    assert "payments-api" in cli("release", "list").output


def test_every_connection_has_a_lock_timeout_and_a_statement_timeout(pg: PgBackend) -> None:
    from relman_tui.store.pg_connect import connect

    pg.account("alice")
    conn = connect(pg.url("alice"))  # the one way relman connects: the store, its listener, the runner's lock
    try:
        assert conn.execute("SHOW lock_timeout").fetchone() == ("5s",)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)
    finally:
        conn.close()


# --- an existing board is brought up to date by `relman pg setup` again ---------------------------------------

OLD_GRANTS = [  # what `relman pg setup` granted before the write functions (m001–m003)
    "REVOKE ALL ON ALL TABLES IN SCHEMA relman FROM PUBLIC, relman_operator, relman_reader",
    "REVOKE ALL ON ALL SEQUENCES IN SCHEMA relman FROM PUBLIC, relman_operator, relman_reader",
    "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA relman FROM PUBLIC",
    "GRANT USAGE ON SCHEMA relman TO relman_operator, relman_reader",
    "GRANT SELECT ON ALL TABLES IN SCHEMA relman TO relman_operator, relman_reader",
    "GRANT INSERT, UPDATE ON releases TO relman_operator",
    "GRANT INSERT, UPDATE, DELETE ON windows TO relman_operator",
    "GRANT INSERT, DELETE ON freezes TO relman_operator",
    "GRANT INSERT ON events TO relman_operator",
    "GRANT INSERT, UPDATE ON hook_cursor TO relman_operator",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA relman TO relman_operator",
]


def test_pg_setup_again_upgrades_an_old_board_and_drops_its_table_grants(
    pg_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relman_tui.store import pg_schema

    pg_cluster.sql('CREATE DATABASE "old_board"')
    url = pg_cluster.url("old_board", "postgres")
    with monkeypatch.context() as old:  # the board as the previous relman made it
        old.setattr(pg_schema, "MIGRATIONS", pg_schema.MIGRATIONS[:3])
        old.setattr(pg_schema, "grants", lambda: OLD_GRANTS)
        pg_schema.setup(url, "relman_admin")
    pg_cluster.sql("DELETE FROM relman.settings WHERE key = 'admins'", database="old_board")
    pg_cluster.ensure_role("mallory")
    pg_cluster.ensure_role("admin", group="relman_admin")
    mallory = psycopg.connect(pg_cluster.url("old_board", "mallory"), autocommit=True)
    try:
        (rid,) = mallory.execute(
            "INSERT INTO relman.releases (name, version, components, owner, risk, stage, state, notes, created_at, "
            "updated_at, created_by) VALUES ('ledger', '1.0', '[\"ledger\"]', 'mallory', 'low', 'planned', 'pending', "
            "'', %s, %s, 'mallory') RETURNING id",
            (to_stamp(NOW), to_stamp(NOW)),
        ).fetchone()
        mallory.execute(
            "INSERT INTO relman.events (at, actor, release, action) VALUES (%s, 'mallory', %s, 'created')",
            (to_stamp(NOW), rid),
        )
        said = "\n".join(pg_schema.setup(url, "relman_admin"))  # the upgrade
        assert "applied m005_definer_writes" in said and "GRANT relman_operator, relman_runner TO" in said
        assert pg_schema.setup(url, "relman_admin")[:1] != ["applied m005_definer_writes"]  # idempotent
        assert "permission denied for table releases" in refused(
            mallory, "UPDATE relman.releases SET stage = 'prod' WHERE id = %s", rid
        )
        assert "permission denied for table events" in refused(
            mallory, "INSERT INTO relman.events (at, actor, action) VALUES ('2026-01-01T00:00:00Z', 'mallory', 'x')"
        )
        assert pg_cluster.sql("SELECT value FROM relman.settings WHERE key = 'admins'", database="old_board") == [
            ('["relman_admin"]',)
        ]
    finally:
        mallory.close()
    store = open_store(pg_cluster.url("old_board", "mallory"))
    try:
        service = Service(store, FixedClock(NOW), "mallory")
        assert service.edit_release(rid, notes="after the upgrade").notes == "after the upgrade"
        assert [e.action for e in store.events()] == ["created", "edited"]
        assert chain.verify(store.board_id(), store.stored_events()).ok
    finally:
        store.close()
    pg_cluster.sql('DROP DATABASE "old_board" WITH (FORCE)')


def test_on_a_board_without_fixed_clock_the_server_dates_every_event(pg: PgBackend) -> None:
    """$RELMAN_NOW (a FixedClock here) does not date a write: the server's clock does."""
    assert pg.database is not None
    admin = pg.cluster.connect(pg.database)
    try:
        admin.execute("UPDATE relman.settings SET value = 'off' WHERE key = 'fixed_clock'")
        (before,) = admin.execute(
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        ).fetchone()
    finally:
        admin.close()
    service = Service(pg.open("bob"), FixedClock(NOW.replace(year=2031)), "bob")
    rid = service.add_release("payments-api", "2.4.1").id
    ((at, record),) = pg.query("SELECT at, details::jsonb -> 'release' FROM events")
    assert before <= at < "2031" and record["created_at"] == at == record["updated_at"]
    assert pg.query("SELECT created_at FROM releases WHERE id = ?", rid) == [(at,)]


# --- what only replay can see ----------------------------------------------------------------------------------


def test_verify_names_a_row_changed_around_the_write_functions(pg_cluster: Any, tmp_path: Path) -> None:
    """The functions are one guard, not the only one: a row changed with no event (here by the tables' owner,
    as a buggy function would) is named by `relman log --verify`, for an operator."""
    pg = PgBackend(pg_cluster)
    pg.make("init")  # a board with its whole history (`relman init`), so that only the tampering differs
    rid = person(pg, "bob").add_release("payments-api", "2.4.1").id
    assert pg.database is not None
    owner = pg.cluster.connect(pg.database)
    try:
        owner.execute("UPDATE relman.releases SET approved_by = 'carol', stage = 'prod' WHERE id = %s", (rid,))
    finally:
        owner.close()
    result = Run(pg.target(), tmp_path / "home", pg)("log", "--verify")
    assert result.exit_code == 1
    assert "release 1: stage is prod in the table, planned in the log" in result.output
    pg.close()
