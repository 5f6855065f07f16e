"""The next free slot: examples, and a property check against find_conflicts over the whole grid."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relman_tui.conflicts import find_conflicts
from relman_tui.errors import BadInput, Refused
from relman_tui.model import PLANNED, Environment, Freeze, Release, Risk, Severity, State, Window
from relman_tui.slots import next_free
from relman_tui.timeutil import UTC

BASE = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)  # a Friday; Europe's clocks go forward on Sunday the 29th
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PIPELINE = [
    Environment("dev", "Dev", 0, 1),
    Environment("staging", "Staging", 1, 2),
    Environment("prod", "Prod", 2, 1),
]
HOUR = timedelta(hours=1)


def at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


def release(rid: int, windows: dict[str, tuple[float, float]], state: State = State.PENDING) -> Release:
    return Release(
        id=rid,
        name=f"app{rid}",
        version="1.0",
        components=(f"app{rid}",),
        owner="ops",
        risk=Risk.LOW,
        stage=PLANNED,
        state=state,
        approved_by=None,
        approved_at=None,
        notes="",
        created_at=BASE,
        updated_at=BASE,
        rev=1,
        windows=tuple(Window(rid, env, at(s), at(e)) for env, (s, e) in windows.items()),
    )


def test_an_empty_environment_gives_after_rounded_up_to_the_step() -> None:
    after = at(2) + timedelta(minutes=2, seconds=30)
    assert next_free(PIPELINE, [release(1, {})], [], 1, "prod", HOUR, after) == at(2) + timedelta(minutes=5)
    assert next_free(PIPELINE, [release(1, {})], [], 1, "prod", HOUR, at(2)) == at(2)


def test_the_step_grid_counts_from_the_unix_epoch() -> None:
    step = timedelta(minutes=7)
    found = next_free(PIPELINE, [release(1, {})], [], 1, "prod", HOUR, at(0), step=step)
    assert (found - EPOCH) % step == timedelta(0)
    assert timedelta(0) <= found - at(0) < step


def test_a_freeze_pushes_the_slot_to_its_end() -> None:
    freezes = [Freeze(1, ("prod",), "audit", start=at(2), end=at(4))]
    assert next_free(PIPELINE, [release(1, {})], freezes, 1, "prod", HOUR, at(2.5)) == at(4)
    # A window that would run into the freeze is pushed past it too; one that fits before it is not.
    assert next_free(PIPELINE, [release(1, {})], freezes, 1, "prod", HOUR, at(1.5)) == at(4)
    assert next_free(PIPELINE, [release(1, {})], freezes, 1, "prod", HOUR, at(1)) == at(1)
    # A freeze of another environment does not matter.
    assert next_free(PIPELINE, [release(1, {})], freezes, 1, "staging", HOUR, at(2.5)) == at(2.5)


def test_back_to_back_freezes_are_jumped_in_one_go() -> None:
    freezes = [
        Freeze(1, ("all",), "a", start=at(1), end=at(2)),
        Freeze(2, ("prod",), "b", start=at(2), end=at(3)),
        Freeze(3, ("all",), "c", start=at(3.5), end=at(5)),
    ]
    assert next_free(PIPELINE, [release(1, {})], freezes, 1, "prod", HOUR, at(1)) == at(5)
    assert next_free(PIPELINE, [release(1, {})], freezes, 1, "prod", HOUR / 2, at(1)) == at(3)


def test_a_recurring_freeze_is_respected_across_the_dst_change() -> None:
    # Friday 18:00 Berlin (17:00Z, CET) for 62 real hours: until Monday 07:00Z (09:00 CEST).
    weekend = Freeze(1, ("prod",), "weekend", cron="0 18 * * FRI", duration=timedelta(hours=62), zone="Europe/Berlin")
    found = next_free(PIPELINE, [release(1, {})], [weekend], 1, "prod", HOUR, at(8.5))
    assert found == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert next_free(PIPELINE, [release(1, {})], [weekend], 1, "prod", HOUR, at(7)) == at(7)


def test_capacity_two_waits_for_a_place() -> None:
    board = [release(1, {}), release(2, {"staging": (2, 3)}), release(3, {"staging": (2.5, 4)})]
    # Full in [2.5, 3): a one-hour window from 2 would cross it, from 3 it shares with release 3 only.
    assert next_free(PIPELINE, board, [], 1, "staging", HOUR, at(2)) == at(3)
    assert next_free(PIPELINE, board, [], 1, "staging", HOUR / 2, at(2)) == at(2)
    assert next_free(PIPELINE, board, [], 1, "prod", HOUR, at(2)) == at(2)


def test_the_release_own_window_is_replaced_and_cancelled_releases_do_not_count() -> None:
    board = [release(1, {"prod": (2, 3)}), release(2, {"prod": (3, 4)}, state=State.CANCELLED)]
    assert next_free(PIPELINE, board, [], 1, "prod", HOUR * 2, at(2)) == at(2)
    other = [*board, release(3, {})]
    assert next_free(PIPELINE, other, [], 3, "prod", HOUR, at(2)) == at(3)


def test_order_after_earlier_environments_and_before_later_ones() -> None:
    board = [release(1, {"dev": (2, 5), "prod": (8, 9)})]
    assert next_free(PIPELINE, board, [], 1, "staging", HOUR, at(0)) == at(5)
    assert next_free(PIPELINE, board, [], 1, "staging", HOUR * 3, at(0)) == at(5)
    # A freeze that pushes the window past the later environment's start leaves no room.
    freezes = [Freeze(1, ("staging",), "audit", start=at(5), end=at(7.5))]
    assert next_free(PIPELINE, board, freezes, 1, "staging", HOUR / 2, at(0)) == at(7.5)
    with pytest.raises(Refused, match=r"^no free 1h slot for app1 1\.0 in staging between "):
        next_free(PIPELINE, board, freezes, 1, "staging", HOUR, at(0))
    # The earliest start after an earlier environment is still on the step grid.
    board = [release(1, {"dev": (2, 5 + 1 / 60)})]
    assert next_free(PIPELINE, board, [], 1, "staging", HOUR, at(0)) == at(5) + timedelta(minutes=5)
    board = [release(1, {"dev": (2, 5), "prod": (8, 9)})]
    with pytest.raises(Refused) as caught:
        next_free(PIPELINE, board, [], 1, "staging", HOUR * 3 + timedelta(minutes=1), at(0))
    assert str(caught.value) == (
        "no 3h1m slot for app1 1.0 in staging: it must start after its dev window ends "
        "(2026-03-27 13:00 UTC) and end before its prod window starts (2026-03-27 16:00 UTC)"
    )
    with pytest.raises(Refused) as caught:
        next_free(PIPELINE, board, [], 1, "staging", HOUR, at(7.5))
    assert str(caught.value) == (
        "no 1h slot for app1 1.0 in staging: it must start at or after 2026-03-27 15:30 UTC "
        "and end before its prod window starts (2026-03-27 16:00 UTC)"
    )


def test_refused_when_the_horizon_holds_no_slot() -> None:
    freezes = [Freeze(1, ("all",), "year end", start=at(0), end=at(24 * 30))]
    with pytest.raises(Refused) as caught:
        next_free(PIPELINE, [release(1, {})], freezes, 1, "prod", HOUR, at(1), horizon=timedelta(days=7))
    assert str(caught.value) == (
        "no free 1h slot for app1 1.0 in prod between 2026-03-27 09:00 UTC and 2026-04-03 09:00 UTC"
    )
    # A later-environment window that blocks everything after the freeze:
    board = [release(1, {"prod": (30, 31)}), release(2, {"staging": (0, 100)}), release(3, {"staging": (0, 100)})]
    with pytest.raises(Refused, match=r"^no free 1h slot for app1 1\.0 in staging between"):
        next_free(PIPELINE, board, [], 1, "staging", HOUR, at(1))


def test_bad_requests() -> None:
    board = [release(1, {}), release(2, {}, state=State.CANCELLED)]
    with pytest.raises(BadInput, match="unknown environment"):
        next_free(PIPELINE, board, [], 1, "qa", HOUR, at(0))
    with pytest.raises(BadInput, match="unknown release 9"):
        next_free(PIPELINE, board, [], 9, "prod", HOUR, at(0))
    with pytest.raises(BadInput):
        next_free(PIPELINE, board, [], 1, "prod", timedelta(0), at(0))
    with pytest.raises(Refused, match="cancelled"):
        next_free(PIPELINE, board, [], 2, "prod", HOUR, at(0))


# --- property: no error conflict, and nothing earlier on the grid would do -------------------------

Board = tuple[list[Environment], list[Release], list[Freeze]]


@st.composite
def requests(draw: st.DrawFn) -> tuple[Board, int, str, timedelta, datetime, timedelta, timedelta]:
    unit = draw(st.sampled_from([1, 5]))  # minutes; coarse grids make endpoints coincide

    def minute(low: int, high: int) -> int:
        return draw(st.integers(low // unit, high // unit)) * unit

    names = ["dev", "staging", "prod"][: draw(st.integers(1, 3))]
    positions = draw(st.permutations(range(len(names))))
    environments = [Environment(n, n, p, draw(st.integers(1, 2))) for n, p in zip(names, positions, strict=True)]
    places = [*names, "ghost"]
    environment = draw(st.sampled_from(names))
    releases = []
    for rid in range(1, draw(st.integers(1, 8)) + 1):
        windows = []
        # The release being scheduled gets few windows (fewer order constraints); the others
        # crowd the target environment, so that there is something to jump over.
        chosen = draw(st.lists(st.sampled_from(places), unique=True, max_size=2 if rid == 1 else 3))
        if rid > 1 and environment not in chosen and draw(st.booleans()):
            chosen.append(environment)
        for place in chosen:
            start = minute(0, 120)
            windows.append(Window(rid, place, at(start / 60), at((start + minute(unit, 40)) / 60)))
        state = State.PENDING if rid == 1 else draw(st.sampled_from([State.PENDING, State.CANCELLED]))
        releases.append(replace(release(rid, {}, state), windows=tuple(windows)))
    freezes = []
    for fid in range(1, draw(st.integers(0, 3)) + 1):
        where = tuple(draw(st.lists(st.sampled_from([*places, "all"]), min_size=1, max_size=2, unique=True)))
        if draw(st.booleans()):
            start = minute(-30, 150)
            freezes.append(Freeze(fid, where, "f", start=at(start / 60), end=at((start + minute(unit, 60)) / 60)))
        else:
            every = draw(st.sampled_from([15, 20, 30]))
            cron = f"{minute(0, every - 1)}-59/{every} * * * *"
            length = timedelta(minutes=minute(unit, every // 2))
            freezes.append(Freeze(fid, where, "f", cron=cron, duration=length, zone="Europe/Berlin"))
    duration = timedelta(minutes=minute(unit, 30))
    after = at(minute(0, 90) / 60) + timedelta(seconds=draw(st.sampled_from([0, 0, 1, 59])))
    step = timedelta(minutes=draw(st.sampled_from([1, 5, 7])))
    horizon = timedelta(minutes=draw(st.integers(0, 300)))
    return (environments, releases, freezes), 1, environment, duration, after, step, horizon


def clashes(board: Board, rid: int, environment: str, start: datetime, duration: timedelta) -> bool:
    """Would a window [start, start + duration) for ``rid`` make an error conflict involving it?"""
    environments, releases, freezes = board
    moved = []
    for r in releases:
        if r.id == rid:
            kept = tuple(w for w in r.windows if w.environment != environment)
            r = replace(r, windows=(*kept, Window(rid, environment, start, start + duration)))
        moved.append(r)
    return any(
        c.severity is Severity.ERROR and rid in c.releases and environment in c.environments
        for c in find_conflicts(environments, moved, freezes, start)
    )


@settings(
    max_examples=500, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(requests())
def test_next_free_is_the_earliest_clash_free_start_on_the_grid(
    request: tuple[Board, int, str, timedelta, datetime, timedelta, timedelta],
) -> None:
    board, rid, environment, duration, after, step, horizon = request
    first = EPOCH + -((EPOCH - after) // step) * step  # after, rounded up to the grid
    try:
        found: datetime | None = next_free(*board, rid, environment, duration, after, step=step, horizon=horizon)
    except Refused:
        found = None
    if found is not None:
        assert after <= found <= after + horizon
        assert (found - EPOCH) % step == timedelta(0)
        assert not clashes(board, rid, environment, found, duration)
    candidate = first
    while candidate <= after + horizon and (found is None or candidate < found):
        assert clashes(board, rid, environment, candidate, duration), f"{candidate} was free"
        candidate += step
