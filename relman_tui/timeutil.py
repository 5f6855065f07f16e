"""Reading and writing times and durations, and the clock that says what *now* is."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["UTC", "Clock", "FixedClock", "SystemClock"]
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pendulum
from pendulum.parsing.exceptions import ParserError
from pendulum.tz.exceptions import InvalidTimezone
from pendulum.tz.local_timezone import get_local_timezone

from relman_tui.errors import BadInput

_STAMP = "%Y-%m-%dT%H:%M:%SZ"

_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"  # date
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)?"  # optional time
    r"(?:Z|[+-]\d{2}:?\d{2})?"  # optional offset
)
_CLOCK_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class Clock(Protocol):
    """Where *now* comes from; the model never reads the system clock itself."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)


class FixedClock:
    """A clock that only moves when told to; for tests, screenshots and `--now`."""

    def __init__(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, by: timedelta) -> None:
        self._at += by


def zone(name: str) -> pendulum.Timezone | pendulum.FixedTimezone:
    """An IANA zone by name; bad names are bad input."""
    try:
        ZoneInfo(name)  # the IANA database decides, not pendulum's aliases ("utc", directories)
        return pendulum.timezone(name)
    except (InvalidTimezone, ValueError, OSError, ZoneInfoNotFoundError) as exc:
        raise BadInput(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from exc


def local_zone_name() -> str:
    try:
        return str(get_local_timezone().name)
    except Exception:  # an unusual /etc/localtime: fall back rather than refuse to start
        return "UTC"


def parse_duration(text: str) -> timedelta:
    """``90m``, ``2h``, ``1h30m``, ``3d``, ``1w`` (also ``45s``); must be positive."""
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise BadInput(f"bad duration {text!r} (use forms like 90m, 2h, 1h30m, 3d)")
    parts = {_UNITS[unit]: int(value) for unit, value in zip("wdhms", match.groups(), strict=True) if value}
    result = timedelta(**parts)
    if result <= timedelta(0):
        raise BadInput(f"duration {text!r} must be longer than zero")
    return result


def format_duration(delta: timedelta) -> str:
    """The inverse of :func:`parse_duration`, shortest form: ``1h30m``, ``2d``."""
    seconds = int(delta.total_seconds())
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0m"


def parse_time(text: str, tz: str, now: datetime) -> datetime:
    """A time typed by a person, read in ``tz`` unless it carries an offset; returns UTC.

    Accepts ISO 8601 (``2026-12-01T14:00``, ``2026-12-01 14:00``, ``…Z``, ``…+01:00``),
    ``now``, ``today``, ``tomorrow``, a clock time ``14:00`` (today in ``tz``), and
    relative forms ``+2h`` / ``-30m`` (from now) or ``now+1h30m``.
    """
    return _plain_utc(_parse_time(text, tz, now))


def _plain_utc(moment: datetime) -> datetime:
    # pendulum's DateTime subtracts into an Interval whose floor division by a stdlib
    # timedelta breaks; the rest of relman does arithmetic on plain datetimes.
    utc = moment.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, tzinfo=UTC)


def _parse_time(text: str, tz: str, now: datetime) -> datetime:
    raw = text.strip()
    lowered = raw.lower()
    if lowered == "now":
        return now.astimezone(UTC)
    relative = lowered[3:] if lowered.startswith("now") else lowered
    if relative[:1] in "+-" and relative:
        delta = parse_duration(relative[1:])
        return (now + delta if relative[0] == "+" else now - delta).astimezone(UTC)
    local_now = pendulum.instance(now).in_timezone(zone(tz))
    if lowered in ("today", "tomorrow"):
        day = local_now.start_of("day")
        return (day.add(days=1) if lowered == "tomorrow" else day).in_timezone("UTC")
    clock = _CLOCK_TIME.fullmatch(lowered)
    if clock:
        hour, minute = int(clock[1]), int(clock[2])
        if hour > 23 or minute > 59:
            raise BadInput(f"bad time {text!r}")
        return local_now.replace(hour=hour, minute=minute, second=0, microsecond=0).in_timezone("UTC")
    if not _ISO.fullmatch(raw):
        raise BadInput(f"bad time {text!r} (use 2026-12-01T14:00, now, +2h or 14:00)")
    try:
        parsed = pendulum.parse(raw, tz=zone(tz))
    except (ParserError, ValueError) as exc:
        raise BadInput(f"bad time {text!r}: {exc}") from exc
    assert isinstance(parsed, datetime)
    return parsed.astimezone(UTC).replace(microsecond=0)


def to_stamp(moment: datetime) -> str:
    """UTC, as stored and as printed in JSON: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(UTC).strftime(_STAMP)


def from_stamp(text: str) -> datetime:
    # A board reads two stamps per release and per window: fromisoformat is some thirty times
    # faster than strptime, and the shape check keeps it to exactly the stored form.
    if len(text) == 20 and text[4] + text[7] + text[10] + text[13] + text[16] + text[19] == "--T::Z":
        try:
            return datetime.fromisoformat(text)  # reads the Z as UTC itself
        except ValueError:
            pass
    try:
        return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)
    except ValueError as exc:
        raise BadInput(f"bad stored time {text!r}") from exc


def in_zone(moment: datetime, tz: str) -> datetime:
    return pendulum.instance(moment).in_timezone(zone(tz))


def format_local(moment: datetime, tz: str, with_zone: bool = True) -> str:
    local = in_zone(moment, tz)
    text = local.strftime("%Y-%m-%d %H:%M")
    return f"{text} {local.tzname()}" if with_zone else text


def relative(moment: datetime, now: datetime) -> str:
    """``in 3h``, ``in 2d``, ``overdue 20m``, ``now`` — coarse, for cards and tables."""
    seconds = int((moment - now).total_seconds())
    if abs(seconds) < 60:
        return "now"
    span = abs(seconds)
    if span < 3600:
        text = f"{span // 60}m"
    elif span < 86400:
        hours, rest = divmod(span, 3600)
        text = f"{hours}h{rest // 60:02d}m" if hours < 10 and rest >= 60 else f"{hours}h"
    else:
        text = f"{span // 86400}d"
    return f"in {text}" if seconds > 0 else f"overdue {text}"
