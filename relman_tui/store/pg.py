"""The PostgreSQL store: the SQLite store's interface, on a server that enforces the controls itself.

One board per database, in the schema ``relman``, owned by the board's admin role (made by
`relman pg setup`). Operators reach it through the group role ``relman_operator``, wallboards
through ``relman_reader``, the hook runner also through ``relman_runner``. Nobody but the admin
may write a table: each change is one call to an admin-owned function
(:mod:`relman_tui.store.pg_functions`) that writes the event and the effect the event carries, and
refuses what the server can check. Inside ``write()`` the store keeps what the service changed
(:class:`relman_tui.store.pg_events.Pending`) and sends it with the next event. Every connection has
a lock timeout and a statement timeout, and a lock that does not come is reported with who
holds it; the server tells every listening board about each change (LISTEN/NOTIFY).

Credentials come from libpq only (``~/.pgpass``, ``PGSERVICE``, peer authentication): a
password in the URL is refused before anything connects.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from relman_tui.dburl import describe
from relman_tui.errors import BadInput, Refused, RelmanError
from relman_tui.model import Environment, Freeze, Release, Window
from relman_tui.records import freeze_record, release_record, window_record
from relman_tui.store.contract import NewEvent, NewRelease, Wake
from relman_tui.store.interrupt import Interrupt
from relman_tui.store.pg_connect import RUNNER_RETRY_S, Connection, connect, first_line
from relman_tui.store.pg_errors import translate
from relman_tui.store.pg_events import Pending, as_json, function_for, payload
from relman_tui.store.pg_listen import Listener
from relman_tui.store.pg_schema import check_board
from relman_tui.store.shared import (
    RELEASE_COLUMNS,
    delivery_rows_query,
    names_from_setting,
    refuse_stale,
    release_from_row,
)
from relman_tui.store.sqlbase import SqlStore
from relman_tui.timeutil import from_stamp

# -- the store --------------------------------------------------------------------------------------------


class PgStore(SqlStore):
    """One connection to one relman board in a PostgreSQL database (plus one that listens, when asked)."""

    PLACEHOLDER = "%s"

    def __init__(self, url: str, conn: Connection, *, read_only: bool, account: str, admin: str, database: str) -> None:
        self._url = url
        self._conn = conn
        self.read_only = read_only
        self._account = account
        self.admin = admin
        self.database = database
        self.path = Path("postgresql:") / database  # for display only: the board's top bar shows its name
        self._tx: str | None = None
        self._pending = Pending()
        self._pending_events = 0
        self._own_events = 0
        self._listener = Listener(url)

    @property
    def target(self) -> str:
        return self._url

    @property
    def name(self) -> str:
        return describe(self._url)

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, create: bool = False, read_only: bool = False) -> PgStore:
        """Open the board in the database at ``url``. A board is made by `relman pg setup`, so ``create``
        changes nothing here; a role without write access gets the board read-only."""
        conn = connect(url)
        try:
            account, database, admin, read_only = check_board(conn, url, read_only=read_only)
        except psycopg.Error as exc:
            conn.close()
            raise BadInput(f"cannot open the board in {describe(url)}: {first_line(exc)}") from None
        except BaseException:
            conn.close()
            raise
        return cls(url, conn, read_only=read_only, account=str(account), admin=str(admin), database=str(database))

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self._conn.close()
        self._listener.close()

    def reopen(self, *, read_only: bool = False) -> PgStore:
        return PgStore.open(self._url, read_only=read_only)

    def owns(self, path: Path) -> bool:
        return False  # the board lives on the server: no file of the client's is the board's

    def file_problem(self) -> str | None:
        return None  # the server keeps the board where it is

    def server_account(self) -> str | None:
        """The role the server authenticated (``session_user``): who acts on a PostgreSQL board."""
        return self._account

    def is_admin(self) -> bool:
        """Whether the server counts the connecting role as an admin (named in ``admins``, or a member of
        a role named there: the ``--admin`` role of `pg setup`)."""
        row = self._run("SELECT relman.is_admin()").fetchone()
        return bool(row and row[0])

    def owns_schema(self) -> bool:
        """Whether the connecting role is (a member of) the schema's owner: who may write the tables."""
        row = self._run(
            "SELECT pg_has_role(session_user, nspowner, 'MEMBER') FROM pg_namespace WHERE nspname = 'relman'"
        ).fetchone()
        return bool(row and row[0])

    # -- transactions and change tracking ----------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One transaction that holds the board's write lock: the change and its events land together."""
        if self.read_only:
            raise BadInput(f"{self.name} is open read-only; nothing can be changed")
        if self._tx == "write":  # nested use joins the outer transaction
            yield
            return
        if self._tx is not None:
            raise RuntimeError("a write cannot start inside a read transaction")
        # one round trip: begin and take the board's lock row (writers queue here, for at most
        # lock_timeout, as BEGIN IMMEDIATE queues them on a file), so what the service reads before
        # it writes is what it writes over; each write function takes the same lock again
        self._tx = "write"
        self._pending_events = 0
        self._pending = Pending()
        try:
            self._begin("BEGIN; SELECT relman.take_board_lock()")
        except BaseException:
            self._end("ROLLBACK")
            self._tx = None
            raise
        try:
            yield
            if self._pending.release or self._pending.window or self._pending.freeze:
                raise RuntimeError("a change to a release or a freeze must be logged by an event in its write()")
        except BaseException:
            self._end("ROLLBACK")
            raise
        else:
            try:
                self._conn.execute("COMMIT")
            except psycopg.Error as exc:
                self._end("ROLLBACK")
                raise self._translate(exc) from exc
            self._own_events += self._pending_events
        finally:
            self._tx = None

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        """A read transaction: every query inside sees the same state of the board."""
        if self._tx is not None:
            yield
            return
        self._begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self._tx = "read"
        try:
            yield
        finally:
            self._end("ROLLBACK")
            self._tx = None

    def _begin(self, statement: str) -> None:
        self._run(statement, reconnect=True)  # nothing of the transaction has happened yet: a dropped one is made again

    def _end(self, statement: str) -> None:
        if self._conn.closed or self._conn.broken:
            return
        with contextlib.suppress(psycopg.Error):
            self._conn.execute(statement)

    def data_version(self) -> int:
        """See the contract: the events other connections committed. Every change to the board is made
        by a write function together with its event, and seqs have no gaps, so the count moves exactly
        when another connection commits a change (a hook cursor moved alone leaves it)."""
        return self.last_seq() - self._own_events

    def wait_for_change(
        self,
        timeout: float,
        after_seq: int | None = None,
        *,
        interrupt: Interrupt | None = None,
        look_every: float | None = None,
    ) -> Wake:
        """Block on the board's notification channel until another commit, at most ``timeout`` seconds
        (see :meth:`relman_tui.store.pg_listen.Listener.wait`; the server tells, so nothing is looked at
        and ``look_every`` is not used). Thread-safe against the store's own connection."""
        return self._listener.wait(timeout, after_seq, interrupt)

    # -- settings ------------------------------------------------------------------------------------

    def set_setting(self, key: str, value: str) -> None:
        """An admin's change, made now (its event follows in the same transaction)."""
        self._admin_op({"op": "setting", "key": key, "value": value})

    # -- environments ----------------------------------------------------------------------------------

    def save_environments(self, environments: Sequence[Environment]) -> None:
        """Make the pipeline exactly ``environments`` (insert, update, delete by name): an admin's change."""
        listed = [
            {
                "name": env.name,
                "title": env.title,
                "position": env.position,
                "capacity": env.capacity,
                "requires_approval": env.requires_approval,
            }
            for env in environments
        ]
        self._admin_op({"op": "environments", "list": listed})

    def _admin_op(self, op: dict[str, Any]) -> None:
        self._exec("SELECT relman.admin_event(NULL, %s::jsonb)", (as_json([op]),))

    def _among(self, ids: list[int]) -> tuple[str, Sequence[Any]]:
        return "release_id = ANY(%s)", (ids,)

    def release(self, release_id: int) -> Release | None:
        """One release and its windows, in one round trip (a move reads its release twice)."""
        row = self._run(
            f"""SELECT {RELEASE_COLUMNS}, (SELECT json_agg(json_build_array(environment, start, "end")
                    ORDER BY start) FROM windows WHERE release_id = releases.id)
                FROM releases WHERE id = %s""",
            (release_id,),
        ).fetchone()
        if row is None:
            return None
        windows = [Window(release_id, env, from_stamp(start), from_stamp(end)) for env, start, end in row[-1] or ()]
        return release_from_row(row, windows)

    def insert_release(self, new: NewRelease, now: datetime) -> int:
        """Reserve the new release's id; the release is written with its ``created`` event."""
        row = self._exec("SELECT relman.reserve_id('release')").fetchone()
        release_id = int(row[0]) if row else 0
        self._pending.release = release_record(new.stored(release_id, now))
        return release_id

    def _new_release_ids(self, count: int) -> list[int]:
        """Seeding a demo board's releases is its admin's, as the tables' owner; the events of this transaction
        are the demo's made-up history."""
        if not self.owns_schema():
            raise Refused(f"seeding a demo board in {self.name} needs its admin role ({self.admin})")
        self._pending.seeding = True
        return [
            int(r[0])
            for r in self._exec(
                "SELECT nextval(pg_get_serial_sequence('relman.releases', 'id')) "
                "FROM generate_series(1, %s) ORDER BY 1",
                (count,),
            ).fetchall()
        ]

    def update_release(self, release: Release, expected_rev: int, now: datetime) -> Release:
        """``release`` as it will be written with its event, if nobody changed it since ``expected_rev``.

        The server writes it when the event comes (and checks the revision again, under its lock).
        """
        row = self._exec("SELECT rev FROM releases WHERE id = %s", (release.id,)).fetchone()
        if row is None or int(row[0]) != expected_rev:
            refuse_stale(self, release.id, expected_rev)
        saved = replace(release, rev=expected_rev + 1, updated_at=now)
        self._pending.release = release_record(saved)
        return saved

    def set_window(self, window: Window) -> None:
        """Kept for the ``scheduled`` event, which writes it; a window of no release or environment is refused now."""
        row = self._exec(
            "SELECT EXISTS (SELECT 1 FROM releases WHERE id = %s), EXISTS (SELECT 1 FROM environments WHERE name = %s)",
            (window.release_id, window.environment),
        ).fetchone()
        if not row or not row[0] or not row[1]:
            raise BadInput(
                f"refused by the database: a window needs a release and an environment (release {window.release_id}, "
                f"environment {window.environment!r})"
            )
        self._pending.window = window_record(window)

    def delete_window(self, release_id: int, environment: str) -> bool:
        row = self._exec(
            'SELECT start, "end" FROM windows WHERE release_id = %s AND environment = %s', (release_id, environment)
        ).fetchone()
        if row is None:
            return False
        self._pending.window = {"environment": environment, "start": row[0], "end": row[1]}
        return True

    # -- freezes -----------------------------------------------------------------------------------------

    def insert_freeze(self, freeze: Freeze) -> int:
        """Reserve the freeze's id; it is written with its ``freeze_added`` event."""
        row = self._exec("SELECT relman.reserve_id('freeze')").fetchone()
        freeze_id = int(row[0]) if row else 0
        self._pending.freeze = freeze_record(replace(freeze, id=freeze_id))
        return freeze_id

    def delete_freeze(self, freeze_id: int) -> bool:
        found = next((f for f in self.freezes() if f.id == freeze_id), None)
        if found is None:
            return False
        self._pending.freeze = freeze_record(found)  # removed with its ``freeze_removed`` event
        return True

    def delete_all_freezes(self) -> None:
        raise Refused("on PostgreSQL each freeze is removed with its own event (relman freeze remove)")

    # -- the audit log ---------------------------------------------------------------------------------------

    def append_event(self, event: NewEvent, actor: str, at: datetime, via: str | None = None) -> int:
        """Send the event, with what this transaction changed since the last one, to its write function:
        the server writes both (or refuses both), gives the event its seq, time and hash, and checks
        the actor. Returns the seq."""
        sent = payload(event, actor, at, via, self._pending)
        function = function_for(event.action, self._pending.seeding)
        self._pending.clear()
        row = self._exec(f"SELECT {function}", (as_json(sent),)).fetchone()
        self._pending_events += 1
        return int(row[0]) if row and row[0] is not None else 0

    def delivery_rows(self, environment: str) -> list[tuple[Any, ...]]:
        return self._run(delivery_rows_query("%s"), [environment]).fetchall()

    # -- copying a whole board (SqlStore.load_copy) ----------------------------------------------------------

    def _may_copy(self) -> None:
        """Only the board's admin role may: it writes the tables as their owner."""
        if not self.owns_schema():
            raise Refused(
                f"copying a board into {self.name} needs its admin role ({self.admin}); "
                f"{self._account} is not a member of it"
            )

    def _copied_settings(self, settings: dict[str, str]) -> dict[str, str]:
        """The target's admins stay admins of what they copied in (the creator of a board is its first admin),
        beside any the source had."""
        kept = names_from_setting(self.setting("admins", "[]"))
        listed = [*names_from_setting(settings.get("admins", "[]")), *kept]
        return {**settings, "admins": json.dumps(list(dict.fromkeys(listed)))}

    def _copied(self) -> None:
        """The ids go on after the copied ones; the server verifies the chain before anything is committed."""
        for table in ("releases", "freezes"):
            self._exec(
                f"SELECT setval(pg_get_serial_sequence('relman.{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        self._exec("SELECT relman.verify_chain()")

    # -- the hook runner -----------------------------------------------------------------------------------

    def set_hook_cursor(self, seq: int, done: Sequence[str]) -> None:
        """The runner's progress: only a member of relman_runner may move it."""
        self._exec("SELECT relman.runner_event(NULL, %s, %s::jsonb)", (seq, json.dumps(list(done))))

    def runner_key(self) -> str:
        """The board's identity for its hook runner: the server and database the connection reached."""
        info = self._conn.info
        where = f"{info.host}:{info.port}/{info.dbname}"
        return "pg-" + hashlib.sha256(where.encode("utf-8")).hexdigest()[:16]

    @contextlib.contextmanager
    def runner_lock(self, wait: bool = True) -> Iterator[bool]:
        """Held by the one hook runner of this board: the ``runner`` row of ``relman.locks``, locked by a
        transaction on a connection of its own, let go when it ends (or the runner dies and the server
        notices). Only relman_runner may take it; waiting retries, each try bounded by the lock timeout."""
        conn = connect(self._url)
        try:
            conn.execute("BEGIN")
            while True:
                row = conn.execute("SELECT relman.runner_lock(false)").fetchone()
                got = bool(row and row[0])
                if got or not wait:
                    break
                time.sleep(RUNNER_RETRY_S)
            yield got
        except psycopg.Error as exc:
            raise self._translate(exc) from None
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    # -- plumbing ----------------------------------------------------------------------------------------------

    def _query(self, query: str, params: Sequence[Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        return self._run(query, params)

    def _run(
        self, query: str, params: Sequence[Any] = (), *, reconnect: bool = False
    ) -> psycopg.Cursor[tuple[Any, ...]]:
        """A query; outside a transaction (or with ``reconnect``) a connection the server dropped is made again
        once."""
        try:
            return self._conn.execute(query, params)
        except psycopg.OperationalError as exc:
            if not (reconnect or self._tx is None) or not self._reconnect_after(exc):
                raise self._translate(exc) from exc
            try:
                return self._conn.execute(query, params)
            except psycopg.Error as again:
                raise self._translate(again) from again
        except psycopg.Error as exc:
            raise self._translate(exc) from exc

    def _exec(self, query: str, params: Sequence[Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        if self._tx != "write":
            raise RuntimeError("store writes must happen inside Store.write()")
        return self._run(query, params)

    def _exec_many(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._tx != "write":
            raise RuntimeError("store writes must happen inside Store.write()")
        if not rows:
            return
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(query, rows)
        except psycopg.Error as exc:
            raise self._translate(exc) from exc

    def _reconnect_after(self, exc: psycopg.OperationalError) -> bool:
        """Replace a connection the server dropped (a restart); False if it is not that, or still down."""
        if not (self._conn.closed or self._conn.broken):
            return False
        try:
            conn = connect(self._url)
            if self.read_only:
                conn.execute("SET default_transaction_read_only = on")
        except BadInput:
            return False
        with contextlib.suppress(psycopg.Error):
            self._conn.close()
        self._conn = conn
        return True

    def _translate(self, exc: psycopg.Error) -> RelmanError:
        """A server error as one sentence for a person, and the right exit status."""
        broken = isinstance(exc, psycopg.OperationalError) and (self._conn.closed or self._conn.broken)
        return translate(exc, self._url, broken=broken, account=self._account, admin=self.admin)
