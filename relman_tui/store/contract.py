"""The store contract: what the service, the CLI, the demo and the board need from a store, and its types.

Both backends (:mod:`relman_tui.store.sqlite`, :mod:`relman_tui.store.pg`) satisfy :class:`BoardStore`;
this module imports neither of them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, Protocol

from relman_tui import chain
from relman_tui.dburl import Target
from relman_tui.details import Details
from relman_tui.model import Environment, Event, Freeze, Release, Risk, State, Window
from relman_tui.store.interrupt import Interrupt


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
    details: Details | None = None


class Wake(enum.Enum):
    """Why :meth:`BoardStore.wait_for_change` returned."""

    TIMEOUT = "timeout"  # nothing changed
    CHANGED = "changed"  # another connection committed a change (or the log had moved past ``after_seq``)
    RECONNECTED = "reconnected"  # the server went away and came back: changes may have been missed, re-read
    DISCONNECTED = "disconnected"  # the server is away and did not come back before the timeout
    INTERRUPTED = "interrupted"  # the caller's interrupt was set (nothing was looked at since)

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
    def data_version(self) -> int:
        """A number that changes whenever another connection has committed a change to the board's
        releases, windows, freezes, environments or settings (each such change logs an event), and
        stays the same across this connection's own commits. It may also change when nothing did
        (a file opened again): a new value means "read again", the same value "nothing to read".
        A move of the hook runner's cursor alone need not change it. Compare values of one store only.
        """

    def last_seq(self) -> int: ...

    def wait_for_change(
        self,
        timeout: float,
        after_seq: int | None = None,
        *,
        interrupt: Interrupt | None = None,
        look_every: float | None = None,
    ) -> Wake:
        """Block until another connection commits, the log moves past ``after_seq``, ``interrupt`` is set,
        or ``timeout`` (s). A store that is told of commits (a server) asks nothing while it waits; one
        that must look (a file) looks when called and then every ``look_every`` seconds (``None``: its
        own default). Use :class:`relman_tui.store.watching.ChangeWatcher` rather than calling this."""

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
        from, to, forced, details``, time and details as stored text (see
        :func:`relman_tui.store.shared.delivery_rows_query`)."""
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
