"""The SQLite board's schema as sqlite-utils migrations, imported only when a file needs one applied."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from relman_tui import chain, replay
from relman_tui.details import ChainStartedDetails, CheckpointDetails
from relman_tui.identity import os_account
from relman_tui.model import Environment, Window
from relman_tui.store.contract import NewEvent
from relman_tui.store.shared import freeze_from_row, hooks_from_setting, release_from_row, releases_query
from relman_tui.store.sqlite_base import MIGRATION_SET, SqliteLedger, insert_event, stored_events
from relman_tui.timeutil import from_stamp

migrations = Migrations(MIGRATION_SET)


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(
        """CREATE TABLE environments (
            name TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            position INTEGER NOT NULL,
            capacity INTEGER NOT NULL DEFAULT 1 CHECK (capacity >= 1),
            requires_approval INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """CREATE TABLE releases (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            components TEXT NOT NULL,
            owner TEXT NOT NULL,
            risk TEXT NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
            stage TEXT NOT NULL,
            state TEXT NOT NULL,
            approved_by TEXT,
            approved_at TEXT,
            notes TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            rev INTEGER NOT NULL DEFAULT 1
        )"""
    )
    db.execute("CREATE INDEX releases_stage ON releases (stage)")
    db.execute(
        """CREATE TABLE windows (
            release_id INTEGER NOT NULL REFERENCES releases (id),
            environment TEXT NOT NULL REFERENCES environments (name),
            start TEXT NOT NULL,
            "end" TEXT NOT NULL,
            CHECK (start < "end"),
            PRIMARY KEY (release_id, environment)
        )"""
    )
    db.execute("CREATE INDEX windows_environment ON windows (environment, start)")
    db.execute(
        """CREATE TABLE freezes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            environments TEXT NOT NULL,
            reason TEXT NOT NULL,
            start TEXT,
            "end" TEXT,
            cron TEXT,
            duration INTEGER,
            zone TEXT,
            CHECK ((start IS NOT NULL AND "end" IS NOT NULL AND cron IS NULL)
                OR (cron IS NOT NULL AND duration > 0 AND zone IS NOT NULL AND start IS NULL))
        )"""
    )
    db.execute(
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            release INTEGER,
            action TEXT NOT NULL,
            "from" TEXT,
            "to" TEXT,
            forced INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            CHECK (forced = 0 OR (reason IS NOT NULL AND reason != '')),
            CHECK (action != 'rolled_back' OR (reason IS NOT NULL AND reason != ''))
        )"""
    )
    db.execute("CREATE INDEX events_release ON events (release, seq)")
    # The audit log is append-only in the database itself, whoever writes to the file.
    db.execute(
        """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"""
    )
    db.execute(
        """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"""
    )
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO settings (key, value) VALUES ('four_eyes', 'true')")


@migrations()
def m002_identity_and_chain(db: Database) -> None:
    """Who created each release, break-glass marks, delegation, event details and the hash chain.

    A database with history gets one ``log_chain_started`` event whose details hold a digest
    of every earlier event: from here on the whole log is covered.
    """
    db.execute("ALTER TABLE releases ADD COLUMN created_by TEXT")
    db.execute("ALTER TABLE releases ADD COLUMN unapproved INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE events ADD COLUMN via TEXT")
    db.execute("ALTER TABLE events ADD COLUMN details TEXT")
    db.execute("ALTER TABLE events ADD COLUMN hash TEXT")
    db.execute(
        """UPDATE releases SET created_by = coalesce(
               (SELECT actor FROM events WHERE events.release = releases.id AND action = 'created'
                ORDER BY seq LIMIT 1), owner)"""
    )
    db.execute("INSERT OR IGNORE INTO settings (key, value) VALUES ('board_id', ?)", [uuid.uuid4().hex])
    conn = db.conn
    earlier = stored_events(conn)
    if earlier:
        details: ChainStartedDetails = {"events_before": len(earlier), "digest": chain.digest(earlier)}
        board_id = str(conn.execute("SELECT value FROM settings WHERE key = 'board_id'").fetchone()[0])
        at = datetime.now(UTC).replace(microsecond=0)
        insert_event(conn, board_id, NewEvent(chain.CHAIN_STARTED, details=details), os_account(), None, at)


@migrations()
def m003_hook_runner(db: Database) -> None:
    """Where the hook runner is: every event before ``seq`` is handled, and at ``seq`` the hooks in ``done``."""
    db.execute(
        """CREATE TABLE hook_cursor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            done TEXT NOT NULL DEFAULT '[]'
        )"""
    )


@migrations()
def m004_hook_outcomes(db: Database) -> None:
    """Finding each release's latest hook outcome without reading the whole log."""
    db.execute("CREATE INDEX events_hook_outcomes ON events (action, release, seq)")


@migrations()
def m005_changed_at(db: Database) -> None:
    """The oldest change a release carries (`release add|edit --changed-at`): where its lead time starts."""
    db.execute("ALTER TABLE releases ADD COLUMN changed_at TEXT")


@migrations()
def m006_state_checkpoint(db: Database) -> None:
    """Events that carry what replay needs start here. A board with history gets one ``state_checkpoint``
    event holding its whole state as the tables have it now, chained like any event: `relman log --verify`
    replays from it and says that the history before it is not replayable. Its first admin is the
    account that owns the file (the one that made it); a fresh file gets hers at ``init``."""
    conn = db.conn
    if not conn.execute("SELECT 1 FROM events LIMIT 1").fetchone():
        return
    # a board already on replayable events (its row in sqlite-utils' table deleted by hand): another
    # checkpoint would vouch for whatever the tables hold now, and its admins would be reset
    started = "SELECT 1 FROM events WHERE action IN ('board_created', 'board_copied', 'state_checkpoint') LIMIT 1"
    if conn.execute(started).fetchone():
        return
    admins = [_file_owner(conn)]
    conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('admins', ?)", [json.dumps(admins)])
    conn.execute("INSERT OR IGNORE INTO settings (key, value) VALUES ('fixed_clock', 'off')")
    state = _table_state(conn)
    board_id = str(conn.execute("SELECT value FROM settings WHERE key = 'board_id'").fetchone()[0])
    details: CheckpointDetails = {
        "board_id": board_id,
        "state": state.as_json(),
        "reason": "schema upgrade to replayable events",
    }
    at = datetime.now(UTC).replace(microsecond=0)
    event = NewEvent("state_checkpoint", details=details)
    insert_event(conn, board_id, event, os_account(), None, at)


def _file_owner(conn: sqlite3.Connection) -> str:
    path = next((str(r[2]) for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except (OSError, KeyError):
        return os_account()


def _table_state(conn: sqlite3.Connection) -> replay.BoardState:
    """The tables as :mod:`relman_tui.replay` sees them, read with the store's own row readers."""
    settings = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM settings")}
    envs = [
        Environment(r[0], r[1], r[2], r[3], bool(r[4]))
        for r in conn.execute("SELECT name, title, position, capacity, requires_approval FROM environments")
    ]
    windows: dict[int, list[Window]] = {}
    for w in conn.execute('SELECT release_id, environment, start, "end" FROM windows ORDER BY start'):
        windows.setdefault(w[0], []).append(Window(w[0], w[1], from_stamp(w[2]), from_stamp(w[3])))
    query, params = releases_query("?", None, True)
    releases = [release_from_row(row, windows.get(row[0], ())) for row in conn.execute(query, params)]
    freezes = [
        freeze_from_row(r)
        for r in conn.execute('SELECT id, environments, reason, start, "end", cron, duration, zone FROM freezes')
    ]
    return replay.table_state(settings, envs, releases, freezes, hooks_from_setting(settings.get("hooks", "[]")))


class SqliteMigrator(SqliteLedger):
    """The SQLite ledger that applies: sqlite-utils runs each migration of ``steps`` and records it in its own
    table, inside the write transaction (``BEGIN IMMEDIATE``) the runner opens for it."""

    def __init__(self, conn: sqlite3.Connection, steps: Migrations = migrations) -> None:
        super().__init__(conn)
        self._steps = steps
        self._db = Database(conn, execute_plugins=False, recursive_triggers=False)
        # sqlite-utils' own order: sqlite_base.MIGRATION_NAMES keeps a copy (a test holds them equal),
        # so that opening an up-to-date file needs no sqlite-utils
        self.names = tuple(m.name for m in steps.pending(Database(memory=True, execute_plugins=False)))

    def locked(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()  # a file's lock is its write transaction: see transaction()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already
                conn.execute("ROLLBACK")
            raise

    def apply(self, name: str) -> None:
        # sqlite-utils applies what is pending in order up to the first name in stop_before: this one alone
        applied = self.applied()
        later = [n for n in self.names[self.names.index(name) + 1 :] if n not in applied]
        self._steps.apply(self._db, stop_before=later)
