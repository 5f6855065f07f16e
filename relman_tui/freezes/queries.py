"""Freeze queries: occurrences, covers, what holds at a moment and until when (frozen_until, held_within)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from relman_tui.freezes.recurrence import _cover, _Recurrence, _recurrence, _union_cover, _unions
from relman_tui.freezes.ticks import (
    _DAY,
    _FIRST_TICK,
    _HOUR,
    _LAST_TICK,
    _REACH,
    _last_day,
    _moment,
    _one_off,
    _ticks,
)
from relman_tui.model import ALL_ENVIRONMENTS, Freeze, Occurrence


@dataclass(frozen=True, slots=True)
class Frozen:
    """How long an environment stays frozen (see :func:`frozen_until`)."""

    until: datetime | None  # the end of the merged cover; None: still frozen REACH from now
    reasons: tuple[str, ...]  # of the freezes holding now or holding longer, in that order


def occurrences(freeze: Freeze, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence of ``freeze`` that intersects ``[start, end)``, sorted by start.

    A recurring freeze fires at its cron times read as wall-clock times in its own zone
    (``freeze.zone``; UTC when unset), whatever UTC offset applies that day, and lasts
    ``freeze.duration`` of real elapsed time. Across a DST change:

    - a wall time that does not exist (in the spring-forward gap) fires once, shifted
      forward by the length of the gap: 02:30 on a 02:00→03:00 day fires at 03:30;
    - a wall time that happens twice (fall-back) fires once, at its first occurrence;
    - two cron times that land on the same instant this way give one occurrence.

    Only the local days that can matter are visited: from ``start - duration`` (so an
    occurrence still running at ``start`` is found) to ``end``, a day of margin each side.
    More than :data:`OCCURRENCES_MAX` occurrences is :class:`BadInput` (a ``* * * * *``
    freeze lasting weeks has tens of thousands running at once: ask for its cover instead,
    :func:`cover_spans`). An end past the calendar is clamped to it.
    """
    a, b = _ticks(start), _ticks(end)
    if a >= b:  # an empty span intersects nothing
        return []
    if freeze.recurring:
        recurrence = _recurrence(freeze)
        length = recurrence.length
        return [
            _occurrence(freeze, _moment(begin), _moment(begin + length)) for begin in recurrence.begins(a, b, freeze.id)
        ]
    first, last = _one_off(freeze)
    if first < b and last > a:
        return [_occurrence(freeze, _moment(first), _moment(last))]
    return []


def expand(freezes: Iterable[Freeze], start: datetime, end: datetime) -> list[Occurrence]:
    """The occurrences of every freeze that intersect ``[start, end)``, by (start, end, freeze id)."""
    found = [occurrence for freeze in freezes for occurrence in occurrences(freeze, start, end)]
    return sorted(found, key=lambda o: (o.start, o.end, o.freeze_id))


def check(freeze: Freeze) -> None:
    """:class:`BadInput` unless ``freeze`` can be expanded (a cron, zone and positive duration,
    or a start before an end)."""
    if freeze.recurring:
        _recurrence(freeze)
    else:
        _one_off(freeze)


def cover_spans(freeze: Freeze, start: int, end: int) -> tuple[tuple[int, int], ...]:
    """The cover of ``freeze`` within ``[start, end)``: its occurrences, those that overlap or
    touch merged into one span (DESIGN.md "Conflicts"), each clipped to the range, in order.

    Instants are ticks (integer microseconds since the Unix epoch, as ``conflicts.ticks``).
    The work is in proportion to the local days in the range and the spans found, never to
    the occurrences: a day's cron times are merged once per freeze and reused on every day
    without a clock change. Remembered, so the same range asked again costs nothing.
    """
    if freeze.recurring:
        recurrence = _recurrence(freeze)
        return _cover(recurrence, start, end) if start < end else ()
    first, last = _one_off(freeze)
    low, high = max(first, start), min(last, end)
    return ((low, high),) if low < high else ()


def blocks(freeze: Freeze, start: int, end: int, shortest: int) -> Iterator[tuple[int, int]]:
    """The cover of ``freeze`` within ``[start, end)`` with every gap shorter than ``shortest``
    filled, in order, lazily: where a span of ``shortest`` ticks cannot lie free of the freeze.

    For a slot search: a ``*/2 * * * *`` one-minute freeze is then a few long blocks, not an
    occurrence every other minute. The range is read in chunks that double from a day, so a
    block may come in touching pieces (all the same to a search that jumps over blocks), and a
    search that stops early pays for about twice the days it looked at — even when the block
    after the slot it found never ends.
    """
    if freeze.recurring:
        return _pieces(_recurrence(freeze), start, end, max(shortest - 1, 0))
    return iter(cover_spans(freeze, start, end))


def _pieces(recurrence: _Recurrence, start: int, end: int, slack: int) -> Iterator[tuple[int, int]]:
    size = _DAY
    while start < end:
        stop = min(start + size, end)
        yield from recurrence.spans(start, stop, slack)
        start, size = stop, size * 2


def covers(freezes: Iterable[Freeze], start: datetime, end: datetime) -> list[Occurrence]:
    """Each freeze's merged cover spans that meet ``[start, end)``, by (start, end, freeze id).

    A span is whole — it may begin before ``start`` and end after ``end`` — except that a
    cover is followed at most :data:`REACH` beyond the range (a ``* * * * *`` freeze is one
    cover for ever). For showing freezes; the conflict engine asks :func:`cover_spans`.
    """
    a, b = _ticks(start), _ticks(end)
    found: list[Occurrence] = []
    for freeze in freezes:
        pieces = list(cover_spans(freeze, a, b))
        if not pieces:
            continue
        if freeze.recurring:
            if pieces[0][0] == a:
                pieces[0] = (_cover_start(freeze, a), pieces[0][1])
            if pieces[-1][1] == b:
                pieces[-1] = (pieces[-1][0], _cover_end(freeze, b))
        else:
            pieces = [_one_off(freeze)]
        found += [_occurrence(freeze, _moment(low), _moment(high)) for low, high in pieces]
    return sorted(found, key=lambda o: (o.start, o.end, o.freeze_id))


def active_at(freezes: Iterable[Freeze], moment: datetime) -> list[Occurrence]:
    """The freezes holding at ``moment``, one each: its merged cover span around ``moment``
    (``start <= moment < end``, whole as :func:`covers` gives it), by (start, end, freeze id)."""
    t = _ticks(moment)
    if t >= _LAST_TICK:
        return []
    return covers(freezes, _moment(t), _moment(t + 1))


def frozen_until(freezes: Iterable[Freeze], environment: str, moment: datetime) -> Frozen | None:
    """``None`` when ``environment`` is not frozen at ``moment``; else until when it is.

    The end is that of the merged cover holding it: every freeze covering the environment,
    their occurrences that overlap or touch joined, across freezes too — two overlapping
    freezes give the later end, and a ``* * * * *`` freeze lasting 30 days never lets go. A
    cover still running :data:`REACH` after ``moment`` is open-ended (``until`` is None).

    The reasons are those of the freezes holding at ``moment`` (the longest-holding first),
    then of those that carry the cover further: a one-off freeze, or a group of recurring
    freezes sharing a zone and a day rule, the first time it does — naming the group's freezes
    that hold where it takes over. The cover is looked at in chunks that double, and recurring
    freezes sharing a zone and a day rule are followed as one (:class:`_Union`), so the work
    follows the length of the cover and the number of such groups, not the occurrences.
    """
    holding = [freeze for freeze in freezes if freeze.covers(environment)]
    t = _ticks(moment)
    limit = min(t + _REACH, _LAST_TICK)
    if not holding or t >= limit:
        return None
    first_hour = min(t + _HOUR, limit)
    groups = _unions(freeze for freeze in holding if freeze.recurring)
    reach = [(freeze, _reaching(freeze, t)) for freeze in holding if not freeze.recurring]
    for union, members in groups:
        reach += zip(members, union.reaching(t), strict=True)
    now = sorted((-min(end, first_hour), freeze.id, freeze.reason) for freeze, end in reach if end is not None)
    if not now:
        return None
    reasons = dict.fromkeys(reason for _, _, reason in now)
    units: list[tuple[Callable[[int, int], Iterable[tuple[int, int]]], list[Freeze]]] = [
        (partial(_spans_of, freeze), [freeze]) for freeze in holding if not freeze.recurring
    ]
    units += [(partial(_union_cover, union), members) for union, members in groups]
    # Who holds now is named already: a unit holding now has taken over at ``moment``.
    holds_now = {freeze_id for _, freeze_id, _ in now}
    marked = {u for u, (_, members) in enumerate(units) if any(freeze.id in holds_now for freeze in members)}
    end, size = t, _HOUR
    while end < limit:
        # Chunks end on multiples of their size, so the board asking again a moment later (its
        # next snapshot) finds all but the first chunk remembered (_union_cover).
        stop = min((end // size + 1) * size, limit)
        found = sorted((low, -high, u) for u, (spans, _) in enumerate(units) for low, high in spans(end, stop))
        reached = end
        for low, minus_high, u in found:
            high = -minus_high
            if low > reached:
                break
            if high > reached:
                if u not in marked:  # takes over the first time: name who holds there
                    marked.add(u)
                    for freeze in units[u][1]:
                        if freeze.reason not in reasons and _holds(freeze, reached):
                            reasons.setdefault(freeze.reason)
                reached = high
        if reached < stop:
            return Frozen(_moment(reached), tuple(reasons))
        end, size = stop, size * 2
    return Frozen(None, tuple(reasons))


def by_environment(freezes: Iterable[Freeze], environments: Iterable[str]) -> dict[str, list[Freeze]]:
    """The freezes covering each of ``environments``, in one pass over the freezes."""
    found: dict[str, list[Freeze]] = {name: [] for name in environments}
    for freeze in freezes:
        if ALL_ENVIRONMENTS in freeze.environments:
            for listed in found.values():
                listed.append(freeze)
        else:
            for name in dict.fromkeys(freeze.environments):
                if name in found:
                    found[name].append(freeze)
    return found


def held_within(freeze: Freeze, start: int, end: int) -> tuple[int, int, bool] | None:
    """When ``freeze`` holds within ``[start, end)`` (ticks): ``(its first instant there, the end
    of its last stretch there, whether it lets go in between)``, or None when it never holds.

    For a freeze over a long window (an hourly freeze over 90 days): only the stretches at
    either end are looked at, in chunks that double from an hour, never the occurrences between.
    """
    if start >= end:
        return None
    if not freeze.recurring:
        begin, finish = _one_off(freeze)
        low, high = max(begin, start), min(finish, end)
        return (low, high, False) if low < high else None
    recurrence = _recurrence(freeze)
    first = next(recurrence.spans(start, end), None)  # lazily: the days up to its first stretch
    if first is None:
        return None
    low, stretch = first
    if stretch >= end:
        return low, end, False
    last = _last_high(recurrence, stretch, end)
    return low, last, last > stretch


def daily_stretches(freeze: Freeze) -> int:
    """How many separate stretches ``freeze`` holds on a day it fires (1 for a one-off)."""
    return len(_recurrence(freeze).pattern(0)[0]) if freeze.recurring else 1


def _spans_of(freeze: Freeze, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The cover of ``freeze`` within ``[start, end)``, lazily and not remembered."""
    if freeze.recurring:
        return _recurrence(freeze).spans(start, end)
    first, last = _one_off(freeze)
    low, high = max(first, start), min(last, end)
    return iter(((low, high),) if low < high else ())


def _holds(freeze: Freeze, t: int) -> bool:
    return _reaching(freeze, t) is not None


def _reaching(freeze: Freeze, t: int) -> int | None:
    """The end of the occurrence of ``freeze`` holding ``t`` that began last; None when none holds it."""
    if freeze.recurring:
        return _recurrence(freeze).reaching(t)
    first, last = _one_off(freeze)
    return last if first <= t < last else None


def _last_high(recurrence: _Recurrence, floor: int, end: int) -> int:
    """The end of the last stretch of cover in ``[floor, end)`` (``floor`` when there is none):
    every occurrence lasts as long, so the one that began last before ``end`` reaches furthest."""
    begin = recurrence._last_begin(end, _last_day(end) + 1, 0)
    if begin is not None:
        return max(floor, min(begin + recurrence.length, end))
    # Nothing began close enough to reach ``end``: look further back, in chunks that double.
    high, size = end, _HOUR
    while high > floor:
        low = max(high - size, floor)
        pieces = list(recurrence.spans(low, high))
        if pieces:
            return pieces[-1][1]
        high, size = low, size * 2
    return floor


def _cover_end(freeze: Freeze, t: int) -> int:
    """Where the cover of a recurring ``freeze`` that runs up to ``t`` stops (at most REACH on)."""
    limit = min(t + _REACH, _LAST_TICK)
    end, size = t, _HOUR
    while end < limit:
        stop = min(end + size, limit)
        pieces = cover_spans(freeze, end, stop)
        if not pieces or pieces[0][0] > end:
            return end
        if pieces[0][1] < stop:
            return pieces[0][1]
        end, size = stop, size * 2
    return limit


def _cover_start(freeze: Freeze, t: int) -> int:
    """Where the cover of a recurring ``freeze`` that runs from ``t`` began (at most REACH back)."""
    limit = max(t - _REACH, _FIRST_TICK)
    start, size = t, _HOUR
    while start > limit:
        low = max(start - size, limit)
        pieces = cover_spans(freeze, low, start)
        if not pieces or pieces[-1][1] < start:
            return start
        if pieces[-1][0] > low:
            return pieces[-1][0]
        start, size = low, size * 2
    return limit


def _occurrence(freeze: Freeze, start: datetime, end: datetime) -> Occurrence:
    return Occurrence(freeze.id, freeze.environments, freeze.reason, start, end)
