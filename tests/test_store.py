"""The store's contract, on a real SQLite file and on a real PostgreSQL server (tests marked ``both_backends``),
with two connections where concurrency matters; then what only a file, or only a server, does."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from backends import Backend
from conftest import NOW, new_store

from relman_tui.errors import BadInput, RelmanError, StaleWrite
from relman_tui.model import Window
from relman_tui.service import Service
from relman_tui.store import NewEvent, Store, Wake
from relman_tui.store import sqlite as store_module
from relman_tui.timeutil import FixedClock

HOUR = timedelta(hours=1)
both_backends = pytest.mark.both_backends


def row_of(backend: Backend, release_id: int) -> tuple[object, ...]:
    """The release's row as stored, read on a connection of its own."""
    rows = backend.query("SELECT * FROM releases WHERE id = ?", release_id)
    return rows[0] if rows else ()


def count_events(backend: Backend) -> int:
    return int(backend.query("SELECT count(*) FROM events")[0][0])


# --- stale writes ------------------------------------------------------------------------------------


@both_backends
def test_a_stale_change_is_refused_naming_who_changed_it(
    service: Service, open_service: Callable[..., Service], backend: Backend
) -> None:
    seen = service.add_release("payments-api", "2.4.1")  # alice sees rev 1
    bob = open_service("bob")
    bob.move(seen.id, "dev")  # bob moves it on his own connection: rev 2
    row_before, events_before = row_of(backend, seen.id), count_events(backend)

    with pytest.raises(StaleWrite) as caught:
        service.move(seen.id, "dev", rev=seen.rev)
    error = caught.value
    assert error.changed_by == "bob"
    assert "changed by bob (moved)" in str(error)
    assert "rev 1, now 2" in str(error)
    assert (error.fresh.rev, error.fresh.stage) == (2, "dev")  # the operator is shown the fresh state

    assert row_of(backend, seen.id) == row_before
    assert count_events(backend) == events_before


@both_backends
@pytest.mark.parametrize(
    "change",
    [
        lambda s, i, r: s.verify(i, rev=r),
        lambda s, i, r: s.fail(i, rev=r),
        lambda s, i, r: s.cancel(i, rev=r),
        lambda s, i, r: s.rollback(i, "back", rev=r),
        lambda s, i, r: s.edit_release(i, rev=r, notes="mine"),
        lambda s, i, r: s.schedule(i, "dev", NOW, NOW + HOUR, rev=r),
        lambda s, i, r: s.unschedule(i, "test", rev=r),
    ],
)
def test_every_change_honours_rev(
    service: Service,
    open_service: Callable[..., Service],
    backend: Backend,
    change: Callable[[Service, int, int], object],
) -> None:
    release = service.add_release("payments-api", "2.4.1")
    service.move(release.id, "dev")
    service.schedule(release.id, "test", NOW + HOUR, NOW + 2 * HOUR)
    seen = service.release(release.id)
    open_service("bob").edit_release(release.id, notes="bob was here")
    row_before, events_before = row_of(backend, release.id), count_events(backend)
    with pytest.raises(StaleWrite, match="changed by bob"):
        change(service, release.id, seen.rev)
    assert row_of(backend, release.id) == row_before
    assert count_events(backend) == events_before


@both_backends
def test_the_update_itself_refuses_a_change_made_in_between(
    service: Service, open_service: Callable[..., Service], backend: Backend
) -> None:
    """The check is in the UPDATE too, not only in the read before it."""
    store = service.store
    seen = service.add_release("payments-api", "2.4.1")
    open_service("bob").move(seen.id, "dev")
    row_before = row_of(backend, seen.id)
    with pytest.raises(StaleWrite, match="changed by bob"), store.write():
        store.update_release(replace(seen, notes="alice's edit"), seen.rev, NOW)
        store.append_event(NewEvent("edited", seen.id), "alice", NOW)
    assert row_of(backend, seen.id) == row_before
    kept = store.release(seen.id)
    assert kept is not None and kept.notes == ""


# --- the change and its event: both or neither -------------------------------------------------------


@both_backends
def test_a_change_without_its_event_is_not_written(
    service: Service, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = service.add_release("payments-api", "2.4.1")
    row_before, events_before = row_of(backend, release.id), count_events(backend)

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(type(service.store), "append_event", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        service.move(release.id, "dev")
    with pytest.raises(RuntimeError, match="disk on fire"):
        service.schedule(release.id, "dev", NOW, NOW + HOUR)
    with pytest.raises(RuntimeError, match="disk on fire"):
        service.add_release("ledger", "1.0")
    monkeypatch.undo()

    assert row_of(backend, release.id) == row_before
    assert service.release(release.id).windows == ()
    assert [r.id for r in service.releases(include_cancelled=True)] == [release.id]
    assert count_events(backend) == events_before
    # and the connection is still usable afterwards
    assert service.move(release.id, "dev").stage == "dev"


@both_backends
def test_an_event_the_database_refuses_takes_the_change_with_it(service: Service, backend: Backend) -> None:
    release = service.add_release("payments-api", "2.4.1")
    row_before = row_of(backend, release.id)
    store = service.store
    # SQLite's CHECK refuses a rollback without a reason; the server's write function refuses it first (dev is
    # no earlier stage than planned): either way the change goes with the event
    with pytest.raises(RelmanError, match=r"refused by the database|the server enforces this"), store.write():
        store.update_release(replace(release, stage="dev"), release.rev, NOW)
        store.append_event(NewEvent("rolled_back", release.id), "alice", NOW)  # CHECK: a rollback needs a reason
    assert row_of(backend, release.id) == row_before


# --- files that are not ours -----------------------------------------------------------------------------


def test_a_newer_schema_is_refused_and_not_altered(db_path: Path) -> None:
    new_store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('relman', 'm099_future', 'x')"
    )
    conn.commit()
    conn.close()
    before = db_path.read_bytes()

    for kwargs in ({}, {"create": True}, {"read_only": True}):
        with pytest.raises(BadInput, match="newer relman"):
            Store.open(db_path, **kwargs)
    assert db_path.read_bytes() == before


def test_another_apps_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('groceries')")
    conn.commit()
    conn.close()
    before = path.read_bytes()

    for kwargs in ({}, {"create": True}):
        with pytest.raises(BadInput, match="not a relman database"):
            Store.open(path, **kwargs)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_a_sqlite_file_with_another_apps_migrations_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT, applied_at TEXT)"
    )
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('blog', 'm001', 'x')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(BadInput, match="not a relman database"):
        Store.open(path, create=True)
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(random.Random(7).randbytes(8192))
    before = path.read_bytes()
    for kwargs in ({}, {"create": True}, {"read_only": True}):
        with pytest.raises(BadInput, match="not a relman database"):
            Store.open(path, **kwargs)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["random.bin"]


def test_a_missing_file_is_not_created_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "nothing.db"
    with pytest.raises(BadInput, match="no relman database"):
        Store.open(path)
    with pytest.raises(BadInput, match="no relman database"):
        Store.open(path, create=True, read_only=True)
    assert not path.exists()


# --- how the file is opened --------------------------------------------------------------------------------


def test_wal_busy_timeout_and_foreign_keys(store: Store, db_path: Path) -> None:
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    conn = sqlite3.connect(db_path)  # WAL is a property of the file, seen by every connection
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@both_backends
def test_foreign_keys_are_enforced(service: Service) -> None:
    release = service.add_release("payments-api", "2.4.1")
    with pytest.raises(BadInput, match="refused by the database"), service.store.write():
        service.store.set_window(Window(release.id, "nowhere", NOW, NOW + HOUR))
    with pytest.raises(BadInput, match="refused by the database"), service.store.write():
        service.store.set_window(Window(999, "dev", NOW, NOW + HOUR))
    assert service.release(release.id).windows == ()


@both_backends
def test_the_audit_log_refuses_update_and_delete(service: Service, backend: Backend) -> None:
    """Whoever writes: the SQLite file's triggers, or the server's (even for its superuser)."""
    service.add_release("payments-api", "2.4.1")
    for statement in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events"):
        with pytest.raises(Exception, match="append-only") as caught:
            backend.query(statement)
        assert type(caught.value).__module__.split(".")[0] in ("sqlite3", "psycopg")
    assert backend.query("SELECT actor FROM events") == [("alice",)]


@both_backends
def test_writes_happen_only_inside_a_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError, match=r"inside Store\.write"):
        store.set_setting("four_eyes", "false")
    assert store.setting("four_eyes", "?") == "true"


# --- noticing other processes' changes ---------------------------------------------------------------


@both_backends
def test_data_version_and_events_after_seq(service: Service, open_service: Callable[..., Service]) -> None:
    mine = service.store
    service.add_release("payments-api", "2.4.1")
    seen_version, seen_seq = mine.data_version(), mine.last_seq()
    assert mine.data_version() == seen_version  # nothing happened: nothing to read
    assert service.changes_since(seen_seq) == []

    service.add_release("ledger", "1.0")  # our own commit does not bump our data_version
    assert mine.data_version() == seen_version
    seen_seq = mine.last_seq()

    bob = open_service("bob")
    moved = bob.move(1, "dev")
    bob.verify(moved.id)
    assert mine.data_version() != seen_version
    new = service.changes_since(seen_seq)
    assert [(e.actor, e.action, e.release, e.from_, e.to) for e in new] == [
        ("bob", "moved", 1, "planned", "dev"),
        ("bob", "verified", 1, "deployed", "dev"),
    ]
    assert [e.seq for e in new] == [seen_seq + 1, seen_seq + 2]
    assert mine.events(after_seq=new[-1].seq) == []
    assert service.release(1).stage == "dev"  # and the fresh state is read, not a cached one


@both_backends
def test_events_newest_first_with_a_limit(service: Service) -> None:
    release = service.add_release("payments-api", "2.4.1")
    service.move(release.id, "dev")
    service.verify(release.id)
    assert [e.action for e in service.events(release.id)] == ["created", "moved", "verified"]
    assert [e.action for e in service.events(release.id, limit=2)] == ["verified", "moved"]


# --- read-only files ------------------------------------------------------------------------------------


def test_a_read_only_file_refuses_writes(db_path: Path, clock: FixedClock) -> None:
    setup = new_store(db_path)
    Service(setup, clock, "alice").add_release("payments-api", "2.4.1")
    setup.close()
    os.chmod(db_path, 0o444)
    try:
        # root may write anything: there, ask for read-only instead
        store = Store.open(db_path, read_only=True) if os.access(db_path, os.W_OK) else Store.open(db_path)
        try:
            assert store.read_only
            service = Service(store, clock, "alice")
            assert service.release(1).name == "payments-api"  # reading still works
            before = db_path.read_bytes()
            for action in (
                lambda: service.move(1, "dev"),
                lambda: service.add_release("ledger", "1.0"),
                lambda: service.add_freeze(["all"], "x", start=NOW, end=NOW + HOUR),
            ):
                with pytest.raises(BadInput, match="read-only"):
                    action()
            assert db_path.read_bytes() == before
        finally:
            store.close()
    finally:
        os.chmod(db_path, 0o600)


# --- file permissions ---------------------------------------------------------------------------------


def test_a_new_database_and_its_directory_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "relman" / "relman.db"
    store = Store.open(path, create=True)
    try:
        with store.write():
            store.set_setting("touched", "yes")  # make sure the WAL files exist too
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if file.exists():
                assert stat.S_IMODE(file.stat().st_mode) & 0o077 == 0, file
    finally:
        store.close()


# --- a busy database -------------------------------------------------------------------------------------


def test_a_busy_database_gives_a_clear_message_and_writes_nothing(
    service: Service, db_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = service.add_release("payments-api", "2.4.1")
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.05)
    monkeypatch.setattr(store_module, "_BEGIN_RETRIES", 2)
    bob = Service(Store.open(db_path), clock, "bob")
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(BadInput, match="busy") as caught:
            bob.move(release.id, "dev")
        assert "Traceback" not in str(caught.value)
        assert not isinstance(caught.value, sqlite3.Error)
        assert bob.release(release.id).stage == "planned"  # readers are not blocked in WAL mode
        holder.execute("ROLLBACK")
        assert bob.move(release.id, "dev").stage == "dev"  # and once the lock is gone, it works
    finally:
        holder.close()
        bob.store.close()


# --- waiting for another connection's change ---------------------------------------------------------------


@both_backends
def test_a_second_connection_is_told_of_a_change_once(service: Service, open_service: Callable[..., Service]) -> None:
    """The board's live view: another connection waits; PostgreSQL is told (LISTEN/NOTIFY), SQLite looks."""
    watcher = open_service("bob").store
    seen = watcher.last_seq()
    assert watcher.wait_for_change(0.05, after_seq=seen) is Wake.TIMEOUT  # nothing yet (and now it watches)
    service.add_release("payments-api", "2.4.1")
    assert watcher.wait_for_change(10) is Wake.CHANGED  # returns as soon as it knows (the 10 s is a safety net)
    assert [e.action for e in watcher.events(after_seq=seen)] == ["created"]
    assert watcher.wait_for_change(0.05) is Wake.TIMEOUT  # one wake per change, not one per look


@both_backends
def test_a_waiting_connection_wakes_when_another_commits(
    service: Service, open_service: Callable[..., Service]
) -> None:
    watcher = open_service("bob").store
    watcher.wait_for_change(0, after_seq=watcher.last_seq())
    woke: list[Wake] = []
    waiting = threading.Thread(target=lambda: woke.append(watcher.wait_for_change(60)))
    waiting.start()
    service.add_release("payments-api", "2.4.1")
    waiting.join(60)
    assert woke == [Wake.CHANGED]


@both_backends
def test_a_change_made_before_the_first_wait_is_not_missed(
    service: Service, open_service: Callable[..., Service]
) -> None:
    watcher = open_service("bob").store
    seen = watcher.last_seq()  # the board was read here …
    service.add_release("payments-api", "2.4.1")  # … someone changed it …
    assert watcher.wait_for_change(0.05, after_seq=seen) is Wake.CHANGED  # … before the watcher began to wait
