"""The one migration runner against both ledgers: sqlite-utils' table in a file, relman.migrations on a server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from backends import PgBackend
from pg_support import ADMIN_ROLE, SUPERUSER
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from relman_tui.dburl import describe
from relman_tui.errors import BadInput
from relman_tui.store import Store, open_store
from relman_tui.store.migrating import due, migrate
from relman_tui.store.sqlite_base import MIGRATION_NAMES, MIGRATION_SET, SqliteLedger
from relman_tui.store.sqlite_schema import SqliteMigrator, migrations

# --- SQLite: sqlite-utils' Migrations record and apply, the runner decides --------------------------------


def old_file(path: Path, stop_before: str | None) -> sqlite3.Connection:
    """A file as a relman that knew only the migrations before ``stop_before`` left it (all: ``None``)."""
    db = Database(path)
    migrations.apply(db, stop_before=stop_before)
    db.close()
    return sqlite3.connect(path, isolation_level=None)


def schema(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").fetchall()


def recorded(conn: sqlite3.Connection) -> list[str]:
    """The names sqlite-utils' own table holds for relman, in the order they were applied."""
    query = "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id"
    return [str(r[0]) for r in conn.execute(query, (MIGRATION_SET,))]


def test_the_store_knows_the_migrations_in_the_order_sqlite_utils_applies_them() -> None:
    assert tuple(SqliteMigrator(sqlite3.connect(":memory:")).names) == MIGRATION_NAMES


@pytest.mark.parametrize("at", range(1, len(MIGRATION_NAMES)))
def test_a_file_at_each_earlier_migration_is_brought_up_to_date(tmp_path: Path, at: int) -> None:
    conn = old_file(tmp_path / "old.db", MIGRATION_NAMES[at])
    assert due(SqliteLedger(conn), "old.db") == list(MIGRATION_NAMES[at:])
    assert migrate(SqliteMigrator(conn), "old.db") == list(MIGRATION_NAMES[at:])
    assert recorded(conn) == list(MIGRATION_NAMES)  # in sqlite-utils' table, where older relmans look
    fresh = old_file(tmp_path / "fresh.db", None)
    assert schema(conn) == schema(fresh)
    assert migrate(SqliteMigrator(conn), "old.db") == []  # nothing is due twice
    conn.close()
    Store.open(tmp_path / "old.db").close()


def test_opening_an_old_file_upgrades_it_and_a_fresh_one_gets_every_migration(tmp_path: Path) -> None:
    old_file(tmp_path / "old.db", "m004_hook_outcomes").close()
    for path in (tmp_path / "old.db", tmp_path / "new.db"):
        Store.open(path, create=True).close()
        with sqlite3.connect(path) as conn:
            assert recorded(conn)[-3:] == list(MIGRATION_NAMES[-3:])
            assert set(recorded(conn)) == set(MIGRATION_NAMES)


def test_a_file_a_newer_relman_wrote_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    conn = old_file(tmp_path / "board.db", "m005_changed_at")
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, 'm099_future', 'x')",
        (MIGRATION_SET,),
    )
    before = schema(conn), recorded(conn)
    words = f"{tmp_path / 'board.db'} was written by a newer relman (schema m099_future); upgrade relman to open it"
    for run in (due, migrate):
        with pytest.raises(BadInput) as refused:
            run(SqliteMigrator(conn), tmp_path / "board.db")
        assert str(refused.value) == words
    assert (schema(conn), recorded(conn)) == before
    with pytest.raises(BadInput, match="newer relman"):
        Store.open(tmp_path / "board.db")


def with_a_failing_migration() -> Migrations:
    """relman's migrations and one more that changes the schema, then fails."""
    steps = Migrations(MIGRATION_SET)
    for step in migrations.pending(Database(memory=True)):
        steps(name=step.name)(step.fn)

    @steps()
    def m007_fails(db: Database) -> None:
        db.execute("CREATE TABLE half_done (x INTEGER)")
        db.execute("INSERT INTO settings (key, value) VALUES ('half', 'done')")
        raise RuntimeError("the disk caught fire")

    return steps


def test_a_failing_migration_is_not_recorded_and_leaves_the_file_as_the_one_before_it_left_it(
    tmp_path: Path,
) -> None:
    conn = old_file(tmp_path / "board.db", "m006_state_checkpoint")
    up_to_m005 = schema(conn)
    migrator = SqliteMigrator(conn, with_a_failing_migration())
    with pytest.raises(RuntimeError, match="the disk caught fire"):
        migrate(migrator, "board.db")
    assert not conn.in_transaction
    assert recorded(conn) == list(MIGRATION_NAMES)  # m006 applied and kept, m007 not recorded
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall() == []
    assert conn.execute("SELECT count(*) FROM settings WHERE key = 'half'").fetchone() == (0,)
    assert schema(conn) == up_to_m005  # m006 only adds an event to a board with history: none here
    assert due(migrator, "board.db") == ["m007_fails"]


class Racing(SqliteMigrator):
    """A migrator that lets another relman migrate the same file between reading what is due and its lock."""

    def __init__(self, conn: sqlite3.Connection, other: SqliteMigrator) -> None:
        super().__init__(conn)
        self.other: SqliteMigrator | None = other

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.other is not None:
            migrate(self.other, "board.db")
            self.other = None
        with super().transaction():
            yield


def test_two_relmans_opening_an_old_file_at_once_apply_each_migration_once(tmp_path: Path) -> None:
    first = old_file(tmp_path / "board.db", "m003_hook_runner")
    second = sqlite3.connect(tmp_path / "board.db", isolation_level=None)
    racing = Racing(first, SqliteMigrator(second))
    assert migrate(racing, "board.db") == []  # the other one applied all of them first
    assert recorded(first) == list(MIGRATION_NAMES)


# --- PostgreSQL: relman.migrations, under pg setup's lock and transaction ------------------------------------


@pytest.fixture
def pg(pg_cluster: Any) -> Iterator[PgBackend]:
    pytest.importorskip("psycopg")
    backend = PgBackend(pg_cluster)
    backend.make("pipeline")
    yield backend
    backend.close()


@contextmanager
def old_relman(monkeypatch: pytest.MonkeyPatch, known: int) -> Iterator[None]:
    """`relman pg setup` as a relman that knew only the first ``known`` migrations (and granted nothing)."""
    from relman_tui.store import pg_schema

    with monkeypatch.context() as old:
        old.setattr(pg_schema, "MIGRATIONS", pg_schema.MIGRATIONS[:known])
        old.setattr(pg_schema, "grants", lambda: [])
        yield


def test_a_board_at_each_earlier_migration_is_brought_up_to_date_by_pg_setup(
    pg_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg")
    from relman_tui.store.pg_schema import MIGRATIONS, setup

    every = [name for name, _ in MIGRATIONS]
    pg_cluster.sql('CREATE DATABASE "older_boards"')
    url = pg_cluster.url("older_boards", SUPERUSER)
    try:
        for known in range(1, len(MIGRATIONS)):
            with old_relman(monkeypatch, known):
                said = setup(url, ADMIN_ROLE)
            assert [line for line in said if line.startswith("applied")] == [f"applied {n}" for n in every[:known]]
            said = setup(url, ADMIN_ROLE)
            assert [line for line in said if line.startswith("applied")] == [f"applied {n}" for n in every[known:]]
            rows = pg_cluster.sql("SELECT name FROM relman.migrations ORDER BY name", database="older_boards")
            assert [r[0] for r in rows] == every
            open_store(pg_cluster.url("older_boards", SUPERUSER)).close()
            pg_cluster.sql("DROP SCHEMA relman CASCADE", database="older_boards")
    finally:
        pg_cluster.drop_database("older_boards")


def test_a_failing_migration_on_a_server_leaves_the_board_as_it_was(
    pg: PgBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relman_tui.store import pg_schema

    failing = ("m006_fails", ["CREATE TABLE relman.half_done (x integer)", "SELECT 1 / 0"])
    monkeypatch.setattr(pg_schema, "MIGRATIONS", [*pg_schema.MIGRATIONS, failing])
    before = pg.query("SELECT name, applied_at FROM migrations ORDER BY name")
    with pytest.raises(BadInput, match=r"relman pg setup on .* failed, nothing was changed: division by zero"):
        pg_schema.setup(pg.url(SUPERUSER), ADMIN_ROLE)
    assert pg.query("SELECT name, applied_at FROM migrations ORDER BY name") == before
    assert pg.query("SELECT to_regclass('relman.half_done') IS NULL") == [(True,)]


def test_each_migration_on_a_server_is_a_savepoint_of_its_own(pg: PgBackend) -> None:
    """Inside setup's one transaction a failed migration is undone alone, its record with it."""
    psycopg = pytest.importorskip("psycopg")
    from relman_tui.store.pg_schema import MIGRATIONS, PgLedger

    failing = ("m006_fails", ["CREATE TABLE relman.half_done (x integer)", "SELECT 1 / 0"])
    with psycopg.connect(pg.url(SUPERUSER), autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute(f"SET LOCAL ROLE {ADMIN_ROLE}")
        conn.execute("SET LOCAL search_path = relman")
        ledger = PgLedger(conn, [*MIGRATIONS, failing])
        with pytest.raises(psycopg.errors.DivisionByZero):
            migrate(ledger, "the board")
        assert ledger.applied() == {name for name, _ in MIGRATIONS}  # the transaction goes on, m006 unrecorded
        assert conn.execute("SELECT to_regclass('relman.half_done') IS NULL").fetchone() == (True,)
        assert due(ledger, "the board") == ["m006_fails"]
        conn.execute("ROLLBACK")


def test_a_board_a_newer_relman_wrote_is_refused_in_the_same_words(pg: PgBackend) -> None:
    from relman_tui.store.pg_schema import setup

    pg.query("INSERT INTO migrations (name, applied_at) VALUES ('m099_future', 'x')")
    newer = f"{describe(pg.url(SUPERUSER))} was written by a newer relman (schema m099_future)"
    with pytest.raises(BadInput) as refused:
        setup(pg.url(SUPERUSER), ADMIN_ROLE)
    assert str(refused.value) == f"{newer}; upgrade relman first"
    with pytest.raises(BadInput) as opening:
        pg.open("alice")
    assert str(opening.value) == f"{describe(pg.url('alice'))} was written by a newer relman (schema m099_future); " + (
        "upgrade relman to open it"
    )
