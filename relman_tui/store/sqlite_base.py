"""What the SQLite store and its migrations share: the migrations' names and ledger, writing an event into the chain."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from relman_tui import chain
from relman_tui.store.contract import NewEvent
from relman_tui.store.shared import EVENT_COLUMNS, STORED_EVENTS_SQL, stored_event
from relman_tui.timeutil import to_stamp

MIGRATION_SET = "relman"

# The schema's migrations live in relman_tui.store.sqlite_schema (sqlite-utils), imported only when a
# file needs one applied: opening an up-to-date board costs no sqlite-utils import.
MIGRATION_NAMES = (
    "m001_initial",
    "m002_identity_and_chain",
    "m003_hook_runner",
    "m004_hook_outcomes",
    "m005_changed_at",
    "m006_state_checkpoint",
)
KNOWN_MIGRATIONS = frozenset(MIGRATION_NAMES)
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite-utils' own table: it records what it applies there


class SqliteLedger:
    """What a file has applied, read from sqlite-utils' table with plain SQL (no sqlite-utils import): enough
    for :func:`relman_tui.store.migrating.due`. ``sqlite_schema.SqliteMigrator`` applies."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.names: Sequence[str] = MIGRATION_NAMES

    def applied(self) -> set[str]:
        """Raises :class:`sqlite3.DatabaseError` for a file that is no database at all."""
        if not self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
        ).fetchone():
            return set()
        query = f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?"
        return {str(r[0]) for r in self._conn.execute(query, (MIGRATION_SET,))}


def stored_events(conn: sqlite3.Connection) -> list[chain.StoredEvent]:
    """Every event of the file behind ``conn`` exactly as stored, oldest first."""
    rows = conn.execute(STORED_EVENTS_SQL).fetchall()
    return [stored_event(r) for r in rows]


def insert_event(
    conn: sqlite3.Connection, board_id: str, event: NewEvent, actor: str, via: str | None, at: datetime
) -> int:
    """Insert ``event`` with the next seq and its link in the chain; the caller holds the write lock."""
    last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    seq = (last[0] if last else 0) + 1
    previous = last[1] if last and last[1] else chain.genesis(board_id)
    stored = chain.StoredEvent(
        seq,
        to_stamp(at),
        actor,
        via,
        event.release,
        event.action,
        event.from_,
        event.to,
        event.forced,
        event.reason,
        chain.details_text(event.details),
        None,
    )
    conn.execute(
        f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            stored.seq,
            stored.at,
            stored.actor,
            stored.via,
            stored.release,
            stored.action,
            stored.from_,
            stored.to,
            int(stored.forced),
            stored.reason,
            stored.details,
            chain.link(previous, stored),
        ),
    )
    return seq
