"""The scheduler: deployment windows on a timeline, the conflicts beside them, scheduling by key.

A key that changes a window (``[ ] { }``, ``f``, a drag) only previews the change: the bar is
drawn where it would go and the status line says what it would create and resolve; ``enter``
writes it, ``esc`` discards it. Every write carries the release's ``rev``, so a change made
elsewhere in the meantime is refused rather than overwritten; ``ctrl+z`` undoes it.
Steps: one hour in day zoom, one calendar day (on the operator's clock) in week zoom.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from relman_tui.model import Conflict, Occurrence, Release, Severity, Window
from relman_tui.service import ConflictDiff, Snapshot
from relman_tui.status import touches, window_severity
from relman_tui.text import inert
from relman_tui.timeutil import format_duration, format_local
from relman_tui.tui.keys import Key
from relman_tui.tui.screens.base import KeyedScreen
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.dialogs import ConfirmDialog, Saved, ScheduleDialog
from relman_tui.tui.screens.scheduler_parts import (
    KEYS,
    NARROW,
    ConflictList,
    FreeAsk,
    Key_,
    ReleasePicker,
    _diff_words,
    _sort_key,
    _span,
)
from relman_tui.tui.session import Session
from relman_tui.tui.viewmodel import conflict_counts, count_words
from relman_tui.tui.widgets.timeline import DAY, WEEK, Pending, Timeline, Zoom, build_rows, floor_local, step_from
from relman_tui.tui.widgets.topbar import TopBar
from relman_tui.undo import Change, Write
from relman_tui.wording import localize

__all__ = ["ReleasePicker", "SchedulerScreen"]


class SchedulerScreen(KeyedScreen):
    """Windows per environment over time, and every conflict the engine finds."""

    KEYS = KEYS
    BINDINGS = KEYS.bindings()

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
        self.conflicts: list[Conflict] = []
        self.conflict_index: int | None = None
        self._conflict_at: tuple[datetime, str, tuple[str, ...], tuple[int, ...]] | None = None  # the last chosen
        self.cursor_at: datetime | None = None  # the moment last clicked on empty time: where `s` starts
        self.busy = False  # a change is being written
        self._snapshot: Snapshot | None = None

    @property
    def selected_release_id(self) -> int | None:
        """The release the operator is on: it lives on the host, shared with the board."""
        return self.host.release_id

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    def compose(self) -> ComposeResult:
        yield TopBar()
        with Horizontal(id="sched-main"):
            with Vertical(id="sched-left"):
                yield Timeline(id="timeline").data_bind(
                    SchedulerScreen.zoom,
                    SchedulerScreen.view_start,
                    SchedulerScreen.tz,
                    SchedulerScreen.selected,
                    SchedulerScreen.row_index,
                    SchedulerScreen.selected_freeze,
                    SchedulerScreen.preview,
                )
            yield ConflictList(id="conflicts")
        yield Static("", id="sched-status")
        yield from self.compose_guard()

    def on_mount(self) -> None:
        panel = self.query_one("#conflicts", OptionList)
        panel.border_title = "Conflicts"
        self.tz = self.host.tz
        self.watch(self.app, "snapshot", self._on_snapshot)
        self.watch(self.app, "utc", self._tz_changed, init=False)
        self.watch(self.app, "minute", lambda _: self._redraw(), init=False)

    def _tz_changed(self, _: object) -> None:
        self.tz = self.host.tz
        self._redraw()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    def on_screen_resume(self) -> None:
        self.select_release(self.host.release_id)
        self._redraw()

    def allows(self, key: Key, parameters: tuple[object, ...]) -> bool:
        if key.name in ("apply", "discard"):
            return self.preview is not None
        if key.name == "detail":
            return self.preview is None
        return True

    def watch_preview(self) -> None:
        self.refresh_bindings()
        self._show_status()

    # -- the data --------------------------------------------------------------------------------

    def _on_snapshot(self, snapshot: Snapshot | None) -> None:
        if snapshot is None:
            return
        self._snapshot = snapshot
        self._redraw()

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

    def _redraw(self) -> None:
        snapshot = self._snapshot
        if snapshot is None or not self.is_mounted:
            return
        host = self.host
        now = host.now()
        timeline = self.timeline
        rows = build_rows(snapshot.environments, self.releases(), snapshot.conflicts, now)
        timeline.set_rows(rows, snapshot.freezes, now)
        if self.view_start is None:
            self.view_start = self._start_for(now)
        if self.selected is not None and self.window(self.selected) is None:
            self.selected = None  # removed, here or elsewhere
        if self.preview is not None and not self.busy:
            release = self.release(self.preview.key[0])
            if release is None or release.rev != self.preview.rev:
                self.preview = None  # the window changed under the preview: it would be refused
                self.notify("the previewed window changed meanwhile; preview discarded", timeout=4)
        if self.selected is None and self.selected_release_id is not None:
            self._select_release(self.selected_release_id, scroll=True)
        self.row_index = max(0, min(self.row_index, len(self.env_names) - 1))
        timeline.refresh()
        self._show_conflicts(snapshot)
        self._show_status()
        self.query_one(TopBar).show(snapshot, host.tz, now, host.read_only, host.board_name, host.identity)

    def _start_for(self, moment: datetime) -> datetime:
        """A view that shows ``moment`` a little way in from the left edge."""
        cells = self.timeline.cells if self.timeline.cells > 10 else 60  # not laid out yet: a guess
        lead = cells // 5 * self.zoom.cell
        return floor_local(moment - lead, self.zoom, self.tz)

    def _ensure_visible(self, start: datetime, end: datetime) -> None:
        """Scroll (in whole steps) so that the start of ``[start, end)`` is in view."""
        timeline = self.timeline
        view_start = self.view_start or start
        view_end = view_start + timeline.cells * self.zoom.cell
        fits = end - start <= view_end - view_start
        if not view_start <= start < view_end or (fits and end > view_end):
            self.view_start = self._start_for(start)

    # -- the conflict panel and the status line ------------------------------------------------

    def _show_conflicts(self, snapshot: Snapshot) -> None:
        conflicts = sorted(snapshot.conflicts, key=_sort_key)
        panel = self.query_one("#conflicts", OptionList)
        errors, warnings = conflict_counts(snapshot)
        panel.border_title = f"Conflicts ({len(conflicts)}) ✖ {errors} ⚠ {warnings}"
        if conflicts == self.conflicts and panel.option_count == len(conflicts):
            return
        self.conflicts = conflicts
        panel.clear_options()
        options: list[Option | None] = []
        for conflict in conflicts:
            options.extend((self._option(conflict), None))
        panel.add_options(options[:-1])
        keys = [_sort_key(c) for c in conflicts]
        self.conflict_index = keys.index(self._conflict_at) if self._conflict_at in keys else None
        panel.highlighted = self.conflict_index

    def _option(self, conflict: Conflict) -> Option:
        tz = self.tz
        error = conflict.severity is Severity.ERROR
        text = Text(no_wrap=False)
        text.append("✖ " if error else "⚠ ", style="bold red" if error else "bold yellow")
        text.append(f"{conflict.kind} ", style="bold")
        text.append(inert(", ".join(conflict.environments)) + " ")
        text.append(format_local(conflict.start, tz, with_zone=False)[5:], style="dim")
        text.append("\n" + inert(localize(conflict.message, tz)))
        return Option(text)

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

    # -- moving around ---------------------------------------------------------------------------

    def action_zoom(self, direction: int) -> None:
        zoom = WEEK if direction > 0 else DAY
        if zoom is self.zoom:
            return
        focus = self.window(self.selected)
        centre = (
            focus.start if focus else (self.view_start or self.host.now()) + self.timeline.cells // 3 * self.zoom.cell
        )
        self.zoom = zoom
        self.view_start = self._start_for(centre)
        self._show_status()

    def action_scroll_time(self, direction: int) -> None:
        if self.view_start is not None:
            self.view_start = step_from(self.view_start, self.zoom, direction, self.tz)

    def action_scroll_page(self, direction: int) -> None:
        if self.view_start is not None:
            page = max(1, self.timeline.cells * 4 // 5) * self.zoom.cell
            start = floor_local(self.view_start + direction * page, self.zoom, self.tz)
            if start == self.view_start:
                start = step_from(start, self.zoom, direction, self.tz)
            self.view_start = start

    def action_today(self) -> None:
        self.view_start = self._start_for(self.host.now())

    def action_row(self, direction: int) -> None:
        names = self.env_names
        if not names:
            return
        index = max(0, min(self.row_index + direction, len(names) - 1))
        here = self.window(self.selected)
        anchor = here.start if here else self._view_anchor()
        self._pick_in_row(index, anchor)

    def _view_anchor(self) -> datetime:
        now = self.host.now()
        start = self.view_start or now
        end = start + self.timeline.cells * self.zoom.cell
        return now if start <= now < end else start

    def _pick_in_row(self, index: int, anchor: datetime) -> None:
        """Select the window in row ``index`` nearest ``anchor`` (preferring one in view), or just the row."""
        self.row_index = index
        row = self.timeline.rows[index] if index < len(self.timeline.rows) else None
        best = None
        if row is not None and row.bars:
            start = self.view_start or anchor
            end = start + self.timeline.cells * self.zoom.cell
            visible = row.between(start, end)
            pool = visible or row.bars
            best = min(pool, key=lambda b: (abs((b.start - anchor).total_seconds()), b.start))
        self.select_window(best.key if best else None)

    def action_along(self, direction: int) -> None:
        row = self.timeline.rows[self.row_index] if self.timeline.rows else None
        if row is None or not row.bars:
            self.notify("no windows in this environment", timeout=2)
            return
        keys = [b.key for b in row.bars]
        if self.selected in keys:
            index = (keys.index(self.selected) + direction) % len(keys)
        else:
            anchor = self._view_anchor()
            later = [i for i, b in enumerate(row.bars) if b.start >= anchor]
            index = (
                (later[0] if later else len(keys) - 1)
                if direction > 0
                else (later[0] - 1 if later and later[0] > 0 else len(keys) - 1)
            )
        self.select_window(keys[index])

    def select_window(self, key: Key_ | None, *, scroll: bool = True) -> None:
        if self.preview is not None and key != self.preview.key:
            self.preview = None  # a preview belongs to its window: choosing another discards it
        self.selected_freeze = None
        self.selected = key
        if key is not None:
            self.host.release_id = key[0]
            if key[1] in self.env_names:
                self.row_index = self.env_names.index(key[1])
            window = self.window(key)
            if window is not None and scroll:
                self._ensure_visible(window.start, window.end)
        self._show_status()

    def select_release(self, release_id: int | None) -> None:
        """Select a window of this release (the board's selection, when switching screens)."""
        if release_id is None or not self.is_mounted or self._snapshot is None:
            return
        if self.selected is not None and self.selected[0] == release_id:
            return
        self._select_release(release_id, scroll=True)
        self._show_status()

    def _select_release(self, release_id: int, *, scroll: bool) -> None:
        release = self.release(release_id)
        if release is None or not release.windows:
            return
        if self.selected is not None and self.selected[0] == release_id:
            return
        now = self.host.now()
        upcoming = sorted(release.windows, key=lambda w: (w.end <= now, w.start))
        window = upcoming[0]
        self.selected = (release_id, window.environment)
        self.host.release_id = release_id
        if window.environment in self.env_names:
            self.row_index = self.env_names.index(window.environment)
        if scroll:
            if self.view_start is None:
                self.view_start = self._start_for(window.start)
            self._ensure_visible(window.start, window.end)

    @on(Timeline.Clicked)
    def _clicked(self, event: Timeline.Clicked) -> None:
        names = self.env_names
        if event.environment not in names:
            return
        self.row_index = names.index(event.environment)
        if event.release_id is not None:
            self.select_window((event.release_id, event.environment), scroll=False)
            return
        self.select_window(None, scroll=False)
        self.cursor_at = floor_local(event.at, self.zoom, self.tz) if not self.zoom.wall_days else event.at
        frozen = self.timeline.freezes_at(event.environment, event.at, event.at + self.zoom.cell)
        self.selected_freeze = frozen[0] if frozen else None
        self._show_status()

    # -- the conflicts -----------------------------------------------------------------------------

    def action_conflict(self, direction: int) -> None:
        """The next (or previous) conflict after the one last chosen, even when that one is gone."""
        if not self.conflicts:
            self.notify("no conflicts", timeout=2)
            return
        keys = [_sort_key(c) for c in self.conflicts]
        at = self._conflict_at
        if at is None:
            index = 0 if direction > 0 else len(keys) - 1
        elif direction > 0:
            index = next((i for i, k in enumerate(keys) if k > at), 0)
        else:
            index = next((i for i in reversed(range(len(keys))) if keys[i] < at), len(keys) - 1)
        self.choose_conflict(index)

    @on(OptionList.OptionSelected, "#conflicts")
    def _conflict_chosen(self, event: OptionList.OptionSelected) -> None:
        self.choose_conflict(event.option_index)

    def choose_conflict(self, index: int) -> None:
        """Scroll to a conflict and select the first window in it."""
        conflict = self.conflicts[index]
        self.conflict_index = index
        self._conflict_at = _sort_key(conflict)
        panel = self.query_one("#conflicts", OptionList)
        panel.highlighted = index
        candidates = []
        for release_id in conflict.releases:
            for env in conflict.environments:
                window = self.window((release_id, env))
                if window is not None and touches(window, conflict):
                    candidates.append(window)
        self.view_start = self._start_for(conflict.start)
        if candidates:
            first = min(candidates, key=lambda w: (w.start, w.release_id))
            self.select_window((first.release_id, first.environment), scroll=False)
        elif conflict.environments and conflict.environments[0] in self.env_names:
            self.row_index = self.env_names.index(conflict.environments[0])
            self.select_window(None, scroll=False)

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
            "next_free",
            lambda service: service.next_free(ask.release.id, ask.window.environment, ask.length, after=after),
            context=ask,
        )

    def change(self, release: Release, window: Window, start: datetime, end: datetime, how: str) -> None:
        """Show where the window would go and ask the service what it would create and resolve."""
        if self.host.read_only:
            self.notify("read-only: nothing can be changed here", severity="warning")
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
            "preview_window",
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
        if call.name == "preview_window":
            pending = call.context
            if isinstance(pending, Pending) and pending is self.preview and isinstance(result, ConflictDiff):
                self.preview = replace(pending, diff=result, severity=self._severity_after(pending, result))
        elif call.name == "next_free" and isinstance(result, datetime) and isinstance(call.context, FreeAsk):
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
        after = conflict_counts(snapshot) if snapshot is not None else before
        if after != before:
            text += f" · now {count_words(*after)}"
        return text

    def on_session_refused(self, message: Session.Refused) -> None:
        call = message.call
        ask = call.context
        if call.name == "next_free" and isinstance(ask, FreeAsk) and ask.from_start:
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
        if self.host.read_only:
            self.notify("read-only: nothing can be changed here", severity="warning")
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

    # -- other keys --------------------------------------------------------------------------------

    def action_detail(self) -> None:
        if self.selected is not None:
            self.app.push_screen(DetailScreen(self.selected[0]))

    def action_show_board(self) -> None:
        self.host.show_board()

    @property
    def help_title(self) -> str:
        return "Keys of the scheduler"
