"""Waiting for a change on a PostgreSQL board: a connection of its own that LISTENs on the board's channel."""

from __future__ import annotations

import contextlib
import time

import psycopg

from relman_tui.errors import BadInput
from relman_tui.store.contract import Wake
from relman_tui.store.interrupt import Interrupt, readable
from relman_tui.store.pg_connect import RECONNECT_EVERY_S, Connection, connect
from relman_tui.store.pg_schema import CHANNEL


class Listener:
    """The listening connection, made on the first wait and again after the server went away."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Connection | None = None
        self._lost = False

    @property
    def connection(self) -> Connection | None:
        """The listening connection, once the first wait made it."""
        return self._conn

    def wait(self, timeout: float, after_seq: int | None = None, interrupt: Interrupt | None = None) -> Wake:
        """Block on the board's notification channel until another commit, at most ``timeout`` seconds.

        Nothing is polled while nothing changes: the server sends a notification when a
        transaction that logged an event commits, and the wait is one blocking ``poll(2)`` on the listening
        socket and on ``interrupt`` (whose setting ends it at once). The listening connection is
        made on the first call (pass the last seq you have read as ``after_seq`` so nothing in
        between is missed); if the server goes away it is made again, and the call says
        ``RECONNECTED`` (re-read: notifications sent meanwhile were lost).
        """
        deadline = time.monotonic() + timeout
        while True:
            if interrupt is not None and interrupt.is_set():
                return Wake.INTERRUPTED
            if self._conn is None:
                try:
                    self._conn = connect(self.url)
                    self._conn.execute(f"LISTEN {CHANNEL}")
                except (BadInput, psycopg.Error):
                    if self._conn is not None:
                        with contextlib.suppress(psycopg.Error):
                            self._conn.close()
                    self._conn = None
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return Wake.DISCONNECTED
                    pause = min(RECONNECT_EVERY_S, left)
                    if interrupt is None:
                        time.sleep(pause)
                    else:
                        interrupt.wait(pause)
                    continue
                if self._lost:
                    self._lost = False
                    return Wake.RECONNECTED
                if after_seq is not None:
                    row = self._conn.execute("SELECT coalesce(max(seq), 0) FROM relman.events").fetchone()
                    if row and int(row[0]) > after_seq:
                        return Wake.CHANGED
            try:
                # what has arrived (or was read meanwhile), without waiting; one wake for a burst
                if list(self._conn.notifies(timeout=0.0)):
                    return Wake.CHANGED
                left = deadline - time.monotonic()
                if left <= 0:
                    return Wake.TIMEOUT
                readable([self._conn.fileno(), *([interrupt.fileno()] if interrupt is not None else [])], left)
            except (psycopg.Error, OSError):
                with contextlib.suppress(psycopg.Error):
                    self._conn.close()
                self._conn = None
                self._lost = True

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None
