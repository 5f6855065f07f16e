"""Recurring freezes expanded: each rule's days, DST-correct begins, merged spans, unions sharing a day rule."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from calendar import monthrange
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from heapq import heapify, heappop, heappush
from itertools import repeat
from operator import add, itemgetter
from zoneinfo import ZoneInfo

from relman_tui.errors import BadInput
from relman_tui.freezes.cron import CronSpec, parse_cron
from relman_tui.freezes.ticks import (
    _DAY,
    _EPOCH_DAY,
    _LAST_DAY,
    _MINUTE,
    _TICK,
    OCCURRENCES_MAX,
    _first_day,
    _last_day,
    _moment,
)
from relman_tui.model import Freeze
from relman_tui.timeutil import local_offset, zone_info

# --- recurring freezes ----------------------------------------------------------------------


def _recurrence(freeze: Freeze) -> _Recurrence:
    assert freeze.cron is not None
    duration = freeze.duration
    if duration is None or duration <= timedelta(0):
        parse_cron(freeze.cron)  # a bad expression or zone is named first, as before
        zone_info(freeze.zone or "UTC")
        raise BadInput(f"freeze {freeze.id}: a recurring freeze needs a positive duration")
    return _recurrence_for(freeze.cron, freeze.zone or "UTC", duration)


@lru_cache(maxsize=4096)  # keyed by the freeze's own text: quicker to hash than the parsed rule
def _recurrence_for(cron: str, zone: str, duration: timedelta) -> _Recurrence:
    return _recurrence_of(parse_cron(cron), zone_info(zone), duration // _TICK)


_SHORT = 8  # days: a span of days no longer than this is remembered (_Recurrence.days)
_SHORT_DAYS: dict[tuple[object, ...], tuple[tuple[int, int, bool], ...]] = {}


@lru_cache(maxsize=4096)  # 10,000 freezes of a few thousand kinds: each read once
def _recurrence_of(spec: CronSpec, zone: ZoneInfo, length: int) -> _Recurrence:
    return _Recurrence(spec, zone, length)


class _Recurrence:
    """One recurring freeze's rule, read once: the days its cron picks, its times as offsets
    from local midnight, its zone and length (ticks), and the merged spans of a day without a
    clock change, which every such day shares.
    """

    def __init__(self, spec: CronSpec, zone: ZoneInfo, length: int) -> None:
        self.spec = spec
        self.zone = zone
        self.length = length
        self.offsets = [(hour * 60 + minute) * _MINUTE for hour, minute in spec.times]
        # As in Vixie cron a day must match day of month AND day of week unless both are
        # restricted (then either will do); with AND only the listed days of a month can match.
        self.both = spec.any_day or spec.any_weekday
        self.candidates = sorted(spec.days) if self.both else list(range(1, 32))
        self.rule = (spec.months, spec.days, spec.weekdays, spec.any_day, spec.any_weekday)
        self._patterns: dict[int, tuple[list[int], list[int]]] = {}

    def days(self, first: int, last: int, backwards: bool = False) -> Iterator[tuple[int, int, bool]]:
        """``(ordinal, its local midnight in ticks, no clock change that day)`` for each day in
        ``[first, last]`` (ordinals, clamped to the calendar) that the cron fires on.

        Months the cron never fires in are skipped whole, and in the AND case only the listed
        days of a month are tried, so a sparse cron is cheap to search for years. A span of a
        few days is remembered per zone and day rule: the freezes of a board that share them
        (a thousand hourly freezes around one window) read it once.
        """
        if last - first > _SHORT:
            return self._days(first, last, backwards)
        key = (self.zone, self.rule, first, last)
        found = _SHORT_DAYS.get(key)
        if found is None:
            if len(_SHORT_DAYS) >= 1 << 14:
                _SHORT_DAYS.clear()
            found = _SHORT_DAYS[key] = tuple(self._days(first, last))
        return reversed(found) if backwards else iter(found)

    def _days(self, first: int, last: int, backwards: bool = False) -> Iterator[tuple[int, int, bool]]:
        first, last = max(first, 1), min(last, _LAST_DAY)
        if first > last:
            return
        spec, zone, both = self.spec, self.zone, self.both
        low, high = date.fromordinal(first), date.fromordinal(last)
        months = range(low.year * 12 + low.month - 1, high.year * 12 + high.month)
        candidates = self.candidates
        for index in reversed(months) if backwards else months:
            year, month = divmod(index, 12)
            month += 1
            if month not in spec.months:
                continue
            base = date(year, month, 1).toordinal() - 1
            size = monthrange(year, month)[1]
            # Only the candidates inside [first, last] and the month: a few days cost a few steps.
            inside = candidates[
                bisect_left(candidates, first - base) : bisect_right(candidates, min(last - base, size))
            ]
            for day in reversed(inside) if backwards else inside:
                ordinal = base + day
                # ordinal % 7 is cron's weekday, 0 = Sunday
                if both:
                    if ordinal % 7 not in spec.weekdays:
                        continue
                elif day not in spec.days and ordinal % 7 not in spec.weekdays:
                    continue
                # A day is regular when its midnight and the next have one offset (a change
                # undone within the same day would go unnoticed).
                offset = _midnight_offset(zone, ordinal)
                regular = ordinal == _LAST_DAY or offset == _midnight_offset(zone, ordinal + 1)
                yield ordinal, (ordinal - _EPOCH_DAY) * _DAY - offset, regular

    def reaching(self, t: int, days: Sequence[tuple[int, int, bool]] | None = None) -> int | None:
        """The end of the occurrence holding ``t`` that began last; None when none holds it.
        ``days``: what :meth:`days` gives around ``t``, when the caller has it already."""
        if self.length > _DAY:
            begin = self._last_begin(t + 1, _last_day(t + 1) + 1, 0)
        else:
            # An occurrence holding t began within a day before it: on one of these local days.
            begin = None
            if days is None:
                days = _days_around(self, t)
            for ordinal, midnight, regular in days:
                if regular:
                    k = bisect_right(self.offsets, t - midnight) - 1
                    found = midnight + self.offsets[k] if k >= 0 else None
                else:
                    exact = _exact_begins(self.spec, self.zone, ordinal)
                    k = bisect_right(exact, t) - 1
                    found = exact[k] if k >= 0 else None
                if found is not None and (begin is None or found > begin):
                    begin = found
        return begin + self.length if begin is not None and begin + self.length > t else None

    def pattern(self, slack: int) -> tuple[list[int], list[int]]:
        """The starts and ends of a regular day's merged spans, from local midnight."""
        found = self._patterns.get(slack)
        if found is None:
            if len(self._patterns) > 16:
                self._patterns.clear()
            found = self._patterns[slack] = _merge(self.offsets, self.length, slack)
        return found

    def begins(self, a: int, b: int, freeze_id: int) -> list[int]:
        """Every begin ``x`` with ``x < b`` and ``x + length > a``, sorted (for :func:`occurrences`)."""
        low = a - self.length  # exclusive
        found: set[int] = set()
        offsets = self.offsets
        for ordinal, midnight, regular in self.days(_first_day(low), _last_day(b)):
            if regular:
                i, j = bisect_right(offsets, low - midnight), bisect_left(offsets, b - midnight)
                found.update(midnight + offset for offset in offsets[i:j])
            else:
                exact = _exact_begins(self.spec, self.zone, ordinal)
                found.update(exact[bisect_right(exact, low) : bisect_left(exact, b)])
            if len(found) > OCCURRENCES_MAX:
                raise BadInput(
                    f"freeze {freeze_id} has more than {OCCURRENCES_MAX:,} occurrences between "
                    f"{_moment(a):%Y-%m-%d %H:%M} and {_moment(b):%Y-%m-%d %H:%M} UTC; ask for a shorter span"
                )
        return sorted(found)

    def spans(self, a: int, b: int, slack: int = 0) -> Iterator[tuple[int, int]]:
        """The cover spans meeting ``[a, b)``, clipped to it, in order, lazily; with ``slack``,
        spans at most ``slack`` apart are joined too."""
        if a >= b:
            return iter(())
        return _joined(self._raw(a, b, slack), a, b, slack)

    def _raw(self, a: int, b: int, slack: int) -> Iterator[tuple[int, int]]:
        """Spans (each one day's merged occurrences) that can meet ``[a, b)``, by start."""
        first = _first_day(a)
        # Whatever began before the days walked below is summed up by the latest such begin:
        # every occurrence lasts as long, so it reaches furthest.
        before = self._last_begin(a, first, slack)
        heap = [(before, before + self.length)] if before is not None else []
        starts, ends = self.pattern(slack)
        # A span ending after ``near`` and starting before ``far`` meets [a, b) or is joined to one that does.
        near, far = a - slack - 1, b + slack + 1
        for ordinal, midnight, regular in self.days(first, _last_day(far)):
            # Nothing from this day on begins before its midnight: what is queued before it is final.
            while heap and heap[0][0] < midnight:
                yield heappop(heap)
            if regular:
                i, j = bisect_right(ends, near - midnight), bisect_left(starts, far - midnight)
                for k in range(i, j):
                    heappush(heap, (midnight + starts[k], midnight + ends[k]))
            else:
                exact_starts, exact_ends = _exact_spans(self.spec, self.zone, self.length, ordinal, slack)
                for k in range(bisect_right(exact_ends, near), bisect_left(exact_starts, far)):
                    heappush(heap, (exact_starts[k], exact_ends[k]))
        while heap:
            yield heappop(heap)

    def _last_begin(self, a: int, first: int, slack: int) -> int | None:
        """The latest begin before ``a`` on a day before ``first``, looked for only as far back
        as a begin could still reach ``a`` (within ``slack``)."""
        floor = (a - self.length - slack) // _DAY + _EPOCH_DAY - 3
        best: int | None = None
        best_day = 0
        for ordinal, midnight, regular in self.days(floor, first - 1, backwards=True):
            if best is not None and ordinal < best_day - 1:
                break  # one day more than the first found: a DST shift may carry a begin past midnight
            if regular:
                k = bisect_left(self.offsets, a - midnight) - 1
                begin = midnight + self.offsets[k] if k >= 0 else None
            else:
                exact = _exact_begins(self.spec, self.zone, ordinal)
                k = bisect_left(exact, a) - 1
                begin = exact[k] if k >= 0 else None
            if begin is not None and (best is None or begin > best):
                best_day = best_day or ordinal
                best = begin
        return best


def _joined(raw: Iterable[tuple[int, int]], a: int, b: int, slack: int) -> Iterator[tuple[int, int]]:
    """Spans by start, those at most ``slack`` apart joined, clipped to ``[a, b)``; lazily."""
    start = end = None
    for low, high in raw:
        if end is not None and low <= end + slack:
            if high > end:
                end = high
            continue
        if start is not None and end is not None and max(start, a) < min(end, b):
            yield max(start, a), min(end, b)
        start, end = low, high
    if start is not None and end is not None and max(start, a) < min(end, b):
        yield max(start, a), min(end, b)


class _Union:
    """Recurring freezes that share a zone and a day rule, read as one: on every day the rule
    picks, all their occurrences merged. A regular day's merged spans are worked out once for
    all of them, so following the cover of a thousand hourly freezes for two years walks the
    days once, not a thousand times.
    """

    def __init__(self, members: Sequence[_Recurrence]) -> None:
        self.members = members
        self.walker = members[0]  # its days() follows the day rule they share
        self.starts, self.ends = _merge_pairs(_furthest((member.length, member.offsets) for member in members))
        # Only an occurrence longer than a day can reach past the days walked (see _raw).
        self.long = [member for member in members if member.length > _DAY]
        self._exact: dict[int, tuple[list[int], list[int]]] = {}

    def reaching(self, t: int) -> list[int | None]:
        """:meth:`_Recurrence.reaching` of each member, the days around ``t`` read once."""
        days = _days_around(self.walker, t)
        return [member.reaching(t, days) for member in self.members]

    def spans(self, a: int, b: int) -> Iterator[tuple[int, int]]:
        """The merged cover of every member meeting ``[a, b)``, clipped to it, in order, lazily."""
        if a >= b:
            return iter(())
        return _joined(self._raw(a, b), a, b, 0)

    def _raw(self, a: int, b: int) -> Iterator[tuple[int, int]]:
        first = _first_day(a)
        heap = []
        for member in self.long:
            before = member._last_begin(a, first, 0)
            if before is not None:
                heap.append((before, before + member.length))
        heapify(heap)
        starts, ends = self.starts, self.ends
        for ordinal, midnight, regular in self.walker.days(first, _last_day(b + 1)):
            while heap and heap[0][0] < midnight:
                yield heappop(heap)
            if regular:
                i, j = bisect_right(ends, a - midnight), bisect_left(starts, b - midnight)
                for k in range(i, j):
                    heappush(heap, (midnight + starts[k], midnight + ends[k]))
            else:
                exact_starts, exact_ends = self._exact_day(ordinal)
                for k in range(bisect_right(exact_ends, a), bisect_left(exact_starts, b)):
                    heappush(heap, (exact_starts[k], exact_ends[k]))
        while heap:
            yield heappop(heap)

    def _exact_day(self, ordinal: int) -> tuple[list[int], list[int]]:
        found = self._exact.get(ordinal)
        if found is None:
            found = self._exact[ordinal] = _merge_pairs(
                _furthest((member.length, _exact_begins(member.spec, member.zone, ordinal)) for member in self.members)
            )
        return found


def _furthest(members: Iterable[tuple[int, Sequence[int]]]) -> list[tuple[int, int]]:
    """``(begin, end)`` by begin from each member's ``(length, begins)``: of occurrences that
    begin together, the longest (the longer members are written last)."""
    reach: dict[int, int] = {}
    for length, begins in sorted(members, key=itemgetter(0)):
        reach.update(zip(begins, map(add, begins, repeat(length)), strict=True))
    return sorted(reach.items())


def _days_around(recurrence: _Recurrence, t: int) -> tuple[tuple[int, int, bool], ...]:
    """The days an occurrence of at most a day that holds ``t`` may have begun on."""
    day = t // _DAY + _EPOCH_DAY
    return tuple(recurrence.days(day - 2, day + 1))


def _merge_pairs(pairs: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Spans sorted by start, those that overlap or touch merged."""
    starts: list[int] = []
    ends: list[int] = []
    for low, high in pairs:
        if ends and low <= ends[-1]:
            if high > ends[-1]:
                ends[-1] = high
        else:
            starts.append(low)
            ends.append(high)
    return starts, ends


def _unions(freezes: Iterable[Freeze]) -> list[tuple[_Union, list[Freeze]]]:
    """The recurring ``freezes`` grouped by zone and day rule: one :class:`_Union` each, and its freezes."""
    groups: dict[tuple[object, ...], tuple[list[_Recurrence], list[Freeze]]] = {}
    for freeze in freezes:
        recurrence = _recurrence(freeze)
        key = (recurrence.zone, recurrence.rule)
        members, named = groups.setdefault(key, ([], []))
        members.append(recurrence)
        named.append(freeze)
    return [(_union_of(tuple(members)), named) for members, named in groups.values()]


@lru_cache(maxsize=64)  # each column of the board asks again for the same freezes
def _union_of(members: tuple[_Recurrence, ...]) -> _Union:
    return _Union(members)


@lru_cache(maxsize=1024)
def _union_cover(union: _Union, start: int, end: int) -> tuple[tuple[int, int], ...]:
    return tuple(union.spans(start, end))


@lru_cache(maxsize=4096)
def _cover(recurrence: _Recurrence, start: int, end: int) -> tuple[tuple[int, int], ...]:
    return tuple(recurrence.spans(start, end))


@lru_cache(maxsize=1 << 16)
def _midnight_offset(zone: ZoneInfo, ordinal: int) -> int:
    """The UTC offset of local midnight (the first, if it happens twice) on a day, in ticks."""
    day = date.fromordinal(ordinal)
    offset = datetime(day.year, day.month, day.day, tzinfo=zone).utcoffset()
    assert offset is not None
    return offset // _TICK


@lru_cache(maxsize=1024)
def _exact_begins(spec: CronSpec, zone: ZoneInfo, ordinal: int) -> tuple[int, ...]:
    """Every begin on a day with a clock change, wall time by wall time, sorted and distinct."""
    day = date.fromordinal(ordinal)
    return tuple(sorted({_begin(zone, day, hour, minute) for hour, minute in spec.times}))


@lru_cache(maxsize=1024)
def _exact_spans(spec: CronSpec, zone: ZoneInfo, length: int, ordinal: int, slack: int) -> tuple[list[int], list[int]]:
    return _merge(_exact_begins(spec, zone, ordinal), length, slack)


def _begin(zone: ZoneInfo, day: date, hour: int, minute: int) -> int:
    """The instant (ticks) the wall time ``hour:minute`` of ``day`` in ``zone`` fires at, by the one
    rule for every local time (:func:`relman_tui.timeutil.local_offset`: gap → 03:30, repeat → first)."""
    offset = local_offset(day.year, day.month, day.day, hour, minute, zone)
    return (day.toordinal() - _EPOCH_DAY) * _DAY + (hour * 60 + minute) * _MINUTE - offset // _TICK


def _merge(begins: Iterable[int], length: int, slack: int) -> tuple[list[int], list[int]]:
    """``[begin, begin + length)`` for sorted ``begins``, those at most ``slack`` apart merged."""
    starts: list[int] = []
    ends: list[int] = []
    for begin in begins:
        if ends and begin <= ends[-1] + slack:
            ends[-1] = max(ends[-1], begin + length)
        else:
            starts.append(begin)
            ends.append(begin + length)
    return starts, ends
