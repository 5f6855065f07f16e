"""The next free slot: the earliest window that creates no error conflict (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from heapq import merge

from relman_tui.conflicts import crowded_spans, from_ticks, shorten, ticks
from relman_tui.errors import BadInput, Refused
from relman_tui.freezes import blocks
from relman_tui.model import Environment, Freeze, Release
from relman_tui.timeutil import format_duration, format_local

_TICK = timedelta(microseconds=1)  # the unit of conflicts.ticks
_LAST = ticks(datetime.max.replace(tzinfo=UTC))  # no window may end past the calendar


def next_free(
    environments: Sequence[Environment],
    releases: Iterable[Release],
    freezes: Sequence[Freeze],
    release_id: int,
    environment: str,
    duration: timedelta,
    after: datetime,
    *,
    step: timedelta = timedelta(minutes=5),
    horizon: timedelta = timedelta(days=366),
    tz: str = "UTC",
) -> datetime:
    """The earliest start ``s`` on the ``step`` grid (counted from the Unix epoch) with
    ``after <= s <= after + horizon`` such that ``[s, s + duration)`` for the release in
    ``environment`` makes no capacity, freeze or order conflict.

    The new window replaces the release's current one there. Capacity counts the other
    windows in the environment; order wants the window to start at or after the end of the
    release's windows in earlier environments and to end by the start of those in later
    ones. Raises :class:`Refused` when the horizon holds no such start.
    """
    envs = {env.name: env for env in environments}
    target = envs.get(environment)
    if target is None:
        raise BadInput(f"unknown environment {shorten(environment)!r}")
    if duration <= timedelta(0) or step <= timedelta(0) or horizon < timedelta(0):
        raise BadInput("duration and step must be longer than zero, and the horizon not negative")
    everyone = list(releases)
    mine = next((release for release in everyone if release.id == release_id), None)
    if mine is None:
        raise BadInput(f"unknown release {release_id}")
    if mine.cancelled:
        raise Refused(f"{shorten(mine.label)} is cancelled: it cannot be scheduled")

    length, grid = duration // _TICK, step // _TICK

    def _at(moment: datetime) -> str:
        return format_local(moment, tz)

    earliest = _round_up(ticks(after), grid)
    latest = min(ticks(after) + horizon // _TICK, _LAST - length)  # the last start we may offer
    where = f"{shorten(mine.label)} in {shorten(environment)}"

    # Order: after every earlier environment's window, ending by every later one's start.
    after_end: tuple[int, str] | None = None  # the latest end among earlier environments
    before_start: tuple[int, str] | None = None  # the earliest start among later environments
    for window in mine.windows:
        other = envs.get(window.environment)
        if other is None or window.start >= window.end:
            continue
        if other.position < target.position:
            after_end = max(after_end or (ticks(window.end), other.name), (ticks(window.end), other.name))
        elif other.position > target.position:
            before_start = min(before_start or (ticks(window.start), other.name), (ticks(window.start), other.name))
    order_low = max(earliest, _round_up(after_end[0], grid)) if after_end else earliest
    order_high = min(latest, before_start[0] - length) if before_start else latest
    if before_start and order_low + length > before_start[0]:
        if after_end and _round_up(after_end[0], grid) >= earliest:
            bound = f"start after its {shorten(after_end[1])} window ends ({_at(from_ticks(after_end[0]))})"
        else:
            bound = f"start at or after {_at(after)}"
        raise Refused(
            f"no {format_duration(duration)} slot for {where}: it must {bound} and end before its "
            f"{shorten(before_start[1])} window starts ({_at(from_ticks(before_start[0]))})"
        )

    if target.capacity <= 0:
        raise Refused(f"no slot for {where}: its capacity is {target.capacity}")
    blocked = _capacity_blocks(everyone, release_id, target)
    blocked.sort()
    # Each freeze's cover, read lazily and with gaps too short for the window filled in, so a
    # search that finds a slot soon walks few days, and a freeze every other minute is a few
    # long blocks, not an occurrence every other minute.
    streams = [
        blocks(freeze, order_low, order_high + length, length) for freeze in freezes if freeze.covers(environment)
    ]

    # Jump over the blocks in order of start; every block already passed ends at or before
    # ``start``, so the first one that does not touch [start, start + length) settles it.
    start = order_low
    for block_start, block_end in merge(blocked, *streams):
        if start > order_high or block_start >= start + length:
            break
        if block_end > start:
            start = _round_up(block_end, grid)
    if start > order_high:
        raise Refused(
            f"no free {format_duration(duration)} slot for {where} between {_at(after)} and "
            f"{_at(from_ticks(min(latest, order_high)))}"
        )
    return from_ticks(start)


def _capacity_blocks(releases: Sequence[Release], release_id: int, target: Environment) -> list[tuple[int, int]]:
    """Spans in which the environment is already full without this release's window."""
    starts: list[int] = []
    ends: list[int] = []
    for release in releases:
        if release.cancelled or release.id == release_id:
            continue
        for window in release.windows:
            if window.environment == target.name and window.start < window.end:
                starts.append(ticks(window.start))
                ends.append(ticks(window.end))
    return [(s, e) for s, e, _, _ in crowded_spans(starts, ends, target.capacity - 1)]


def _round_up(value: int, grid: int) -> int:
    return -(-value // grid) * grid
