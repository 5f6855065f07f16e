"""What changes a window on the scheduler: a preview by key or drag, applied or discarded, and what it says."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import replace
from datetime import datetime, timedelta

from rich.text import Text
from textual import on
from textual.reactive import reactive
from textual.widgets import Static

from relman_tui.model import Conflict, Occurrence, Release, Severity, Window
from relman_tui.service import ConflictDiff, Snapshot
from relman_tui.status import touches, window_severity
from relman_tui.text import inert
from relman_tui.timeutil import format_duration, format_local
from relman_tui.tui.screens.base import KeyedScreen
from relman_tui.tui.screens.dialogs import ConfirmDialog, Saved, ScheduleDialog
from relman_tui.tui.screens.scheduler_parts import FreeAsk, Key_, ReleasePicker, _diff_words, _span
from relman_tui.tui.session import Read, Session
from relman_tui.tui.viewmodel import conflict_counts, with_new_counts
from relman_tui.tui.widgets.timeline import DAY, Pending, Timeline, Zoom, step_from
from relman_tui.undo import Change, Write
from relman_tui.wording import localize


class SchedulerChanges(KeyedScreen):
    """The scheduler's view, selection and preview, and every change to a window: ``[ ] { }``, ``f`` and a drag
    preview one, ``enter`` writes it, ``esc`` discards it, ``d`` removes a window, ``s`` schedules one.

    :class:`~relman_tui.tui.screens.scheduler.SchedulerScreen` adds the layout, the moving around and the
    conflict panel, and supplies the two methods declared abstract here.
    """

    # The view and the selection live here, once; the timeline draws them (data_bind).
    zoom: reactive[Zoom] = reactive(DAY, init=False)
    view_start: reactive[datetime | None] = reactive(None, init=False)
    tz: reactive[str] = reactive("UTC", init=False)
    selected: reactive[Key_ | None] = reactive(None, init=False)
    row_index: reactive[int] = reactive(0, init=False)
    selected_freeze: reactive[Occurrence | None] = reactive(None, init=False)
    preview: reactive[Pending | None] = reactive(None, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.conflicts: list[Conflict] = []  # as the panel lists them
        self.cursor_at: datetime | None = None  # the moment last clicked on empty time: where `s` starts
        self.busy = False  # a change is being written
        self._snapshot: Snapshot | None = None

    @abstractmethod
    def select_window(self, key: Key_ | None, *, scroll: bool = True) -> None:
        """Select a window (or none, in the current row), scrolled into view."""

    @abstractmethod
    def _ensure_visible(self, start: datetime, end: datetime) -> None:
        """Scroll so that the start of ``[start, end)`` is in view."""

    @property
    def selected_release_id(self) -> int | None:
        """The release the operator is on: it lives on the host, shared with the board."""
        return self.host.release_id

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    def watch_preview(self) -> None:
        self.refresh_bindings()
        self._show_status()

    # -- the data --------------------------------------------------------------------------------

    def releases(self) -> list[Release]:
        return list(self._snapshot.releases) if self._snapshot is not None else []

    def release(self, release_id: int | None) -> Release | None:
        return next((r for r in self.releases() if r.id == release_id), None)

    def window(self, key: Key_ | None) -> Window | None:
        release = self.release(key[0]) if key else None
        return release.window_in(key[1]) if release and key else None

    @property
    def env_names(self) -> list[str]:
        return [e.name for e in self._snapshot.environments] if self._snapshot else []

    # -- the status line -------------------------------------------------------------------------

    def _show_status(self) -> None:
        if not self.is_mounted or self._snapshot is None:
            return
        status = self.query_one("#sched-status", Static)
        tz = self.tz
        text = Text(no_wrap=True, overflow="ellipsis")
        pending = self.preview
        key = pending.key if pending else self.selected
        window = self.window(key)
        release = self.release(key[0]) if key else None
        env = self.env_names[self.row_index] if self.env_names else ""
        if pending is not None and release is not None:
            text.append("preview ", style="bold reverse")
            text.append(f" {inert(release.label)} in {inert(pending.key[1])} {pending.how}: ", style="bold")
            text.append(f"{_span(pending.start, pending.end, tz)} · {format_duration(pending.end - pending.start)}")
            text.append("\n")
            diff = pending.diff
            if diff is None:
                text.append("checking the conflicts…", style="dim")
            else:
                text.append_text(_diff_words(diff))
            text.append("  enter applies · esc discards", style="dim")
        elif window is not None and release is not None and key is not None:
            text.append(inert(release.label), style="bold")
            text.append(
                f" · {inert(key[1])} · {_span(window.start, window.end, tz)} · "
                f"{format_duration(window.end - window.start)}"
            )
            mine = [c for c in self.conflicts if touches(window, c)]
            text.append("\n")
            frozen = self.timeline.freezes_at(key[1], window.start, window.end)
            if mine:
                worst = min(mine, key=lambda c: c.severity is not Severity.ERROR)
                error = worst.severity is Severity.ERROR
                text.append(
                    ("✖ " if error else "⚠ ") + inert(localize(worst.message, tz)),
                    style="bold red" if error else "bold",
                )
                if len(mine) > 1:
                    text.append(f" (+{len(mine) - 1} more)")
            elif frozen:
                text.append(f"❄ frozen: {inert(frozen[0].reason)}")
            else:
                text.append("no conflicts", style="dim")
        else:
            text.append(f"{inert(env)}: no window selected", style="dim")
            text.append("\n")
            now = self.host.now()
            frozen = self.timeline.freezes_at(env, now, now + timedelta(microseconds=1)) if env else []
            if self.selected_freeze is not None:
                frozen = [self.selected_freeze]
            if frozen:
                text.append(f"❄ {inert(frozen[0].reason)} until {format_local(frozen[0].end, tz)}")
            else:
                hint = "tab selects a window" if self.host.read_only else "tab selects a window · s schedules one here"
                text.append(hint, style="dim")
        status.update(text)

    # -- previewing a change -----------------------------------------------------------------------

    def _need_window(self) -> tuple[Release, Window] | None:
        key = self.selected
        release = self.release(key[0]) if key else None
        window = release.window_in(key[1]) if release and key else None
        if release is None or window is None:
            self.notify("no window selected: tab selects one in this row", severity="warning", timeout=3)
            return None
        if self.busy:
            self.notify("still saving the last change", timeout=2)
            return None
        return release, window

    def _span(self, window: Window) -> tuple[datetime, datetime]:
        """Where the selected window is now, or would be after the pending preview."""
        pending = self.preview
        if pending is not None and pending.key == (window.release_id, window.environment):
            return pending.start, pending.end
        return window.start, window.end

    def action_shift(self, direction: int) -> None:
        if (found := self._need_window()) is None:
            return
        release, window = found
        start, end = self._span(window)
        self.change(
            release,
            window,
            step_from(start, self.zoom, direction, self.tz),
            step_from(end, self.zoom, direction, self.tz),
            "shifted",
        )

    def action_stretch(self, direction: int) -> None:
        if (found := self._need_window()) is None:
            return
        release, window = found
        start, end = self._span(window)
        new_end = step_from(end, self.zoom, direction, self.tz)
        shortest = step_from(start, self.zoom, 1, self.tz)
        if direction < 0 and new_end < shortest:
            new_end = shortest
        if new_end == end:
            self.notify(
                f"a window is at least one step long ({self.zoom.step_text} in {self.zoom.name} zoom)", timeout=3
            )
            return
        self.change(release, window, start, new_end, "resized")

    def action_next_free(self) -> None:
        if (found := self._need_window()) is None:
            return
        release, window = found
        start, end = self._span(window)
        # from where it is (or now), so a window is not pulled earlier than planned; only when
        # nothing is free later does the search start from now (and the preview says "earlier")
        after = max(self.host.now(), start)
        self._next_free(FreeAsk(release, window, end - start, after > self.host.now()), after)

    def _next_free(self, ask: FreeAsk, after: datetime) -> None:
        self.host.session.read(
            self,
            Read.NEXT_FREE,
            lambda service: service.next_free(ask.release.id, ask.window.environment, ask.length, after=after),
            context=ask,
        )

    def change(self, release: Release, window: Window, start: datetime, end: datetime, how: str) -> None:
        """Show where the window would go and ask the service what it would create and resolve."""
        if self.refused_read_only():
            return
        key = (release.id, window.environment)
        if (start, end) == (window.start, window.end):
            self.preview = None
            self.notify("back where it is: nothing to apply", timeout=2)
            return
        pending = Pending(key, start, end, how, release.rev)
        self.preview = pending
        self._ensure_visible(start, end)
        self.host.session.read(
            self,
            Read.PREVIEW_WINDOW,
            lambda service: service.preview_window(release.id, window.environment, start, end),
            context=pending,
        )

    def action_apply(self) -> None:
        pending = self.preview
        if pending is None or self.busy:
            return
        release_id, env = pending.key
        self.busy = True
        snapshot = self._snapshot
        before = conflict_counts(snapshot) if snapshot else (0, 0)
        self.host.session.write(
            self,
            Change(Write.SCHEDULE, release_id, env),
            lambda service: service.schedule(release_id, env, pending.start, pending.end, rev=pending.rev),
            context=(pending, before),
        )

    def action_discard(self) -> None:
        self.preview = None

    def action_remove(self) -> None:
        if (found := self._need_window()) is None:
            return
        release, window = found
        self.preview = None
        snapshot = self._snapshot
        before = conflict_counts(snapshot) if snapshot else (0, 0)
        tz = self.tz
        span = f"{format_local(window.start, tz, with_zone=False)} → {format_local(window.end, tz)}"

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.busy = True
                self.host.session.write(
                    self,
                    Change(Write.UNSCHEDULE, release.id, window.environment),
                    lambda service: service.unschedule(release.id, window.environment, rev=release.rev),
                    context=(None, before),
                )

        self.app.push_screen(
            ConfirmDialog(
                f"Remove the window of {release.label} in {window.environment}?",
                f"{span}\nctrl+z puts it back.",
                "Remove",
            ),
            confirmed,
        )

    def _severity_after(self, pending: Pending, diff: ConflictDiff) -> Severity | None:
        """The previewed window's mark as it would be: its conflicts now, less those the change resolves,
        plus those it creates (a preview never keeps ✖ while saying it takes the window out of it)."""
        release = self.release(pending.key[0])
        if release is None or self._snapshot is None:
            return None
        env = pending.key[1]
        moved = Window(release.id, env, pending.start, pending.end)
        after = replace(release, windows=(*(w for w in release.windows if w.environment != env), moved))
        kept = [c for c in self._snapshot.conflicts if c not in diff.resolved] + list(diff.created)
        return window_severity([after], kept).get(pending.key)

    # -- the session's answers -----------------------------------------------------------------------

    def on_session_done(self, message: Session.Done[object]) -> None:
        call, result = message.call, message.result
        if call.name == Read.PREVIEW_WINDOW:
            pending = call.context
            if isinstance(pending, Pending) and pending is self.preview and isinstance(result, ConflictDiff):
                self.preview = replace(pending, diff=result, severity=self._severity_after(pending, result))
        elif call.name == Read.NEXT_FREE and isinstance(result, datetime) and isinstance(call.context, FreeAsk):
            ask = call.context
            if result == ask.window.start and ask.length == ask.window.end - ask.window.start:
                self.notify(f"{inert(ask.release.label)} is already in the next free slot", timeout=3)
                self.preview = None
            else:
                how = "earlier, to the first free slot" if result < ask.window.start else "to the next free slot"
                self.change(ask.release, ask.window, result, result + ask.length, how)
        elif (
            call.change is not None
            and call.change.write in (Write.SCHEDULE, Write.UNSCHEDULE)
            and call.change.environment is not None
            and isinstance(result, Release)
        ):
            env = call.change.environment
            self.busy = False
            self._written(env, result)
            if call.undoing is None:
                pending, before = call.context
                if pending is not None and pending is self.preview:
                    self.preview = None
                self.notify(self._said(call.change.write, result, env, before, message.snapshot), timeout=5)
        self.refresh_bindings()

    def _said(self, name: str, saved: Release, env: str, before: tuple[int, int], snapshot: Snapshot | None) -> str:
        tz = self.tz
        window = saved.window_in(env)
        if name == Write.UNSCHEDULE or window is None:
            text = f"{saved.label}: window in {env} removed"
        else:
            text = f"{saved.label} in {env}: {_span(window.start, window.end, tz)}"
        return with_new_counts(text, before, snapshot)

    def on_session_refused(self, message: Session.Refused) -> None:
        call = message.call
        ask = call.context
        if call.name == Read.NEXT_FREE and isinstance(ask, FreeAsk) and ask.from_start:
            message.prevent_default()  # nothing free after it: look from now
            self._next_free(replace(ask, from_start=False), self.host.now())
            return
        self._not_written(call)

    def on_session_failed(self, message: Session.Failed) -> None:
        self._not_written(message.call)

    def _not_written(self, call: object) -> None:
        self.busy = False
        self.refresh_bindings()

    def _written(self, env: str, saved: Release) -> None:
        self.selected = (saved.id, env) if saved.window_in(env) else None
        self.host.release_id = saved.id
        window = saved.window_in(env)
        if window is not None:
            self._ensure_visible(window.start, window.end)

    # -- scheduling a release that has no window here ---------------------------------------------

    def action_schedule(self) -> None:
        snapshot = self._snapshot
        if snapshot is None or not self.env_names:
            return
        if self.busy:
            self.notify("still saving the last change", timeout=2)
            return
        env = self.env_names[self.row_index]
        candidates = [r for r in self.releases() if not r.cancelled and r.window_in(env) is None]
        if not candidates:
            self.notify(f"every release has a window in {inert(env)}", timeout=3)
            return
        self.app.push_screen(
            ReleasePicker(f"Schedule which release in {env}?", candidates, self.selected_release_id),
            lambda release_id: self._picked(env, release_id),
        )

    def _picked(self, env: str, release_id: int | None) -> None:
        release = self.release(release_id)
        if release is None or self._snapshot is None:
            return
        snapshot = self._snapshot
        before = conflict_counts(snapshot)

        def saved(result: Saved | None) -> None:
            if result is not None:
                self._written(env, result.release)
                self.notify(self._said("schedule", result.release, env, before, result.snapshot), timeout=5)

        # the time under the cursor: a clicked moment, else the selected window's start
        selected = self.window(self.selected)
        at = self.cursor_at or (selected.start if selected is not None else None)
        dialog = ScheduleDialog(release, list(snapshot.environments), env, self.tz, self.host.now(), start=at)
        self.app.push_screen(dialog, saved)

    # -- dragging ----------------------------------------------------------------------------------

    @on(Timeline.Dropped)
    def _dropped(self, event: Timeline.Dropped) -> None:
        if self.refused_read_only():
            return
        self.select_window((event.release_id, event.environment), scroll=False)
        if (found := self._need_window()) is None:
            return
        release, window = found
        self.change(
            release,
            window,
            step_from(window.start, self.zoom, event.steps, self.tz),
            step_from(window.end, self.zoom, event.steps, self.tz),
            "dragged",
        )
