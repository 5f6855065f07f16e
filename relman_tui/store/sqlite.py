"""The SQLite store (through sqlite3; sqlite-utils only when a migration runs): one board in one file."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from relman_tui.errors import BadInput
from relman_tui.model import Environment, Freeze, Release, Window
from relman_tui.runner_lock import open_lock_file
from relman_tui.store.contract import NewEvent, NewRelease, Wake
from relman_tui.store.interrupt import Interrupt
from relman_tui.store.migrating import due, migrate
from relman_tui.store.shared import (
    RELEASE_COLUMNS,
    delivery_rows_query,
    freeze_row,
    hook_cursor_upsert,
    new_release_row,
    release_from_row,
    release_update_row,
    updated,
)
from relman_tui.store.sqlbase import SqlStore
from relman_tui.store.sqlite_base import SqliteLedger, insert_event
from relman_tui.store.sqlite_files import (
    board_file,
    disk_mark,
    file_identity,
    has_shm,
    is_busy,
    make_private_dir,
    translate,
)
from relman_tui.timeutil import to_stamp

WAL_SIZE_LIMIT = 4 * 1024 * 1024
BUSY_TIMEOUT_S = 5.0
_BEGIN_RETRIES = 4
WATCH_POLL_S = 0.1  # how often a waiting SQLite store looks at data_version (a PostgreSQL store is told)


class Store(SqlStore):
    """One connection to one relman database file."""

    PLACEHOLDER = "?"

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        # A read-only connection must never create the -wal and -shm files: made by a reader,
        # they would belong to the reader and could lock the board's owner out. With no -shm
        # beside the file (no writer has it open), the file is read as immutable and re-opened
        # when it changes on disk.
        self._immutable = read_only and not has_shm(path)
        self._conn = _connect(path, read_only, self._immutable)
        self._in_write = False
        self._identity = file_identity(path)
        self._disk_mark = disk_mark(path)
        self._reopened = 0
        self._watch_mark: int | None = None

    @property
    def target(self) -> Path:
        return self.path

    @property
    def name(self) -> str:
        return str(self.path)

    def reopen(self, *, read_only: bool = False) -> Store:
        return Store.open(self.path, read_only=read_only)

    def server_account(self) -> str | None:
        return None  # a file has no server: the OS account running relman acts

    def is_admin(self) -> bool:
        return False  # a file's admins are its `admins` setting alone

    def owns(self, path: Path) -> bool:
        for suffix in ("", "-wal", "-shm", "-journal", "-hooks.lock"):
            mine = Path(f"{self.path.resolve() if suffix else self.path}{suffix}")  # SQLite follows symlinks too
            try:
                if os.path.samefile(path, mine):
                    return True
            except OSError:  # one of them does not exist: compare where they would be
                if path.absolute().resolve() == mine.absolute().resolve():
                    return True
        return False

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, create: bool = False, read_only: bool = False) -> Store:
        """Open (and with ``create``, make and migrate) a relman database at ``path``.

        Refuses a file that is not a relman database, or one written by a newer relman,
        without changing it. A file we may not write is opened read-only.
        """
        exists, read_only = board_file(path, create=create, read_only=read_only)
        if not exists:
            if read_only:
                raise BadInput(f"no relman database at {path}")
            make_private_dir(path.parent)
            old_umask = os.umask(0o077)
            try:
                store = cls(path)
            finally:
                os.umask(old_umask)
        else:
            store = cls(path, read_only=read_only)
        try:
            store._check_and_migrate(fresh=not exists)
        except BaseException:
            store.close()
            raise
        return store

    def _check_and_migrate(self, fresh: bool) -> None:
        ledger = SqliteLedger(self._conn)
        try:
            todo = due(ledger, self.path)
        except sqlite3.DatabaseError as exc:
            raise BadInput(f"{self.path} is not a relman database ({exc})") from exc
        if not fresh and len(todo) == len(ledger.names):  # no relman migration recorded at all
            raise BadInput(f"{self.path} is not a relman database; refusing to touch it")
        if todo:
            if self.read_only:
                raise BadInput(f"{self.path} needs a schema upgrade but is read-only")
            # imported here, not above: an up-to-date board is opened without loading sqlite-utils
            from relman_tui.store.sqlite_schema import SqliteMigrator

            with self._busy_retry():
                migrate(SqliteMigrator(self._conn), self.path)
        if not self.read_only:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # Once a checkpoint has run, the WAL is cut back to this size: a long reader can make it
            # grow for a while, never for ever.
            self._conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")

    def close(self) -> None:
        self._conn.close()

    # -- the file itself ---------------------------------------------------------------------

    def file_problem(self) -> str | None:
        """Why the file this store opened is no longer the one at its path, or ``None``.

        A board kept open while someone deletes the file, or moves another one into its place,
        would otherwise go on writing into a file nobody else can see.
        """
        now = file_identity(self.path)
        if now is None:
            return f"{self.path} was deleted after relman opened it"
        if now != self._identity:
            return f"{self.path} was replaced by another file after relman opened it"
        return None

    def _check_file(self) -> None:
        problem = self.file_problem()
        if problem:
            raise BadInput(f"{problem}; nothing was written (open it again to go on)")

    def _refresh_read_only(self) -> bool:
        """Re-open a read-only connection when a writer appeared or left, or the file changed."""
        if not self.read_only or self._conn.in_transaction:
            return False
        shm_there = has_shm(self.path)
        mark = disk_mark(self.path) if self._immutable else self._disk_mark
        if shm_there == (not self._immutable) and mark == self._disk_mark:
            return False
        self._conn.close()
        self._immutable = not shm_there
        self._conn = _connect(self.path, True, self._immutable)
        self._disk_mark = disk_mark(self.path)
        self._reopened += 1
        return True

    # -- transactions and change tracking --------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One short ``BEGIN IMMEDIATE`` transaction: everything inside lands together or not at all."""
        if self.read_only:
            raise BadInput(f"{self.path} is open read-only; nothing can be changed")
        if self._in_write:  # nested use joins the outer transaction
            yield
            return
        self._check_file()
        for attempt in range(_BEGIN_RETRIES):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or attempt == _BEGIN_RETRIES - 1:
                    raise translate(exc, self.path) from exc
                time.sleep(0.05 * (attempt + 1))
        self._in_write = True
        try:
            yield
        except BaseException:
            # SQLite may have rolled back already (a full disk does): only roll back what is open
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        else:
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise translate(exc, self.path) from exc
        finally:
            self._in_write = False

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        """A read transaction: every query inside sees the same state of the file."""
        if self._conn.in_transaction:
            yield
            return
        self._refresh_read_only()
        try:
            self._conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        try:
            yield
        finally:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def _busy_retry(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    def data_version(self) -> int:
        """Changes when another connection commits; cheap enough to poll twice a second."""
        if self._refresh_read_only() or self._immutable:
            # a fresh (or immutable) connection counts from scratch: fold in how often it was made
            return -self._reopened - 1
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0]) + (self._reopened << 32)

    def wait_for_change(
        self,
        timeout: float,
        after_seq: int | None = None,
        *,
        interrupt: Interrupt | None = None,
        look_every: float | None = None,
    ) -> Wake:
        """Return when another connection commits (``PRAGMA data_version``, looked at now and then every
        ``look_every``, by default ``WATCH_POLL_S``), at once when the log has moved past ``after_seq``,
        when ``interrupt`` is set, or after ``timeout``.

        The first call sets the mark it compares with: pass the last seq you have read as
        ``after_seq`` so that a change made in between is not missed. Use the store from one
        thread only (a watcher thread opens its own with :meth:`reopen`).
        """
        deadline = time.monotonic() + timeout
        every = WATCH_POLL_S if look_every is None else look_every
        if after_seq is not None and self.last_seq() > after_seq:
            self._watch_mark = self.data_version()
            return Wake.CHANGED
        if self._watch_mark is None:
            self._watch_mark = self.data_version()
        while True:
            if interrupt is not None and interrupt.is_set():
                return Wake.INTERRUPTED
            version = self.data_version()
            if version != self._watch_mark:
                self._watch_mark = version
                return Wake.CHANGED
            left = deadline - time.monotonic()
            if left <= 0:
                return Wake.TIMEOUT
            if interrupt is None:
                time.sleep(min(every, left))
            elif interrupt.wait(min(every, left)):
                return Wake.INTERRUPTED
            if time.monotonic() >= deadline:  # the next call looks first: no second look back to back
                return Wake.TIMEOUT

    # -- settings --------------------------------------------------------------------------

    def set_setting(self, key: str, value: str) -> None:
        self._exec("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))

    # -- environments ----------------------------------------------------------------------

    def save_environments(self, environments: Sequence[Environment]) -> None:
        """Make the pipeline exactly ``environments`` (insert, update, delete by name)."""
        keep = [env.name for env in environments]
        placeholders = ",".join("?" for _ in keep)
        self._exec(f"DELETE FROM environments WHERE name NOT IN ({placeholders})", keep)
        # positions are renumbered in two steps so a reorder never collides mid-way
        for env in environments:
            self._exec(
                """INSERT INTO environments (name, title, position, capacity, requires_approval)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (name) DO UPDATE SET title = excluded.title, position = excluded.position,
                   capacity = excluded.capacity, requires_approval = excluded.requires_approval""",
                (env.name, env.title, env.position, env.capacity, int(env.requires_approval)),
            )

    # -- releases --------------------------------------------------------------------------

    def _among(self, ids: list[int]) -> tuple[str, Sequence[Any]]:
        return f"release_id IN ({','.join('?' for _ in ids)})", ids

    def release(self, release_id: int) -> Release | None:
        row = self._conn.execute(f"SELECT {RELEASE_COLUMNS} FROM releases WHERE id = ?", (release_id,)).fetchone()
        if row is None:
            return None
        return release_from_row(row, self._windows([release_id]).get(release_id, ()))

    def insert_release(self, new: NewRelease, now: datetime) -> int:
        cursor = self._exec(
            """INSERT INTO releases (name, version, components, owner, risk, stage, state, approved_by,
               approved_at, notes, created_at, updated_at, rev, created_by, unapproved, changed_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)""",
            new_release_row(new, now),
        )
        return int(cursor.lastrowid or 0)

    def _new_release_ids(self, count: int) -> list[int]:
        first = int(self._conn.execute("SELECT coalesce(max(id), 0) FROM releases").fetchone()[0]) + 1
        return list(range(first, first + count))

    def update_release(self, release: Release, expected_rev: int, now: datetime) -> Release:
        """Write every field of ``release`` if nobody changed it since ``expected_rev``."""
        cursor = self._exec(
            """UPDATE releases SET name = ?, version = ?, components = ?, owner = ?, risk = ?, stage = ?,
               state = ?, approved_by = ?, approved_at = ?, notes = ?, updated_at = ?, unapproved = ?,
               changed_at = ?, rev = rev + 1 WHERE id = ? AND rev = ?""",
            release_update_row(release, now, expected_rev),
        )
        return updated(self, cursor.rowcount, release.id, expected_rev)

    def set_window(self, window: Window) -> None:
        self._exec(
            'INSERT OR REPLACE INTO windows (release_id, environment, start, "end") VALUES (?, ?, ?, ?)',
            (window.release_id, window.environment, to_stamp(window.start), to_stamp(window.end)),
        )

    def delete_window(self, release_id: int, environment: str) -> bool:
        cursor = self._exec("DELETE FROM windows WHERE release_id = ? AND environment = ?", (release_id, environment))
        return cursor.rowcount > 0

    # -- freezes ---------------------------------------------------------------------------

    def insert_freeze(self, freeze: Freeze) -> int:
        cursor = self._exec(
            'INSERT INTO freezes (environments, reason, start, "end", cron, duration, zone) '
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            freeze_row(freeze),
        )
        return int(cursor.lastrowid or 0)

    def delete_freeze(self, freeze_id: int) -> bool:
        return self._exec("DELETE FROM freezes WHERE id = ?", (freeze_id,)).rowcount > 0

    def delete_all_freezes(self) -> None:
        self._exec("DELETE FROM freezes")

    # -- the audit log ---------------------------------------------------------------------

    def append_event(self, event: NewEvent, actor: str, at: datetime, via: str | None = None) -> int:
        """Append one event, chained to the one before it (inside the caller's write transaction)."""
        with self._writing():
            return insert_event(self._conn, self.board_id(), event, actor, via, at)

    def delivery_rows(self, environment: str) -> list[tuple[Any, ...]]:
        # a good part of the log is read: in seq (rowid) order, a scan beats the (action, …) index and a sort
        query = delivery_rows_query("?").replace("FROM events", "FROM events NOT INDEXED")
        return self._conn.execute(query, [environment]).fetchall()

    # -- the hook runner ------------------------------------------------------------------

    def set_hook_cursor(self, seq: int, done: Sequence[str]) -> None:
        self._exec(hook_cursor_upsert(self.PLACEHOLDER), (seq, json.dumps(list(done))))

    def runner_key(self) -> str:
        """The board's identity for its hook runner: the database file's device and inode, so a symlink
        or a second path to the same file is the same board."""
        st = os.stat(self.path)
        return f"file-{st.st_dev}-{st.st_ino}"

    @contextlib.contextmanager
    def runner_lock(self, wait: bool = True) -> Iterator[bool]:
        """Held by the one hook runner of this board; yields False at once if ``wait`` is off and it is taken.

        A lock file beside the database's real path (symlinks resolved: every path to the board
        finds the same lock), never the database itself: closing another descriptor of the database
        would drop SQLite's own locks. flock needs only a read-only descriptor, so any account that
        can read the board can take it after another has let it go.
        """
        real = self.path.resolve()
        fd = open_lock_file(Path(f"{real}-hooks.lock"), real)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing it lets the lock go

    def integrity_check(self) -> str:
        return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])

    # -- plumbing --------------------------------------------------------------------------

    def _query(self, query: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(query, params)

    def _exec(self, query: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._writing():
            return self._conn.execute(query, params)

    def _exec_many(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._writing():
            self._conn.executemany(query, rows)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Inside ``write()`` only; what the database refuses is said as bad input."""
        if not self._in_write:
            raise RuntimeError("store writes must happen inside Store.write()")
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise BadInput(f"refused by the database: {exc}") from exc
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc


def _connect(path: Path, read_only: bool, immutable: bool = False) -> sqlite3.Connection:
    try:
        if read_only:
            quoted = urllib.parse.quote(str(path.absolute()))
            conn = sqlite3.connect(
                f"file:{quoted}?mode=ro{'&immutable=1' if immutable else ''}",
                uri=True,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
        else:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
    return conn
