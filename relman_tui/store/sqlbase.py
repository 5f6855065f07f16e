"""What both stores share, each query written once: a backend gives its placeholder, how it runs a query, and hooks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, NoReturn, Protocol, cast

from relman_tui import chain
from relman_tui.errors import BadInput
from relman_tui.model import Environment, Event, Freeze, Release, Window
from relman_tui.store.contract import BoardDump, BoardStore, NewRelease
from relman_tui.store.shared import (
    ENVIRONMENTS_SQL,
    FREEZES_SQL,
    HOOK_CURSOR_SQL,
    HOOK_FAILURES_SQL,
    SETTINGS_SQL,
    STORED_EVENTS_SQL,
    WINDOWS_SQL,
    bulk_inserts,
    copy_inserts,
    dump_board,
    empty_problem,
    environment_from_row,
    event_from_row,
    events_query,
    freeze_from_row,
    freeze_row,
    hook_cursor_from_row,
    hook_cursor_upsert,
    new_release_row,
    refuse_stale,
    release_row,
    releases_query,
    setting_query,
    stored_event,
    stored_event_row,
    values,
    window_from_row,
    with_windows,
)
from relman_tui.timeutil import to_stamp


class Rows(Protocol):
    """What a backend's cursor gives back: rows, one or all."""

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class SqlStore:
    """What SQLite and PostgreSQL do alike, written once: the reads, seeding a board and copying one in.

    A backend sets :attr:`PLACEHOLDER` (``?`` or ``%s``), runs a read with :meth:`_query` and a write with
    :meth:`_exec` and :meth:`_exec_many` (its own error translation and reconnection), and answers the hooks
    below where the two differ; what it writes one change at a time, how it locks, waits for a change and
    numbers its versions stay its own.
    """

    PLACEHOLDER: ClassVar[str]

    def _query(self, query: str, params: Sequence[Any] = ()) -> Rows:
        raise NotImplementedError

    def _exec(self, query: str, params: Sequence[Any] = ()) -> Rows:
        """A write, inside the store's write transaction."""
        raise NotImplementedError

    def _exec_many(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        """One write for each of ``rows``, inside the store's write transaction."""
        raise NotImplementedError

    def _among(self, ids: list[int]) -> tuple[str, Sequence[Any]]:
        """A condition that ``release_id`` is one of ``ids``, and its parameters."""
        raise NotImplementedError

    def _new_release_ids(self, count: int) -> list[int]:
        """Ids for ``count`` releases seeded at once, in order (inside the write transaction)."""
        raise NotImplementedError

    def _may_copy(self) -> None:
        """Refuses a copy this connection may not write (a file takes any: whoever may write it may)."""

    def _copied_settings(self, settings: dict[str, str]) -> dict[str, str]:
        """The settings a copied board is written with."""
        return settings

    def _copied(self) -> None:
        """What a backend does once a copy is written, before its log is verified."""

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

    def stage_in_use(self, stage: str) -> bool:
        ph = self.PLACEHOLDER
        row = self._query(
            f"""SELECT EXISTS (SELECT 1 FROM releases WHERE stage = {ph} AND state <> 'cancelled')
                   OR EXISTS (SELECT 1 FROM windows WHERE environment = {ph})""",
            (stage, stage),
        ).fetchone()
        return bool(row and row[0])

    def _windows(self, ids: list[int] | None) -> dict[int, list[Window]]:
        """Windows by release id, each release's in start order; ``None``: every release's."""
        query = WINDOWS_SQL
        params: Sequence[Any] = ()
        if ids is not None:
            condition, params = self._among(ids)
            query += f" WHERE {condition}"
        out: dict[int, list[Window]] = {}
        for w in self._query(query + " ORDER BY start", params).fetchall():
            out.setdefault(w[0], []).append(window_from_row(w))
        return out

    def insert_releases_bulk(
        self,
        releases: Sequence[NewRelease],
        windows: Sequence[Sequence[tuple[str, datetime, datetime]]],
        now: datetime,
    ) -> list[int]:
        """Many releases and their windows in one go (demo boards of 10,000 releases)."""
        ids = self._new_release_ids(len(releases))
        insert_release, insert_window = bulk_inserts(self.PLACEHOLDER)
        self._exec_many(
            insert_release, [(rid, *new_release_row(new, now)) for rid, new in zip(ids, releases, strict=True)]
        )
        self._exec_many(
            insert_window,
            [
                (rid, env, to_stamp(start), to_stamp(end))
                for rid, spans in zip(ids, windows, strict=True)
                for env, start, end in spans
            ],
        )
        return ids

    def load_copy(self, dump: BoardDump) -> None:
        """Write a copied board, history and all, into this empty store; all or nothing.

        The events keep their seqs, actors, times and hashes, releases their ids, revisions and approvals;
        the chain is verified before the transaction commits.
        """
        store = cast(BoardStore, self)
        insert_release, insert_window, insert_freeze, insert_event = copy_inserts(self.PLACEHOLDER)
        with store.write():
            self._may_copy()
            if problem := empty_problem(store):
                raise BadInput(problem)
            settings = self._copied_settings(dict(dump.settings))
            self._exec("DELETE FROM settings")
            for key, value in sorted(settings.items()):
                self._exec(f"INSERT INTO settings (key, value) VALUES ({values(self.PLACEHOLDER, 2)})", (key, value))
            store.save_environments(dump.environments)
            self._exec_many(insert_release, [release_row(r) for r in dump.releases])
            self._exec_many(
                insert_window,
                [
                    (w.release_id, w.environment, to_stamp(w.start), to_stamp(w.end))
                    for r in dump.releases
                    for w in r.windows
                ],
            )
            self._exec_many(insert_freeze, [(f.id, *freeze_row(f)) for f in dump.freezes])
            for event in dump.events:  # one at a time: a server checks each link against the one before
                self._exec(insert_event, stored_event_row(event))
            seq, done = dump.hook_cursor
            if seq:
                self._exec(hook_cursor_upsert(self.PLACEHOLDER), (seq, json.dumps(list(done))))
            self._copied()
            verdict = chain.verify(self.board_id(), self.stored_events())
            if not verdict.ok:
                raise BadInput(f"the copied log does not verify in {store.name}: {verdict.problem}; nothing was copied")

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
