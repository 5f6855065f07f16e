"""Reading and writing times and durations, and the clock that says what *now* is."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

__all__ = ["UTC", "Clock", "FixedClock", "SystemClock"]
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relman_tui.errors import BadInput

_STAMP = "%Y-%m-%dT%H:%M:%SZ"
_ONE_DAY = timedelta(days=1)  # a calendar step between local dates; durations are real hours

_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"  # date
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"  # optional time; a fraction is dropped
    r"(?:\s*(Z|[+-]\d{2}(?::?\d{2})?)"  # optional offset: Z, +01:00, +0100, -03 …
    r"|\s+([A-Z]{2,6}))?",  # … or the zone's abbreviation, as format_local shows it: CEST, CET
    re.IGNORECASE | re.ASCII,  # ASCII: no other digits, and no "ſ" read as an "s"
)
_DAY_AND_CLOCK = re.compile(r"(today|tomorrow)(?:\s+(\d{1,2}):(\d{2}))?|(\d{1,2}):(\d{2})", re.ASCII)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class Clock(Protocol):
    """Where *now* comes from; the model never reads the system clock itself."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)


class FixedClock:
    """A clock that only moves when told to; for tests, screenshots and `--now`."""

    def __init__(self, at: datetime, *, from_environment: bool = False) -> None:
        self._at = at.astimezone(UTC)
        # set by `$RELMAN_NOW`: a time anyone can type, so writes under it need the board's fixed_clock
        self.from_environment = from_environment

    def now(self) -> datetime:
        return self._at

    def advance(self, by: timedelta) -> None:
        self._at += by


def local_zone_name() -> str:
    """The system's zone, as pendulum finds it ($TZ, /etc/timezone, /etc/localtime); only imported
    when neither --tz, the user config nor $RELMAN_TZ names one."""
    try:
        from pendulum.tz.local_timezone import get_local_timezone

        name = str(get_local_timezone().name)
        zone_info(name)
    except Exception:  # an unusual /etc/localtime: fall back rather than refuse to start
        return "UTC"
    return name


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

    Accepts ISO 8601 (``2026-12-01T14:00``, ``2026-12-01 14:00``, ``…Z``, ``…+01:00``, or
    ``… CEST``: the zone's abbreviation, as :func:`format_local` shows an ambiguous time),
    ``now``, ``today``, ``tomorrow``, a clock time ``14:00`` (today in ``tz``),
    ``today 14:00``, ``tomorrow 10:00``, and relative forms ``+2h`` / ``-30m`` (from now) or
    ``now+1h30m``. Local times that do not exist or happen twice follow :func:`resolve_local`;
    ``today``, ``tomorrow`` and a bare date are the day's first instant (:func:`start_of_day`).
    """
    return _plain_utc(_parse_time(text, tz, now))


def resolve_local(year: int, month: int, day: int, hour: int, minute: int, tz: ZoneInfo, second: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in ``tz``: the one rule for every typed time and freeze start.

    RFC 5545's (3.3.5): a time in a spring-forward gap is read with the UTC offset from
    before the gap (02:30 on a 02:00→03:00 day is 03:30); a time that happens twice (the
    repeated autumn hour) is the first of the two.
    """
    offset = local_offset(year, month, day, hour, minute, tz, second)
    return (datetime(year, month, day, hour, minute, second) - offset).replace(tzinfo=UTC)


def local_offset(year: int, month: int, day: int, hour: int, minute: int, tz: ZoneInfo, second: int = 0) -> timedelta:
    """The UTC offset :func:`resolve_local` reads that wall time with (the rule, as an offset: no
    arithmetic on the instant, so it holds at the very edges of the calendar too)."""
    # fold=0 is exactly that rule (PEP 495): in a gap zoneinfo applies the offset in force
    # before the transition, in an overlap it picks the earlier instant.
    offset = datetime(year, month, day, hour, minute, second, tzinfo=tz).utcoffset()
    assert offset is not None
    return offset


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first existing instant of the local ``day`` in ``tz``, in UTC: what ``today`` and ``tomorrow`` mean.

    Midnight, unless the zone springs forward at midnight that day (America/Santiago on
    2026-09-06, Africa/Cairo, Asia/Beirut, America/Havana …): then 01:00. From 2000 to 2100
    no IANA zone has a gap that starts before midnight and ends after it (a scan of every
    zone found none), so :func:`resolve_local` of 00:00 is that first instant.
    """
    return resolve_local(day.year, day.month, day.day, 0, 0, tz)


@lru_cache(maxsize=64)
def zone_info(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Europe/Berlin``, ``UTC``); anything else is bad input."""
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):  # OSError: "Europe" is a directory
        raise BadInput(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from None


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
    local = zone_info(tz)
    clock = _DAY_AND_CLOCK.fullmatch(lowered)
    if clock:
        word, hour_text, minute_text = clock[1], clock[2] or clock[4], clock[3] or clock[5]
        day = now.astimezone(local).date() + (_ONE_DAY if word == "tomorrow" else timedelta(0))
        if hour_text is None:
            return start_of_day(day, local)
        hour, minute = int(hour_text), int(minute_text)
        if hour > 23 or minute > 59:
            raise BadInput(f"bad time {text!r}")
        return resolve_local(day.year, day.month, day.day, hour, minute, local)
    iso = _ISO.fullmatch(raw)
    if iso is None:
        raise BadInput(f"bad time {text!r} (use 2026-12-01 14:00, 14:00, tomorrow 10:00, now or +2h)")
    year, month, day_of_month = int(iso[1]), int(iso[2]), int(iso[3])
    hour, minute, second = (int(part) if part else 0 for part in iso.group(4, 5, 6))
    try:
        wall = datetime(year, month, day_of_month, hour, minute, second)
        if iso[7]:
            return wall.replace(tzinfo=_offset(iso[7])).astimezone(UTC)
    except ValueError as exc:
        raise BadInput(f"bad time {text!r}: {exc}") from None
    if iso[8]:
        return _with_abbreviation(wall, iso[8], local, text)
    if iso[4] is None:
        return start_of_day(wall.date(), local)
    return resolve_local(year, month, day_of_month, hour, minute, local, second)


def _offset(text: str) -> timezone:
    """``Z``, ``+01:00``, ``+0100`` or ``-03`` as a fixed zone."""
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {text} is out of range")
    size = timedelta(hours=hours, minutes=minutes)
    return timezone(-size if text[0] == "-" else size)


def _with_abbreviation(wall: datetime, abbreviation: str, local: ZoneInfo, text: str) -> datetime:
    """``wall`` read with the offset ``local`` calls ``abbreviation`` at that wall time (CEST or CET)."""
    readings = [wall.replace(tzinfo=local, fold=fold) for fold in (0, 1)]
    for reading in readings:
        if str(reading.tzname()).upper() == abbreviation.upper():
            return reading.astimezone(UTC)
    names = " or ".join(dict.fromkeys(str(reading.tzname()) for reading in readings))
    raise BadInput(f"bad time {text!r}: {local.key} calls {wall:%Y-%m-%d %H:%M} {names}, not {abbreviation}")


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
    return moment.astimezone(zone_info(tz))


def format_local(moment: datetime, tz: str, with_zone: bool = True) -> str:
    """``2026-12-01 11:00 CET`` (``with_zone``) or ``2026-12-01 11:00``.

    Without the zone a time in the repeated autumn hour still carries it, as its only
    possible reading: ``2026-10-25 02:00 CEST`` and ``2026-10-25 02:00 CET`` are an hour
    apart. Where the zone uses one abbreviation on both sides of the change, the UTC offset
    stands in for it (``+04:00``). :func:`parse_time` reads either form back.
    """
    local = moment.astimezone(zone_info(tz))
    text = f"{local:%Y-%m-%d %H:%M}"
    mark = _ambiguity(local)
    if mark:
        return f"{text} {mark}"
    return f"{text} {local.tzname()}" if with_zone else text


def zone_mark(moment: datetime, tz: str) -> str:
    """``" CET"`` where the wall time of ``moment`` in ``tz`` happens twice (so a short time shown
    without its zone still says which one it is), else ``""``."""
    mark = _ambiguity(moment.astimezone(zone_info(tz)))
    return f" {mark}" if mark else ""


def _ambiguity(local: datetime) -> str:
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() == local.utcoffset():
        return ""
    label = str(local.tzname())  # the wall time happens twice: name which
    return label if label != other.tzname() else _show_offset(local)


def _show_offset(local: datetime) -> str:
    offset = local.utcoffset() or timedelta(0)
    sign, size = ("-", -offset) if offset < timedelta(0) else ("+", offset)
    hours, rest = divmod(int(size.total_seconds()) // 60, 60)
    return f"{sign}{hours:02d}:{rest:02d}"


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
