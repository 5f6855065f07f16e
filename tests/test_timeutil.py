"""Times and durations as a person types them, read in the operator's zone, returned in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relman_tui.errors import BadInput
from relman_tui.timeutil import (
    FixedClock,
    format_duration,
    format_local,
    from_stamp,
    parse_duration,
    parse_time,
    relative,
    to_stamp,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Berlin (CET, +01:00)
BERLIN = "Europe/Berlin"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- parse_time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # no offset: read in the operator's zone (CET in winter, CEST in summer)
        ("2026-12-01T14:00", utc(2026, 12, 1, 13)),
        ("2026-12-01 14:00", utc(2026, 12, 1, 13)),
        ("2026-12-01T14:00:30", utc(2026, 12, 1, 13, 0, 30)),
        ("2026-07-01T14:00", utc(2026, 7, 1, 12)),
        # an offset wins over the zone
        ("2026-12-01T14:00Z", utc(2026, 12, 1, 14)),
        ("2026-12-01T14:00+01:00", utc(2026, 12, 1, 13)),
        ("2026-12-01T14:00-05:00", utc(2026, 12, 1, 19)),
        ("2026-12-01 14:00+0530", utc(2026, 12, 1, 8, 30)),
        # relative to now
        ("now", NOW),
        ("NOW", NOW),
        ("  now ", NOW),
        ("+2h", utc(2026, 12, 1, 12)),
        ("-30m", utc(2026, 12, 1, 9, 30)),
        ("now+1h30m", utc(2026, 12, 1, 11, 30)),
        ("now-1d", utc(2026, 11, 30, 10)),
        ("+1w", utc(2026, 12, 8, 10)),
        # clock times and days are in the zone: 14:00 Berlin is 13:00 UTC
        ("14:00", utc(2026, 12, 1, 13)),
        ("9:05", utc(2026, 12, 1, 8, 5)),
        ("today", utc(2026, 11, 30, 23)),
        ("tomorrow", utc(2026, 12, 1, 23)),
    ],
)
def test_parse_time_in_berlin(text: str, expected: datetime) -> None:
    assert parse_time(text, BERLIN, NOW) == expected


@pytest.mark.parametrize(
    "text", ["now", "+2h", "-30m", "now+1h30m", "14:00", "today", "tomorrow", "2026-12-01T14:00", "2026-12-01 14:00Z"]
)
def test_parse_time_returns_a_plain_utc_datetime(text: str) -> None:
    """The rest of relman does stdlib arithmetic on these (a pendulum DateTime broke the conflict engine)."""
    moment = parse_time(text, BERLIN, NOW)
    assert type(moment) is datetime
    assert moment.utcoffset() == timedelta(0)
    assert moment.microsecond == 0
    assert (moment - NOW) // timedelta(microseconds=1) == int((moment - NOW).total_seconds()) * 1_000_000


def test_today_is_the_operators_day_not_the_utc_day() -> None:
    late = utc(2026, 12, 1, 23, 30)  # already 2 December in Berlin
    assert parse_time("today", BERLIN, late) == utc(2026, 12, 1, 23)
    assert parse_time("today", "UTC", late) == utc(2026, 12, 1)
    assert parse_time("08:00", BERLIN, late) == utc(2026, 12, 2, 7)


def test_times_are_read_in_the_zone_given() -> None:
    assert parse_time("2026-12-01T14:00", "UTC", NOW) == utc(2026, 12, 1, 14)
    assert parse_time("2026-12-01T14:00", "America/New_York", NOW) == utc(2026, 12, 1, 19)
    assert parse_time("14:00", "Asia/Tokyo", NOW) == utc(2026, 12, 1, 5)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "garbage",
        "yesterdayish",
        "tomorrow 14:00x",
        "25:00",
        "14:60",
        "2026-13-01T10:00",
        "2026-12-32",
        "2026-12-01T25:00",
        "12/01/2026",
        "+",
        "now+",
        "+2x",
        "+-2h",
        "+0m",
        "nowhere",
    ],
)
def test_parse_time_refuses_garbage(text: str) -> None:
    with pytest.raises(BadInput, match=r"time|duration"):
        parse_time(text, BERLIN, NOW)


def test_parse_time_refuses_an_unknown_zone() -> None:
    with pytest.raises(BadInput, match="unknown time zone 'Mars/Base'"):
        parse_time("2026-12-01T14:00", "Mars/Base", NOW)


# --- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        ("2d14h", timedelta(hours=62)),
        (" 1H 30M ", timedelta(hours=1, minutes=30)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0m", "0h0m", "-5m", "2x", "h", "1.5h", "m30", "30m1h", "2 hours"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(BadInput, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=2), "2h"),
        (timedelta(hours=62), "2d14h"),
        (timedelta(days=3), "3d"),
        (timedelta(seconds=45), "45s"),
        (timedelta(days=1, seconds=1), "1d1s"),
    ],
)
def test_format_duration_is_the_shortest_form(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


@given(st.integers(min_value=1, max_value=400 * 86400))
def test_format_duration_round_trips(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


# --- stamps, display and the clock -------------------------------------------------------------------


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_stamps_round_trip_to_the_second(moment: datetime) -> None:
    assert from_stamp(to_stamp(moment)) == moment.replace(microsecond=0)


def test_stamp_format() -> None:
    assert to_stamp(utc(2026, 12, 1, 9, 5, 7)) == "2026-12-01T09:05:07Z"
    with pytest.raises(BadInput):
        from_stamp("2026-12-01 09:05")


def test_format_local_shows_the_zone() -> None:
    assert format_local(NOW, BERLIN) == "2026-12-01 11:00 CET"
    assert format_local(utc(2026, 7, 1, 10), BERLIN) == "2026-07-01 12:00 CEST"
    assert format_local(NOW, "UTC", with_zone=False) == "2026-12-01 10:00"


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timedelta(0), "now"),
        (timedelta(seconds=59), "now"),
        (timedelta(seconds=-59), "now"),
        (timedelta(minutes=1), "in 1m"),
        (timedelta(minutes=-20), "overdue 20m"),
        (timedelta(hours=3), "in 3h"),
        (timedelta(hours=2, minutes=5), "in 2h05m"),
        (timedelta(hours=-2, minutes=-30), "overdue 2h30m"),
        (timedelta(hours=12, minutes=30), "in 12h"),
        (timedelta(days=2, hours=5), "in 2d"),
        (timedelta(days=-3), "overdue 3d"),
    ],
)
def test_relative(offset: timedelta, text: str) -> None:
    assert relative(NOW + offset, NOW) == text


def test_fixed_clock_only_moves_when_told() -> None:
    clock = FixedClock(datetime(2026, 12, 1, 11, 0, tzinfo=ZoneInfo(BERLIN)))
    assert clock.now() == NOW
    assert clock.now().utcoffset() == timedelta(0)
    clock.advance(timedelta(minutes=5))
    assert clock.now() == NOW + timedelta(minutes=5)
