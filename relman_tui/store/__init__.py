"""The store: the contract the rest of relman uses (:mod:`.contract`), the SQLite and PostgreSQL backends, and
:func:`open_store`, which picks one by the target's form (a path or a ``postgresql://`` URL).

The store modules are the only ones that speak SQL. This package re-exports the names the CLI, the service,
the TUI and the tests import; the PostgreSQL backend (:mod:`.pg`) is loaded only when a URL is opened.
"""

from __future__ import annotations

from relman_tui.outfile import check_output
from relman_tui.store.contract import BoardDump, BoardStore, NewEvent, NewRelease, Wake
from relman_tui.store.interrupt import Interrupt
from relman_tui.store.opening import open_store
from relman_tui.store.shared import empty_problem, refuse_stale, stored_event
from relman_tui.store.sqlite import WAL_SIZE_LIMIT, Store
from relman_tui.store.sqlite_base import KNOWN_MIGRATIONS
from relman_tui.store.sqlite_files import describe_error
from relman_tui.store.watching import ChangeWatcher

__all__ = [
    "KNOWN_MIGRATIONS",
    "WAL_SIZE_LIMIT",
    "BoardDump",
    "BoardStore",
    "ChangeWatcher",
    "Interrupt",
    "NewEvent",
    "NewRelease",
    "Store",
    "Wake",
    "check_output",
    "describe_error",
    "empty_problem",
    "open_store",
    "refuse_stale",
    "stored_event",
]
