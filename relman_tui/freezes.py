"""Freeze occurrences: a small cron parser, DST-correct expansion of recurring freezes, their covers (pure)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from calendar import monthrange
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, partial
from heapq import heapify, heappop, heappush
from itertools import repeat
from operator import add, itemgetter
from zoneinfo import ZoneInfo

from relman_tui.errors import BadInput
from relman_tui.model import ALL_ENVIRONMENTS, Freeze, Occurrence
from relman_tui.timeutil import local_offset, zone_info

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_NUMBER = re.compile(r"[0-9]+")
_FIELD_NAMES = "minute hour day-of-month month day-of-week"
# The longest each month can be; 29 for February, which leap years give every weekday in turn.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, {name: number for number, name in enumerate(_MONTHS, start=1)}),
    _Field("day-of-week", 0, 7, {name: number for number, name in enumerate(_DAYS)}),
)


@dataclass(frozen=True, slots=True)
class CronSpec:
    """A parsed 5-field cron expression: the values each field allows.

    ``weekdays`` counts from 0 = Sunday (a 7 in the expression is folded to 0).
    ``any_day`` / ``any_weekday`` say the day-of-month / day-of-week field began with
    ``*``; as in Vixie cron, when neither does, a day matches if *either* field matches.
    """

    expr: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @property
    def times(self) -> tuple[tuple[int, int], ...]:
        """Every ``(hour, minute)`` of a matching day, in order."""
        return tuple((hour, minute) for hour in sorted(self.hours) for minute in sorted(self.minutes))

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = day.isoweekday() % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return by_date and by_weekday
        return by_date or by_weekday


class _CronError(Exception):
    """A problem in one field; :func:`parse_cron` adds the whole expression to the message."""


def parse_cron(expr: str) -> CronSpec:
    """``minute hour day-of-month month day-of-week``, or one of ``@hourly`` … ``@yearly``.

    Each field is ``*``, a number, a range ``a-b``, a step ``*/n`` or ``a-b/n``, or a
    comma-separated list of those; months and days may be given by their English
    three-letter names, in any case. Anything else is :class:`BadInput`, and so is an
    expression that can never fire (``0 0 30 2 *``).
    """
    return _parse_cron(expr)


@lru_cache(maxsize=256)  # every expansion re-reads its freeze's expression
def _parse_cron(expr: str) -> CronSpec:
    text = expr.strip()
    source = _MACROS.get(text.lower(), text)
    try:
        stray = next((char for char in text if not " " <= char <= "~" and char != "\t"), None)
        if stray is not None:  # refused before any case folding: "ſun".upper() is "SUN"
            raise _CronError(f"only printable ASCII is allowed (found U+{ord(stray):04X})")
        if source.startswith("@"):
            raise _CronError(f"unknown macro {text!r} (use @hourly, @daily, @weekly, @monthly or @yearly)")
        parts = source.split()
        if len(parts) != 5:
            raise _CronError(f"expected 5 fields ({_FIELD_NAMES}), got {len(parts)}")
        minutes, hours, days, months, weekdays = (
            _parse_field(part, field) for part, field in zip(parts, _FIELDS, strict=True)
        )
        any_day, any_weekday = parts[2].startswith("*"), parts[4].startswith("*")
        # Only the day-and-month pairs can make an expression barren: every date that exists
        # falls on every weekday in some year, and when both day fields are restricted the
        # weekdays alone fire (Vixie's either-rule), so `0 0 30 2 MON` does fire.
        if (any_day or any_weekday) and not any(day <= _MONTH_DAYS[month - 1] for day in days for month in months):
            raise _CronError(f"it can never fire: day-of-month {parts[2]!r} never falls in month {parts[3]!r}")
    except _CronError as exc:
        raise BadInput(f"bad cron expression {expr!r}: {exc}") from None
    return CronSpec(
        expr=text,
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        weekdays=frozenset(day % 7 for day in weekdays),
        any_day=any_day,
        any_weekday=any_weekday,
    )


def _parse_field(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _CronError(f"{field.name} {text!r} has an empty item")
        values.update(_parse_item(item, field))
    return frozenset(values)


def _parse_item(item: str, field: _Field) -> range:
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not _NUMBER.fullmatch(step_text):
            raise _CronError(f"{field.name} step {step_text!r} is not a number")
        step = int(step_text)
        if step == 0:
            raise _CronError(f"{field.name} step in {item!r} must be at least 1")
    if base == "*":
        low, high = field.low, field.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, field), _value(last, field)
        if low > high:
            raise _CronError(f"{field.name} range {base!r} is reversed")
    elif slash:
        # "5/15" means different things to different crons; make the reader say which.
        hint = f"{base}-{field.high}/{step}"
        raise _CronError(f"{field.name} step {item!r} needs * or a range before the '/', e.g. {hint}")
    else:
        low = high = _value(base, field)
    return range(low, high + 1, step)


def _value(token: str, field: _Field) -> int:
    if _NUMBER.fullmatch(token):
        number = int(token)
    elif token.upper() in field.names:
        return field.names[token.upper()]
    else:
        kind = "a number or name" if field.names else "a number"
        raise _CronError(f"{field.name} {token!r} is not {kind}")
    if not field.low <= number <= field.high:
        raise _CronError(f"{field.name} {number} is out of range {field.low}-{field.high}")
    return number


def validate_zone(name: str) -> None:
    """Refuse anything that is not an IANA zone name (``Europe/Berlin``, ``UTC``)."""
    zone_info(name)


# --- instants as integers -------------------------------------------------------------------
#
# Inside the expansion an instant is an int count of microseconds since the Unix epoch (the
# unit of conflicts.ticks): exact, fast, and free of the calendar's edges — a freeze that runs
# 999999 weeks past year 9999 is only a large number here, and becomes a datetime again only
# clamped to the calendar.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)
_MINUTE = 60_000_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_EPOCH_DAY = _EPOCH.date().toordinal()
_LAST_DAY = date.max.toordinal()
_FIRST_TICK = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _TICK
_LAST_TICK = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _TICK

OCCURRENCES_MAX = 10_000  # occurrences() lists at most this many, so no span can make it hang
# How far a cover is followed past the span asked about. No freeze may last longer than 366
# days (limits.FREEZE_MAX), so a cover still going two years on is open-ended in practice:
# "frozen until further notice".
REACH = timedelta(days=2 * 366)
_REACH = REACH // _TICK


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


def _first_day(t: int) -> int:
    """The first local day (ordinal) that can hold a begin at or after ``t``, in any zone:
    offsets lie within a day either side of UTC, and a gap may carry a wall time past midnight."""
    return t // _DAY + _EPOCH_DAY - 2


def _last_day(t: int) -> int:
    """The last local day (ordinal) that can hold a begin before ``t``, in any zone."""
    return (t - 1) // _DAY + _EPOCH_DAY + 1


# --- one-off freezes and conversions ----------------------------------------------------------


def _one_off(freeze: Freeze) -> tuple[int, int]:
    if freeze.start is None or freeze.end is None:
        raise BadInput(f"freeze {freeze.id} has neither a cron expression nor a start and an end")
    first, last = _ticks(freeze.start), _ticks(freeze.end)
    if first >= last:
        raise BadInput(f"freeze {freeze.id}: start must be before end")
    return first, last


def _ticks(moment: datetime) -> int:
    """An aware datetime as ticks; no conversion, so the calendar's edges cannot overflow."""
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: relman passes times as aware UTC")
    return (moment - _EPOCH) // _TICK


def _moment(value: int) -> datetime:
    """Ticks as an aware UTC datetime, clamped to the calendar."""
    return _EPOCH + timedelta(microseconds=min(max(value, _FIRST_TICK), _LAST_TICK))


def describe(freeze: Freeze) -> str:
    """Short text for tables: ``Fri 18:00 for 62h (Europe/Berlin)``, or a one-off span in UTC."""
    if not freeze.recurring:
        if freeze.start is None or freeze.end is None:
            return "(incomplete freeze)"
        return f"{_utc(freeze.start):%Y-%m-%d %H:%M} – {_utc(freeze.end):%Y-%m-%d %H:%M} UTC"
    assert freeze.cron is not None
    length = _length(freeze.duration) if freeze.duration is not None else "?"
    return f"{_when(parse_cron(freeze.cron))} for {length} ({freeze.zone or 'UTC'})"


def _when(spec: CronSpec) -> str:
    """``Fri 18:00``, ``Mon-Fri 07:30``, ``daily 00:00``; anything fancier as the cron text."""
    # ``1-31`` is not ``*``: with a day-of-week beside it, Vixie's either-rule makes it every day.
    every_date = spec.any_day and len(spec.days) == 31 and len(spec.months) == 12
    if len(spec.hours) != 1 or len(spec.minutes) != 1 or not every_date:
        return f"cron {spec.expr}"
    clock = f"{min(spec.hours):02d}:{min(spec.minutes):02d}"
    if len(spec.weekdays) == 7:
        return f"daily {clock}"
    return f"{_weekday_names(spec.weekdays)} {clock}"


def _weekday_names(weekdays: frozenset[int]) -> str:
    """Monday first, with runs of three or more days as a range: ``Mon-Fri``, ``Sat,Sun``."""
    order = sorted((day + 6) % 7 for day in weekdays)  # 0 = Monday
    runs: list[list[int]] = []
    for day in order:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    name = [day.title() for day in (*_DAYS[1:], _DAYS[0])]
    parts = [f"{name[r[0]]}-{name[r[-1]]}" if len(r) >= 3 else ",".join(name[d] for d in r) for r in runs]
    return ",".join(parts)


def _length(duration: timedelta) -> str:
    """Whole days as ``3d``, anything else in hours: ``62h``, ``1h30m``, ``45m``."""
    seconds = int(duration.total_seconds())
    if seconds > 0 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n) or "0m"


def _occurrence(freeze: Freeze, start: datetime, end: datetime) -> Occurrence:
    return Occurrence(freeze.id, freeze.environments, freeze.reason, start, end)


def _utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: relman passes times as aware UTC")
    return moment.astimezone(UTC)
