"""The scheduler: deployment windows on a timeline, the conflicts beside them, scheduling by key.

A key that changes a window (``[ ] { }``, ``f``, a drag) only previews the change: the bar is
drawn where it would go and the status line says what it would create and resolve; ``enter``
writes it, ``esc`` discards it. Every write carries the release's ``rev``, so a change made
elsewhere in the meantime is refused rather than overwritten; ``ctrl+z`` undoes it.
Steps: one hour in day zoom, one calendar day (on the operator's clock) in week zoom.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from relman_tui.model import Conflict, Severity
from relman_tui.service import Snapshot
from relman_tui.status import touches
from relman_tui.text import inert
from relman_tui.timeutil import format_local
from relman_tui.tui.keys import Key
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.scheduler_apply import SchedulerChanges
from relman_tui.tui.screens.scheduler_parts import KEYS, NARROW, ConflictList, Key_, ReleasePicker, _sort_key
from relman_tui.tui.viewmodel import conflict_counts
from relman_tui.tui.widgets.timeline import DAY, WEEK, Timeline, build_rows, floor_local, step_from
from relman_tui.tui.widgets.topbar import TopBar
from relman_tui.wording import localize

__all__ = ["ReleasePicker", "SchedulerScreen"]


class SchedulerScreen(SchedulerChanges):
    """Windows per environment over time, and every conflict the engine finds; the changes to them come
    from :class:`SchedulerChanges`."""

    KEYS = KEYS
    BINDINGS = KEYS.bindings()

    def __init__(self) -> None:
        super().__init__()
        self.conflict_index: int | None = None
        self._conflict_at: tuple[datetime, str, tuple[str, ...], tuple[int, ...]] | None = None  # the last chosen

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

    # -- drawing the board ---------------------------------------------------------------------

    def _on_snapshot(self, snapshot: Snapshot | None) -> None:
        if snapshot is None:
            return
        self._snapshot = snapshot
        self._redraw()

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

    # -- the conflict panel --------------------------------------------------------------------

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

    # -- other keys --------------------------------------------------------------------------------

    def action_detail(self) -> None:
        if self.selected is not None:
            self.app.push_screen(DetailScreen(self.selected[0]))

    def action_show_board(self) -> None:
        self.host.show_board()

    @property
    def help_title(self) -> str:
        return "Keys of the scheduler"
