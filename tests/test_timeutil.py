"""Times and durations as a person types them, read in the operator's zone, returned in UTC."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relman_tui.errors import BadInput
from relman_tui.freezes import occurrences
from relman_tui.model import Freeze
from relman_tui.timeutil import (
    FixedClock,
    format_duration,
    format_local,
    from_stamp,
    in_zone,
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


# --- one rule for local times that do not exist or happen twice (issue 15) ----------------------------------


def at_local(zone: str, year: int, month: int, day: int, hour: int) -> datetime:
    """A moment given as an existing, unambiguous wall time in ``zone`` (for *now*)."""
    return datetime(year, month, day, hour, tzinfo=ZoneInfo(zone)).astimezone(UTC)


SPRING = at_local(BERLIN, 2026, 3, 29, 12)  # Berlin skips 02:00-03:00 this day
AUTUMN = at_local(BERLIN, 2026, 10, 25, 12)  # and passes 02:00-03:00 twice this day


@pytest.mark.parametrize(
    ("text", "now"),
    [
        ("2026-03-29 02:30", SPRING),
        ("2026-03-29T02:30", SPRING),
        ("2026-03-29t02:30", SPRING),
        ("02:30", SPRING),
        ("today 02:30", SPRING),
        ("tomorrow 02:30", SPRING - timedelta(days=1)),
    ],
)
def test_a_time_in_the_spring_gap_takes_the_offset_from_before_it(text: str, now: datetime) -> None:
    """02:30 read at +01:00 is 01:30 UTC, 03:30 CEST: the gap's length later, never earlier."""
    assert parse_time(text, BERLIN, now) == utc(2026, 3, 29, 1, 30)
    assert format_local(parse_time(text, BERLIN, now), BERLIN) == "2026-03-29 03:30 CEST"


@pytest.mark.parametrize(
    ("text", "now"),
    [
        ("2026-10-25 02:30", AUTUMN),
        ("2026-10-25T02:30", AUTUMN),
        ("02:30", AUTUMN),
        ("today 02:30", AUTUMN),
        ("tomorrow 02:30", AUTUMN - timedelta(days=1)),
    ],
)
def test_a_time_that_happens_twice_is_the_first(text: str, now: datetime) -> None:
    assert parse_time(text, BERLIN, now) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, not 02:30 CET
    assert format_local(parse_time(text, BERLIN, now), BERLIN, with_zone=False) == "2026-10-25 02:30 CEST"


def test_the_zone_abbreviation_picks_one_of_the_two() -> None:
    assert parse_time("2026-10-25 02:30 CEST", BERLIN, NOW) == utc(2026, 10, 25, 0, 30)
    assert parse_time("2026-10-25 02:30 CET", BERLIN, NOW) == utc(2026, 10, 25, 1, 30)
    assert parse_time("2026-10-25 02:30 cet", BERLIN, NOW) == utc(2026, 10, 25, 1, 30)
    assert parse_time("2026-12-01 14:00 CET", BERLIN, NOW) == utc(2026, 12, 1, 13)
    # Santiago's abbreviations are offsets, and read as such
    assert parse_time("2026-04-04 23:30 -03", "America/Santiago", NOW) == utc(2026, 4, 5, 2, 30)
    assert parse_time("2026-04-04 23:30 -04", "America/Santiago", NOW) == utc(2026, 4, 5, 3, 30)
    with pytest.raises(BadInput, match=r"Europe/Berlin calls 2026-10-25 02:30 CEST or CET, not EST"):
        parse_time("2026-10-25 02:30 EST", BERLIN, NOW)
    with pytest.raises(BadInput, match=r"calls 2026-12-01 14:00 CET, not CEST"):
        parse_time("2026-12-01 14:00 CEST", BERLIN, NOW)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("America/Santiago", date(2026, 9, 6)),
        ("Africa/Cairo", date(2026, 4, 24)),
        ("Asia/Beirut", date(2026, 3, 29)),
        ("America/Havana", date(2026, 3, 8)),
    ],
)
def test_today_and_tomorrow_on_a_day_that_springs_forward_at_midnight(zone: str, day: date) -> None:
    """Midnight does not exist that day: the day starts at 01:00, and never on the evening before."""
    noon = at_local(zone, day.year, day.month, day.day, 12)
    first = at_local(zone, day.year, day.month, day.day, 1)
    assert first - at_local(zone, day.year, day.month, day.day - 1, 23) == timedelta(hours=1)  # the gap is 00:00-01:00
    evening_before = at_local(zone, day.year, day.month, day.day - 1, 18)
    for text, now in [
        ("today", noon),
        ("tomorrow", evening_before),
        ("00:00", noon),
        ("today 00:00", noon),
        ("tomorrow 00:00", evening_before),
        (f"{day}", noon),
        (f"{day} 00:00", noon),
    ]:
        assert parse_time(text, zone, now) == first, text
    assert parse_time("00:30", zone, noon) == first + timedelta(minutes=30)
    assert parse_time("tomorrow", zone, noon) == at_local(zone, day.year, day.month, day.day + 1, 0)
    assert in_zone(first, zone).strftime("%Y-%m-%d %H:%M") == f"{day} 01:00"


def test_santiago_tomorrow_is_the_next_local_midnight() -> None:
    """The repro of issue 15: it used to give 2026-09-06 23:00 -03, the evening before."""
    now = utc(2026, 9, 6, 12)  # 09:00 -03 on the day Santiago springs forward at midnight
    assert parse_time("tomorrow", "America/Santiago", now) == utc(2026, 9, 7, 3)  # 2026-09-07 00:00 -03
    assert parse_time("today", "America/Santiago", now) == utc(2026, 9, 6, 4)  # 2026-09-06 01:00 -03


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 10:00", utc(2026, 12, 2, 9)),
        ("Tomorrow  9:05", utc(2026, 12, 2, 8, 5)),
        ("today 17:00", utc(2026, 12, 1, 16)),
        ("TODAY 00:00", utc(2026, 11, 30, 23)),
        ("today 23:59", utc(2026, 12, 1, 22, 59)),
    ],
)
def test_today_and_tomorrow_with_a_clock_time(text: str, expected: datetime) -> None:
    assert parse_time(text, BERLIN, NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "today 24:00",
        "tomorrow 10:60",
        "tomorrow10:00",
        "tomorrow 10",
        "today at 10:00",
        "yesterday 10:00",
        "tomorrow 10:00:00",
        "2026-12-01 14:00 +25:00",
        "2026-12-01 14:00 +01:75",
        "2026-12-01 14:00 Berlin",
        "2026-12-01 14:00 ſt",
        "２026-12-01",
        "2026-12-01 １4:00",
        "2026-02-29 10:00",
        "2026-12-01 14:00:60",
    ],
)
def test_bad_day_and_clock_forms_are_refused(text: str) -> None:
    with pytest.raises(BadInput, match=r"^bad time"):
        parse_time(text, BERLIN, NOW)


def test_ambiguous_times_are_shown_with_their_zone() -> None:
    first, second = utc(2026, 10, 25, 0), utc(2026, 10, 25, 1)  # both 02:00 in Berlin
    assert format_local(first, BERLIN, with_zone=False) == "2026-10-25 02:00 CEST"
    assert format_local(second, BERLIN, with_zone=False) == "2026-10-25 02:00 CET"
    assert format_local(second, BERLIN) == "2026-10-25 02:00 CET"
    # either side of the repeated hour, and in the spring, a time stays as it was
    assert format_local(first - timedelta(minutes=1), BERLIN, with_zone=False) == "2026-10-25 01:59"
    assert format_local(second + timedelta(hours=1), BERLIN, with_zone=False) == "2026-10-25 03:00"
    assert format_local(utc(2026, 3, 29, 1), BERLIN, with_zone=False) == "2026-03-29 03:00"
    # Moscow left summer time for good in 2014 keeping "MSK": the offset tells the two apart
    assert format_local(utc(2014, 10, 25, 21), "Europe/Moscow", with_zone=False) == "2014-10-26 01:00 +04:00"
    assert format_local(utc(2014, 10, 25, 22), "Europe/Moscow") == "2014-10-26 01:00 +03:00"


@given(
    st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)),
    st.sampled_from(
        [
            "Europe/Berlin",
            "America/Santiago",
            "Australia/Lord_Howe",
            "Europe/Moscow",
            "America/New_York",
            "Africa/Cairo",
            "UTC",
        ]
    ),
    st.booleans(),
)
def test_a_shown_time_reads_back_as_the_same_minute(moment: datetime, zone: str, with_zone: bool) -> None:
    """What the board and the CLI show can be typed back (the schedule dialog does exactly that)."""
    shown = format_local(moment, zone, with_zone)
    assert parse_time(shown, zone, moment) == moment.replace(second=0, microsecond=0)


# --- the property: every typed form of a wall time is one instant, RFC 5545's --------------------------------

PROPERTY_ZONES = (
    "Europe/Berlin",
    "America/Santiago",  # springs forward at midnight
    "Africa/Cairo",  # springs forward at midnight
    "Asia/Beirut",  # springs forward at midnight
    "America/Havana",  # springs forward at midnight
    "Australia/Lord_Howe",  # a 30-minute change
    "America/New_York",
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",  # no DST at all
)
CASES = 12_000


def readings(wall: datetime, tz: ZoneInfo) -> tuple[list[datetime], datetime]:
    """The oracle, from UTC → local conversions only (no ``fold``): every instant whose wall clock
    reads ``wall``, in order, and the instant RFC 5545 gives it: the first of those, or in a gap
    ``wall`` read with the offset in force before the gap."""
    as_utc = wall.replace(tzinfo=UTC)
    offsets = {(as_utc + timedelta(hours=hours)).astimezone(tz).utcoffset() for hours in range(-16, 17, 2)}
    candidates = sorted(as_utc - offset for offset in offsets if offset is not None)
    hits = [instant for instant in candidates if instant.astimezone(tz).replace(tzinfo=None) == wall]
    if hits:
        return hits, hits[0]
    # In a gap the earliest candidate (``wall`` read with the offset after the gap) lies before the gap.
    before = candidates[0].astimezone(tz).utcoffset()
    assert before is not None
    return hits, as_utc - before


def rfc5545(wall: datetime, tz: ZoneInfo) -> datetime:
    return readings(wall, tz)[1]


def transitions(tz: ZoneInfo, first_year: int, last_year: int) -> list[tuple[datetime, timedelta]]:
    """Each instant ``tz`` changes its offset between two years, with the offset before it."""
    found = []
    instant = datetime(first_year, 1, 1, tzinfo=UTC)
    stop = datetime(last_year, 1, 1, tzinfo=UTC)
    step = timedelta(hours=12)
    while instant < stop:
        before = instant.astimezone(tz).utcoffset()
        assert before is not None
        if (instant + step).astimezone(tz).utcoffset() != before:
            low, high = instant, instant + step
            while high - low > timedelta(minutes=1):  # offsets change on the minute
                middle = low + (high - low) / 2
                low, high = (middle, high) if middle.astimezone(tz).utcoffset() == before else (low, middle)
            found.append((high.replace(second=0, microsecond=0), before))
        instant += step
    return found


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def test_every_typed_form_of_a_wall_time_is_one_instant_rfc_5545s() -> None:
    """Over random wall times in nine zones, half of them within two hours of a change of offset
    (so in gaps and repeated hours): the ISO forms, the clock form on that day, ``today HH:MM``,
    ``tomorrow HH:MM`` from the day before, and a freeze starting then all give the oracle's
    instant; ``today``, ``tomorrow`` and the bare date give the day's first existing instant."""
    rng = random.Random(15)
    changes = {name: transitions(ZoneInfo(name), 2020, 2032) for name in PROPERTY_ZONES}
    tried = {"forms": 0, "gaps": 0, "repeats": 0, "days": 0, "freezes": 0}
    for case in range(CASES):
        name = PROPERTY_ZONES[case % len(PROPERTY_ZONES)]
        tz = ZoneInfo(name)
        if changes[name] and rng.random() < 0.5:
            change, before = rng.choice(changes[name])
            near = change + timedelta(minutes=rng.randrange(-120, 121))
            # the wall clock near the change, as it reads or as it would read without the change
            offset = near.astimezone(tz).utcoffset() if rng.random() < 0.5 else before
            assert offset is not None
            wall = (near + offset).replace(tzinfo=None)
        else:
            wall = datetime(2000, 1, 2) + timedelta(minutes=rng.randrange(100 * 365 * 1440))
        hits, expected = readings(wall, tz)
        day = wall.date()
        yesterday, today, tomorrow = (rfc5545(midnight(day + timedelta(days=n)), tz) for n in (-1, 0, 1))
        on_the_day = today + (tomorrow - today) * rng.random()
        the_day_before = yesterday + (today - yesterday) * rng.random()
        clock = f"{wall.hour}:{wall:%M}" if rng.random() < 0.5 else f"{wall:%H:%M}"
        forms = [
            (f"{wall:%Y-%m-%dT%H:%M}", on_the_day),
            (f"{wall:%Y-%m-%d %H:%M}", the_day_before),
            (clock, on_the_day),
            (f"today {clock}", on_the_day),
            (f"tomorrow {clock}", the_day_before),
        ]
        for text, now in forms:
            assert parse_time(text, name, now) == expected, (name, text, now)
        tried["forms"] += len(forms)
        tried["gaps"] += not hits
        tried["repeats"] += len(hits) > 1
        # a day's first existing instant: on that local day, and a minute earlier on the day before
        for text, now in (("today", on_the_day), ("tomorrow", the_day_before), (f"{day}", on_the_day)):
            start = parse_time(text, name, now)
            assert start == today, (name, text, now)
            assert start.astimezone(tz).date() == day
            assert (start - timedelta(minutes=1)).astimezone(tz).date() < day
            tried["days"] += 1
        if case % 10 == 0:  # a freeze starting at that wall time starts at the same instant
            cron = f"{wall.minute} {wall.hour} {wall.day} {wall.month} *"
            freeze = Freeze(1, ("all",), "x", cron=cron, duration=timedelta(minutes=1), zone=name)
            found = occurrences(freeze, expected - timedelta(hours=2), expected + timedelta(hours=2))
            assert [o.start for o in found] == [expected], (name, wall)
            tried["freezes"] += 1
    assert tried["forms"] >= 5 * 10_000
    assert tried["gaps"] > 250 and tried["repeats"] > 250, tried  # the hard cases were really tried
