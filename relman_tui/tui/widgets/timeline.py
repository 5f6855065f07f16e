"""The scheduler's timeline: one row per environment on a time axis, drawn line by line.

Only the visible span is drawn: the windows of each environment are kept sorted by start,
and a line finds the ones it shows by bisection, so 2,000 windows cost what is on screen.
Every x position comes from a UTC instant, so a window that crosses a DST change is drawn
at its true length; the tick labels are local wall-clock times placed at their UTC instants.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from relman_tui.freezes import covers
from relman_tui.model import Freeze, Occurrence, Severity
from relman_tui.text import inert
from relman_tui.tui.cells import cell_len, drawn_clusters, truncate
from relman_tui.tui.textual_private import Guarded
from relman_tui.tui.widgets.timeline_rows import (
    _BAR_STYLES,
    DAY,
    GUTTER_MAX,
    GUTTER_MIN,
    HEADER,
    SPACER,
    WEEK,
    ZOOMS,
    Bar,
    Pending,
    Row,
    Zoom,
    build_rows,
    floor_local,
    step_from,
)

__all__ = [
    "DAY",
    "HEADER",
    "WEEK",
    "ZOOMS",
    "Bar",
    "Pending",
    "Row",
    "Timeline",
    "Zoom",
    "build_rows",
    "floor_local",
    "step_from",
]


class Timeline(Guarded, ScrollView, can_focus=False):
    """Rows of windows on a time axis.

    The scheduler screen owns the view and the selection; they are bound here (``data_bind``)
    and only drawn. The widget's own state is the drag in progress.
    """

    zoom: reactive[Zoom] = reactive(DAY)
    view_start: reactive[datetime | None] = reactive(None)
    tz: reactive[str] = reactive("UTC")
    selected: reactive[tuple[int, str] | None] = reactive(None)
    row_index: reactive[int] = reactive(0)
    selected_freeze: reactive[Occurrence | None] = reactive(None)
    preview: reactive[Pending | None] = reactive(None)

    COMPONENT_CLASSES = {
        "timeline--header",
        "timeline--tick",
        "timeline--gutter",
        "timeline--gutter-selected",
        "timeline--row",
        "timeline--row-alt",
        "timeline--grid",
        "timeline--freeze",
        "timeline--freeze-selected",
        "timeline--now",
        "timeline--bar",
        "timeline--bar-warning",
        "timeline--bar-error",
        "timeline--bar-done",
        "timeline--selected",
        "timeline--dragged",
        "timeline--preview",
        "timeline--muted",
    }

    class Clicked(Message):
        """A row was clicked: on a window (``release_id``) or on empty time (``at``)."""

        def __init__(self, timeline: Timeline, environment: str, release_id: int | None, at: datetime) -> None:
            super().__init__()
            self.timeline = timeline
            self.environment = environment
            self.release_id = release_id
            self.at = at

        @property
        def control(self) -> Timeline:
            return self.timeline

    class _Shift(Message):
        def __init__(self, timeline: Timeline, release_id: int, environment: str, steps: int) -> None:
            super().__init__()
            self.timeline = timeline
            self.release_id = release_id
            self.environment = environment
            self.steps = steps

        @property
        def control(self) -> Timeline:
            return self.timeline

    class Dragging(_Shift):
        """A window is being dragged along its row by ``steps`` of the zoom."""

    class Dropped(_Shift):
        """A dragged window was let go ``steps`` of the zoom from where it was."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        self.freezes: tuple[Freeze, ...] = ()
        self.now = datetime(2000, 1, 1, tzinfo=UTC)
        self.drag: tuple[tuple[int, str], int] | None = None  # the dragged window and its offset in steps
        self._lines: list[tuple[int, int]] = []  # (row, lane) of each line below the header
        self._cache_key: object = None
        self._occurrences: dict[str, list[Occurrence]] = {}
        self._press: tuple[Bar, int] | None = None  # the bar pressed and the screen x of the press
        self._ticks: tuple[object, list[tuple[int, str, bool]]] | None = None

    # -- data from the screen ----------------------------------------------------------------

    def set_rows(self, rows: list[Row], freezes: tuple[Freeze, ...], now: datetime) -> None:
        self.rows = rows
        self.now = now
        if freezes != self.freezes:
            self.freezes = freezes
            self._cache_key = None
        self.row_index = max(0, min(self.row_index, len(rows) - 1))
        self._layout()
        self.refresh()

    def _layout(self) -> None:
        """A line per lane; and a spacing line under each environment when the height allows."""
        lines = [(i, lane) for i, row in enumerate(self.rows) for lane in range(row.lanes)]
        if HEADER + len(lines) + len(self.rows) <= self.scrollable_content_region.height:
            lines = [(i, lane) for i, row in enumerate(self.rows) for lane in [*range(row.lanes), SPACER]]
        self._lines = lines
        self._resize_virtual()

    def watch_row_index(self, row_index: int) -> None:
        self.scroll_to_row(row_index)

    @property
    def start(self) -> datetime:
        """The left edge of the view (``now`` until the screen has placed it)."""
        return self.view_start or self.now

    def scroll_to_row(self, row_index: int) -> None:
        lines = [i for i, (row, _) in enumerate(self._lines) if row == row_index]
        if not lines:
            return
        top, bottom = lines[0], lines[-1]
        visible = max(1, self.scrollable_content_region.height - HEADER)
        y = int(self.scroll_offset.y)
        if top < y:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif bottom >= y + visible:
            self.scroll_to(y=bottom - visible + 1, animate=False, immediate=True)

    # -- geometry ----------------------------------------------------------------------------

    @property
    def label_width(self) -> int:
        longest = max((cell_len(row.name) for row in self.rows), default=4)
        return max(GUTTER_MIN, min(GUTTER_MAX, longest + 3))

    @property
    def cells(self) -> int:
        return max(1, self.scrollable_content_region.width - self.label_width)

    @property
    def view_end(self) -> datetime:
        return self.start + self.cells * self.zoom.cell

    def x_of(self, moment: datetime) -> int:
        """The cell (from the left of the time area) that holds ``moment``; may be off screen."""
        return (moment - self.start) // self.zoom.cell

    def span_cells(self, start: datetime, end: datetime) -> tuple[int, int]:
        """``[x0, x1)`` of a window: every cell it touches, at least one."""
        x0 = self.x_of(start)
        x1 = -((self.start - end) // self.zoom.cell)  # ceiling
        return x0, max(x0 + 1, x1)

    def time_at(self, cell: int) -> datetime:
        return self.start + cell * self.zoom.cell

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, HEADER + len(self._lines))

    def on_resize(self, event: events.Resize) -> None:
        self._layout()

    def bar_at(self, x: int, y: int) -> tuple[Row, Bar | None, datetime] | None:
        """What is under widget-relative ``(x, y)``."""
        line = y - HEADER + int(self.scroll_offset.y)
        if y < HEADER or not 0 <= line < len(self._lines) or x < self.label_width:
            return None
        row_index, lane = self._lines[line]
        row = self.rows[row_index]
        cell = x - self.label_width
        at = self.time_at(cell)
        for bar in row.between(at, at + self.zoom.cell):
            x0, x1 = self.span_cells(bar.start, bar.end)
            if bar.lane == lane and x0 <= cell < x1:
                return row, bar, at
        return row, None, at

    def row_at(self, y: int) -> int | None:
        line = y - HEADER + int(self.scroll_offset.y)
        return self._lines[line][0] if y >= HEADER and 0 <= line < len(self._lines) else None

    # -- drawing -----------------------------------------------------------------------------

    def _freezes_in_view(self) -> dict[str, list[Occurrence]]:
        key = (self.start, self.cells, self.zoom, len(self.rows))
        if key != self._cache_key:
            self._cache_key = key
            found = covers(self.freezes, self.start, self.view_end)
            self._occurrences = {row.name: [o for o in found if o.covers(row.name)] for row in self.rows}
        return self._occurrences

    def freezes_at(self, environment: str, start: datetime, end: datetime) -> list[Occurrence]:
        """The freeze cover spans holding ``environment`` that meet ``[start, end)``."""
        return [o for o in covers(self.freezes, start, end) if o.covers(environment)]

    def ticks(self) -> list[tuple[int, str, bool]]:
        """``(cell, label, major)`` for each tick in view: local hours (day zoom) or local days (week)."""
        key = (self.start, self.cells, self.zoom, self.tz)
        if self._ticks is None or self._ticks[0] != key:
            self._ticks = (key, self._make_ticks())
        return self._ticks[1]

    def _make_ticks(self) -> list[tuple[int, str, bool]]:
        zone = ZoneInfo(self.tz)
        out: list[tuple[int, str, bool]] = []
        if self.zoom.wall_days:
            day = self.start.astimezone(zone).date()
            last = self.view_end.astimezone(zone).date()
            while day <= last:
                midnight = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
                x = self.x_of(midnight)
                if 0 <= x < self.cells:
                    out.append((x, midnight.astimezone(zone).strftime("%a %d"), True))
                day += timedelta(days=1)
            return out
        moment = self.start.replace(minute=0, second=0, microsecond=0)
        while moment < self.view_end:
            for quarter in range(4):  # zones with :30 and :45 offsets have their hours on a quarter
                instant = moment + quarter * timedelta(minutes=15)
                local = instant.astimezone(zone)
                x = self.x_of(instant)
                if local.minute == 0 and 0 <= x < self.cells:
                    out.append((x, local.strftime("%H"), local.hour == 0))
            moment += timedelta(hours=1)
        return out

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width <= 0:
            return Strip.blank(0)
        if y < HEADER:
            return self._header_line(y, width)
        line = y - HEADER + int(self.scroll_offset.y)
        if line >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        row_index, lane = self._lines[line]
        return self._row_line(row_index, lane, width)

    def _header_line(self, y: int, width: int) -> Strip:
        style = self.get_component_rich_style("timeline--header")
        tick_style = style + self.get_component_rich_style("timeline--tick")
        now_style = style + self.get_component_rich_style("timeline--now")
        gutter, cells = self.label_width, self.cells
        zone = ZoneInfo(self.tz)
        chars = [" "] * cells
        styles = [style] * cells
        ticks = self.ticks()

        def put(x: int, text: str, text_style: Style) -> None:
            end = _place(chars, x, cells, text)
            for i in range(max(0, x), end):
                styles[i] = text_style

        now_x = self.x_of(self.now)
        # is now on a tick label's text (its "│" may give way to the marker, its letters may not)?
        labelled = 0 <= now_x < cells and any(x < now_x <= x + len(t) for x, t in self._tick_labels())
        if y == 0:
            local = self.start.astimezone(zone)
            left = f"{local.tzname()}"
            if self.zoom.wall_days:
                month = local.strftime("%b %Y")
                # the now-marker goes above a tick label: the month makes way for it
                put(now_x + 2 if labelled and now_x <= len(month) else 0, month, tick_style)
            else:
                put(0, local.strftime("%a %d %b"), tick_style)
                for x, _, major in ticks:
                    if major and x > 0:
                        put(x, "│" + self.time_at(x).astimezone(zone).strftime("%a %d %b"), tick_style)
        else:
            left = f"{self.zoom.name} zoom"
            for x, label in self._tick_labels():
                put(x, "│" + label, tick_style)
        if 0 <= now_x < cells:
            # the marker never writes over a tick label: on the label line only where it is blank,
            # else one line up
            if y == HEADER - 1 and not labelled:
                put(now_x, "▼", now_style)
            elif y == 0 and labelled and chars[now_x] == " ":
                put(now_x, "▼now" if chars[now_x : now_x + 4] == [" "] * 4 else "▼", now_style)
            elif y == 0 and not labelled and chars[now_x : now_x + 3] == [" "] * 3:
                put(now_x, "now", now_style)
        segments = [Segment(_fit(left, gutter), style)]
        segments.extend(_runs(chars, styles))
        return Strip(segments, width)

    def _tick_labels(self) -> list[tuple[int, str]]:
        """The tick labels drawn on the axis' second line: ``(cell, label)``, none over another."""
        out: list[tuple[int, str]] = []
        taken = -1
        for x, label, _ in self.ticks():
            if x > taken:
                out.append((x, label))
                taken = x + len(label) + 1
        return out

    def _row_line(self, row_index: int, lane: int, width: int) -> Strip:
        row = self.rows[row_index]
        gutter, cells, zoom = self.label_width, self.cells, self.zoom
        selected_row = row_index == self.row_index
        base = self.get_component_rich_style("timeline--row-alt" if row_index % 2 else "timeline--row")
        gutter_style = base + self.get_component_rich_style(
            "timeline--gutter-selected" if selected_row else "timeline--gutter"
        )
        if lane == 0:
            name = ("▌" if selected_row else " ") + row.name
        elif lane == (1 if row.lanes > 1 else SPACER) and row.capacity > 1:
            name = f"  cap {row.capacity}"
            gutter_style = base + self.get_component_rich_style("timeline--muted")
        else:
            name = ""
        segments = [Segment(_fit(name, gutter), gutter_style if name.strip() or selected_row else base)]

        chars = [" "] * cells
        styles = [base] * cells
        grid = base + self.get_component_rich_style("timeline--grid")
        for x, _, major in self.ticks():
            if major:
                chars[x] = "┊"
                styles[x] = grid
        freeze = base + self.get_component_rich_style("timeline--freeze")
        chosen_freeze = base + self.get_component_rich_style("timeline--freeze-selected")
        for occurrence in self._freezes_in_view().get(row.name, ()):
            x0, x1 = self.span_cells(occurrence.start, occurrence.end)
            chosen = self.selected_freeze is not None and occurrence == self.selected_freeze
            for x in range(max(0, x0), min(cells, x1)):
                chars[x] = "░"
                styles[x] = chosen_freeze if chosen else freeze
            if chosen and lane == (SPACER if self._lines[-1][1] == SPACER else row.lanes - 1):
                lo, hi = max(0, x0), min(cells, x1)
                _place(chars, lo, hi, truncate(" " + inert(occurrence.reason) + " ", hi - lo))
        now_x = self.x_of(self.now)
        if 0 <= now_x < cells:
            chars[now_x] = "│"
            styles[now_x] = base + self.get_component_rich_style("timeline--now")

        drawn: list[tuple[Bar, datetime, datetime, bool]] = []
        moving = self.drag[0] if self.drag else self.preview.key if self.preview else None
        for bar in row.between(self.start, self.view_end):
            if bar.lane == lane and bar.key != moving:
                drawn.append((bar, bar.start, bar.end, False))
        if moving is not None and moving[1] == row.name:
            moved = next((b for b in row.bars if b.release_id == moving[0]), None)
            if moved is not None and moved.lane == lane:
                if self.drag:
                    steps = self.drag[1]
                    drawn.append(
                        (
                            moved,
                            step_from(moved.start, zoom, steps, self.tz),
                            step_from(moved.end, zoom, steps, self.tz),
                            True,
                        )
                    )
                elif self.preview:
                    after = moved if self.preview.diff is None else replace(moved, severity=self.preview.severity)
                    drawn.append((after, self.preview.start, self.preview.end, True))
        for bar, start, end, dragged in drawn:
            x0, x1 = self.span_cells(start, end)
            lo, hi = max(0, x0), min(cells, x1)
            if lo >= hi:
                continue
            kind = "timeline--bar-done" if bar.done else _BAR_STYLES.get(bar.severity, "timeline--bar")
            style = base + self.get_component_rich_style(kind)
            if bar.key == self.selected:
                style += self.get_component_rich_style("timeline--selected")
            if dragged:
                style += self.get_component_rich_style("timeline--dragged" if self.drag else "timeline--preview")
            mark = {Severity.ERROR: "✖", Severity.WARNING: "⚠"}.get(bar.severity, "")  # type: ignore[arg-type]
            label = _bar_label(f"{mark}{bar.label}" if mark else bar.label, hi - lo)
            # too short for a label (a 2-hour window in week zoom): solid cells, seen without colour too
            fill = " " if label else "█"
            for x in range(lo, hi):
                chars[x] = fill
                styles[x] = style
            if not label and mark:
                chars[lo] = mark
            _place(chars, lo, hi, label)
        segments.extend(_runs(chars, styles))
        return Strip(segments, width)

    # -- the mouse: click to select, drag along the row to shift ------------------------------

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1:
            return
        hit = self.bar_at(event.x, event.y)
        if hit is None:
            return
        row, bar, at = hit
        self.post_message(self.Clicked(self, row.name, bar.release_id if bar else None, at))
        if bar is not None:
            self._press = (bar, event.screen_x)
            self.capture_mouse()

    def _steps(self, screen_x: int) -> int:
        assert self._press is not None
        cells_per_step = max(1, self.zoom.step // self.zoom.cell)
        return round((screen_x - self._press[1]) / cells_per_step)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._press is None:
            return
        bar = self._press[0]
        steps = self._steps(event.screen_x)
        current = self.drag[1] if self.drag else 0
        if steps != current:
            self.drag = (bar.key, steps) if steps else None
            self.refresh()
            self.post_message(self.Dragging(self, bar.release_id, bar.environment, steps))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._press is None:
            return
        bar = self._press[0]
        steps = self._steps(event.screen_x)
        self._press = None
        self.drag = None
        self.release_mouse()
        self.refresh()
        if steps:
            self.post_message(self.Dropped(self, bar.release_id, bar.environment, steps))


def _fit(text: str, width: int) -> str:
    cut = truncate(text, width - 1)
    return cut + " " * (width - cell_len(cut))


def _bar_label(label: str, width: int) -> str:
    """The label inside a bar of ``width`` cells: the name gives way before the version disappears."""
    if width <= 2:
        return ""
    room = width - 1  # a cell of bar before the label
    if cell_len(label) <= room:
        return " " + label
    name, _, version = label.rpartition(" ")
    if name and room >= 8:
        version = truncate(version, max(4, room // 3))
        return " " + truncate(name, room - cell_len(version) - 1) + " " + version
    return " " + truncate(label, room)


def _place(chars: list[str], start: int, stop: int, text: str) -> int:
    """Write ``text`` into the cells ``[start, stop)``, a wide character taking two; returns the end."""
    col = start
    for symbol, width in drawn_clusters(text):
        if width == 0:
            if col > start:
                chars[col - 1] += symbol
            continue
        if col + width > stop:
            break
        if col >= 0:
            chars[col] = symbol
            if width == 2:
                chars[col + 1] = ""
        col += width
    return col


def _runs(chars: list[str], styles: list[Style]) -> list[Segment]:
    """Consecutive cells of one style as one segment."""
    out: list[Segment] = []
    if not chars:
        return out
    start = 0
    for i in range(1, len(chars) + 1):
        if i == len(chars) or styles[i] is not styles[start]:
            out.append(Segment("".join(chars[start:i]), styles[start]))
            start = i
    return out
