"""Freeze expansion: the cron parser, DST-correct recurrence against a minute-walk oracle, clipping."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relman_tui.errors import BadInput
from relman_tui.freezes import (
    Frozen,
    active_at,
    blocks,
    cover_spans,
    covers,
    describe,
    expand,
    frozen_until,
    occurrences,
    parse_cron,
    validate_zone,
)
from relman_tui.model import Freeze, Occurrence

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
ALL_MINUTES = frozenset(range(60))
ALL_HOURS = frozenset(range(24))
ALL_DAYS = frozenset(range(1, 32))
ALL_MONTHS = frozenset(range(1, 13))
ALL_WEEKDAYS = frozenset(range(7))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def recurring(cron: str, duration: timedelta, zone: str, freeze_id: int = 1) -> Freeze:
    return Freeze(freeze_id, ("prod",), "frozen", cron=cron, duration=duration, zone=zone)


def one_off(start: datetime, end: datetime, freeze_id: int = 1, environments: tuple[str, ...] = ("all",)) -> Freeze:
    return Freeze(freeze_id, environments, "one-off", start=start, end=end)


# --- the parser -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "field", "expected"),
    [
        ("* * * * *", "minutes", ALL_MINUTES),
        ("*/15 * * * *", "minutes", {0, 15, 30, 45}),
        ("10-20/5 * * * *", "minutes", {10, 15, 20}),
        ("1,2,30-32 * * * *", "minutes", {1, 2, 30, 31, 32}),
        ("05 * * * *", "minutes", {5}),
        ("*/90 * * * *", "minutes", {0}),
        ("0 9-17 * * *", "hours", set(range(9, 18))),
        ("0 */6 * * *", "hours", {0, 6, 12, 18}),
        ("0 0 1,15,31 * *", "days", {1, 15, 31}),
        ("0 0 * jan,Mar,DEC *", "months", {1, 3, 12}),
        ("0 0 * JAN-MAR *", "months", {1, 2, 3}),
        ("0 0 * */3 *", "months", {1, 4, 7, 10}),
        ("0 0 * * 7", "weekdays", {0}),
        ("0 0 * * 0", "weekdays", {0}),
        ("0 0 * * 5-7", "weekdays", {5, 6, 0}),
        ("0 0 * * mon-fri", "weekdays", {1, 2, 3, 4, 5}),
        ("0 0 * * SUN,sat", "weekdays", {0, 6}),
        ("0 0 * * *", "weekdays", ALL_WEEKDAYS),
        ("0 0 * * */2", "weekdays", {0, 2, 4, 6}),
        ("  0   18 *  * FRI  ", "weekdays", {5}),
    ],
)
def test_parse_fields(expr: str, field: str, expected: set[int]) -> None:
    assert getattr(parse_cron(expr), field) == frozenset(expected)


@pytest.mark.parametrize(
    ("macro", "equivalent"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_macros(macro: str, equivalent: str) -> None:
    spec, plain = parse_cron(macro), parse_cron(equivalent)
    assert (spec.minutes, spec.hours, spec.days, spec.months, spec.weekdays) == (
        plain.minutes,
        plain.hours,
        plain.days,
        plain.months,
        plain.weekdays,
    )
    assert (spec.any_day, spec.any_weekday) == (plain.any_day, plain.any_weekday)


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("0 25 * * *", "hour 25 is out of range 0-23"),
        ("60 * * * *", "minute 60 is out of range 0-59"),
        ("0 0 0 * *", "day-of-month 0 is out of range 1-31"),
        ("0 0 32 * *", "day-of-month 32"),
        ("0 0 * 13 *", "month 13 is out of range 1-12"),
        ("0 0 * 0 *", "month 0"),
        ("0 0 * * 8", "day-of-week 8 is out of range 0-7"),
        ("*/0 * * * *", "minute step"),
        ("0 0-23/0 * * *", "hour step"),
        ("30-10 * * * *", "minute range '30-10' is reversed"),
        ("0 0 * * FRI-MON", "day-of-week range 'FRI-MON' is reversed"),
        ("5/15 * * * *", "minute step '5/15' needs * or a range"),
        ("*/x * * * *", "minute step 'x' is not a number"),
        ("0 0 * FOO *", "month 'FOO' is not a number or name"),
        ("0 0 * * FRIDAY", "day-of-week 'FRIDAY'"),
        ("0 0 MON * *", "day-of-month 'MON' is not a number"),
        ("0 0 * * JAN", "day-of-week 'JAN'"),
        ("0 noon * * *", "hour 'noon'"),
        ("1,,2 * * * *", "minute '1,,2' has an empty item"),
        ("0 0 * * 1,", "day-of-week '1,' has an empty item"),
        ("-5 * * * *", "minute '' is not a number"),
        ("0 0 ? * MON", "day-of-month '?'"),
        ("0 0 L * *", "day-of-month 'L'"),
        ("0 0 * * 5#3", "day-of-week '5#3'"),
        ("0 ² * * *", "only printable ASCII is allowed (found U+00B2)"),
        ("", "expected 5 fields"),
        ("   ", "expected 5 fields"),
        ("* * * *", "got 4"),
        ("0 0 * * * 2026", "got 6"),
        ("junk", "got 1"),
        ("@reboot", "unknown macro '@reboot'"),
        ("@midnight", "unknown macro"),
        ("@daily 5", "unknown macro"),
    ],
)
def test_bad_expressions(expr: str, words: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_cron(expr)
    message = str(caught.value)
    assert message.startswith(f"bad cron expression {expr!r}: ")
    assert words in message
    assert "\n" not in message


def test_star_flags_follow_vixie() -> None:
    assert parse_cron("0 0 * * MON").any_day and not parse_cron("0 0 * * MON").any_weekday
    assert parse_cron("0 0 */2 * MON").any_day  # a field *starting* with * counts as *, as in Vixie cron
    assert not parse_cron("0 0 1-31 * MON").any_day


@pytest.mark.parametrize(
    "expr",
    [
        "0 0 30 2 *",
        "0 0 31 2 *",
        "30 12 30-31 FEB *",
        "0 0 31 4,6,9,11 *",
        "0 0 31 apr-jun/2,sep,nov *",
        "0 0 31 2 */2",
    ],  # */2: a day-of-week starting with * must match as well, so it cannot help
)
def test_expressions_that_can_never_fire_are_refused(expr: str) -> None:
    with pytest.raises(BadInput, match=r"can never fire: day-of-month '.+' never falls in month '.+'"):
        parse_cron(expr)


@pytest.mark.parametrize(
    ("expr", "day"),
    [
        ("0 0 30 2 MON", date(2026, 2, 2)),  # both day fields restricted: a Monday in February is enough
        ("0 0 31 2 MON-FRI", date(2026, 2, 27)),
        ("0 0 29 2 *", date(2028, 2, 29)),  # leap years
        ("0 0 29 2 SUN", date(2026, 2, 1)),
        ("0 0 */30 2 *", date(2026, 2, 1)),  # */30 is 1 and 31
        ("0 0 31 2,3 *", date(2026, 3, 31)),
    ],
)
def test_expressions_that_fire_rarely_are_accepted(expr: str, day: date) -> None:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert [o.start for o in occurrences(recurring(expr, HOUR, "UTC"), start, start + HOUR)] == [start]


def test_barren_expressions_are_refused_exactly_when_a_walk_finds_no_day() -> None:
    """Against a walk over every day from 2000 to 2028 (a whole weekday cycle with its leap years)."""
    days = [date.fromordinal(n) for n in range(date(2000, 1, 1).toordinal(), date(2029, 1, 1).toordinal())]
    dom = [
        ("29", {29}, False),
        ("30", {30}, False),
        ("31", {31}, False),
        ("30,31", {30, 31}, False),
        ("29-31", {29, 30, 31}, False),
        ("*/30", {1, 31}, True),
        ("2-31/29", {2, 31}, False),
        ("*", ALL_DAYS, True),
    ]
    dow = [("*", ALL_WEEKDAYS, True), ("MON", {1}, False), ("*/2", {0, 2, 4, 6}, True), ("1-5", {1, 2, 3, 4, 5}, False)]
    rng = random.Random(15)
    refused = accepted = 0
    for _ in range(1000):
        dom_text, dom_values, dom_star = rng.choice(dom)
        dow_text, dow_values, dow_star = rng.choice(dow)
        short = rng.random() < 0.7  # mostly the short months, where expressions go barren
        months = set(rng.sample([2, 4, 6, 9, 11] if short else range(1, 13), rng.randint(1, 3)))
        expr = f"0 0 {dom_text} {','.join(map(str, sorted(months)))} {dow_text}"
        both = dom_star or dow_star  # Vixie: then both fields must match, else either
        if any(
            day.month in months
            and ((day.day in dom_values) + (day.isoweekday() % 7 in dow_values) >= (2 if both else 1))
            for day in days
        ):
            parse_cron(expr)
            accepted += 1
        else:
            with pytest.raises(BadInput, match="can never fire"):
                parse_cron(expr)
            refused += 1
    assert refused > 50 and accepted > 50


@pytest.mark.parametrize(
    ("expr", "char"),
    [
        ("0 0 * * ſun", "U+017F"),  # "ſun".upper() is "SUN"
        ("0 0 * ſep *", "U+017F"),
        ("0 0 * * \u212aon", "U+212A"),  # the Kelvin sign
        ("０ 0 * * *", "U+FF10"),  # a full-width digit
        ("0\u00a00 * * *", "U+00A0"),  # a no-break space between fields
        ("0 0 * * MON\u200b", "U+200B"),
    ],
)
def test_anything_but_ascii_is_refused(expr: str, char: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_cron(expr)
    assert str(caught.value).endswith(f": only printable ASCII is allowed (found {char})")


@pytest.mark.parametrize(
    ("expr", "day", "matches"),
    [
        ("0 0 13 * FRI", date(2026, 2, 13), True),  # Friday the 13th
        ("0 0 13 * FRI", date(2026, 2, 6), True),  # a Friday: either field is enough
        ("0 0 13 * FRI", date(2026, 1, 13), True),  # a Tuesday the 13th
        ("0 0 13 * FRI", date(2026, 2, 14), False),
        ("0 0 13 * *", date(2026, 2, 6), False),
        ("0 0 * * FRI", date(2026, 2, 13), True),
        ("0 0 * * FRI", date(2026, 2, 14), False),
        ("0 0 */2 * FRI", date(2026, 2, 6), False),  # 6th is even: Vixie ANDs when a field starts with *
        ("0 0 */2 * FRI", date(2026, 2, 13), True),
        ("0 0 1 JAN *", date(2026, 2, 1), False),
        ("0 0 * * 7", date(2026, 3, 1), True),  # a Sunday
    ],
)
def test_matches_day(expr: str, day: date, matches: bool) -> None:
    assert parse_cron(expr).matches_day(day) is matches


# --- zones ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"])
def test_known_zones(name: str) -> None:
    validate_zone(name)


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "Europe", "Europe/Berlin ", "/etc/passwd", "../x", "+01:00"])
def test_unknown_zones(name: str) -> None:
    with pytest.raises(BadInput, match="unknown time zone"):
        validate_zone(name)


def test_recurring_freeze_in_unknown_zone_is_bad_input() -> None:
    with pytest.raises(BadInput, match="unknown time zone"):
        occurrences(recurring("0 0 * * *", HOUR, "Nowhere/Land"), utc(2026, 1, 1), utc(2026, 1, 2))


# --- the naive oracle: every local minute, checked field by field -------------------------------------

# (zone, local date of the change, is it spring-forward?) — asserted against tzdata below.
TRANSITIONS = [
    ("Europe/Berlin", date(2026, 3, 29), True),
    ("Europe/Berlin", date(2026, 10, 25), False),
    ("Europe/Berlin", date(2027, 3, 28), True),
    ("Europe/Berlin", date(2027, 10, 31), False),
    ("America/New_York", date(2026, 3, 8), True),
    ("America/New_York", date(2026, 11, 1), False),
    ("America/New_York", date(2027, 3, 14), True),
    ("America/New_York", date(2027, 11, 7), False),
    ("Australia/Sydney", date(2026, 4, 5), False),
    ("Australia/Sydney", date(2026, 10, 4), True),
    ("Australia/Sydney", date(2027, 4, 4), False),
    ("Australia/Sydney", date(2027, 10, 3), True),
]


@pytest.mark.parametrize(("zone", "day", "spring"), TRANSITIONS)
def test_transition_table_matches_tzdata(zone: str, day: date, spring: bool) -> None:
    tz = ZoneInfo(zone)
    before = datetime(day.year, day.month, day.day, tzinfo=tz).utcoffset()
    after = (datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(days=1)).utcoffset()
    assert before is not None and after is not None
    assert (after > before) is spring and after != before


@cache
def wall_clock(zone: str, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """(local wall minute, UTC instant it fires at) for every wall minute of the days around ``day``.

    Built independently of the module: walk UTC minute by minute and read the wall clock.
    A wall minute seen twice fires at its first instant; a wall minute never seen (a gap)
    fires at the first instant after the gap plus its distance into the gap.
    """
    tz = ZoneInfo(zone)
    instant = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=5)
    stop = instant + timedelta(days=9)
    fires: dict[datetime, datetime] = {}
    previous: datetime | None = None
    while instant < stop:
        wall = instant.astimezone(tz).replace(tzinfo=None, fold=0)
        if previous is not None and wall > previous + MINUTE:
            gap_start = previous + MINUTE
            skipped = gap_start
            while skipped < wall:
                fires[skipped] = instant + (skipped - gap_start)
                skipped += MINUTE
        fires.setdefault(wall, instant)
        if previous is None or wall > previous:
            previous = wall
        instant += MINUTE
    return tuple(fires.items())


def oracle(expr: str, zone: str, day: date, start: datetime, end: datetime, duration: timedelta) -> list[datetime]:
    spec = parse_cron(expr)
    fields = expr.split()
    dom_star, dow_star = fields[2].startswith("*"), fields[4].startswith("*")
    found = set()
    for wall, fire in wall_clock(zone, day):
        if wall.minute not in spec.minutes or wall.hour not in spec.hours or wall.month not in spec.months:
            continue
        by_date = wall.day in spec.days
        by_weekday = (wall.weekday() + 1) % 7 in spec.weekdays
        day_ok = (by_date and by_weekday) if (dom_star or dow_star) else (by_date or by_weekday)
        if day_ok and fire < end and fire + duration > start:
            found.add(fire)
    return sorted(found)


def field(choices: list[str]) -> st.SearchStrategy[str]:
    """``*`` half the time (the common case), else one of ``choices`` or a short list of them."""
    some = st.sampled_from(choices)
    return st.one_of(st.just("*"), st.one_of(some, st.lists(some, min_size=2, max_size=3).map(",".join)))


MINUTE_FIELD = field(["0", "30", "59", "*/20", "15-45/15", "0-5", "1"])
# Weighted to the hours where clocks change: 01-03 local in all three zones.
HOUR_FIELD = field(["2", "1", "3", "0", "1-3", "*/2", "23", "2-4/2", "12"])
DOM_FIELD = field(["*/2", "1-31", "4-6", "25", "29", "3-8", "31", "1-10/3"])
MONTH_FIELD = field(["MAR-APR", "OCT-NOV", "3", "10", "nov", "apr"])
DOW_FIELD = field(["SUN", "0", "7", "sat", "1-5", "*/3", "MON", "5-7"])


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    transition=st.sampled_from(TRANSITIONS),
    fields=st.tuples(MINUTE_FIELD, HOUR_FIELD, DOM_FIELD, MONTH_FIELD, DOW_FIELD),
    offset_minutes=st.integers(min_value=-36 * 60, max_value=24 * 60),
    span_minutes=st.integers(min_value=1, max_value=48 * 60),
    offset_seconds=st.integers(min_value=0, max_value=59),
    # Short freezes, and long ones that reach back over local midnight into earlier days.
    duration_minutes=st.one_of(st.integers(1, 180), st.integers(180, 24 * 60), st.integers(24 * 60, 60 * 60)),
)
def test_occurrences_match_minute_walk_oracle(
    transition: tuple[str, date, bool],
    fields: tuple[str, str, str, str, str],
    offset_minutes: int,
    span_minutes: int,
    offset_seconds: int,
    duration_minutes: int,
) -> None:
    zone, day, _ = transition
    expr = " ".join(fields)
    duration = timedelta(minutes=duration_minutes)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        minutes=offset_minutes, seconds=offset_seconds
    )
    end = start + timedelta(minutes=span_minutes)
    try:
        parse_cron(expr)
    except BadInput as refused:  # `* * 31 nov *`: test_barren_expressions_are_refused walks those
        assert "can never fire" in str(refused)
        return
    got = occurrences(recurring(expr, duration, zone), start, end)
    assert [o.start for o in got] == oracle(expr, zone, day, start, end, duration)
    assert all(o.end - o.start == duration and o.start < end and o.end > start for o in got)


@pytest.mark.parametrize(
    ("expr", "zone", "day"),
    [
        ("30 2 * * *", "Europe/Berlin", date(2026, 3, 29)),  # gap
        ("30 2 * * *", "Europe/Berlin", date(2026, 10, 25)),  # repeated hour
        ("30 2 * * *", "Europe/Berlin", date(2027, 10, 31)),
        ("30 2 * * *", "America/New_York", date(2026, 3, 8)),  # gap
        ("30 1 * * *", "America/New_York", date(2026, 11, 1)),  # repeated hour
        ("30 1 * * *", "America/New_York", date(2027, 11, 7)),
        ("30 2 * * *", "Australia/Sydney", date(2026, 10, 4)),  # gap
        ("30 2 * * *", "Australia/Sydney", date(2026, 4, 5)),  # repeated hour
        ("*/10 * * * *", "Europe/Berlin", date(2026, 3, 29)),
        ("*/10 * * * *", "America/New_York", date(2027, 11, 7)),
        ("* 1-3 * * *", "Australia/Sydney", date(2027, 4, 4)),
        ("0,30 2,3 * * SUN", "Europe/Berlin", date(2027, 3, 28)),
    ],
)
def test_transition_hours_against_oracle(expr: str, zone: str, day: date) -> None:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    end = start + timedelta(days=3)
    got = occurrences(recurring(expr, timedelta(minutes=5), zone), start, end)
    assert [o.start for o in got] == oracle(expr, zone, day, start, end, timedelta(minutes=5))


# --- the DST rules, spelled out -------------------------------------------------------------------------


def local_starts(expr: str, zone: str, start: datetime, end: datetime) -> list[str]:
    tz = ZoneInfo(zone)
    return [
        o.start.astimezone(tz).strftime("%m-%d %H:%M %Z")
        for o in occurrences(recurring(expr, MINUTE, zone), start, end)
    ]


def test_wall_time_in_gap_is_shifted_by_the_gap() -> None:
    starts = local_starts("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28), utc(2026, 3, 31))
    assert starts == ["03-28 02:30 CET", "03-29 03:30 CEST", "03-30 02:30 CEST"]


def test_shifted_gap_time_and_real_time_fire_once() -> None:
    # 02:30 is pushed to 03:30, which cron also asks for: one occurrence, not two.
    starts = local_starts("30 2,3 * * *", "Europe/Berlin", utc(2026, 3, 28, 22), utc(2026, 3, 29, 12))
    assert starts == ["03-29 03:30 CEST"]


def test_repeated_wall_time_fires_at_first_occurrence() -> None:
    starts = local_starts("30 1 * * *", "America/New_York", utc(2026, 10, 31), utc(2026, 11, 3))
    assert starts == ["10-31 01:30 EDT", "11-01 01:30 EDT", "11-02 01:30 EST"]


def test_hourly_skips_the_second_pass_through_the_repeated_hour() -> None:
    starts = local_starts("30 * * * *", "Europe/Berlin", utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))
    assert starts == ["10-25 01:30 CEST", "10-25 02:30 CEST", "10-25 03:30 CET"]


# --- the weekend freeze from DESIGN.md -----------------------------------------------------------------

WEEKEND = recurring("0 18 * * FRI", timedelta(hours=62), "Europe/Berlin", freeze_id=7)


def test_weekend_freeze_across_the_october_change() -> None:
    got = occurrences(WEEKEND, utc(2026, 10, 20), utc(2026, 11, 3))
    assert [(o.start, o.end) for o in got] == [
        (utc(2026, 10, 23, 16), utc(2026, 10, 26, 6)),  # 18:00 CEST; 62 real hours, ends 07:00 CET
        (utc(2026, 10, 30, 17), utc(2026, 11, 2, 7)),  # 18:00 CET
    ]
    berlin = ZoneInfo("Europe/Berlin")
    assert all(o.start.astimezone(berlin).strftime("%a %H:%M") == "Fri 18:00" for o in got)
    assert all(o.end - o.start == timedelta(hours=62) for o in got)
    assert all(o.start.tzinfo == UTC and o.end.tzinfo == UTC for o in got)
    assert {(o.freeze_id, o.environments, o.reason) for o in got} == {(7, ("prod",), "frozen")}


def test_weekend_freeze_across_the_march_change() -> None:
    got = occurrences(WEEKEND, utc(2026, 3, 24), utc(2026, 4, 1))
    assert [o.start for o in got] == [utc(2026, 3, 27, 17)]
    assert got[0].end == utc(2026, 3, 30, 7)  # 62 real hours: 09:00 CEST on Monday, not 08:00


def test_occurrence_running_at_start_is_included() -> None:
    # Asked from Sunday noon: the freeze that began on Friday is still running.
    got = occurrences(WEEKEND, utc(2026, 10, 25, 12), utc(2026, 10, 25, 13))
    assert [(o.start, o.end) for o in got] == [(utc(2026, 10, 23, 16), utc(2026, 10, 26, 6))]


def test_occurrence_ending_exactly_at_start_is_left_out() -> None:
    assert occurrences(WEEKEND, utc(2026, 10, 26, 6), utc(2026, 10, 30, 17)) == []
    just_before = occurrences(WEEKEND, utc(2026, 10, 26, 5, 59), utc(2026, 10, 30, 17))
    assert [o.start for o in just_before] == [utc(2026, 10, 23, 16)]


def test_occurrence_starting_exactly_at_end_is_left_out() -> None:
    assert occurrences(WEEKEND, utc(2026, 10, 28), utc(2026, 10, 30, 17)) == []
    got = occurrences(WEEKEND, utc(2026, 10, 28), utc(2026, 10, 30, 17, 0, 1))
    assert [o.start for o in got] == [utc(2026, 10, 30, 17)]


def test_long_span_walks_days_not_minutes() -> None:
    new_year = recurring("@yearly", timedelta(days=1), "Australia/Sydney")
    got = occurrences(new_year, utc(2026, 1, 1), utc(2036, 1, 1))
    assert [o.start.astimezone(ZoneInfo("Australia/Sydney")).year for o in got] == list(range(2026, 2037))
    assert len(occurrences(WEEKEND, utc(2026, 1, 1), utc(2036, 1, 1))) == 522


def test_non_utc_aware_input_is_accepted_and_output_is_utc() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    got = occurrences(WEEKEND, datetime(2026, 10, 30, 19, tzinfo=berlin), datetime(2026, 10, 30, 20, tzinfo=berlin))
    assert [o.start for o in got] == [utc(2026, 10, 30, 17)]
    assert got[0].start.tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        occurrences(WEEKEND, datetime(2026, 1, 1), utc(2026, 1, 2))


def test_recurring_freeze_needs_positive_duration() -> None:
    for duration in (None, timedelta(0), -HOUR):
        freeze = Freeze(1, ("all",), "x", cron="0 0 * * *", duration=duration, zone="UTC")
        with pytest.raises(BadInput, match="positive duration"):
            occurrences(freeze, utc(2026, 1, 1), utc(2026, 1, 2))


def test_recurring_freeze_without_zone_is_read_in_utc() -> None:
    freeze = Freeze(1, ("all",), "x", cron="0 18 * * *", duration=HOUR)
    assert [o.start for o in occurrences(freeze, utc(2026, 7, 1), utc(2026, 7, 2))] == [utc(2026, 7, 1, 18)]


def test_empty_or_reversed_query_span_finds_nothing() -> None:
    assert occurrences(WEEKEND, utc(2026, 10, 25), utc(2026, 10, 25)) == []
    assert occurrences(WEEKEND, utc(2026, 10, 25), utc(2026, 10, 24)) == []


# --- one-off freezes ---------------------------------------------------------------------------------

XMAS = one_off(utc(2026, 12, 20), utc(2027, 1, 4), freeze_id=3, environments=("prod", "staging"))


@pytest.mark.parametrize(
    ("start", "end", "found"),
    [
        (utc(2026, 12, 1), utc(2026, 12, 31), True),
        (utc(2026, 12, 25), utc(2026, 12, 26), True),  # inside
        (utc(2026, 12, 1), utc(2027, 2, 1), True),  # around
        (utc(2027, 1, 3, 23, 59), utc(2027, 2, 1), True),
        (utc(2027, 1, 4), utc(2027, 2, 1), False),  # ends exactly at start
        (utc(2026, 12, 1), utc(2026, 12, 20), False),  # starts exactly at end
        (utc(2026, 12, 1), utc(2026, 12, 20, 0, 0, 1), True),
    ],
)
def test_one_off_intersection(start: datetime, end: datetime, found: bool) -> None:
    expected = [Occurrence(3, ("prod", "staging"), "one-off", utc(2026, 12, 20), utc(2027, 1, 4))]
    assert occurrences(XMAS, start, end) == (expected if found else [])


def test_one_off_must_be_complete_and_ordered() -> None:
    with pytest.raises(BadInput, match="start must be before end"):
        occurrences(one_off(utc(2026, 1, 2), utc(2026, 1, 1)), utc(2026, 1, 1), utc(2026, 2, 1))
    with pytest.raises(BadInput, match="neither"):
        occurrences(Freeze(1, ("all",), "x", start=utc(2026, 1, 1)), utc(2026, 1, 1), utc(2026, 2, 1))


# --- expand and active_at -----------------------------------------------------------------------------


def test_expand_sorts_by_start_end_and_id() -> None:
    short = one_off(utc(2026, 10, 23, 16), utc(2026, 10, 23, 20), freeze_id=9)
    same = one_off(utc(2026, 10, 23, 16), utc(2026, 10, 26, 6), freeze_id=2)
    got = expand([XMAS, WEEKEND, same, short], utc(2026, 10, 10), utc(2026, 12, 21))
    assert [(o.freeze_id, o.start) for o in got] == [
        (7, utc(2026, 10, 9, 16)),  # still running on the 10th
        (7, utc(2026, 10, 16, 16)),
        (9, utc(2026, 10, 23, 16)),  # same start: the shorter first,
        (2, utc(2026, 10, 23, 16)),  # then same end: the lower id
        (7, utc(2026, 10, 23, 16)),
        (7, utc(2026, 10, 30, 17)),
        (7, utc(2026, 11, 6, 17)),
        (7, utc(2026, 11, 13, 17)),
        (7, utc(2026, 11, 20, 17)),
        (7, utc(2026, 11, 27, 17)),
        (7, utc(2026, 12, 4, 17)),
        (7, utc(2026, 12, 11, 17)),
        (7, utc(2026, 12, 18, 17)),
        (3, utc(2026, 12, 20)),
    ]
    assert expand([], utc(2026, 1, 1), utc(2027, 1, 1)) == []


def test_active_at_is_half_open() -> None:
    freezes = [WEEKEND, XMAS]
    assert [o.freeze_id for o in active_at(freezes, utc(2026, 10, 23, 16))] == [7]  # the first instant
    assert active_at(freezes, utc(2026, 10, 23, 15, 59, 59)) == []
    assert active_at(freezes, utc(2026, 10, 26, 6)) == []  # the end is not frozen
    assert [o.freeze_id for o in active_at(freezes, utc(2026, 10, 26, 5, 59, 59))] == [7]
    assert [o.freeze_id for o in active_at(freezes, utc(2026, 12, 25, 18))] == [3, 7]  # a Friday at Christmas
    assert active_at([XMAS], utc(2027, 1, 4)) == []  # XMAS ends here; Monday 07:00Z ends the weekend


# --- describe ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("freeze", "text"),
    [
        (WEEKEND, "Fri 18:00 for 62h (Europe/Berlin)"),
        (
            recurring("30 7 * * mon-fri", timedelta(hours=1, minutes=30), "UTC"),
            "Mon-Fri 07:30 for 1h30m (UTC)",
        ),
        (
            recurring("0 0 * * 6,0", timedelta(days=2), "America/New_York"),
            "Sat,Sun 00:00 for 2d (America/New_York)",
        ),
        (
            recurring("@daily", timedelta(minutes=45), "Australia/Sydney"),
            "daily 00:00 for 45m (Australia/Sydney)",
        ),
        (recurring("0 9 1 * *", timedelta(hours=3), "UTC"), "cron 0 9 1 * * for 3h (UTC)"),
        (recurring("0 9 1-31 * FRI", timedelta(hours=3), "UTC"), "cron 0 9 1-31 * FRI for 3h (UTC)"),
        (recurring("0,30 9 * * *", timedelta(hours=3), "UTC"), "cron 0,30 9 * * * for 3h (UTC)"),
        (XMAS, "2026-12-20 00:00 – 2027-01-04 00:00 UTC"),
    ],
)
def test_describe(freeze: Freeze, text: str) -> None:
    assert describe(freeze) == text


# --- cover spans: occurrences that overlap or touch, merged (DESIGN.md "Conflicts") ------------------


def ticks(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def naive_cover(
    expr: str, zone: str, day: date, start: datetime, end: datetime, duration: timedelta, gap: timedelta
) -> list[tuple[int, int]]:
    """Every occurrence from the minute walk, merged where less than ``gap`` apart (where they
    overlap or touch when ``gap`` is 0), clipped to ``[start, end)``. Occurrences up to ``gap``
    outside the range count: the range may lie in a gap that is filled."""
    merged: list[list[datetime]] = []
    for fire in oracle(expr, zone, day, start - gap, end + gap, duration):
        if merged and (fire - merged[-1][1] < gap if gap else fire <= merged[-1][1]):
            merged[-1][1] = max(merged[-1][1], fire + duration)
        else:
            merged.append([fire, fire + duration])
    return [(ticks(max(a, start)), ticks(min(b, end))) for a, b in merged if max(a, start) < min(b, end)]


# Transitions and quiet zones: UTC and Asia/Kolkata never change their clocks.
COVER_DAYS = [*TRANSITIONS, ("UTC", date(2026, 3, 29), False), ("Asia/Kolkata", date(2026, 10, 25), False)]


@settings(
    max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    transition=st.sampled_from(COVER_DAYS),
    fields=st.tuples(MINUTE_FIELD, HOUR_FIELD, DOM_FIELD, MONTH_FIELD, DOW_FIELD),
    offset_minutes=st.integers(min_value=-36 * 60, max_value=24 * 60),
    span_minutes=st.integers(min_value=1, max_value=48 * 60),
    offset_seconds=st.integers(min_value=0, max_value=59),
    # Shorter than the gaps between occurrences, as long, and longer: merged or not; up to
    # 78 h, so that occurrences begun days before the range reach into it (the minute walk
    # covers five days before the transition).
    duration_minutes=st.one_of(st.integers(1, 3), st.integers(1, 90), st.integers(90, 78 * 60)),
    gap_minutes=st.one_of(st.just(0), st.integers(1, 180)),
)
def test_cover_spans_match_a_naive_expansion_and_merge(
    transition: tuple[str, date, bool],
    fields: tuple[str, str, str, str, str],
    offset_minutes: int,
    span_minutes: int,
    offset_seconds: int,
    duration_minutes: int,
    gap_minutes: int,
) -> None:
    zone, day, _ = transition
    expr = " ".join(fields)
    duration, gap = timedelta(minutes=duration_minutes), timedelta(minutes=gap_minutes)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        minutes=offset_minutes, seconds=offset_seconds
    )
    end = start + timedelta(minutes=span_minutes)
    freeze = recurring(expr, duration, zone)
    expected = naive_cover(expr, zone, day, start, end, duration, gap)
    if gap_minutes == 0:
        assert list(cover_spans(freeze, ticks(start), ticks(end))) == expected
    shortest = gap // timedelta(microseconds=1)
    assert joined(blocks(freeze, ticks(start), ticks(end), shortest)) == expected


def joined(pieces: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Blocks come in touching pieces where the range was read in chunks: join them."""
    out: list[tuple[int, int]] = []
    for low, high in pieces:
        assert not out or low >= out[-1][1]  # in order, never overlapping
        out[-1:] = [(out[-1][0], high)] if out and low == out[-1][1] else [*out[-1:], (low, high)]
    return out


def test_a_duration_longer_than_the_period_is_one_cover() -> None:
    # Daily at 18:00 for 62 h: every occurrence overlaps the next, for ever.
    daily = recurring("0 18 * * *", timedelta(hours=62), "Europe/Berlin")
    start, end = utc(2026, 3, 1), utc(2026, 11, 1)  # both DST changes inside
    assert cover_spans(daily, ticks(start), ticks(end)) == ((ticks(start), ticks(end)),)


def test_a_minute_freeze_is_one_cover_a_day_in_utc_and_breaks_in_the_repeated_hour() -> None:
    every_minute = recurring("* * * * *", MINUTE, "UTC")
    assert len(cover_spans(every_minute, ticks(utc(2026, 1, 1)), ticks(utc(2027, 1, 1)))) == 1
    # In Berlin the wall times of the repeated hour fire once, on their first pass: the
    # second pass (01:00-02:00 UTC on 25 October 2026) is the only time not frozen all year.
    berlin = recurring("* * * * *", MINUTE, "Europe/Berlin")
    spans = cover_spans(berlin, ticks(utc(2026, 1, 1)), ticks(utc(2027, 1, 1)))
    assert spans == (
        (ticks(utc(2026, 1, 1)), ticks(utc(2026, 10, 25, 1))),
        (ticks(utc(2026, 10, 25, 2)), ticks(utc(2027, 1, 1))),
    )


def test_cover_spans_of_a_one_off_freeze_are_clipped() -> None:
    assert cover_spans(XMAS, ticks(utc(2026, 12, 25)), ticks(utc(2027, 2, 1))) == (
        (ticks(utc(2026, 12, 25)), ticks(utc(2027, 1, 4))),
    )
    assert cover_spans(XMAS, ticks(utc(2027, 1, 4)), ticks(utc(2027, 2, 1))) == ()


# --- frozen until: the end of the merged cover ------------------------------------------------------


def test_frozen_until_is_none_when_nothing_holds_the_environment() -> None:
    assert frozen_until([WEEKEND, XMAS], "prod", utc(2026, 10, 22)) is None  # a Thursday
    assert frozen_until([WEEKEND], "dev", utc(2026, 10, 24)) is None  # WEEKEND is prod's
    assert frozen_until([], "prod", utc(2026, 10, 24)) is None


def test_frozen_until_the_later_end_of_two_overlapping_freezes() -> None:
    short = one_off(utc(2026, 6, 1), utc(2026, 6, 3), freeze_id=1)
    long = one_off(utc(2026, 6, 2), utc(2026, 6, 9), freeze_id=2)
    long = Freeze(2, ("all",), "audit", start=long.start, end=long.end)
    assert frozen_until([short, long], "prod", utc(2026, 6, 1, 12)) == Frozen(utc(2026, 6, 9), ("one-off", "audit"))
    # Touching counts as joined; a gap does not.
    after = Freeze(3, ("prod",), "after", start=utc(2026, 6, 9), end=utc(2026, 6, 10))
    later = Freeze(4, ("prod",), "later", start=utc(2026, 6, 10, 0, 1), end=utc(2026, 6, 11))
    found = frozen_until([short, long, after, later], "prod", utc(2026, 6, 1, 12))
    assert found == Frozen(utc(2026, 6, 10), ("one-off", "audit", "after"))


def test_frozen_until_joins_a_recurring_freeze_across_its_occurrences() -> None:
    # Weekdays 08:00-20:00 and nights 20:00-08:00 UTC: together the whole week but the weekend.
    days = Freeze(1, ("prod",), "days", cron="0 8 * * MON-FRI", duration=12 * HOUR, zone="UTC")
    nights = Freeze(2, ("prod",), "nights", cron="0 20 * * MON-THU", duration=12 * HOUR, zone="UTC")
    monday = utc(2026, 6, 1, 9)
    assert frozen_until([days, nights], "prod", monday) == Frozen(utc(2026, 6, 5, 20), ("days", "nights"))
    assert frozen_until([days], "prod", monday) == Frozen(utc(2026, 6, 1, 20), ("days",))


def test_frozen_until_a_minute_freeze_lasting_30_days_is_open_ended() -> None:
    # Every occurrence overlaps the next: the cover never ends (not "2 more minutes").
    month = recurring("* * * * *", timedelta(days=30), "UTC")
    assert frozen_until([month], "prod", utc(2026, 6, 1)) == Frozen(None, ("frozen",))


def test_frozen_until_follows_a_minute_freeze_to_the_repeated_hour() -> None:
    berlin = recurring("* * * * *", MINUTE, "Europe/Berlin")
    assert frozen_until([berlin], "prod", utc(2026, 6, 1)) == Frozen(utc(2026, 10, 25, 1), ("frozen",))


def test_active_at_gives_one_cover_per_freeze_not_every_occurrence() -> None:
    month = recurring("* * * * *", timedelta(days=30), "UTC", freeze_id=5)  # 43,200 occurrences run at once
    (held,) = active_at([month], utc(2026, 6, 1))
    assert held.freeze_id == 5 and held.start <= utc(2026, 6, 1) < held.end
    with pytest.raises(BadInput, match="more than 10,000 occurrences"):
        occurrences(month, utc(2026, 6, 1), utc(2026, 6, 2))


def test_covers_are_whole_spans_for_drawing() -> None:
    got = covers([WEEKEND, XMAS], utc(2026, 10, 25, 12), utc(2026, 10, 25, 13))
    assert [(o.freeze_id, o.start, o.end) for o in got] == [(7, utc(2026, 10, 23, 16), utc(2026, 10, 26, 6))]


def test_a_cover_begun_days_before_the_range_is_found() -> None:
    # Asked on Monday morning: the weekend freeze began on Friday, two and a half days before.
    assert cover_spans(WEEKEND, ticks(utc(2026, 10, 26, 5)), ticks(utc(2026, 10, 26, 7))) == (
        (ticks(utc(2026, 10, 26, 5)), ticks(utc(2026, 10, 26, 6))),
    )
    # 999999 weeks from the last New Year: the range is frozen whole, with no overflow.
    huge = recurring("0 0 1 1 *", timedelta(weeks=999999), "Europe/Berlin")
    start, end = ticks(utc(2026, 6, 1)), ticks(utc(2026, 6, 2))
    assert cover_spans(huge, start, end) == ((start, end),)


def test_gaps_are_filled_across_midnight_and_the_ends_of_the_range() -> None:
    # Every other minute, for a minute: with an hour to find, the whole day is one block, up
    # to the end of the range though the last occurrence ends a minute before it.
    sparse = recurring("*/2 * * * *", MINUTE, "UTC")
    start, end, hour = ticks(utc(2026, 1, 1)), ticks(utc(2026, 1, 3)), ticks(utc(1970, 1, 1, 1))
    assert list(blocks(sparse, start, end, hour)) == [(start, ticks(utc(2026, 1, 2))), (ticks(utc(2026, 1, 2)), end)]
    assert list(blocks(sparse, start + 1, end - 1, hour))[-1][1] == end - 1
    assert len(cover_spans(sparse, start, end)) == 2 * 720
