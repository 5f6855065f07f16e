"""The one object that touches the database off the event loop: the poll thread and every service call.

Screens ask ``session.call(self, "move", …)``; the call runs in a thread worker and its outcome
comes back to the screen as a message (:class:`Session.Done`, :class:`Session.Refused`,
:class:`Session.Failed`). A fresh board after any write, and every change another process makes,
reaches the app as :class:`Session.Changed`. Which calls write is listed once, here, so a
read-only board refuses them in one place; each write made here can be undone, through the
service, so the undo is logged like any change.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.message import Message

from relman_tui import witness
from relman_tui.errors import Refused, RelmanError, StaleWrite
from relman_tui.model import Event, Release
from relman_tui.service import Service, Snapshot
from relman_tui.store import Store, Wake

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

# The service calls that change the database. Everything else a screen may call reads.
WRITES = frozenset(
    {
        "add_release",
        "edit_release",
        "move",
        "rollback",
        "verify",
        "fail",
        "approve",
        "cancel",
        "schedule",
        "unschedule",
    }
)
READS = frozenset(
    {"release", "events", "environments", "preview_window", "next_free", "snapshot", "conflicts", "insights"}
)

READ_ONLY = "read-only: nothing can be changed here"
QUICK_FROM = 2_000  # releases on the board from which a change is drawn before the board is read again


@dataclass(frozen=True, eq=False)
class Call:
    """One service call: the method, its arguments, and what the asking screen wants back with the answer."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    context: Any = None
    undoing: Call | None = None  # set on the call that undoes this one's change

    @property
    def writes(self) -> bool:
        return self.name in WRITES


@dataclass(frozen=True)
class Undo:
    """What would undo one change, or why it cannot be undone."""

    label: str  # "payments-api 2.4.1 moved to prod"
    call: Call | None
    why_not: str = ""


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
        def __init__(self, call: Call) -> None:
            super().__init__()
            self.call = call

    class Done(_Answer):
        """The call returned ``result``; a write also brings the snapshot taken right after it."""

        def __init__(self, call: Call, result: Any, snapshot: Snapshot | None = None) -> None:
            super().__init__(call)
            self.result = result
            self.snapshot = snapshot

    class Refused(_Answer):
        """A rule said no (a gate, four-eyes, a stale write, a read-only board); nothing was written."""

        def __init__(self, call: Call, error: Refused) -> None:
            super().__init__(call)
            self.error = error

    class Failed(_Answer):
        """Bad input or an unreadable database (a :class:`RelmanError`), or an unexpected error."""

        def __init__(self, call: Call, error: Exception) -> None:
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
        self._wake = threading.Event()
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

        On a file it looks at ``PRAGMA data_version`` every poll interval (and reads nothing more
        while nothing changed); on a server it waits for the server's notification (LISTEN), so
        nothing is asked while nothing changes. It also checks the log's hash chain once, and,
        on a file, whether the file is still the one the board opened.
        """
        try:
            store = self.service.store.reopen(read_only=True)
        except RelmanError as exc:
            self._tell_app(self.Alert("live", f"live updates stopped: {exc}"))
            return
        reader = Service(store, self.service.clock, self.service.actor)
        is_file = isinstance(store, Store)
        last_version: int | None = None
        last_seq = self._last_seq
        file_problem: str | None = None
        log_checked = False
        try:
            while not self._stopping.is_set():
                woken = self._wake.is_set()
                self._wake.clear()
                problem = self.service.store.file_problem()
                if problem != file_problem:
                    file_problem = problem
                    self._tell_app(
                        self.Alert(
                            "file",
                            f"{problem}: changes are refused; press ctrl+r to open it again" if problem else None,
                        )
                    )
                changed = woken or last_seq is None
                if is_file:
                    version = store.data_version()
                    changed = changed or version != last_version
                    last_version = version
                elif not changed:
                    wake = store.wait_for_change(min(self.poll_interval, 1.0), after_seq=last_seq)
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
                    changed = wake.changed
                # every change logs an event: no new event, nothing to draw (a checkpoint, or our own
                # write, already posted by its worker)
                if changed and (woken or last_seq is None or store.last_seq() != last_seq):
                    events = reader.changes_since(last_seq) if last_seq is not None else []
                    if events and not woken and all(e.seq in self.service.written_seqs for e in events):
                        last_seq = events[-1].seq  # only our own writes: their worker drew the board already
                        continue
                    snapshot = reader.snapshot()
                    if last_seq is not None:  # and whatever landed between the two reads
                        events = reader.changes_since(last_seq)
                    last_seq = snapshot.last_seq
                    self._post(self._app, self.Changed(snapshot, [e for e in events if e.seq <= last_seq]))
                if not log_checked:  # once, after the board's first full read: not before its conflict marks
                    log_checked = True
                    self._check_log(reader)
                if is_file:
                    self._wake.wait(self.poll_interval)
        except RelmanError as exc:
            self._tell_app(self.Alert("live", f"live updates stopped: {exc}"))
        finally:
            store.close()

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

    def call(self, to: MessagePump, name: str, /, *args: Any, context: Any = None, **kwargs: Any) -> Call:
        """Run ``service.<name>(*args, **kwargs)`` in a thread worker; the answer is posted to ``to``."""
        return self.submit(to, Call(name, args, kwargs, context))

    def submit(self, to: MessagePump, call: Call) -> Call:
        if call.name not in WRITES and call.name not in READS:
            raise ValueError(f"unknown service call {call.name!r}")
        if call.writes and self.read_only:
            to.post_message(self.Refused(call, Refused(READ_ONLY)))
            return call
        self._app.run_worker(partial(self._run, to, call), thread=True, group="service", name=call.name)
        return call

    def undo(self, to: MessagePump) -> str | None:
        """Undo the last change made in this session; returns why not when it cannot."""
        if self.read_only:
            return READ_ONLY
        if not self._undo:
            return "nothing to undo in this session"
        last = self._undo.pop()
        if last.call is None:
            return f"cannot undo {last.label}: {last.why_not}"
        # Made against the revision our own last write left (an earlier undo included): a change
        # someone else made since is refused as stale, never overwritten.
        release_id = last.call.args[0]
        kwargs = {**last.call.kwargs, "rev": self._revs.get(release_id, last.call.kwargs.get("rev"))}
        self.submit(to, replace(last.call, kwargs=kwargs, context=last.label))
        return None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo) and not self.read_only

    def _run(self, to: MessagePump, call: Call) -> None:
        snapshot: Snapshot | None = None
        with self._lock:
            service = self.service
            quick: Snapshot | None = None
            try:
                before, stages = _before(service, call)
                try:
                    result = getattr(service, call.name)(*call.args, **call.kwargs)
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
        if call.writes and call.undoing is None:
            self._undo.append(_undo_for(call, before, result, stages))
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


def _before(service: Service, call: Call) -> tuple[Release | None, list[str]]:
    """The release as it was, and the stages, for a write that may be undone."""
    if call.writes and call.name != "add_release" and call.args:
        return service.release(call.args[0]), service.stages() if call.name == "move" else []
    return None, []


def _undo_for(call: Call, before: Release | None, after: Any, stages: list[str]) -> Undo:
    """The call that puts things back as they were before ``call``, made against the new revision."""
    if call.name == "add_release" and isinstance(after, Release):
        return Undo(
            f"{after.label} created", Call("cancel", (after.id,), {"reason": "undo", "rev": after.rev}, undoing=call)
        )
    if before is None or not isinstance(after, Release):
        return Undo(call.name, None, "nothing to put back")
    rev = {"rev": after.rev}
    label = before.label
    if call.name in ("schedule", "unschedule"):
        env = call.args[1]
        was = before.window_in(env)
        if was is None:
            return Undo(f"{label} scheduled in {env}", Call("unschedule", (before.id, env), rev, undoing=call))
        return Undo(
            f"the window of {label} in {env}", Call("schedule", (before.id, env, was.start, was.end), rev, undoing=call)
        )
    forward = (
        before.stage in stages and after.stage in stages and stages.index(after.stage) > stages.index(before.stage)
    )
    if call.name == "move" and forward:
        # a move forward is undone as a rollback, logged with the reason "undo"
        return Undo(
            f"{label} moved to {after.stage}",
            Call("move", (before.id, before.stage), {**rev, "reason": "undo"}, undoing=call),
        )
    if call.name in ("move", "rollback"):
        return Undo(f"the rollback of {label}", None, "move it forward again, through the gates")
    if call.name == "edit_release":
        fields = {
            "name": before.name,
            "version": before.version,
            "components": before.components,
            "owner": before.owner,
            "risk": before.risk,
            "notes": before.notes,
        }
        return Undo(f"the edit of {label}", Call("edit_release", (before.id,), {**rev, **fields}, undoing=call))
    words = {"verify": "verified", "fail": "marked failed", "approve": "approved", "cancel": "cancelled"}
    return Undo(
        f"{label} {words.get(call.name, call.name)}", None, "the audit log keeps it; make the opposite change yourself"
    )


__all__ = ["READS", "READ_ONLY", "WRITES", "Call", "Session", "StaleWrite", "Undo"]
