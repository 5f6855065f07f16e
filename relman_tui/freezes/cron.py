"""Freeze rules as text: the 5-field cron parser, zone names, and the short description of a freeze."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from relman_tui.errors import BadInput
from relman_tui.model import Freeze
from relman_tui.timeutil import zone_info

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


def _utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: relman passes times as aware UTC")
    return moment.astimezone(UTC)
