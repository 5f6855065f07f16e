"""The SQLite store on a real file, with two connections where concurrency matters."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW, new_store

from relman_tui import store as store_module
from relman_tui.errors import BadInput, StaleWrite
from relman_tui.model import Window
from relman_tui.service import Service
from relman_tui.store import NewEvent, Store

HOUR = timedelta(hours=1)


def row_of(path: Path, release_id: int) -> tuple[object, ...]:
    """The release's row as stored, read on a connection of its own."""
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT * FROM releases WHERE id = ?", (release_id,)).fetchone()
    conn.close()
    return tuple(row) if row else ()


def count_events(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


# --- stale writes ------------------------------------------------------------------------------------


def test_a_stale_change_is_refused_naming_who_changed_it(
    service: Service, open_service: Callable[..., Service], db_path: Path
) -> None:
    seen = service.add_release("payments-api", "2.4.1")  # alice sees rev 1
    bob = open_service("bob")
    bob.move(seen.id, "dev")  # bob moves it on his own connection: rev 2
    row_before, events_before = row_of(db_path, seen.id), count_events(db_path)

    with pytest.raises(StaleWrite) as caught:
        service.move(seen.id, "dev", rev=seen.rev)
    error = caught.value
    assert error.changed_by == "bob"
    assert "changed by bob (moved)" in str(error)
    assert "rev 1, now 2" in str(error)
    assert (error.fresh.rev, error.fresh.stage) == (2, "dev")  # the operator is shown the fresh state

    assert row_of(db_path, seen.id) == row_before
    assert count_events(db_path) == events_before


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
    db_path: Path,
    change: Callable[[Service, int, int], object],
) -> None:
    release = service.add_release("payments-api", "2.4.1")
    service.move(release.id, "dev")
    service.schedule(release.id, "test", NOW + HOUR, NOW + 2 * HOUR)
    seen = service.release(release.id)
    open_service("bob").edit_release(release.id, notes="bob was here")
    row_before, events_before = row_of(db_path, release.id), count_events(db_path)
    with pytest.raises(StaleWrite, match="changed by bob"):
        change(service, release.id, seen.rev)
    assert row_of(db_path, release.id) == row_before
    assert count_events(db_path) == events_before


def test_the_update_itself_refuses_a_change_made_in_between(
    service: Service, open_service: Callable[..., Service], db_path: Path
) -> None:
    """The check is in the UPDATE too, not only in the read before it."""
    store = service.store
    seen = service.add_release("payments-api", "2.4.1")
    open_service("bob").move(seen.id, "dev")
    row_before = row_of(db_path, seen.id)
    with pytest.raises(StaleWrite, match="changed by bob"), store.write():
        store.update_release(replace(seen, notes="alice's edit"), seen.rev, NOW)
        store.append_event(NewEvent("edited", seen.id), "alice", NOW)
    assert row_of(db_path, seen.id) == row_before
    assert store.release(seen.id).notes == ""  # type: ignore[union-attr]


# --- the change and its event: both or neither -------------------------------------------------------


def test_a_change_without_its_event_is_not_written(
    service: Service, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = service.add_release("payments-api", "2.4.1")
    row_before, events_before = row_of(db_path, release.id), count_events(db_path)

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "append_event", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        service.move(release.id, "dev")
    with pytest.raises(RuntimeError, match="disk on fire"):
        service.schedule(release.id, "dev", NOW, NOW + HOUR)
    with pytest.raises(RuntimeError, match="disk on fire"):
        service.add_release("ledger", "1.0")
    monkeypatch.undo()

    assert row_of(db_path, release.id) == row_before
    assert service.release(release.id).windows == ()
    assert [r.id for r in service.releases(include_cancelled=True)] == [release.id]
    assert count_events(db_path) == events_before
    # and the connection is still usable afterwards
    assert service.move(release.id, "dev").stage == "dev"


def test_an_event_the_database_refuses_takes_the_change_with_it(service: Service, db_path: Path) -> None:
    release = service.add_release("payments-api", "2.4.1")
    row_before = row_of(db_path, release.id)
    store = service.store
    with pytest.raises(BadInput, match="refused by the database"), store.write():
        store.update_release(replace(release, stage="dev"), release.rev, NOW)
        store.append_event(NewEvent("rolled_back", release.id), "alice", NOW)  # CHECK: a rollback needs a reason
    assert row_of(db_path, release.id) == row_before


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
            Store.open(db_path, **kwargs)  # type: ignore[arg-type]
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
            Store.open(path, **kwargs)  # type: ignore[arg-type]
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
            Store.open(path, **kwargs)  # type: ignore[arg-type]
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
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    conn = sqlite3.connect(db_path)  # WAL is a property of the file, seen by every connection
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_foreign_keys_are_enforced(service: Service) -> None:
    release = service.add_release("payments-api", "2.4.1")
    with pytest.raises(BadInput, match="refused by the database"), service.store.write():
        service.store.set_window(Window(release.id, "nowhere", NOW, NOW + HOUR))
    with pytest.raises(BadInput, match="refused by the database"), service.store.write():
        service.store.set_window(Window(999, "dev", NOW, NOW + HOUR))
    assert service.release(release.id).windows == ()


def test_the_audit_log_refuses_update_and_delete(service: Service, db_path: Path) -> None:
    service.add_release("payments-api", "2.4.1")
    conn = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE events SET actor = 'mallory'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events")
        conn.rollback()
        assert conn.execute("SELECT actor FROM events").fetchall() == [("alice",)]
    finally:
        conn.close()


def test_writes_happen_only_inside_a_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError, match=r"inside Store\.write"):
        store.set_setting("four_eyes", "false")
    assert store.setting("four_eyes", "?") == "true"


# --- noticing other processes' changes ---------------------------------------------------------------


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


def test_events_newest_first_with_a_limit(service: Service) -> None:
    release = service.add_release("payments-api", "2.4.1")
    service.move(release.id, "dev")
    service.verify(release.id)
    assert [e.action for e in service.events(release.id)] == ["created", "moved", "verified"]
    assert [e.action for e in service.events(release.id, limit=2)] == ["verified", "moved"]


# --- read-only files ------------------------------------------------------------------------------------


def test_a_read_only_file_refuses_writes(db_path: Path, clock: object) -> None:
    setup = new_store(db_path)
    Service(setup, clock, "alice").add_release("payments-api", "2.4.1")  # type: ignore[arg-type]
    setup.close()
    os.chmod(db_path, 0o444)
    try:
        # root may write anything: there, ask for read-only instead
        store = Store.open(db_path, read_only=True) if os.access(db_path, os.W_OK) else Store.open(db_path)
        try:
            assert store.read_only
            service = Service(store, clock, "alice")  # type: ignore[arg-type]
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
    service: Service, db_path: Path, clock: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = service.add_release("payments-api", "2.4.1")
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.05)
    monkeypatch.setattr(store_module, "_BEGIN_RETRIES", 2)
    bob = Service(Store.open(db_path), clock, "bob")  # type: ignore[arg-type]
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
