"""The store's interface, how a board is opened, and the SQLite store (through sqlite-utils and sqlite3).

The store modules are the only ones that speak SQL: this one for SQLite, the embedded default,
and :mod:`relman_tui.store_pg` for PostgreSQL. Both satisfy :class:`BoardStore`, the narrow
interface the service, the CLI, the demo and the board use; :func:`open_store` picks one by
the target's form (a path or a ``postgresql://`` URL).
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import sqlite3
import stat
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, Protocol

from relman_tui import chain
from relman_tui.dburl import INSTALL_HINT, Target, is_url
from relman_tui.errors import BadInput, StaleWrite
from relman_tui.model import Environment, Event, Freeze, Release, Risk, State, Window
from relman_tui.timeutil import from_stamp, to_stamp

MIGRATION_SET = "relman"
WAL_SIZE_LIMIT = 4 * 1024 * 1024
BUSY_TIMEOUT_S = 5.0
_BEGIN_RETRIES = 4
WATCH_POLL_S = 0.1  # how often a waiting SQLite store looks at data_version (a PostgreSQL store is told)

# The schema's migrations live in relman_tui.schema_sqlite (sqlite-utils), imported only when a
# file needs one applied: opening an up-to-date board costs no sqlite-utils import.
KNOWN_MIGRATIONS = frozenset(
    {
        "m001_initial",
        "m002_identity_and_chain",
        "m003_hook_runner",
        "m004_hook_outcomes",
        "m005_changed_at",
        "m006_state_checkpoint",
    }
)
MIGRATIONS_TABLE = "_sqlite_migrations"


@dataclass(frozen=True, slots=True)
class NewRelease:
    name: str
    version: str
    components: tuple[str, ...]
    owner: str
    risk: Risk
    notes: str
    stage: str
    state: State
    approved_by: str | None = None
    approved_at: datetime | None = None
    created_by: str = ""
    unapproved: bool = False
    created_at: datetime | None = None  # None: now (a seeded demo gives its releases a past)
    changed_at: datetime | None = None  # the oldest change it carries (`--changed-at`)

    def stored(self, release_id: int, now: datetime) -> Release:
        """The release as its first write stores it (rev 1), for the record its ``created`` event carries."""
        return Release(
            release_id,
            self.name,
            self.version,
            self.components,
            self.owner,
            self.risk,
            self.stage,
            self.state,
            self.approved_by,
            self.approved_at,
            self.notes,
            self.created_at or now,
            now,
            1,
            created_by=self.created_by or self.owner,
            unapproved=self.unapproved,
            changed_at=self.changed_at,
        )


@dataclass(frozen=True, slots=True)
class NewEvent:
    action: str
    release: int | None = None
    from_: str | None = None
    to: str | None = None
    forced: bool = False
    reason: str | None = None
    details: Mapping[str, Any] | None = None


class Wake(enum.Enum):
    """Why :meth:`BoardStore.wait_for_change` returned."""

    TIMEOUT = "timeout"  # nothing changed
    CHANGED = "changed"  # another connection committed a change (or the log had moved past ``after_seq``)
    RECONNECTED = "reconnected"  # the server went away and came back: changes may have been missed, re-read
    DISCONNECTED = "disconnected"  # the server is away and did not come back before the timeout

    @property
    def changed(self) -> bool:
        """Whether the caller should read the board again."""
        return self in (Wake.CHANGED, Wake.RECONNECTED)


@dataclass(frozen=True, slots=True)
class BoardDump:
    """A whole board with its full history, as `relman copy` moves it from one store to another."""

    settings: dict[str, str]
    environments: list[Environment]
    releases: list[Release]  # every release, cancelled ones too, with their windows
    freezes: list[Freeze]
    events: list[chain.StoredEvent]
    hook_cursor: tuple[int, list[str]] = (0, [])  # the hook runner's progress goes along: no hook re-runs


class BoardStore(Protocol):
    """What the service, the CLI, the demo and the board need from a store; both backends provide it.

    Every change happens inside :meth:`write` (one transaction: the change and its event land
    together or not at all); :meth:`read` gives one consistent view to several queries.
    """

    read_only: bool
    path: Path  # for display (the board's top bar shows its name); a PostgreSQL store's is postgresql:/host/db

    @property
    def target(self) -> Target:
        """What :func:`open_store` opens again: the file's path, or the URL (never with a password)."""

    @property
    def name(self) -> str:
        """The board as shown to a person: the path, or the URL without secrets."""

    def close(self) -> None: ...

    def reopen(self, *, read_only: bool = False) -> BoardStore:
        """Another connection to the same board (a watcher thread needs one of its own)."""

    def file_problem(self) -> str | None:
        """Why the board this store opened is no longer there (a file deleted or replaced), or ``None``."""

    def is_admin(self) -> bool:
        """Whether the server itself counts the connecting role as the board's admin (a file: never)."""

    def server_account(self) -> str | None:
        """Who the server says we are (PostgreSQL's ``session_user``); ``None``: the OS account acts."""

    def write(self) -> AbstractContextManager[None]: ...
    def read(self) -> AbstractContextManager[None]: ...
    def data_version(self) -> int: ...
    def last_seq(self) -> int: ...

    def wait_for_change(self, timeout: float, after_seq: int | None = None) -> Wake:
        """Block until another connection commits, the log moves past ``after_seq``, or ``timeout`` (s)."""

    def setting(self, key: str, default: str) -> str: ...
    def settings(self) -> dict[str, str]: ...
    def set_setting(self, key: str, value: str) -> None: ...

    def environments(self) -> list[Environment]: ...
    def save_environments(self, environments: Sequence[Environment]) -> None: ...
    def stage_in_use(self, stage: str) -> bool: ...

    def releases(self, *, stage: str | None = None, include_cancelled: bool = False) -> list[Release]: ...
    def release(self, release_id: int) -> Release | None: ...
    def insert_release(self, new: NewRelease, now: datetime) -> int: ...
    def insert_releases_bulk(
        self,
        releases: Sequence[NewRelease],
        windows: Sequence[Sequence[tuple[str, datetime, datetime]]],
        now: datetime,
    ) -> list[int]: ...
    def update_release(self, release: Release, expected_rev: int, now: datetime) -> Release: ...
    def refuse_stale(self, release_id: int, expected_rev: int) -> NoReturn: ...
    def set_window(self, window: Window) -> None: ...
    def delete_window(self, release_id: int, environment: str) -> bool: ...

    def freezes(self) -> list[Freeze]: ...
    def insert_freeze(self, freeze: Freeze) -> int: ...
    def delete_freeze(self, freeze_id: int) -> bool: ...
    def delete_all_freezes(self) -> None: ...

    def append_event(self, event: NewEvent, actor: str, at: datetime, via: str | None = None) -> int: ...
    def board_id(self) -> str: ...
    def events(
        self, *, release: int | None = None, limit: int | None = None, after_seq: int | None = None
    ) -> list[Event]: ...
    def stored_events(self) -> list[chain.StoredEvent]: ...
    def delivery_rows(self, environment: str) -> list[tuple[Any, ...]]:
        """What the delivery figures of ``environment`` read, oldest first: ``seq, at, release, action,
        from, to, forced, details``, time and details as stored text (see :func:`delivery_rows_query`)."""
        ...

    def dump(self) -> BoardDump: ...
    def load_copy(self, dump: BoardDump) -> None: ...

    def owns(self, path: Path) -> bool:
        """Is ``path`` one of the board's own files (so nothing may be written over it)?"""

    def hook_cursor(self) -> tuple[int, list[str]]: ...
    def hook_failures(self) -> frozenset[int]: ...
    def set_hook_cursor(self, seq: int, done: Sequence[str]) -> None: ...
    def runner_lock(self, wait: bool = True) -> AbstractContextManager[bool]: ...
    def runner_key(self) -> str:
        """The board's identity for its hook runner (the file's device and inode, or the server database)."""


def open_store(target: Target, *, create: bool = False, read_only: bool = False) -> BoardStore:
    """Open the board at ``target``: SQLite for a path, PostgreSQL for a ``postgresql://`` URL."""
    if is_url(target):
        try:
            from relman_tui.store_pg import PgStore
        except ImportError as exc:
            if (exc.name or "").split(".")[0] in ("psycopg", "psycopg_binary", "psycopg_c"):
                raise BadInput(f"a PostgreSQL board needs the psycopg driver: {INSTALL_HINT}") from None
            raise
        return PgStore.open(str(target), create=create, read_only=read_only)
    return Store.open(Path(target), create=create, read_only=read_only)


_SQLITE_HEADER = b"SQLite format 3\x00"
_WAL_HEADERS = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")


def check_output(path: Path, what: str, store: BoardStore | None = None) -> None:
    """Refuse to write a file a person named (an export, a calendar, a config) over a database.

    A tired operator who types the board's own path (`relman --db b.db export b.db`) would
    otherwise replace the board, history and all, with a few lines of TOML.
    """
    if store is not None and store.owns(path):
        raise BadInput(f"{path} is this board's own database file; {what} would destroy it. Give another file name")
    from relman_tui.outfile import refuse_special

    refuse_special(path, what)  # looked at, never opened: a FIFO would block the read below
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return  # not there yet (or not readable: writing it will say so)
    if head == _SQLITE_HEADER or head[:4] in _WAL_HEADERS:
        raise BadInput(f"{path} is a database file; {what} does not write over it. Give another file name")


def refuse_stale(store: BoardStore, release_id: int, expected_rev: int) -> NoReturn:
    """Raise :class:`StaleWrite` naming who changed the release since ``expected_rev``."""
    fresh = store.release(release_id)
    if fresh is None:
        raise BadInput(f"no release with id {release_id}")
    last = store.events(release=release_id, limit=1)
    who = last[0].actor if last else None
    what = f" ({last[0].action})" if last else ""
    raise StaleWrite(
        f"{fresh.label} was changed by {who or 'someone'}{what} since you saw it "
        f"(rev {expected_rev}, now {fresh.rev}); nothing was written",
        fresh,
        who,
    )


def empty_problem(store: BoardStore) -> str | None:
    """Why ``store`` cannot take a copied board (it holds releases, events, environments or freezes)."""
    with store.read():
        held = {
            "releases": len(store.releases(include_cancelled=True)),
            "events": len(store.events(limit=1)),
            "environments": len(store.environments()),
            "freezes": len(store.freezes()),
        }
    found = [what for what, count in held.items() if count]
    if not found:
        return None
    return (
        f"{store.name} is not empty (it has {', '.join(found)}); relman copy needs a fresh file or a "
        "database after `relman pg setup`, so that nothing is overwritten"
    )


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Store:
    """One connection to one relman database file."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        # A read-only connection must never create the -wal and -shm files: made by a reader,
        # they would belong to the reader and could lock the board's owner out. With no -shm
        # beside the file (no writer has it open), the file is read as immutable and re-opened
        # when it changes on disk.
        self._immutable = read_only and not _has_shm(path)
        self._conn = _connect(path, read_only, self._immutable)
        self._in_write = False
        self._identity = _file_identity(path)
        self._disk_mark = _disk_mark(path)
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
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError):  # missing (a directory in its path may be made)
            info = None
        except OSError as exc:
            raise BadInput(f"cannot open {path}: {exc.strerror}") from exc
        if info is not None and not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, a pipe or a socket"
            raise BadInput(f"{path} is {kind}, not a regular file; relman keeps a board in a regular file")
        exists = info is not None and info.st_size > 0
        if not exists and not create:
            raise BadInput(f"no relman database at {path} (run `relman init` or `relman demo` first)")
        if exists and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            # a file we may not write, or one in a directory where the -wal and -shm files it
            # needs cannot be made: read it, never try to change it
            read_only = True
        if not exists:
            if read_only:
                raise BadInput(f"no relman database at {path}")
            _make_private_dir(path.parent)
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
        try:
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            applied: set[str] = set()
            if MIGRATIONS_TABLE in tables:
                applied = {
                    str(r[0])
                    for r in self._conn.execute(
                        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", (MIGRATION_SET,)
                    )
                }
        except sqlite3.DatabaseError as exc:
            raise BadInput(f"{self.path} is not a relman database ({exc})") from exc
        if not fresh and not applied:
            raise BadInput(f"{self.path} is not a relman database; refusing to touch it")
        unknown = applied - KNOWN_MIGRATIONS
        if unknown:
            raise BadInput(
                f"{self.path} was written by a newer relman (schema {max(unknown)}); upgrade relman to open it"
            )
        if KNOWN_MIGRATIONS - applied:
            if self.read_only:
                raise BadInput(f"{self.path} needs a schema upgrade but is read-only")
            from relman_tui.schema_sqlite import apply_migrations

            with self._busy_retry():
                apply_migrations(self._conn)
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
        now = _file_identity(self.path)
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
        has_shm = _has_shm(self.path)
        mark = _disk_mark(self.path) if self._immutable else self._disk_mark
        if has_shm == (not self._immutable) and mark == self._disk_mark:
            return False
        self._conn.close()
        self._immutable = not has_shm
        self._conn = _connect(self.path, True, self._immutable)
        self._disk_mark = _disk_mark(self.path)
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
                if not _is_busy(exc) or attempt == _BEGIN_RETRIES - 1:
                    raise _translate(exc, self.path) from exc
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
                raise _translate(exc, self.path) from exc
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
            raise _translate(exc, self.path) from exc
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
            raise _translate(exc, self.path) from exc

    def data_version(self) -> int:
        """Changes when another connection commits; cheap enough to poll twice a second."""
        if self._refresh_read_only() or self._immutable:
            # a fresh (or immutable) connection counts from scratch: fold in how often it was made
            return -self._reopened - 1
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0]) + (self._reopened << 32)

    def last_seq(self) -> int:
        row = self._conn.execute("SELECT max(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def wait_for_change(self, timeout: float, after_seq: int | None = None) -> Wake:
        """Return when another connection commits (``PRAGMA data_version``, looked at every
        ``WATCH_POLL_S``), at once when the log has moved past ``after_seq``, or after ``timeout``.

        The first call sets the mark it compares with: pass the last seq you have read as
        ``after_seq`` so that a change made in between is not missed. Use the store from one
        thread only (a watcher thread opens its own with :meth:`reopen`).
        """
        deadline = time.monotonic() + timeout
        if after_seq is not None and self.last_seq() > after_seq:
            self._watch_mark = self.data_version()
            return Wake.CHANGED
        if self._watch_mark is None:
            self._watch_mark = self.data_version()
        while True:
            version = self.data_version()
            if version != self._watch_mark:
                self._watch_mark = version
                return Wake.CHANGED
            left = deadline - time.monotonic()
            if left <= 0:
                return Wake.TIMEOUT
            time.sleep(min(WATCH_POLL_S, left))

    # -- settings --------------------------------------------------------------------------

    def setting(self, key: str, default: str) -> str:
        row = self._conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        self._exec("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))

    # -- environments ----------------------------------------------------------------------

    def environments(self) -> list[Environment]:
        rows = self._conn.execute(
            "SELECT name, title, position, capacity, requires_approval FROM environments ORDER BY position"
        ).fetchall()
        return [Environment(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

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

    def stage_in_use(self, stage: str) -> bool:
        found = (
            self._conn.execute(
                "SELECT 1 FROM releases WHERE stage = ? AND state != 'cancelled' LIMIT 1", (stage,)
            ).fetchone()
            or self._conn.execute("SELECT 1 FROM windows WHERE environment = ? LIMIT 1", (stage,)).fetchone()
        )
        return found is not None

    # -- releases --------------------------------------------------------------------------

    def releases(self, *, stage: str | None = None, include_cancelled: bool = False) -> list[Release]:
        """Releases with their windows, in id order: two queries however many there are."""
        query, params = releases_query("?", stage, include_cancelled)
        return with_windows(self._conn.execute(query, params).fetchall(), self._windows)

    def _windows(self, ids: list[int] | None) -> dict[int, list[Window]]:
        """Windows by release id, each release's in start order; ``None``: every release's."""
        query = 'SELECT release_id, environment, start, "end" FROM windows'
        if ids is not None:
            query += f" WHERE release_id IN ({','.join('?' for _ in ids)})"
        out: dict[int, list[Window]] = {}
        for w in self._conn.execute(query + " ORDER BY start", ids or ()):
            out.setdefault(w[0], []).append(Window(w[0], w[1], from_stamp(w[2]), from_stamp(w[3])))
        return out

    def release(self, release_id: int) -> Release | None:
        row = self._conn.execute(f"SELECT {RELEASE_COLUMNS} FROM releases WHERE id = ?", (release_id,)).fetchone()
        if row is None:
            return None
        return _release(row, self._windows([release_id]).get(release_id, ()))

    def insert_release(self, new: NewRelease, now: datetime) -> int:
        cursor = self._exec(
            """INSERT INTO releases (name, version, components, owner, risk, stage, state, approved_by,
               approved_at, notes, created_at, updated_at, rev, created_by, unapproved, changed_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)""",
            _release_row(new, now),
        )
        return int(cursor.lastrowid or 0)

    def insert_releases_bulk(
        self,
        releases: Sequence[NewRelease],
        windows: Sequence[Sequence[tuple[str, datetime, datetime]]],
        now: datetime,
    ) -> list[int]:
        """Many releases and their windows in one go (demo boards of 10,000 releases)."""
        first = int(self._conn.execute("SELECT coalesce(max(id), 0) FROM releases").fetchone()[0]) + 1
        ids = list(range(first, first + len(releases)))
        self._conn.executemany(
            f"INSERT INTO releases ({RELEASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            ((rid, *_release_row(new, now)) for rid, new in zip(ids, releases, strict=True)),
        )
        self._conn.executemany(
            'INSERT INTO windows (release_id, environment, start, "end") VALUES (?, ?, ?, ?)',
            (
                (rid, env, to_stamp(start), to_stamp(end))
                for rid, spans in zip(ids, windows, strict=True)
                for env, start, end in spans
            ),
        )
        return ids

    def update_release(self, release: Release, expected_rev: int, now: datetime) -> Release:
        """Write every field of ``release`` if nobody changed it since ``expected_rev``."""
        cursor = self._exec(
            """UPDATE releases SET name = ?, version = ?, components = ?, owner = ?, risk = ?, stage = ?,
               state = ?, approved_by = ?, approved_at = ?, notes = ?, updated_at = ?, unapproved = ?,
               changed_at = ?, rev = rev + 1 WHERE id = ? AND rev = ?""",
            release_update_row(release, now, expected_rev),
        )
        return updated(self, cursor.rowcount, release.id, expected_rev)

    def refuse_stale(self, release_id: int, expected_rev: int) -> NoReturn:
        refuse_stale(self, release_id, expected_rev)

    def set_window(self, window: Window) -> None:
        self._exec(
            'INSERT OR REPLACE INTO windows (release_id, environment, start, "end") VALUES (?, ?, ?, ?)',
            (window.release_id, window.environment, to_stamp(window.start), to_stamp(window.end)),
        )

    def delete_window(self, release_id: int, environment: str) -> bool:
        cursor = self._exec("DELETE FROM windows WHERE release_id = ? AND environment = ?", (release_id, environment))
        return cursor.rowcount > 0

    # -- freezes ---------------------------------------------------------------------------

    def freezes(self) -> list[Freeze]:
        rows = self._conn.execute(
            'SELECT id, environments, reason, start, "end", cron, duration, zone FROM freezes ORDER BY id'
        )
        return [freeze_from_row(r) for r in rows]

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
        if not self._in_write:
            raise RuntimeError("store writes must happen inside Store.write()")
        try:
            return _insert_event(self._conn, self.board_id(), event, actor, via, at)
        except sqlite3.IntegrityError as exc:
            raise BadInput(f"refused by the database: {exc}") from exc
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc

    def board_id(self) -> str:
        """A random id given to the board when it was made; the log's chain starts from it."""
        return self.setting("board_id", "")

    def events(
        self, *, release: int | None = None, limit: int | None = None, after_seq: int | None = None
    ) -> list[Event]:
        """Newest first when ``limit`` is given without ``after_seq``; otherwise oldest first."""
        query, params = events_query("?", release, limit, after_seq)
        return [_event(row) for row in self._conn.execute(query, params).fetchall()]

    def stored_events(self) -> list[chain.StoredEvent]:
        """Every event exactly as stored, oldest first: what the hash chain is computed over."""
        return _stored_events(self._conn)

    def delivery_rows(self, environment: str) -> list[tuple[Any, ...]]:
        # a good part of the log is read: in seq (rowid) order, a scan beats the (action, …) index and a sort
        query = delivery_rows_query("?").replace("FROM events", "FROM events NOT INDEXED")
        return self._conn.execute(query, [environment]).fetchall()

    # -- the hook runner ------------------------------------------------------------------

    def hook_cursor(self) -> tuple[int, list[str]]:
        """``(seq, done)``: events before ``seq`` are handled, and at ``seq`` the hooks ``done``."""
        return hook_cursor_from_row(self._conn.execute("SELECT seq, done FROM hook_cursor WHERE id = 1").fetchone())

    def hook_failures(self) -> frozenset[int]:
        """The releases whose latest hook outcome is a failure (the board marks their cards)."""
        return frozenset(int(r[0]) for r in self._conn.execute(HOOK_FAILURES_SQL.replace("%s", "?")))

    def set_hook_cursor(self, seq: int, done: Sequence[str]) -> None:
        self._exec(
            "INSERT INTO hook_cursor (id, seq, done) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, done = excluded.done",
            (seq, json.dumps(list(done))),
        )

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
        import fcntl

        from relman_tui.runner_lock import open_lock_file

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

    # -- copying a whole board ---------------------------------------------------------------

    def dump(self) -> BoardDump:
        return dump_board(self)

    def settings(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._conn.execute("SELECT key, value FROM settings")}

    def load_copy(self, dump: BoardDump) -> None:
        """Write a copied board, history and all, into this empty store; all or nothing.

        The events keep their seqs, actors, times and hashes; the chain is verified before the
        transaction commits.
        """
        with self.write():
            if problem := empty_problem(self):
                raise BadInput(problem)
            self._exec("DELETE FROM settings")
            for key, value in sorted(dump.settings.items()):
                self._exec("INSERT INTO settings (key, value) VALUES (?, ?)", (key, value))
            self.save_environments(dump.environments)
            for release in dump.releases:
                self._exec(
                    f"INSERT INTO releases ({RELEASE_COLUMNS}) VALUES ({', '.join('?' * 17)})",
                    release_row(release),
                )
                for window in release.windows:
                    self.set_window(window)
            for freeze in dump.freezes:
                self._exec(
                    'INSERT INTO freezes (id, environments, reason, start, "end", cron, duration, zone) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (freeze.id, *freeze_row(freeze)),
                )
            for event in dump.events:
                self._exec(
                    f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({', '.join('?' * 12)})", stored_event_row(event)
                )
            if dump.hook_cursor[0]:
                self.set_hook_cursor(*dump.hook_cursor)
            verdict = chain.verify(self.board_id(), self.stored_events())
            if not verdict.ok:
                raise BadInput(f"the copied log does not verify in {self.name}: {verdict.problem}; nothing was copied")

    # -- plumbing --------------------------------------------------------------------------

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if not self._in_write:
            raise RuntimeError("store writes must happen inside Store.write()")
        try:
            return self._conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise BadInput(f"refused by the database: {exc}") from exc
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc


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
        raise _translate(exc, path) from exc
    return conn


def _has_shm(path: Path) -> bool:
    return os.path.exists(f"{path}-shm")


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _disk_mark(path: Path) -> tuple[int, ...]:
    """What changes when a writer changes the file (or its WAL)."""
    out: list[int] = []
    for name in (str(path), f"{path}-wal"):
        try:
            info = os.stat(name)
        except OSError:
            out += [0, 0, 0]
        else:
            out += [info.st_ino, info.st_size, info.st_mtime_ns]
    return tuple(out)


def _make_private_dir(directory: Path) -> None:
    """Create ``directory`` and every missing parent private to the user (0700), outermost first.

    ``Path.mkdir(parents=True, mode=...)`` gives the mode to the last directory only; the
    parents it creates get the umask's default, which may let anyone list the board's files.
    """
    missing: list[Path] = []
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # another process made it in between
            continue
        except OSError as exc:
            raise BadInput(f"cannot create {path}: {exc.strerror}") from exc
    if directory.exists() and not directory.is_dir():
        raise BadInput(f"cannot create {directory}: a file of that name is in the way")


def describe_error(exc: sqlite3.Error, path: Path | None = None) -> str:
    """A database error as one sentence for a person (never SQLite's bare "database is locked")."""
    return str(_translate(exc, path or Path("the database")))


def _translate(exc: sqlite3.Error, path: Path) -> BadInput:
    text = str(exc)
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return BadInput(f"{path} is read-only; nothing was changed")
    if _is_busy(exc) if isinstance(exc, sqlite3.OperationalError) else False:
        return BadInput(f"{path} is busy (another process holds a write lock); nothing was changed, try again")
    if "disk is full" in lowered or "disk i/o" in lowered:
        return BadInput(f"cannot write {path}: the disk is full or failing; nothing was changed")
    if "not a database" in lowered or "malformed" in lowered:
        return BadInput(f"{path} is not a relman database or is damaged ({text})")
    if "unable to open" in lowered:
        return BadInput(f"cannot open {path} ({text})")
    return BadInput(f"database error on {path}: {text}")


HOOK_FAILURES_SQL = """
    SELECT release FROM events AS e
    WHERE action IN ('hook_ran', 'hook_failed') AND release IS NOT NULL
    GROUP BY release
    HAVING (SELECT action FROM events WHERE release = e.release AND action IN ('hook_ran', 'hook_failed')
            ORDER BY seq DESC LIMIT 1) = 'hook_failed'
"""

RELEASE_COLUMNS = (
    "id, name, version, components, owner, risk, stage, state, approved_by, approved_at, "
    "notes, created_at, updated_at, rev, created_by, unapproved, changed_at"
)
EVENT_COLUMNS = 'seq, at, actor, via, release, action, "from", "to", forced, reason, details, hash'
WINDOWS_BY_ID_MAX = 500  # more releases than this: one scan of the windows beats asking by id


def releases_query(ph: str, stage: str | None, include_cancelled: bool) -> tuple[str, list[Any]]:
    """``releases()``' query and parameters, ``ph`` the driver's placeholder (both stores)."""
    where: list[str] = []
    params: list[Any] = []
    if stage is not None:
        where.append(f"stage = {ph}")
        params.append(stage)
    if not include_cancelled:
        where.append("state <> 'cancelled'")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {RELEASE_COLUMNS} FROM releases{clause} ORDER BY id", params


def with_windows(
    rows: Sequence[Sequence[Any]], windows: Callable[[list[int] | None], dict[int, list[Window]]]
) -> list[Release]:
    """Release rows as Releases, with the windows ``windows`` reads: by id for a few, all for many."""
    if not rows:
        return []
    by_release = windows([row[0] for row in rows] if len(rows) < WINDOWS_BY_ID_MAX else None)
    return [_release(row, by_release.get(row[0], ())) for row in rows]


def events_query(ph: str, release: int | None, limit: int | None, after_seq: int | None) -> tuple[str, list[Any]]:
    """``events()``' query and parameters (both stores): newest first when ``limit`` is given
    without ``after_seq``, otherwise oldest first."""
    where: list[str] = []
    params: list[Any] = []
    if release is not None:
        where.append(f"release = {ph}")
        params.append(release)
    if after_seq is not None:
        where.append(f"seq > {ph}")
        params.append(after_seq)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = "DESC" if limit is not None and after_seq is None else "ASC"
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    return f"SELECT {EVENT_COLUMNS} FROM events{clause} ORDER BY seq {order}{tail}", params


def delivery_rows_query(ph: str) -> str:
    """What the delivery figures of one environment read (both stores; the parameter: the environment).

    One query, only these columns, in log order: every ``created``, ``edited``, ``approved`` and
    ``rolled_back`` event, and the moves, failure marks and verifications into the environment;
    details only of those that carry what the figures need (creations, edits, moves, verifications).
    """
    return (
        'SELECT seq, at, release, action, "from", "to", forced, '
        "CASE WHEN action IN ('created', 'edited', 'moved', 'verified') THEN details END FROM events "
        "WHERE release IS NOT NULL AND (action IN ('created', 'edited', 'approved', 'rolled_back') "
        f"""OR ("to" = {ph} AND action IN ('moved', 'failed', 'verified'))) ORDER BY seq"""
    )


def updated(store: BoardStore, rowcount: int, release_id: int, expected_rev: int) -> Release:
    """The release as an UPDATE guarded by ``rev = expected_rev`` left it; a stale write (it
    matched no row) is refused with what changed."""
    if rowcount != 1:
        store.refuse_stale(release_id, expected_rev)
    fresh = store.release(release_id)
    assert fresh is not None
    return fresh


def dump_board(store: BoardStore) -> BoardDump:
    """The whole board, history and all, read in one snapshot (both stores)."""
    with store.read():
        return BoardDump(
            store.settings(),
            store.environments(),
            store.releases(include_cancelled=True),
            store.freezes(),
            store.stored_events(),
            store.hook_cursor(),
        )


def _stored_events(conn: sqlite3.Connection) -> list[chain.StoredEvent]:
    rows = conn.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY seq").fetchall()
    return [stored_event(r) for r in rows]


def stored_event(r: Sequence[Any]) -> chain.StoredEvent:
    """An events row (in ``EVENT_COLUMNS`` order) exactly as stored."""
    return chain.StoredEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9], r[10], r[11])


def stored_event_row(e: chain.StoredEvent) -> tuple[Any, ...]:
    """The values of an events row in ``EVENT_COLUMNS`` order."""
    return (e.seq, e.at, e.actor, e.via, e.release, e.action, e.from_, e.to, e.forced, e.reason, e.details, e.hash)


def _insert_event(
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


def _event(row: Sequence[Any]) -> Event:
    details = json.loads(row[10]) if row[10] else {}
    return Event(
        row[0],
        from_stamp(row[1]),
        row[2],
        row[4],
        row[5],
        row[6],
        row[7],
        bool(row[8]),
        row[9],
        via=row[3],
        details=details if isinstance(details, dict) else {},
        hash=row[11],
    )


def _release(row: Sequence[Any], windows: Iterable[Window] = ()) -> Release:
    # windows go in here, not through dataclasses.replace afterwards: a board of 10,000
    # releases is read at start and on every live change
    return Release(
        id=row[0],
        name=row[1],
        version=row[2],
        components=tuple(json.loads(row[3])),
        owner=row[4],
        risk=Risk(row[5]),
        stage=row[6],
        state=State(row[7]),
        approved_by=row[8],
        approved_at=from_stamp(row[9]) if row[9] else None,
        notes=row[10],
        created_at=from_stamp(row[11]),
        updated_at=from_stamp(row[12]),
        rev=row[13],
        windows=tuple(windows),
        created_by=row[14] or row[4],
        unapproved=bool(row[15]),
        changed_at=from_stamp(row[16]) if row[16] else None,
    )


def release_row(r: Release) -> tuple[Any, ...]:
    """Every column of a stored release in ``RELEASE_COLUMNS`` order (a copy keeps ids and revisions)."""
    return (
        r.id,
        r.name,
        r.version,
        json.dumps(list(r.components)),
        r.owner,
        str(r.risk),
        r.stage,
        str(r.state),
        r.approved_by,
        to_stamp(r.approved_at) if r.approved_at else None,
        r.notes,
        to_stamp(r.created_at),
        to_stamp(r.updated_at),
        r.rev,
        r.created_by or r.owner,
        int(r.unapproved),
        to_stamp(r.changed_at) if r.changed_at else None,
    )


def release_update_row(release: Release, now: datetime, expected_rev: int) -> tuple[Any, ...]:
    """The values of ``update_release``'s UPDATE, its ``WHERE id = … AND rev = …`` last (both stores)."""
    return (
        release.name,
        release.version,
        json.dumps(list(release.components)),
        release.owner,
        str(release.risk),
        release.stage,
        str(release.state),
        release.approved_by,
        to_stamp(release.approved_at) if release.approved_at else None,
        release.notes,
        to_stamp(now),
        release.unapproved,
        to_stamp(release.changed_at) if release.changed_at else None,
        release.id,
        expected_rev,
    )


def freeze_from_row(r: Sequence[Any]) -> Freeze:
    """A freezes row (``id, environments, reason, start, end, cron, duration, zone``) as a Freeze."""
    return Freeze(
        id=r[0],
        environments=tuple(json.loads(r[1])),
        reason=r[2],
        start=from_stamp(r[3]) if r[3] else None,
        end=from_stamp(r[4]) if r[4] else None,
        cron=r[5],
        duration=timedelta(seconds=r[6]) if r[6] is not None else None,
        zone=r[7],
    )


def hook_cursor_from_row(row: Sequence[Any] | None) -> tuple[int, list[str]]:
    """The hook runner's ``(seq, done)`` from its one row (none yet: from the start)."""
    if row is None:
        return 0, []
    done = json.loads(row[1])
    return int(row[0]), [str(d) for d in done] if isinstance(done, list) else []


def freeze_row(freeze: Freeze) -> tuple[Any, ...]:
    """A freeze's stored columns after its id: environments, reason, start, end, cron, duration, zone."""
    return (
        json.dumps(list(freeze.environments)),
        freeze.reason,
        to_stamp(freeze.start) if freeze.start else None,
        to_stamp(freeze.end) if freeze.end else None,
        freeze.cron,
        int(freeze.duration.total_seconds()) if freeze.duration else None,
        freeze.zone,
    )


def _release_row(new: NewRelease, now: datetime) -> tuple[Any, ...]:
    return (
        new.name,
        new.version,
        json.dumps(list(new.components)),
        new.owner,
        str(new.risk),
        new.stage,
        str(new.state),
        new.approved_by,
        to_stamp(new.approved_at) if new.approved_at else None,
        new.notes,
        to_stamp(new.created_at or now),
        to_stamp(now),
        new.created_by or new.owner,
        int(new.unapproved),
        to_stamp(new.changed_at) if new.changed_at else None,
    )
