"""The change watcher the board's live view and the hook runner share, on a SQLite file and on a PostgreSQL server."""

from __future__ import annotations

import linecache
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from backends import PgBackend

from relman_tui.service import Service
from relman_tui.store import ChangeWatcher, Interrupt, Wake

both_backends = pytest.mark.both_backends
SAFETY_S = 60.0  # a wait that should end at once is given this long: a safety net, not a timing bound


def waiting(watcher: ChangeWatcher) -> tuple[threading.Thread, list[Wake]]:
    """A thread that waits once, started; its timeout is longer than the :data:`SAFETY_S` a test joins
    it for, so a wait that ends only at its timeout is seen as one that did not end."""
    woke: list[Wake] = []
    thread = threading.Thread(target=lambda: woke.append(watcher.wait(2 * SAFETY_S)))
    thread.start()
    return thread, woke


def blocked(ident: int | None) -> bool:
    """Whether that thread is in the watcher's ``poll`` (between a file's looks, or on a server's socket),
    past its look at the interrupt: what is set now must wake it there."""
    frame = sys._current_frames().get(ident) if ident is not None else None
    return frame is not None and "poller.poll(" in linecache.getline(frame.f_code.co_filename, frame.f_lineno)


def until_blocked(ident: int | None) -> None:
    deadline = time.monotonic() + SAFETY_S
    while not blocked(ident) and time.monotonic() < deadline:
        time.sleep(0.001)
    assert blocked(ident)


@both_backends
def test_a_commit_by_another_connection_wakes_a_waiting_watcher(
    service: Service, open_service: Callable[..., Service]
) -> None:
    watcher = ChangeWatcher(open_service("bob").store)
    watcher.mark()
    assert watcher.wait(0) is Wake.TIMEOUT  # watching from here
    thread, woke = waiting(watcher)
    service.add_release("payments-api", "2.4.1")
    thread.join(SAFETY_S)
    assert woke == [Wake.CHANGED]
    assert [e.action for e in watcher.store.events(after_seq=watcher.seen)] == ["created"]


@both_backends
def test_a_commit_between_the_mark_and_the_first_wait_is_not_missed(
    service: Service, open_service: Callable[..., Service]
) -> None:
    watcher = ChangeWatcher(open_service("bob").store)
    watcher.mark()  # the board was read from here …
    service.add_release("payments-api", "2.4.1")  # … someone changed it …
    assert watcher.wait(SAFETY_S) is Wake.CHANGED  # … before the watcher began to wait


@both_backends
def test_a_commit_while_the_watcher_acts_is_not_missed(service: Service, open_service: Callable[..., Service]) -> None:
    """The hook runner's order: wake, take the mark, act (someone commits meanwhile), wait again."""
    watcher = ChangeWatcher(open_service("bob").store)
    watcher.mark()
    assert watcher.wait(0) is Wake.TIMEOUT
    service.add_release("payments-api", "2.4.1")
    assert watcher.wait(SAFETY_S) is Wake.CHANGED
    watcher.mark()
    service.add_release("ledger", "1.0")  # while the runner runs the first one's hooks
    assert watcher.wait(SAFETY_S) is Wake.CHANGED
    assert [e.action for e in watcher.store.events(after_seq=watcher.seen)] == ["created"]
    watcher.mark()
    assert watcher.wait(0) is Wake.TIMEOUT  # and once read, nothing more


@both_backends
def test_the_interrupt_ends_a_wait_without_a_change(service: Service, open_service: Callable[..., Service]) -> None:
    interrupt = Interrupt()
    watcher = ChangeWatcher(open_service("bob").store, interrupt)
    watcher.mark()
    assert watcher.wait(0) is Wake.TIMEOUT
    thread, woke = waiting(watcher)
    until_blocked(thread.ident)
    interrupt.set()
    thread.join(SAFETY_S)
    assert woke == [Wake.INTERRUPTED]
    assert watcher.wait(SAFETY_S) is Wake.INTERRUPTED  # until it is cleared
    interrupt.clear()
    assert watcher.wait(0) is Wake.TIMEOUT
    assert watcher.store.last_seq() == watcher.seen  # nothing changed on the board


@both_backends
def test_an_interrupt_set_by_a_signal_handler_ends_the_wait(
    service: Service, open_service: Callable[..., Service]
) -> None:
    """What stops the hook runner at once: its TERM handler sets the watcher's interrupt (no lock taken)."""
    watcher = ChangeWatcher(open_service("bob").store)
    watcher.mark()
    assert watcher.wait(0) is Wake.TIMEOUT
    main, ended = threading.get_ident(), threading.Event()
    woke_in_time: list[bool] = []

    def send() -> None:
        until_blocked(main)
        signal.pthread_kill(main, signal.SIGUSR1)
        woke_in_time.append(ended.wait(SAFETY_S))  # not at the end of the wait's own (longer) timeout

    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: watcher.interrupt.set())
    try:
        sender = threading.Thread(target=send)
        sender.start()
        assert watcher.wait(2 * SAFETY_S) is Wake.INTERRUPTED  # the handler runs in this thread, while it waits
        ended.set()
        sender.join(SAFETY_S)
        assert woke_in_time == [True]
    finally:
        signal.signal(signal.SIGUSR1, previous)


@both_backends
def test_a_wait_with_nothing_changed_times_out(service: Service, open_service: Callable[..., Service]) -> None:
    watcher = ChangeWatcher(open_service("bob").store)
    watcher.mark()
    assert watcher.wait(0.05) is Wake.TIMEOUT
    assert watcher.wait(0.05, look_every=0.01) is Wake.TIMEOUT


@both_backends
def test_a_watcher_given_what_was_read_wakes_for_what_came_after(
    service: Service, open_service: Callable[..., Service]
) -> None:
    seen = service.store.last_seq()
    service.add_release("payments-api", "2.4.1")
    watcher = ChangeWatcher(open_service("bob").store, seen=seen)  # the board's first snapshot stopped at seen
    assert watcher.wait(SAFETY_S) is Wake.CHANGED


def test_an_interrupt_wakes_a_select_until_cleared() -> None:
    interrupt = Interrupt()
    assert select.select([interrupt], [], [], 0)[0] == []
    interrupt.set()
    interrupt.set()
    assert interrupt.is_set() and select.select([interrupt], [], [], SAFETY_S)[0] == [interrupt]
    interrupt.clear()
    assert not interrupt.is_set() and select.select([interrupt], [], [], 0)[0] == []


def test_take_says_whether_it_was_set_and_clears_it() -> None:
    interrupt = Interrupt()
    assert interrupt.take() is False
    interrupt.set()
    interrupt.set()
    assert interrupt.take() is True
    assert not interrupt.is_set() and select.select([interrupt], [], [], 0)[0] == []
    assert interrupt.take() is False


def test_a_set_that_lands_while_take_clears_is_not_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    """The board's read request (``refresh``) made just as the watcher takes the last one: the old
    ``is_set(); clear()`` dropped it; ``take`` counts it or leaves it standing for the next look."""
    interrupt = Interrupt()
    real_read = os.read
    landed: list[bool] = []

    def read_after_a_set(fd: int, n: int) -> bytes:
        if not landed:  # the flag is down, the pipe not yet read: another thread sets it now
            landed.append(True)
            interrupt.set()
        return real_read(fd, n)

    monkeypatch.setattr("relman_tui.store.interrupt.os.read", read_after_a_set)
    assert interrupt.take() is True
    assert landed == [True]
    assert interrupt.is_set()  # standing: the next look reads again (at worst once more than needed)


def test_a_watcher_on_a_server_asks_it_nothing_while_it_waits(pg_cluster: Any) -> None:
    """LISTEN, not polling: waiting, timing out and being interrupted send the server no query."""
    from relman_tui.store.pg import PgStore

    backend = PgBackend(pg_cluster)
    backend.make("pipeline")
    store = backend.open("bob")
    try:
        watcher = ChangeWatcher(store)
        watcher.mark()
        assert watcher.wait(0) is Wake.TIMEOUT  # listening from here
        assert isinstance(store, PgStore) and store._listener.connection is not None
        pid = store._listener.connection.info.backend_pid

        def activity() -> list[tuple[Any, ...]]:
            return backend.query("SELECT query, state_change FROM pg_stat_activity WHERE pid = ?", pid)

        before = activity()
        assert watcher.wait(0.3) is Wake.TIMEOUT
        thread, woke = waiting(watcher)
        until_blocked(thread.ident)
        watcher.interrupt.set()
        thread.join(SAFETY_S)
        assert woke == [Wake.INTERRUPTED]
        assert activity() == before  # no query since it began listening: it waited on its socket
    finally:
        store.close()
        backend.close()
