"""Bounded work (issue 10): hostile freezes and far-apart windows cost what they involve.

Each repro from the issue that is about work gives the right answer, and the work it took is
counted — the local days the expansion looked at, and the wall times it resolved one by one
(only ever on days the clocks change) — never timed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import NOW

from relman_tui import freezes, gates
from relman_tui.conflicts import find_conflicts
from relman_tui.errors import BadInput, GateRefused, Refused
from relman_tui.freezes import recurrence
from relman_tui.model import PLANNED, ConflictKind, Environment, Freeze, Release, Risk, State, Window
from relman_tui.service import Service
from relman_tui.slots import next_free
from relman_tui.tui.viewmodel import build_columns

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
PROD = [Environment("prod", "Production", 1, 10)]
PIPELINE = [Environment("staging", "Staging", 1, 10), Environment("prod", "Production", 2, 10)]
WEEKEND = Freeze(1, ("prod",), "weekend", cron="0 18 * * FRI", duration=62 * HOUR, zone="Europe/Berlin")


@dataclass
class Work:
    days: int = 0  # local days the expansion looked at
    wall_times: int = 0  # wall times resolved one by one, on days the clocks change


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Work:
    counted = Work()
    walk = recurrence._Recurrence.days
    resolve = recurrence._begin

    def days(self: Any, *args: Any, **kwargs: Any) -> Iterator[tuple[int, int, bool]]:
        for day in walk(self, *args, **kwargs):
            counted.days += 1
            yield day

    def begin(*args: Any) -> int:
        counted.wall_times += 1
        return resolve(*args)

    monkeypatch.setattr(recurrence._Recurrence, "days", days)
    monkeypatch.setattr(recurrence, "_begin", begin)
    for cache in (recurrence._cover, recurrence._exact_begins, recurrence._exact_spans, recurrence._union_cover):
        cache.cache_clear()  # nothing counted here was worked out by an earlier test
    return counted


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def release(rid: int, environment: str, start: datetime, end: datetime) -> Release:
    return Release(
        id=rid,
        name=f"app{rid}",
        version="1.0",
        components=(f"app{rid}",),
        owner="ops",
        risk=Risk.LOW,
        stage=PLANNED,
        state=State.PENDING,
        approved_by=None,
        approved_at=None,
        notes="",
        created_at=NOW,
        updated_at=NOW,
        rev=1,
        windows=(Window(rid, environment, start, end),),
    )


def ticks(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def spans(conflicts: list[Any]) -> list[tuple[ConflictKind, tuple[int, ...], datetime, datetime]]:
    return [(c.kind, c.releases, c.start, c.end) for c in conflicts]


# --- a minute-by-minute freeze over windows decades (or millennia) apart ------------------------------


@pytest.mark.parametrize("far", [2099, 8999])  # 8999: only an old database can hold it
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_a_minute_freeze_over_windows_far_apart_is_one_conflict_each(work: Work, far: int, zone: str) -> None:
    near_window = (utc(2026, 12, 2, 9), utc(2026, 12, 2, 11))
    far_window = (utc(far, 6, 1, 9), utc(far, 6, 1, 11))
    board = [release(1, "prod", *near_window), release(2, "prod", *far_window)]
    every_minute = Freeze(1, ("prod",), "x", cron="* * * * *", duration=MINUTE, zone=zone)
    found = find_conflicts(PROD, board, [every_minute], NOW)
    # One conflict per window and cover span: a two-hour window is one conflict, not 120.
    assert spans(found) == [(ConflictKind.FREEZE, (1,), *near_window), (ConflictKind.FREEZE, (2,), *far_window)]
    # A few days around each window, not the 73 (or 6,973) years between them.
    assert work.days <= 2 * 6
    assert work.wall_times == 0  # no clock changes near either window


@pytest.mark.parametrize("duration", [MINUTE, timedelta(weeks=156)])  # 156 weeks: only an old database
def test_the_repro_through_the_service_conflicts_and_move(service: Service, work: Work, duration: timedelta) -> None:
    near = service.add_release("ledger", "1.0")
    far = service.add_release("billing", "2.0")
    service.schedule(near.id, "prod", NOW + HOUR, NOW + 3 * HOUR)
    service.schedule(far.id, "prod", utc(2099, 6, 1, 9), utc(2099, 6, 1, 11))
    with service.store.write():
        service.store.insert_freeze(Freeze(0, ("prod",), "x", cron="* * * * *", duration=duration, zone="UTC"))
    frozen = [c for c in service.conflicts() if c.kind is ConflictKind.FREEZE]
    assert spans(frozen) == [
        (ConflictKind.FREEZE, (near.id,), NOW + HOUR, NOW + 3 * HOUR),
        (ConflictKind.FREEZE, (far.id,), utc(2099, 6, 1, 9), utc(2099, 6, 1, 11)),
    ]
    assert work.days <= 2 * 7  # the days around each window, and back to the latest begin
    # A move to dev does not look at prod's freeze; prod's gate says it never ends.
    work.days = 0
    assert service.move(near.id, "dev").stage == "dev"
    assert work.days == 0
    check = gates.check_move(service.release(near.id), "prod", service.environments(), service.freezes(), NOW)
    assert "prod is frozen until further notice (x)" in check.explain()
    assert work.days <= 2 * 732 + 100  # a walk over the two years it looks ahead, and no more


# --- a 999999-week freeze from a database written before the limits ----------------------------------


def test_a_999999_week_freeze_gives_answers_not_overflow(service: Service, work: Work) -> None:
    forever = Freeze(0, ("all",), "forever", cron="0 0 1 1 *", duration=timedelta(weeks=999999), zone="UTC")
    with service.store.write():  # the service now refuses it; an old database may hold it
        service.store.insert_freeze(forever)
    ledger = service.add_release("ledger", "1.0")
    service.schedule(ledger.id, "dev", NOW + HOUR, NOW + 3 * HOUR)

    (conflict,) = [c for c in service.conflicts() if c.kind is ConflictKind.FREEZE]
    assert (conflict.releases, conflict.start, conflict.end) == ((ledger.id,), NOW + HOUR, NOW + 3 * HOUR)
    with pytest.raises(GateRefused, match=r"dev is frozen until further notice \(forever\)"):
        service.move(ledger.id, "dev")
    with pytest.raises(Refused, match="no free 2h slot"):
        service.next_free(ledger.id, "dev", 2 * HOUR)
    dev = next(column for column in build_columns(service.snapshot(), "UTC") if column.stage == "dev")
    assert (dev.frozen_until, dev.frozen_reason) == ("further notice", "forever")
    # It only fires on New Year's Day: each question looked at a handful of days (a column asks
    # who holds now without the cache its neighbours fill).
    assert work.days <= 80


def test_occurrences_of_a_999999_week_freeze_are_listed_or_refused_cleanly() -> None:
    yearly = Freeze(1, ("all",), "x", cron="0 0 1 1 *", duration=timedelta(weeks=999999), zone="UTC")
    found = freezes.occurrences(yearly, NOW, NOW + HOUR)
    # Every New Year since year 1 is still running, each ending at the edge of the calendar.
    assert len(found) == 2026
    assert found[0].start == utc(1, 1, 1) and found[-1].start == utc(2026, 1, 1)
    assert {o.end for o in found} == {datetime.max.replace(tzinfo=UTC)}
    hourly = Freeze(2, ("all",), "x", cron="0 * * * *", duration=timedelta(weeks=999999), zone="UTC")
    with pytest.raises(BadInput, match="more than 10,000 occurrences"):
        freezes.occurrences(hourly, NOW, NOW + HOUR)


# --- the weekend freeze and a window in 2099 --------------------------------------------------------


def test_one_window_in_2099_and_one_now(work: Work) -> None:
    friday_night = (utc(2099, 6, 5, 17), utc(2099, 6, 5, 19))  # 19:00-21:00 in Berlin: frozen from 20:00
    monday = (utc(2026, 12, 7, 9), utc(2026, 12, 7, 11))  # the weekend freeze ended at 07:00 UTC
    board = [release(1, "prod", *monday), release(2, "prod", *friday_night)]
    found = find_conflicts(PROD, board, [WEEKEND], NOW)
    assert spans(found) == [(ConflictKind.FREEZE, (2,), utc(2099, 6, 5, 16) + HOUR, utc(2099, 6, 5, 19))]
    assert work.days <= 2 * 3  # the Fridays near each window
    assert work.wall_times == 0


# --- the next free slot ------------------------------------------------------------------------------


def test_next_free_walks_days_not_minutes(work: Work) -> None:
    board = [release(1, "prod", NOW, NOW + HOUR)]
    # Every minute in Berlin: the only free hour is the second pass through 02:00 on 25 October.
    berlin = Freeze(1, ("prod",), "x", cron="* * * * *", duration=MINUTE, zone="Europe/Berlin")
    found = next_free(PROD, board, [berlin], 1, "prod", HOUR, utc(2026, 10, 1), horizon=timedelta(days=366))
    assert found == utc(2026, 10, 25, 1)
    assert work.days <= 2 * 31 + 30  # twice the days to the answer, and a few per chunk read
    assert work.wall_times == 24 * 60  # the one day the clocks change, wall time by wall time

    # Every other minute: no hour is ever free, and saying so takes a walk over the horizon's days.
    work.days = 0
    sparse = Freeze(2, ("prod",), "x", cron="*/2 * * * *", duration=MINUTE, zone="UTC")
    with pytest.raises(Refused, match="no free 1h slot"):
        next_free(PROD, board, [sparse], 1, "prod", HOUR, utc(2026, 1, 1), horizon=timedelta(days=366))
    assert work.days <= 366 + 10 * 7
    # A piece for each chunk read (a day, two, four … 128, then the rest), not an occurrence every
    # other minute.
    pieces = list(freezes.blocks(sparse, ticks(utc(2026, 1, 1)), ticks(utc(2027, 1, 1)), ticks(EPOCH + HOUR)))
    assert len(pieces) == 9 and pieces[0][0] == ticks(utc(2026, 1, 1)) and pieces[-1][1] == ticks(utc(2027, 1, 1))


# --- the edges of the calendar -----------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize(
    ("cron", "duration"), [("* * * * *", MINUTE), ("*/2 * * * *", MINUTE), ("0 0 1 1 *", timedelta(weeks=999999))]
)
def test_the_edges_of_the_calendar_give_answers_not_overflow(zone: str, cron: str, duration: timedelta) -> None:
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    board = [release(1, "prod", first, first + 2 * HOUR), release(2, "prod", last - 2 * HOUR, last)]
    freeze = Freeze(1, ("prod",), "edge", cron=cron, duration=duration, zone=zone)
    found = find_conflicts(PROD, board, [freeze], first)
    assert all(first <= c.start < c.end <= last for c in found)
    for moment in (first, last - HOUR, last):
        held = freezes.frozen_until([freeze], "prod", moment)
        assert held is None or held.until is None or moment < held.until <= last
        assert all(o.start <= moment < o.end for o in freezes.active_at([freeze], moment))
    assert all(first <= o.start < o.end <= last for o in freezes.covers([freeze], last - 24 * HOUR, last))
    assert all(first <= o.start < o.end <= last for o in freezes.covers([freeze], first, first + 24 * HOUR))
    try:  # Kiritimati's last local day ends 14 hours before UTC's: there may be room there
        slot = next_free(PROD, board, [freeze], 1, "prod", 2 * HOUR, last - 3 * HOUR)
    except Refused:
        return
    assert last - 3 * HOUR <= slot <= last - 2 * HOUR


def test_the_edges_of_the_calendar_in_utc_are_exact() -> None:
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    board = [release(1, "prod", first, first + 2 * HOUR), release(2, "prod", last - 2 * HOUR, last)]
    every_minute = Freeze(1, ("prod",), "x", cron="* * * * *", duration=MINUTE, zone="UTC")
    assert spans(find_conflicts(PROD, board, [every_minute], first)) == [
        (ConflictKind.FREEZE, (1,), first, first + 2 * HOUR),
        (ConflictKind.FREEZE, (2,), last - 2 * HOUR, last),
    ]


# --- issue 18 item 9: freeze-heavy boards within the limits --------------------------------------------

CHATHAM = "Pacific/Chatham"  # +12:45 / +13:45; its clocks go back at 03:45 on 2027-04-04 (14:00 UTC the day before)


def hourly(count: int, environments: tuple[str, ...] = ("prod",)) -> list[Freeze]:
    """Every-hour freezes of 1–59 minutes in Chatham, one starting at each minute of the hour."""
    return [
        Freeze(
            i,
            (environments[i % len(environments)],),
            f"hourly {i}",
            cron=f"{i % 60} * * * *",
            duration=(1 + i * 7 % 59) * MINUTE,
            zone=CHATHAM,
        )
        for i in range(1, count + 1)
    ]


def merged(found: list[Freeze], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Brute force: every occurrence meeting [start, end), touching ones merged."""
    spans: list[tuple[datetime, datetime]] = []
    for o in freezes.expand(found, start, end):
        if spans and o.start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], o.end))
        else:
            spans.append((o.start, o.end))
    return spans


def test_hourly_freezes_over_a_90_day_window_are_one_conflict_each_found_at_its_ends(work: Work) -> None:
    window = (utc(2027, 1, 4), utc(2027, 4, 4))  # 90 days, across Chatham's April clock change
    found = hourly(60)
    conflicts = find_conflicts(PROD, [release(1, "prod", *window)], found, NOW)
    # One per (window, freeze) — 60, where there were 60 × 2,160 (one per occurrence) before.
    assert len(conflicts) == 60
    by_freeze = {int(c.message.split("#")[1].split()[0]): c for c in conflicts}
    for freeze in found[:3] + found[-3:]:  # against the occurrences at either end of the window
        first = merged([freeze], window[0], window[0] + 2 * HOUR)[0]
        last = merged([freeze], window[1] - 2 * HOUR, window[1])[-1]
        conflict = by_freeze[freeze.id]
        assert (conflict.start, conflict.end) == (max(first[0], window[0]), min(last[1], window[1]))
        assert "which holds on and off through it" in conflict.message
    # A few days at either end of the window for each freeze, never its 90 days in between.
    assert work.days <= 60 * 20


def test_the_move_gate_under_hourly_freezes_walks_the_days_once_not_once_a_freeze(work: Work) -> None:
    found = hourly(60)
    moment = utc(2027, 1, 4, 12)
    held = freezes.frozen_until(found, "prod", moment)
    walked = work.days
    # Some freeze begins at every minute, so the cover holds until the hour the clocks repeat,
    # where nothing begins the second time round: it ends where the last of the first pass does.
    (span,) = [s for s in merged(found, utc(2027, 4, 3, 12), utc(2027, 4, 3, 16)) if s[0] <= utc(2027, 4, 3, 13)]
    assert held is not None and held.until == span[1]
    holding_now = [f.reason for f in found if freezes.active_at([f], moment)]
    assert list(held.reasons[: len(holding_now)]) == sorted(holding_now, key=held.reasons.index)
    assert set(held.reasons[: len(holding_now)]) == set(holding_now)
    # The 89 days to the answer are walked about twice (once per doubling chunk's edge), with a
    # few days per freeze for who holds now — not 89 days for each of 60 freezes (5,340).
    assert walked <= 2 * 89 + 60 * 5 + 100
    check = gates.check_move(release(1, "staging", moment, moment + HOUR), "prod", PIPELINE, found, moment)
    assert f"prod is frozen until {held.until:%Y-%m-%d %H:%M} UTC" in check.explain()


def test_freezes_spread_over_environments_cost_their_windows_and_freezes(work: Work) -> None:
    environments = [Environment(f"env{i:02d}", f"Env {i}", i, 1) for i in range(10)]
    names = tuple(env.name for env in environments)
    found = hourly(200, names)  # 20 in each
    window = (utc(2027, 1, 4), utc(2027, 4, 4))
    board = [release(i + 1, name, *window) for i, name in enumerate(names)]
    conflicts = find_conflicts(environments, board, found, NOW)
    assert len(conflicts) == 200
    assert {(c.environments, c.releases) for c in conflicts} == {((name,), (i + 1,)) for i, name in enumerate(names)}
    assert work.days <= 200 * 20
    work.days = 0
    covering = freezes.by_environment(found, names)
    assert all(len(listed) == 20 for listed in covering.values())
    for name in names:
        assert freezes.frozen_until(covering[name], name, utc(2027, 1, 4, 12)) is not None
    assert work.days <= 10 * (2 * 89 + 20 * 5 + 100)
