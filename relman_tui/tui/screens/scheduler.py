"""The scheduler: deployment windows on a timeline, the conflicts beside them, scheduling by key.

Keys that change a window ask the service for a preview first; a change that would create
an error conflict is confirmed before it is written, and every write carries the release's
``rev`` so a change made elsewhere in the meantime is refused rather than overwritten.
Steps: one hour in day zoom, one calendar day (on the operator's clock) in week zoom.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from relman_tui.model import Conflict, Release, Severity, Window
from relman_tui.service import ConflictDiff, Service, Snapshot
from relman_tui.text import inert
from relman_tui.timeutil import format_duration, format_local
from relman_tui.tui.screens.detail import DetailScreen
from relman_tui.tui.screens.dialogs import ConfirmDialog, Dialog, HelpScreen, ScheduleDialog, WindowChoice
from relman_tui.tui.widgets.timeline import DAY, WEEK, Timeline, Zoom, build_rows, floor_local, step_from
from relman_tui.tui.widgets.topbar import TopBar

if TYPE_CHECKING:
    from relman_tui.tui.app import RelmanApp

NARROW = 110  # below this width the conflict panel goes under the timeline

WRITE_ACTIONS = frozenset({"shift", "stretch", "next_free", "remove", "schedule"})

Key = tuple[int, str]  # (release id, environment): one window


class ConflictList(OptionList, can_focus=False):
    """The conflict panel; it never takes the keys from the timeline (n/p and the mouse choose)."""


class ReleasePicker(Dialog[int]):
    """Choose a release (for ``s``: one without a window in the environment)."""

    def __init__(self, title: str, releases: list[Release], preferred: int | None) -> None:
        super().__init__(classes="dialog-screen")
        self._title, self._releases, self._preferred = title, releases, preferred

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(inert(self._title)), classes="dialog-title")
            yield OptionList(
                *(Option(Text(inert(f"{r.label}  ({r.stage})")), id=str(r.id)) for r in self._releases),
                id="release-picker",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [r.id for r in self._releases]
        options.highlighted = ids.index(self._preferred) if self._preferred in ids else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))


class SchedulerScreen(Screen[None]):
    """Windows per environment over time, and every conflict the engine finds."""

    BINDINGS = [
        Binding("1", "app.show_board", "Board"),
        Binding("plus,equals_sign", "zoom(-1)", "Zoom in", key_display="+"),
        Binding("minus", "zoom(1)", "Zoom out", key_display="-"),
        Binding("left", "scroll_time(-1)", "Earlier", show=False),
        Binding("right", "scroll_time(1)", "Later", show=False),
        Binding("pageup", "scroll_page(-1)", "Page earlier", show=False),
        Binding("pagedown", "scroll_page(1)", "Page later", show=False),
        Binding("t", "today", "Now"),
        Binding("up", "row(-1)", "Row up", show=False),
        Binding("down", "row(1)", "Row down", show=False),
        Binding("tab", "along(1)", "Next window", show=False),
        Binding("shift+tab", "along(-1)", "Previous window", show=False),
        Binding("left_square_bracket", "shift(-1)", "Earlier", key_display="["),
        Binding("right_square_bracket", "shift(1)", "Later", key_display="]"),
        Binding("left_curly_bracket", "stretch(-1)", "Shorter", key_display="{", show=False),
        Binding("right_curly_bracket", "stretch(1)", "Longer", key_display="}", show=False),
        Binding("f", "next_free", "Free slot"),
        Binding("d", "remove", "Remove", show=False),
        Binding("s", "schedule", "Schedule", show=False),
        Binding("n", "conflict(1)", "Next conflict"),
        Binding("p", "conflict(-1)", "Prev conflict", show=False),
        Binding("enter", "detail", "Detail", show=False),
        Binding("question_mark", "help", "Keys"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.zoom: Zoom = DAY
        self.view_start: datetime | None = None
        self.row_index = 0
        self.selected: Key | None = None
        self.selected_release_id: int | None = None  # shared with the board
        self.conflicts: list[Conflict] = []
        self.conflict_index: int | None = None
        self.busy = False  # a change is being previewed, confirmed or written
        self._snapshot: Snapshot | None = None
        self._fresh: dict[int, Release] = {}  # releases we wrote, newer than the last snapshot

    @property
    def relman(self) -> RelmanApp:
        return self.app  # type: ignore[return-value]

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    def compose(self) -> ComposeResult:
        yield TopBar()
        with Horizontal(id="sched-main"):
            with Vertical(id="sched-left"):
                yield Timeline(id="timeline")
                yield Static("", id="sched-status")
            yield ConflictList(id="conflicts")
        yield Footer()

    def on_mount(self) -> None:
        panel = self.query_one("#conflicts", OptionList)
        panel.border_title = "Conflicts"
        self.watch(self.app, "snapshot", self._on_snapshot)
        self.watch(self.app, "utc", lambda _: self._redraw())
        self.set_interval(60, self._tick, name="minute")

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    def on_screen_resume(self) -> None:
        self._redraw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in WRITE_ACTIONS and self.relman.read_only)

    # -- the data --------------------------------------------------------------------------------

    def _on_snapshot(self, snapshot: Snapshot | None) -> None:
        if snapshot is None:
            return
        self._snapshot = snapshot
        by_id = {r.id: r for r in snapshot.releases}
        self._fresh = {i: r for i, r in self._fresh.items() if i in by_id and r.rev > by_id[i].rev}
        self._redraw()

    def _tick(self) -> None:
        self._redraw()

    def releases(self) -> list[Release]:
        if self._snapshot is None:
            return []
        return [self._fresh.get(r.id, r) for r in self._snapshot.releases]

    def release(self, release_id: int | None) -> Release | None:
        return next((r for r in self.releases() if r.id == release_id), None)

    def window(self, key: Key | None) -> Window | None:
        release = self.release(key[0]) if key else None
        return release.window_in(key[1]) if release and key else None

    @property
    def env_names(self) -> list[str]:
        return [e.name for e in self._snapshot.environments] if self._snapshot else []

    def _redraw(self) -> None:
        snapshot = self._snapshot
        if snapshot is None or not self.is_mounted:
            return
        app = self.relman
        now = app.service.clock.now()
        timeline = self.timeline
        releases = self.releases()
        timeline.set_rows(build_rows(snapshot.environments, releases, snapshot.conflicts), snapshot.freezes, now)
        if self.view_start is None:
            self.view_start = self._start_for(now)
        if self.selected is not None and self.window(self.selected) is None:
            self.selected = None  # removed, here or elsewhere
        if self.selected is None and self.selected_release_id is not None:
            self._select_release(self.selected_release_id, scroll=True)
        self.row_index = max(0, min(self.row_index, len(self.env_names) - 1))
        timeline.set_view(self.view_start, self.zoom, app.tz)
        timeline.select(self.selected, self.row_index)
        self._show_conflicts(snapshot)
        self._show_status()
        self.query_one(TopBar).show(snapshot, app.tz, now, app.read_only, app.service.store.path.name)

    def _start_for(self, moment: datetime) -> datetime:
        """A view that shows ``moment`` a little way in from the left edge."""
        cells = self.timeline.cells if self.timeline.cells > 10 else 60  # not laid out yet: a guess
        lead = cells // 5 * self.zoom.cell
        return floor_local(moment - lead, self.zoom, self.relman.tz)

    def _set_view(self, start: datetime) -> None:
        self.view_start = start
        self.timeline.set_view(start, self.zoom, self.relman.tz)

    def _ensure_visible(self, start: datetime, end: datetime) -> None:
        """Scroll (in whole steps) so that the start of ``[start, end)`` is in view."""
        timeline = self.timeline
        view_start = self.view_start or start
        view_end = view_start + timeline.cells * self.zoom.cell
        fits = end - start <= view_end - view_start
        if not view_start <= start < view_end or (fits and end > view_end):
            self._set_view(self._start_for(start))

    # -- the conflict panel and the status line ------------------------------------------------

    def _show_conflicts(self, snapshot: Snapshot) -> None:
        conflicts = sorted(snapshot.conflicts, key=lambda c: (c.start, c.kind, c.environments))
        panel = self.query_one("#conflicts", OptionList)
        errors = sum(1 for c in conflicts if c.severity is Severity.ERROR)
        panel.border_title = f"Conflicts ({len(conflicts)}) ✖ {errors} ⚠ {len(conflicts) - errors}"
        if conflicts == self.conflicts and panel.option_count == len(conflicts):
            return
        current = self.conflicts[self.conflict_index] if self.conflict_index is not None and \
            self.conflict_index < len(self.conflicts) else None
        self.conflicts = conflicts
        panel.clear_options()
        options: list[Option | None] = []
        for conflict in conflicts:
            options.extend((self._option(conflict), None))
        panel.add_options(options[:-1])
        keys = [(c.kind, c.environments, c.releases) for c in conflicts]
        here = (current.kind, current.environments, current.releases) if current else None
        self.conflict_index = keys.index(here) if here in keys else None
        panel.highlighted = self.conflict_index

    def _option(self, conflict: Conflict) -> Option:
        tz = self.relman.tz
        error = conflict.severity is Severity.ERROR
        text = Text(no_wrap=False)
        text.append("✖ " if error else "⚠ ", style="bold red" if error else "bold yellow")
        text.append(f"{conflict.kind} ", style="bold")
        text.append(inert(", ".join(conflict.environments)) + " ")
        text.append(format_local(conflict.start, tz, with_zone=False)[5:], style="dim")
        text.append("\n" + inert(conflict.message))
        return Option(text)

    def _show_status(self) -> None:
        status = self.query_one("#sched-status", Static)
        tz = self.relman.tz
        text = Text(no_wrap=True, overflow="ellipsis")
        key = self.selected
        window = self.window(key)
        release = self.release(key[0]) if key else None
        env = self.env_names[self.row_index] if self.env_names else ""
        if window is not None and release is not None and key is not None:
            text.append(inert(release.label), style="bold")
            text.append(f" · {inert(key[1])} · {format_local(window.start, tz, with_zone=False)} → "
                        f"{format_local(window.end, tz)} · {format_duration(window.end - window.start)}")
            mine = [c for c in self.conflicts if _meets(window, c)]
            text.append("\n")
            frozen = self.timeline.freezes_at(key[1], window.start, window.end)
            if mine:
                worst = mine[0]
                text.append(("✖ " if worst.severity is Severity.ERROR else "⚠ ") + inert(worst.message),
                            style="bold")
                if len(mine) > 1:
                    text.append(f" (+{len(mine) - 1} more)")
            elif frozen:
                text.append(f"❄ frozen: {inert(frozen[0].reason)}")
            else:
                text.append("no conflicts", style="dim")
        else:
            text.append(f"{inert(env)}: no window selected", style="dim")
            text.append("\n")
            frozen = self.timeline.freezes_at(env, self.relman.service.clock.now(), self.relman.service.clock.now()
                                              + timedelta(microseconds=1)) if env else []
            chosen = self.timeline.selected_freeze
            if chosen is not None:
                frozen = [chosen]
            if frozen:
                text.append(f"❄ {inert(frozen[0].reason)} until {format_local(frozen[0].end, tz)}")
            else:
                text.append("tab selects a window · s schedules one here", style="dim")
        status.update(text)

    # -- moving around ---------------------------------------------------------------------------

    def action_zoom(self, direction: int) -> None:
        zoom = WEEK if direction > 0 else DAY
        if zoom is self.zoom:
            return
        focus = self.window(self.selected)
        centre = focus.start if focus else (self.view_start or self.relman.service.clock.now()) + \
            self.timeline.cells // 3 * self.zoom.cell
        self.zoom = zoom
        self.timeline.zoom = zoom
        self._set_view(self._start_for(centre))
        self._show_status()

    def action_scroll_time(self, direction: int) -> None:
        if self.view_start is not None:
            self._set_view(step_from(self.view_start, self.zoom, direction, self.relman.tz))

    def action_scroll_page(self, direction: int) -> None:
        if self.view_start is not None:
            page = max(1, self.timeline.cells * 4 // 5) * self.zoom.cell
            start = floor_local(self.view_start + direction * page, self.zoom, self.relman.tz)
            if start == self.view_start:
                start = step_from(start, self.zoom, direction, self.relman.tz)
            self._set_view(start)

    def action_today(self) -> None:
        self._set_view(self._start_for(self.relman.service.clock.now()))

    def action_row(self, direction: int) -> None:
        names = self.env_names
        if not names:
            return
        index = max(0, min(self.row_index + direction, len(names) - 1))
        here = self.window(self.selected)
        anchor = here.start if here else self._view_anchor()
        self._pick_in_row(index, anchor)

    def _view_anchor(self) -> datetime:
        now = self.relman.service.clock.now()
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
            index = (later[0] if later else len(keys) - 1) if direction > 0 else \
                (later[0] - 1 if later and later[0] > 0 else len(keys) - 1)
        self.select_window(keys[index])

    def select_window(self, key: Key | None, *, scroll: bool = True) -> None:
        self.selected = key
        if key is not None:
            self.selected_release_id = key[0]
            if key[1] in self.env_names:
                self.row_index = self.env_names.index(key[1])
            window = self.window(key)
            if window is not None and scroll:
                self._ensure_visible(window.start, window.end)
        self.timeline.select(key, self.row_index)
        self._show_status()

    def select_release(self, release_id: int | None) -> None:
        """Select a window of this release (the board's selection, when switching screens)."""
        self.selected_release_id = release_id
        if release_id is not None and self.is_mounted and self._snapshot is not None:
            self._select_release(release_id, scroll=True)
            self.timeline.select(self.selected, self.row_index)
            self._show_status()

    def _select_release(self, release_id: int, *, scroll: bool) -> None:
        release = self.release(release_id)
        if release is None or not release.windows:
            return
        if self.selected is not None and self.selected[0] == release_id:
            return
        now = self.relman.service.clock.now()
        upcoming = sorted(release.windows, key=lambda w: (w.end <= now, w.start))
        window = upcoming[0]
        self.selected = (release_id, window.environment)
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
        frozen = self.timeline.freezes_at(event.environment, event.at, event.at + self.zoom.cell)
        self.timeline.selected_freeze = frozen[0] if frozen else None
        self.timeline.refresh()
        self._show_status()

    # -- the conflicts -----------------------------------------------------------------------------

    def action_conflict(self, direction: int) -> None:
        if not self.conflicts:
            self.notify("no conflicts", timeout=2)
            return
        if self.conflict_index is None:
            index = 0 if direction > 0 else len(self.conflicts) - 1
        else:
            index = (self.conflict_index + direction) % len(self.conflicts)
        self.choose_conflict(index)

    @on(OptionList.OptionSelected, "#conflicts")
    def _conflict_chosen(self, event: OptionList.OptionSelected) -> None:
        self.choose_conflict(event.option_index)

    def choose_conflict(self, index: int) -> None:
        """Scroll to a conflict and select the first window in it."""
        conflict = self.conflicts[index]
        self.conflict_index = index
        panel = self.query_one("#conflicts", OptionList)
        panel.highlighted = index
        candidates = []
        for release_id in conflict.releases:
            for env in conflict.environments:
                window = self.window((release_id, env))
                if window is not None and _meets(window, conflict):
                    candidates.append(window)
        self._set_view(self._start_for(conflict.start))
        if candidates:
            first = min(candidates, key=lambda w: (w.start, w.release_id))
            self.select_window((first.release_id, first.environment), scroll=False)
        elif conflict.environments and conflict.environments[0] in self.env_names:
            self.row_index = self.env_names.index(conflict.environments[0])
            self.select_window(None, scroll=False)

    # -- changing windows --------------------------------------------------------------------------

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

    def action_shift(self, direction: int) -> None:
        if (found := self._need_window()) is None:
            return
        release, window = found
        tz = self.relman.tz
        start = step_from(window.start, self.zoom, direction, tz)
        end = step_from(window.end, self.zoom, direction, tz)
        self.change(release, window.environment, start, end, "earlier" if direction < 0 else "later")

    def action_stretch(self, direction: int) -> None:
        if (found := self._need_window()) is None:
            return
        release, window = found
        tz = self.relman.tz
        end = step_from(window.end, self.zoom, direction, tz)
        shortest = step_from(window.start, self.zoom, 1, tz)
        if direction < 0 and end < shortest:
            end = shortest
        if end == window.end:
            self.notify(f"a window is at least one step long ({self.zoom.step_text} in {self.zoom.name} zoom)",
                        timeout=3)
            return
        self.change(release, window.environment, window.start, end, "shorter" if direction < 0 else "longer")

    def action_next_free(self) -> None:
        if (found := self._need_window()) is None:
            return
        release, window = found
        length = window.end - window.start
        now = self.relman.service.clock.now()
        self.busy = True
        self._call(
            lambda s: s.next_free(release.id, window.environment, length, after=now),
            lambda start: self._free_found(release, window, start),
        )

    def _free_found(self, release: Release, window: Window, start: datetime) -> None:
        self.busy = False
        if start == window.start:
            self.notify(f"{inert(release.label)} is already in the earliest free slot", timeout=3, markup=False)
            return
        self.change(release, window.environment, start, start + (window.end - window.start), "to the next free slot")

    def action_remove(self) -> None:
        if (found := self._need_window()) is None:
            return
        release, window = found
        self.change(release, window.environment, None, None, "removed")

    def change(self, release: Release, env: str, start: datetime | None, end: datetime | None, how: str) -> None:
        """Preview, confirm if it creates an error conflict (or removes a window), then write."""
        if self.relman.read_only:
            self.notify("read-only: nothing can be changed here", severity="warning")
            return
        self.busy = True
        self._call(lambda s: s.preview_window(release.id, env, start, end),
                   partial(self._previewed, release, env, start, end, how))

    def _previewed(self, release: Release, env: str, start: datetime | None, end: datetime | None, how: str,
                   diff: ConflictDiff) -> None:
        tz = self.relman.tz
        label = release.label
        if start is None or end is None:
            resolves = f"\nIt resolves {len(diff.resolved)} conflict(s)." if diff.resolved else ""
            self.app.push_screen(
                ConfirmDialog(f"Remove the window of {label} in {env}?",
                              f"{self._span(release, env)}{resolves}", "Remove"),
                lambda yes: self._write(release, env, None, None, how, diff) if yes else self._idle(),
            )
            return
        if diff.creates_error:
            errors = [c for c in diff.created if c.severity is Severity.ERROR]
            lines = "\n".join(f"✖ {c.kind}: {c.message}" for c in errors[:4])
            more = f"\n… and {len(errors) - 4} more" if len(errors) > 4 else ""
            self.app.push_screen(
                ConfirmDialog(
                    f"{label} in {env}: {format_local(start, tz, with_zone=False)} → {format_local(end, tz)}",
                    f"This creates {len(errors)} error conflict(s):\n{lines}{more}\n\nDo it anyway?",
                    "Do it anyway",
                ),
                lambda yes: self._write(release, env, start, end, how, diff) if yes else self._idle(),
            )
            return
        self._write(release, env, start, end, how, diff)

    def _span(self, release: Release, env: str) -> str:
        window = release.window_in(env)
        if window is None:
            return ""
        tz = self.relman.tz
        return f"{format_local(window.start, tz, with_zone=False)} → {format_local(window.end, tz)}"

    def _write(self, release: Release, env: str, start: datetime | None, end: datetime | None, how: str,
               diff: ConflictDiff) -> None:
        tz = self.relman.tz

        def message(saved: Release) -> str:
            if start is None or end is None:
                text = f"{saved.label}: window in {env} removed"
            else:
                text = (f"{saved.label} in {env} {how}: {format_local(start, tz, with_zone=False)} → "
                        f"{format_local(end, tz)}")
            if diff.resolved:
                text += f"; resolves {len(diff.resolved)} conflict(s)"
            if diff.created:
                text += f"; creates {len(diff.created)} conflict(s)"
            return text

        def call(service: Service) -> Release:
            if start is None or end is None:
                return service.unschedule(release.id, env, rev=release.rev)
            return service.schedule(release.id, env, start, end, rev=release.rev)

        self._call(call, partial(self._written, env), success=message)

    def _written(self, env: str, saved: Release) -> None:
        self._fresh[saved.id] = saved
        self.busy = False
        self.selected = (saved.id, env) if saved.window_in(env) else None
        self.selected_release_id = saved.id
        self._redraw()
        window = saved.window_in(env)
        if window is not None:
            self._ensure_visible(window.start, window.end)

    def _idle(self, *_: object) -> None:
        self.busy = False

    def _call(self, call: Callable[[Service], Any], done: Callable[[Any], None],
              success: Callable[[Any], str | None] | None = None) -> None:
        """A service call off the event loop; ``busy`` ends however it ends."""
        self.relman.call_service(call, success=success, done=done, failed=self._idle)

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
            self.notify(f"every release has a window in {inert(env)}", timeout=3, markup=False)
            return
        preferred = self.selected_release_id
        self.app.push_screen(
            ReleasePicker(f"Schedule which release in {env}?", candidates, preferred),
            partial(self._picked, env),
        )

    def _picked(self, env: str, release_id: int | None) -> None:
        release = self.release(release_id)
        if release is None or self._snapshot is None:
            return
        self.app.push_screen(
            ScheduleDialog(release, list(self._snapshot.environments), env, self.relman.tz,
                           self.relman.service.clock.now(), partial(self.relman.preview_window, release.id)),
            partial(self._schedule_chosen, release),
        )

    def _schedule_chosen(self, release: Release, choice: WindowChoice | None) -> None:
        if choice is None:
            return
        self.busy = True
        diff_holder: list[ConflictDiff] = []

        def call(service: Service) -> Release:
            diff_holder.append(service.preview_window(release.id, choice.environment, choice.start, choice.end))
            return service.schedule(release.id, choice.environment, choice.start, choice.end, rev=release.rev)

        tz = self.relman.tz

        def message(saved: Release) -> str:
            text = f"{saved.label} scheduled in {choice.environment} at {format_local(choice.start, tz)}"
            if diff_holder and diff_holder[0].resolved:
                text += f"; resolves {len(diff_holder[0].resolved)} conflict(s)"
            return text

        self._call(call, partial(self._written, choice.environment), success=message)

    # -- dragging ----------------------------------------------------------------------------------

    @on(Timeline.Dropped)
    def _dropped(self, event: Timeline.Dropped) -> None:
        if self.relman.read_only:
            self.notify("read-only: nothing can be changed here", severity="warning")
            return
        self.select_window((event.release_id, event.environment), scroll=False)
        if (found := self._need_window()) is None:
            return
        release, window = found
        tz = self.relman.tz
        start = step_from(window.start, self.zoom, event.steps, tz)
        end = step_from(window.end, self.zoom, event.steps, tz)
        self.change(release, window.environment, start, end, "earlier" if event.steps < 0 else "later")

    # -- other keys --------------------------------------------------------------------------------

    def action_detail(self) -> None:
        if self.selected is not None:
            self.app.push_screen(DetailScreen(self.selected[0]))

    def action_help(self) -> None:
        rows = [
            ("1 / 2", "board / scheduler"),
            ("+ -", "day zoom (hour ticks) / week zoom (day ticks)"),
            ("← → pgup pgdn", "earlier / later in time"),
            ("t", "jump to now"),
            ("↑ ↓", "environment above / below"),
            ("tab shift+tab", "next / previous window in the row"),
            ("[ ]", "shift the window a step earlier / later"),
            ("{ }", "shorten / lengthen it by a step (not below one)"),
            ("", "a step: 1h in day zoom, 1 day in week zoom"),
            ("f", "move the window to the next free slot from now"),
            ("d", "remove the window (asks first)"),
            ("s", "schedule a release that has no window here"),
            ("n p", "next / previous conflict"),
            ("enter", "details and history of the release"),
            ("u", "times in UTC / local"),
            ("drag", "drag a window along its row to shift it"),
            ("ctrl+p", "command palette"),
            ("?", "this list"),
            ("q", "quit"),
        ]
        if self.relman.read_only:
            rows = [(k, d) for k, d in rows if k not in ("[ ]", "{ }", "", "f", "d", "s", "drag")]
            rows.insert(0, ("", "read-only: keys that change things are off"))
        self.app.push_screen(HelpScreen(rows))


def _meets(window: Window, conflict: Conflict) -> bool:
    """Is this window in this conflict (its release, its environment, and the spans meet)?"""
    if window.release_id not in conflict.releases or window.environment not in conflict.environments:
        return False
    if conflict.start == conflict.end:
        return window.start <= conflict.start < window.end
    return window.start < conflict.end and conflict.start < window.end
