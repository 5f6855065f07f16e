"""The reads both stores share, each query written once: a backend gives its placeholder and how it runs a query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NoReturn, Protocol, cast

from relman_tui import chain
from relman_tui.model import Environment, Event, Freeze, Release, Window
from relman_tui.store.contract import BoardDump, BoardStore
from relman_tui.store.shared import (
    ENVIRONMENTS_SQL,
    FREEZES_SQL,
    HOOK_CURSOR_SQL,
    HOOK_FAILURES_SQL,
    SETTINGS_SQL,
    STORED_EVENTS_SQL,
    dump_board,
    environment_from_row,
    event_from_row,
    events_query,
    freeze_from_row,
    hook_cursor_from_row,
    refuse_stale,
    releases_query,
    setting_query,
    stored_event,
    with_windows,
)


class Rows(Protocol):
    """What a backend's cursor gives back: rows, one or all."""

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class SqlStore:
    """The queries that differ between SQLite and PostgreSQL only by placeholder, written once.

    A backend sets :attr:`PLACEHOLDER` (``?`` or ``%s``) and runs a read with :meth:`_query`
    (its own error translation and reconnection); what it writes, how it locks, waits for a
    change and numbers its versions stay its own.
    """

    PLACEHOLDER: ClassVar[str]

    def _query(self, query: str, params: Sequence[Any] = ()) -> Rows:
        raise NotImplementedError

    def _windows(self, ids: list[int] | None) -> dict[int, list[Window]]:
        raise NotImplementedError

    def last_seq(self) -> int:
        row = self._query("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        return int(row[0]) if row else 0

    def setting(self, key: str, default: str) -> str:
        row = self._query(setting_query(self.PLACEHOLDER), (key,)).fetchone()
        return str(row[0]) if row else default

    def settings(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._query(SETTINGS_SQL).fetchall()}

    def board_id(self) -> str:
        """A random id given to the board when it was made; the log's chain starts from it."""
        return self.setting("board_id", "")

    def environments(self) -> list[Environment]:
        return [environment_from_row(r) for r in self._query(ENVIRONMENTS_SQL).fetchall()]

    def releases(self, *, stage: str | None = None, include_cancelled: bool = False) -> list[Release]:
        """Releases with their windows, in id order: two queries however many there are."""
        query, params = releases_query(self.PLACEHOLDER, stage, include_cancelled)
        return with_windows(self._query(query, params).fetchall(), self._windows)

    def refuse_stale(self, release_id: int, expected_rev: int) -> NoReturn:
        refuse_stale(cast(BoardStore, self), release_id, expected_rev)

    def freezes(self) -> list[Freeze]:
        return [freeze_from_row(r) for r in self._query(FREEZES_SQL).fetchall()]

    def events(
        self, *, release: int | None = None, limit: int | None = None, after_seq: int | None = None
    ) -> list[Event]:
        """Newest first when ``limit`` is given without ``after_seq``; otherwise oldest first."""
        query, params = events_query(self.PLACEHOLDER, release, limit, after_seq)
        return [event_from_row(row) for row in self._query(query, params).fetchall()]

    def stored_events(self) -> list[chain.StoredEvent]:
        """Every event exactly as stored, oldest first: what the hash chain is computed over."""
        return [stored_event(row) for row in self._query(STORED_EVENTS_SQL).fetchall()]

    def hook_cursor(self) -> tuple[int, list[str]]:
        """``(seq, done)``: events before ``seq`` are handled, and at ``seq`` the hooks ``done``."""
        return hook_cursor_from_row(self._query(HOOK_CURSOR_SQL).fetchone())

    def hook_failures(self) -> frozenset[int]:
        """The releases whose latest hook outcome is a failure (the board marks their cards)."""
        query = HOOK_FAILURES_SQL.replace("%s", self.PLACEHOLDER)
        return frozenset(int(r[0]) for r in self._query(query).fetchall())

    def dump(self) -> BoardDump:
        return dump_board(cast(BoardStore, self))
