"""The one object that touches the database off the event loop: the poll thread and every service call.

Screens ask ``session.write(self, Change(Write.MOVE, rid), lambda service: service.move(rid, stage))``
or ``session.read(self, Read.RELEASE, lambda service: service.release(rid))``: typed calls, so a renamed
service method is a type error at the call site. The call runs in a thread worker and its outcome
comes back to the screen as a message (:class:`Session.Done`, :class:`Session.Refused`,
:class:`Session.Failed`). A fresh board after any write, and every change another process makes,
reaches the app as :class:`Session.Changed`. A write is asked with :meth:`Session.write`, so a
read-only board refuses it in one place; what undoes it is the core's rule (:mod:`relman_tui.undo`),
and the undo runs through the service, so it is logged like any change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.message import Message

from relman_tui import witness
from relman_tui.errors import Refused, RelmanError, StaleWrite
from relman_tui.model import Event, Release
from relman_tui.service import Service, Snapshot
from relman_tui.store import ChangeWatcher, Interrupt, Wake
from relman_tui.undo import Change, Undo, Write, undo_for

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

T = TypeVar("T")
U = TypeVar("U")

READ_ONLY = "read-only: nothing can be changed here"
QUICK_FROM = 2_000  # releases on the board from which a change is drawn before the board is read again


class Read(StrEnum):
    """What a screen asks the service without changing anything (the value names the worker)."""

    RELEASE = "release"
    EVENTS = "events"
    INSIGHTS = "insights"
    PREVIEW_WINDOW = "preview_window"
    NEXT_FREE = "next_free"


@dataclass(frozen=True, eq=False)
class Call(Generic[T]):
    """One service call: a label, the typed call itself, and what the asking screen wants back with the answer."""

    name: Read | Write  # what the screen asked: it tells its answers apart by it
    run: Callable[[Service], T]
    context: Any = None
    change: Change | None = None  # a write: what it changes (None: the call only reads)
    undoing: Undo | None = None  # set on the call that undoes a change

    @property
    def writes(self) -> bool:
        return self.change is not None


class Session:
    """Owns the threads: a poll thread with its own read-only connection, and one worker per call."""

    class Changed(Message, bubble=False):
        """A fresh snapshot; ``events`` are those written since the last one (ours included)."""

        def __init__(self, snapshot: Snapshot, events: list[Event]) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.events = events

    class Alert(Message, bubble=False):
        """Something the operator must not miss, shown in the warning bar until it is over (``text`` None)."""

        def __init__(self, kind: str, text: str | None) -> None:
            super().__init__()
            self.kind = kind  # "log", "file", "live": one line each
            self.text = text

    class _Answer(Message, bubble=False):
        def __init__(self, call: Call[Any]) -> None:
            super().__init__()
            self.call = call

    class Done(_Answer, Generic[T]):
        """The call returned ``result``; a write also brings the snapshot taken right after it."""

        def __init__(self, call: Call[T], result: T, snapshot: Snapshot | None = None) -> None:
            super().__init__(call)
            self.call: Call[T] = call
            self.result = result
            self.snapshot = snapshot

        def answers(self, call: Call[U] | None) -> U | None:
            """``result`` if this is the answer to ``call`` (the call object a screen kept), else None."""
            return self.result if self.call is call else None  # type: ignore[return-value]

    class Refused(_Answer):
        """A rule said no (a gate, four-eyes, a stale write, a read-only board); nothing was written."""

        def __init__(self, call: Call[Any], error: Refused) -> None:
            super().__init__(call)
            self.error = error

    class Failed(_Answer):
        """Bad input or an unreadable database (a :class:`RelmanError`), or an unexpected error."""

        def __init__(self, call: Call[Any], error: Exception) -> None:
            super().__init__(call)
            self.error = error

    def __init__(
        self,
        app: App[Any],
        service: Service,
        *,
        read_only: bool,
        poll_interval: float,
        last_seq: int | None,
    ) -> None:
        self._app = app
        self.service = service
        self.read_only = read_only
        self.poll_interval = poll_interval
        self._last_seq = last_seq
        self._lock = threading.Lock()  # one service call at a time on the service's connection
        self._wake = Interrupt()  # ends the watcher's wait: read now (or stop)
        self._stopping = threading.Event()
        self._undo: list[Undo] = []
        self._revs: dict[int, int] = {}  # each release's revision after this session's last write to it

    @property
    def actor(self) -> str:
        return self.service.actor

    # -- the poll thread -------------------------------------------------------------------------

    def start(self) -> None:
        self._app.run_worker(self._poll, thread=True, exclusive=True, group="poll", name="poll")

    def stop(self) -> None:
        """End the poll thread at once (it waits on an event, never on a bare sleep)."""
        self._stopping.set()
        self._wake.set()

    def refresh(self) -> None:
        """Ask the poll thread for a snapshot now."""
        self._wake.set()

    def _poll(self) -> None:
        """Watch the board with a connection of its own; post a snapshot when another process wrote.

        The watcher (:class:`ChangeWatcher`) looks at a file every poll interval (and reads nothing
        more while nothing changed); on a server it waits for the server's notification (LISTEN), so
        nothing is asked while nothing changes. :meth:`refresh` and :meth:`stop` end its wait at once.
        It also checks the log's hash chain once, and whether the board's file is still the one the
        board opened.
        """
        try:
            store = self.service.store.reopen(read_only=True)
        except RelmanError as exc:
            self._tell_app(self.Alert("live", f"live updates stopped: {exc}"))
            return
        reader = Service(store, self.service.clock, self.service.actor)
        watcher = ChangeWatcher(store, self._wake, seen=self._last_seq)
        file_problem: str | None = None
        log_checked = False
        try:
            while not self._stopping.is_set():
                woken = self._wake.take()
                problem = self.service.store.file_problem()
                if problem != file_problem:
                    file_problem = problem
                    self._tell_app(
                        self.Alert(
                            "file",
                            f"{problem}: changes are refused; press ctrl+r to open it again" if problem else None,
                        )
                    )
                last_seq = watcher.seen
                changed = woken or last_seq is None
                if not changed:
                    wake = watcher.wait(self.poll_interval, look_every=self.poll_interval)
                    if wake is Wake.INTERRUPTED:
                        continue  # asked to read now (or to stop): the top of the loop does
                    self._say_live(wake)
                    changed = wake.changed
                # every change logs an event: no new event, nothing to draw (a checkpoint, or our own
                # write, already posted by its worker)
                if changed and (woken or last_seq is None or store.last_seq() != last_seq):
                    events = reader.changes_since(last_seq) if last_seq is not None else []
                    if events and not woken and all(e.seq in self.service.written_seqs for e in events):
                        watcher.mark(events[-1].seq)  # only our own writes: their worker drew the board already
                        continue
                    snapshot = reader.snapshot()
                    if last_seq is not None:  # and whatever landed between the two reads
                        events = reader.changes_since(last_seq)
                    watcher.mark(snapshot.last_seq)
                    self._post(self._app, self.Changed(snapshot, [e for e in events if e.seq <= snapshot.last_seq]))
                if not log_checked:  # once, after the board's first full read: not before its conflict marks
                    log_checked = True
                    self._check_log(reader)
        except RelmanError as exc:
            self._tell_app(self.Alert("live", f"live updates stopped: {exc}"))
        finally:
            store.close()

    def _say_live(self, wake: Wake) -> None:
        """The server went away, or came back: the warning bar and a notice say so."""
        if wake is Wake.DISCONNECTED:
            self._tell_app(self.Alert("live", "the server is away: reconnecting…"))
        elif wake is Wake.RECONNECTED:
            self._tell_app(self.Alert("live", None))
            self._app.call_from_thread(
                self._app.notify,
                "reconnected to the server; the board is up to date",
                title="Live updates",
                timeout=6,
            )

    def _check_log(self, reader: Service) -> None:
        """Check the log as `relman log --verify` does (chain, witness, replay, rules) once, at start."""
        from relman_tui.audit import verdict_words

        verdict = witness.verify(reader)
        if verdict.ok:
            return
        self._tell_app(self.Alert("log", f"{verdict_words(verdict)} (`relman log --verify` says the same)"))

    def _tell_app(self, message: Message) -> None:
        self._post(self._app, message)

    # -- calls -----------------------------------------------------------------------------------

    def read(self, to: MessagePump, name: Read, run: Callable[[Service], T], *, context: Any = None) -> Call[T]:
        """Run ``run(service)`` in a thread worker; the answer is posted to ``to``, labelled ``name``."""
        return self.submit(to, Call(name, run, context))

    def write(
        self, to: MessagePump, change: Change, run: Callable[[Service], Release], *, context: Any = None
    ) -> Call[Release]:
        """Like :meth:`read`, for a write that ``change`` describes: refused on a read-only board, undoable."""
        return self.submit(to, Call(change.write, run, context, change))

    def submit(self, to: MessagePump, call: Call[T]) -> Call[T]:
        if call.writes and self.read_only:
            to.post_message(self.Refused(call, Refused(READ_ONLY)))
            return call
        self._app.run_worker(partial(self._run, to, call), thread=True, group="service", name=str(call.name))
        return call

    def undo(self, to: MessagePump) -> str | None:
        """Undo the last change made in this session; returns why not when it cannot."""
        if self.read_only:
            return READ_ONLY
        if not self._undo:
            return "nothing to undo in this session"
        last = self._undo.pop()
        step = last.step
        if step is None:
            return f"cannot undo {last.label}: {last.why_not}"
        # Made against the revision our own last write left (an earlier undo included): a change
        # someone else made since is refused as stale, never overwritten.
        rev = self._revs.get(step.release_id, last.rev)
        change = step.change
        self.submit(to, Call(change.write, partial(step.run, rev=rev), last.label, change, undoing=last))
        return None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo) and not self.read_only

    def _run(self, to: MessagePump, call: Call[T]) -> None:
        snapshot: Snapshot | None = None
        with self._lock:
            service = self.service
            quick: Snapshot | None = None
            try:
                before, stages = _before(service, call)
                try:
                    result = call.run(service)
                    if call.writes and isinstance(result, Release):
                        quick = self._show_at_once(result, service)
                finally:
                    if call.writes and quick is None:  # after any write, refused or not: the board shows the file
                        snapshot = service.snapshot()  # as it is
            except Refused as exc:
                if snapshot is not None:
                    self._post(self._app, self.Changed(snapshot, []))
                self._post(to, self.Refused(call, exc))
                return
            except RelmanError as exc:
                if snapshot is not None:
                    self._post(self._app, self.Changed(snapshot, []))
                self._post(to, self.Failed(call, exc))
                return
            except Exception as exc:
                self._post(to, self.Failed(call, exc))
                raise  # the app logs it with its traceback and says so in a dialog
        if quick is not None:
            # a big board: the watcher reads it again on its own connection (conflict marks and all), and
            # this worker has already let the next call in
            self.refresh()
        if isinstance(result, Release) and call.writes:
            self._revs[result.id] = result.rev
        if call.change is not None and call.undoing is None and isinstance(result, Release):
            self._undo.append(undo_for(call.change, before, result, stages))
        if snapshot is not None:
            self._post(self._app, self.Changed(snapshot, []))
        self._post(to, self.Done(call, result, snapshot or quick))

    def _show_at_once(self, release: Release, service: Service) -> Snapshot | None:
        """On a big board, put the changed release on screen before the board is read again: the
        snapshot drawn, with this one release replaced (its conflict marks follow with the full read)."""
        current: Snapshot | None = getattr(self._app, "snapshot", None)
        if current is None or len(current.releases) < QUICK_FROM or not service.written_seqs:
            return None
        releases = [r for r in current.releases if r.id != release.id]
        if not release.cancelled:
            releases.append(release)
            releases.sort(key=lambda r: r.id)
        quick = replace(current, releases=tuple(releases), last_seq=max(service.written_seqs), checked=False)
        self._post(self._app, self.Changed(quick, []))
        return quick

    def _post(self, to: MessagePump, message: Message) -> None:
        if not self._stopping.is_set():
            to.post_message(message)  # thread-safe in Textual


def _before(service: Service, call: Call[Any]) -> tuple[Release | None, list[str]]:
    """The release as it was, and the stages, for a write that may be undone."""
    change = call.change
    if change is None or not change.needs_before or change.release_id is None:
        return None, []
    return service.release(change.release_id), service.stages() if change.needs_stages else []


__all__ = ["READ_ONLY", "Call", "Change", "Session", "StaleWrite", "Undo"]
