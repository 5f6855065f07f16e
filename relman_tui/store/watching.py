"""One change watcher for a board on either backend: what the board's live view and the hook runner wait with."""

from __future__ import annotations

from relman_tui.store.contract import BoardStore, Wake
from relman_tui.store.interrupt import Interrupt


class ChangeWatcher:
    """Waits for the changes other connections commit to one board, through the store contract alone.

    It owns the mark: the last seq its user has read. Take it with :meth:`mark` *before* reading
    (or give the seq the read stopped at): an event committed while you read or act lies past it,
    and the next :meth:`wait` returns at once for it instead of waiting for another write.

    A wait ends when another connection commits, when the log is past the mark, when
    :attr:`interrupt` is set (from another thread, or a signal handler), or at the timeout. A server
    tells of each commit (LISTEN), so nothing is asked while nothing changes; a file is looked at
    (``PRAGMA data_version``) every ``look_every`` seconds. A server that went away is reported
    (``DISCONNECTED``) and, once back, ``RECONNECTED``: read again, changes may have been missed.
    Use the watcher, and its store, from one thread.
    """

    def __init__(self, store: BoardStore, interrupt: Interrupt | None = None, *, seen: int | None = None) -> None:
        self.store = store
        self.interrupt = interrupt if interrupt is not None else Interrupt()
        self.seen = seen
        self._told: int | None = None  # the mark the store has compared the log with: no need to again

    def mark(self, seq: int | None = None) -> int:
        """Take the mark: the log's last seq now, or ``seq`` (where a read of the log stopped)."""
        self.seen = self.store.last_seq() if seq is None else seq
        return self.seen

    def wait(self, timeout: float, *, look_every: float | None = None) -> Wake:
        """Until a change, the interrupt, or ``timeout`` seconds; ``look_every``: how often a file is
        looked at (``None``: the store's default). ``wake.changed`` says whether to read again."""
        after = self.seen if self.seen != self._told else None
        wake = self.store.wait_for_change(timeout, after, interrupt=self.interrupt, look_every=look_every)
        if wake in (Wake.TIMEOUT, Wake.CHANGED):  # the store compared the log with the mark (or it moved)
            self._told = self.seen
        return wake
