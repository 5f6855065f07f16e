"""The timeline's state: zooms, steps, and the rows of bars it draws."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from relman_tui.done import is_done
from relman_tui.done import positions as done_positions
from relman_tui.model import Conflict, Environment, Release, Severity
from relman_tui.service import ConflictDiff
from relman_tui.status import window_severity
from relman_tui.text import inert

HEADER = 2  # lines of time axis above the rows
_BAR_STYLES: dict[Severity | None, str] = {
    Severity.ERROR: "timeline--bar-error",
    Severity.WARNING: "timeline--bar-warning",
}
MAX_LANES = 4  # overlapping windows of one environment stack into at most this many lines
GUTTER_MIN, GUTTER_MAX = 8, 14
SPACER = -1  # the lane number of a spacing line


@dataclass(frozen=True, slots=True)
class Zoom:
    """How much time a cell holds, and the step that keys shift, stretch and scroll by."""

    name: str
    cell: timedelta
    step: timedelta
    wall_days: bool  # steps are calendar days in the operator's zone (week zoom)

    @property
    def step_text(self) -> str:
        return "1 day" if self.wall_days else "1h"


DAY = Zoom("day", timedelta(minutes=15), timedelta(hours=1), False)
WEEK = Zoom("week", timedelta(hours=2), timedelta(days=1), True)
ZOOMS = (DAY, WEEK)


def step_from(moment: datetime, zoom: Zoom, count: int, tz: str) -> datetime:
    """``moment`` moved by ``count`` steps: hours of real time, or calendar days on the local clock."""
    if not zoom.wall_days:
        return moment + count * zoom.step
    zone = ZoneInfo(tz)
    wall = moment.astimezone(zone).replace(tzinfo=None) + timedelta(days=count)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def floor_local(moment: datetime, zoom: Zoom, tz: str) -> datetime:
    """The local hour (day zoom) or local midnight (week zoom) at or before ``moment``, in UTC."""
    local = moment.astimezone(ZoneInfo(tz))
    if zoom.wall_days:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        local = local.replace(minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Pending:
    """A change to one window, previewed and not yet written: ``enter`` applies it, ``esc`` discards it."""

    key: tuple[int, str]  # (release id, environment)
    start: datetime
    end: datetime
    how: str  # "later", "to the next free slot", …
    rev: int  # the release's revision it was made against
    diff: ConflictDiff | None = None  # what it would create and resolve, once the service has said
    severity: Severity | None = None  # the window's worst conflict after the change (known with the diff)


@dataclass(frozen=True, slots=True)
class Bar:
    """One window as the timeline draws it."""

    release_id: int
    environment: str
    start: datetime
    end: datetime
    label: str  # "name version", inert
    severity: Severity | None
    lane: int
    done: bool = False  # history: its release has reached the environment (DESIGN "Conflicts"), drawn dimmed

    @property
    def key(self) -> tuple[int, str]:
        return (self.release_id, self.environment)


@dataclass(slots=True)
class Row:
    """An environment's windows, sorted by start, with what bisection needs."""

    name: str  # inert
    capacity: int
    bars: list[Bar] = field(default_factory=list)
    starts: list[datetime] = field(default_factory=list)
    longest: timedelta = timedelta(0)
    lanes: int = 1

    def between(self, start: datetime, end: datetime) -> list[Bar]:
        """The bars that intersect ``[start, end)``, by start."""
        first = bisect_left(self.starts, start - self.longest)
        last = bisect_left(self.starts, end)
        return [bar for bar in self.bars[first:last] if bar.end > start]


def build_rows(
    environments: Sequence[Environment],
    releases: Iterable[Release],
    conflicts: Iterable[Conflict],
    now: datetime | None = None,
) -> list[Row]:
    """A row per environment, its windows in lanes so that overlapping ones do not hide each other;
    with ``now``, done windows are marked."""
    releases = [r for r in releases if not r.cancelled]
    reached = done_positions(environments)
    severity = window_severity(releases, conflicts)
    rows = {env.name: Row(inert(env.name), env.capacity) for env in environments}
    spans: dict[str, list[tuple[datetime, datetime, Release]]] = {name: [] for name in rows}
    for release in releases:
        for window in release.windows:
            if window.environment in spans:
                spans[window.environment].append((window.start, window.end, release))
    for name, items in spans.items():
        row = rows[name]
        items.sort(key=lambda item: (item[0], item[1], item[2].id))
        lane_ends: list[datetime] = []
        for start, end, release in items:
            lane = next((i for i, free_at in enumerate(lane_ends) if free_at <= start), len(lane_ends))
            if lane == len(lane_ends):
                if lane < MAX_LANES:
                    lane_ends.append(end)
                else:
                    lane = MAX_LANES - 1
            lane_ends[lane] = max(lane_ends[lane], end)
            planned = release.window_in(name)
            done = now is not None and planned is not None and is_done(release, planned, reached, now)
            row.bars.append(
                Bar(release.id, name, start, end, inert(release.label), severity.get((release.id, name)), lane, done)
            )
            row.starts.append(start)
            row.longest = max(row.longest, end - start)
        row.lanes = max(1, len(lane_ends))
    return [rows[env.name] for env in environments]
