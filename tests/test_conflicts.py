"""The conflict engine: each kind by example, and the whole engine against a brute-force oracle."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relman_tui import conflicts
from relman_tui.conflicts import crowded_spans, find_conflicts, to_json
from relman_tui.freezes import expand
from relman_tui.model import (
    PLANNED,
    SEVERITY,
    Conflict,
    ConflictKind,
    Environment,
    Freeze,
    Release,
    Risk,
    State,
    Window,
)
from relman_tui.timeutil import UTC

# Near the spring DST change in Europe (2026-03-29 01:00 UTC), so recurring Berlin freezes
# in the property test cross it.
BASE = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
NOW = BASE - timedelta(days=1)  # before every window: nothing is missed unless a test says so


def at(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


def envs(*specs: tuple[str, int]) -> list[Environment]:
    return [Environment(name, name.title(), position, capacity) for position, (name, capacity) in enumerate(specs)]


PIPELINE = envs(("dev", 1), ("staging", 2), ("prod", 1))


def release(
    rid: int,
    windows: dict[str, tuple[int, int]],
    *,
    name: str = "",
    components: Sequence[str] | None = None,
    stage: str = PLANNED,
    state: State = State.PENDING,
) -> Release:
    name = name or f"app{rid}"
    return Release(
        id=rid,
        name=name,
        version=f"1.{rid}",
        components=tuple(components) if components is not None else (name,),
        owner="ops",
        risk=Risk.LOW,
        stage=stage,
        state=state,
        approved_by=None,
        approved_at=None,
        notes="",
        created_at=BASE,
        updated_at=BASE,
        rev=1,
        windows=tuple(Window(rid, env, at(s), at(e)) for env, (s, e) in windows.items()),
    )


def one_off(fid: int, where: Sequence[str], start: int, end: int, reason: str = "quiet") -> Freeze:
    return Freeze(fid, tuple(where), reason, start=at(start), end=at(end))


def kinds(conflicts: list[Conflict], kind: ConflictKind) -> list[Conflict]:
    return [c for c in conflicts if c.kind is kind]


# --- capacity -------------------------------------------------------------------------------------


def test_capacity_one_conflict_per_maximal_span_naming_every_release() -> None:
    board = [
        release(1, {"staging": (0, 30)}, name="payments-api"),
        release(2, {"staging": (10, 40)}),
        release(3, {"staging": (20, 50)}),
        release(4, {"staging": (45, 60)}),  # overlaps the tail, after the overload: not named
    ]
    (conflict,) = find_conflicts(PIPELINE, board, [], NOW)
    assert conflict.kind is ConflictKind.CAPACITY
    assert conflict.severity.value == "error"
    assert conflict.environments == ("staging",)
    assert conflict.releases == (1, 2, 3)
    assert (conflict.start, conflict.end) == (at(20), at(30))
    assert conflict.message == (
        "staging holds 3 windows at once but its capacity is 2: move one of payments-api 1.1, app2 1.2 and app3 1.3"
    )


def test_back_to_back_windows_do_not_overlap() -> None:
    board = [release(1, {"prod": (0, 10)}), release(2, {"prod": (10, 20)}), release(3, {"prod": (20, 30)})]
    assert find_conflicts(PIPELINE, board, [], NOW) == []


def test_capacity_span_does_not_split_where_one_window_ends_and_another_starts() -> None:
    board = [release(1, {"prod": (0, 10)}), release(2, {"prod": (5, 15)}), release(3, {"prod": (10, 20)})]
    (conflict,) = find_conflicts(PIPELINE, board, [], NOW)
    assert (conflict.start, conflict.end, conflict.releases) == (at(5), at(15), (1, 2, 3))
    assert conflict.message.startswith("prod holds 2 windows at once but its capacity is 1: ")


def test_capacity_span_leaves_out_a_window_that_ends_where_it_begins() -> None:
    board = [release(1, {"prod": (0, 10)}), release(2, {"prod": (10, 20)}), release(3, {"prod": (10, 20)})]
    (conflict,) = find_conflicts(PIPELINE, board, [], NOW)
    assert (conflict.start, conflict.end, conflict.releases) == (at(10), at(20), (2, 3))


def test_capacity_lists_at_most_five_releases() -> None:
    board = [release(i, {"prod": (0, 10)}) for i in range(1, 9)]
    (conflict,) = find_conflicts(PIPELINE, board, [], NOW)
    assert conflict.releases == tuple(range(1, 9))
    assert conflict.message.endswith("app5 1.5 and 3 more")


# --- freeze ---------------------------------------------------------------------------------------


def test_freeze_one_conflict_per_window_and_occurrence_over_the_intersection() -> None:
    board = [release(1, {"prod": (0, 60)}), release(2, {"dev": (0, 60)})]
    freezes = [
        one_off(7, ["prod"], 30, 90, reason="Black Friday"),
        one_off(8, ["all"], 50, 55),
        one_off(9, ["staging"], 0, 60),  # covers neither window
    ]
    found = find_conflicts(PIPELINE, board, freezes, NOW)
    assert [(c.environments, c.releases, c.start, c.end) for c in found] == [
        (("prod",), (1,), at(30), at(60)),
        (("dev",), (2,), at(50), at(55)),
        (("prod",), (1,), at(50), at(55)),
    ]
    assert found[0].message == (
        "app1 1.1 is scheduled in prod during freeze #7 (Black Friday): move the window out of the freeze"
    )


def test_freeze_touching_a_window_is_no_conflict() -> None:
    board = [release(1, {"prod": (10, 20)})]
    assert find_conflicts(PIPELINE, board, [one_off(1, ["prod"], 0, 10), one_off(2, ["all"], 20, 30)], NOW) == []


def test_recurring_freeze_is_expanded_in_its_zone() -> None:
    # Fridays 18:00 Berlin for 62h; 2026-03-27 is a Friday (CET, UTC+1): 17:00Z to Monday 07:00Z.
    friday = Freeze(3, ("prod",), "weekend", cron="0 18 * * FRI", duration=timedelta(hours=62), zone="Europe/Berlin")
    window = Window(1, "prod", datetime(2026, 3, 30, 6, tzinfo=UTC), datetime(2026, 3, 30, 9, tzinfo=UTC))
    (conflict,) = find_conflicts(PIPELINE, [replace(release(1, {}), windows=(window,))], [friday], NOW)
    assert (conflict.start, conflict.end) == (window.start, datetime(2026, 3, 30, 7, tzinfo=UTC))


# --- order ----------------------------------------------------------------------------------------


def test_order_window_in_later_environment_starting_before_earlier_one_ends() -> None:
    board = [release(1, {"staging": (0, 30), "prod": (20, 40)}, components=())]
    (conflict,) = find_conflicts(PIPELINE, board, [], NOW)
    assert conflict.kind is ConflictKind.ORDER
    assert conflict.environments == ("prod", "staging")
    assert (conflict.start, conflict.end) == (at(20), at(30))
    assert conflict.message == (
        "app1 1.1 starts in prod before its window in staging has ended: start the prod window after the staging one"
    )


def test_order_span_runs_from_the_later_start_to_the_earlier_end() -> None:
    # prod entirely before dev: the span covers the whole stretch, never empty.
    board = [release(1, {"dev": (50, 60), "staging": (60, 70), "prod": (0, 10)}, components=())]
    found = find_conflicts(PIPELINE, board, [], NOW)
    assert [(c.environments, c.start, c.end) for c in found] == [
        (("dev", "prod"), at(0), at(60)),
        (("prod", "staging"), at(0), at(70)),
    ]


def test_order_back_to_back_is_fine() -> None:
    board = [release(1, {"dev": (0, 10), "staging": (10, 20), "prod": (20, 30)})]
    assert find_conflicts(PIPELINE, board, [], NOW) == []


# --- component ------------------------------------------------------------------------------------


def test_component_one_warning_per_pair_of_windows_naming_shared_components() -> None:
    board = [
        release(1, {"staging": (0, 30)}, components=["db", "cache", "api"]),
        release(2, {"prod": (20, 50)}, components=["cache", "db", "web"]),
        release(3, {"staging": (0, 30)}, components=["web"]),  # same env as 1, overlaps 2: a pair
    ]
    found = find_conflicts(PIPELINE, board, [], NOW)
    assert [(c.kind, c.releases, c.start, c.end) for c in found] == [
        (ConflictKind.COMPONENT, (1, 2), at(20), at(30)),
        (ConflictKind.COMPONENT, (2, 3), at(20), at(30)),
    ]
    assert found[0].severity.value == "warning"
    assert found[0].environments == ("prod", "staging")
    assert found[0].message == (
        "app2 1.2 in prod and app1 1.1 in staging overlap and both touch cache and db: move one of them"
    )


def test_component_not_within_one_environment_nor_one_release() -> None:
    board = [
        release(1, {"staging": (0, 30)}, components=["db"]),
        release(2, {"staging": (10, 20)}, components=["db"]),
        release(3, {"dev": (0, 10), "prod": (5, 20)}, components=["x"]),
    ]
    assert {c.kind for c in find_conflicts(PIPELINE, board, [], NOW)} == {ConflictKind.ORDER}


# --- missed ---------------------------------------------------------------------------------------


def test_missed_when_the_window_ended_and_the_release_is_not_there_yet() -> None:
    board = [
        release(1, {"dev": (0, 10)}),  # planned: missed
        release(2, {"staging": (0, 10)}, stage="dev", state=State.VERIFIED),  # behind: missed
        release(3, {"staging": (0, 10)}, stage="staging", state=State.DEPLOYED),  # there
        release(4, {"dev": (10, 20)}, stage="prod", state=State.DEPLOYED),  # past it
        release(5, {"prod": (20, 30)}),  # ends exactly now: missed
        release(6, {"prod": (31, 40)}),  # still to come
    ]
    found = find_conflicts(PIPELINE, board, [], at(30))
    assert [(c.kind, c.releases, c.start, c.end) for c in found] == [
        (ConflictKind.MISSED, (1,), at(0), at(10)),
        (ConflictKind.MISSED, (2,), at(0), at(10)),
        (ConflictKind.MISSED, (5,), at(20), at(30)),
    ]
    assert found[0].message == (
        "app1 1.1's window in dev has passed but it is still planned: reschedule the window or move the release"
    )
    assert found[1].message == (
        "app2 1.2's window in staging has passed but it is still in dev: reschedule the window or move the release"
    )


# --- the whole --------------------------------------------------------------------------------------


def test_cancelled_releases_and_unknown_environments_are_ignored() -> None:
    board = [
        release(1, {"prod": (0, 10)}),
        release(2, {"prod": (0, 10)}, state=State.CANCELLED),
        release(3, {"qa": (0, 10)}, name="app1"),
    ]
    assert find_conflicts(PIPELINE, board, [one_off(1, ["qa"], 0, 10)], NOW) == []


def test_empty_board() -> None:
    assert find_conflicts(PIPELINE, [], [one_off(1, ["all"], 0, 10)], NOW) == []
    assert find_conflicts([], [release(1, {"prod": (0, 10)})], [], NOW) == []


def test_sorted_by_start_then_kind_then_environments() -> None:
    board = [
        release(1, {"staging": (0, 30), "prod": (10, 40)}, components=["db"]),
        release(2, {"prod": (10, 20)}, components=["db"]),
        release(3, {"dev": (10, 20)}, components=["db"]),
    ]
    found = find_conflicts(PIPELINE, board, [one_off(1, ["dev"], 10, 11)], at(100))
    assert [(c.start, c.kind.value, c.environments, c.releases) for c in found] == [
        (at(0), "missed", ("staging",), (1,)),
        (at(10), "capacity", ("prod",), (1, 2)),
        (at(10), "component", ("dev", "prod"), (1, 3)),
        (at(10), "component", ("dev", "prod"), (2, 3)),
        (at(10), "component", ("dev", "staging"), (1, 3)),
        (at(10), "component", ("prod", "staging"), (1, 2)),
        (at(10), "freeze", ("dev",), (3,)),
        (at(10), "missed", ("dev",), (3,)),
        (at(10), "missed", ("prod",), (1,)),
        (at(10), "missed", ("prod",), (2,)),
        (at(10), "order", ("prod", "staging"), (1,)),
    ]


def test_hostile_names_stay_on_one_short_line() -> None:
    long_name = "x" * 500
    board = [
        release(1, {"prod": (0, 10)}, name=long_name),
        release(2, {"prod": (0, 10)}, name="evil\nname\x1b[31m\u202e"),
    ]
    freezes = [one_off(1, ["prod"], 0, 5, reason="r" * 1000 + "\n")]
    found = find_conflicts(PIPELINE, board, freezes, NOW)
    for conflict in found:
        assert conflict.message.isprintable()
        assert len(conflict.message) < 250
    capacity = kinds(found, ConflictKind.CAPACITY)[0]
    assert "x" * 39 + "…" in capacity.message
    assert "evil name [31m 1.2" in capacity.message


def test_to_json_shape_and_order() -> None:
    board = [release(1, {"prod": (0, 10)}), release(2, {"prod": (5, 15)})]
    (conflict,) = find_conflicts(PIPELINE, board, [], NOW)
    item = to_json(conflict)
    assert list(item) == ["kind", "severity", "environments", "releases", "start", "end", "message"]
    assert item == {
        "kind": "capacity",
        "severity": "error",
        "environments": ["prod"],
        "releases": [1, 2],
        "start": "2026-03-29T00:35:00Z",
        "end": "2026-03-29T00:40:00Z",
        "message": "prod holds 2 windows at once but its capacity is 1: move one of app1 1.1 and app2 1.2",
    }
    assert json.loads(json.dumps(item)) == item


# --- done windows ---------------------------------------------------------------------------------


def test_done_windows_raise_no_conflict() -> None:
    # Two releases with overlapping dev windows, both since moved on to prod: the dev windows are done.
    a = release(1, {"dev": (0, 60), "prod": (600, 660)}, components=["db"], stage="prod", state=State.DEPLOYED)
    b = release(2, {"dev": (30, 90), "prod": (700, 760)}, components=["db"], stage="prod", state=State.DEPLOYED)
    assert find_conflicts(PIPELINE, [a, b], [], NOW) == []
    # While they stood in planned, the same windows were a capacity error.
    planned = [replace(a, stage=PLANNED, state=State.PENDING), replace(b, stage=PLANNED, state=State.PENDING)]
    assert [c.kind for c in find_conflicts(PIPELINE, planned, [], NOW)] == [ConflictKind.CAPACITY]


def test_a_done_window_warns_no_component_against_a_later_one() -> None:
    a = release(1, {"dev": (0, 60)}, components=["db"], stage="staging", state=State.DEPLOYED)
    b = release(2, {"prod": (0, 60)}, components=["db"])
    assert find_conflicts(PIPELINE, [a, b], [], NOW) == []
    a_in_planned = replace(a, stage=PLANNED, state=State.PENDING)
    assert [c.kind for c in find_conflicts(PIPELINE, [a_in_planned, b], [], NOW)] == [ConflictKind.COMPONENT]


def test_a_window_open_now_is_not_done_and_a_rollback_makes_one_count_again() -> None:
    a = release(1, {"dev": (0, 60)}, stage="dev", state=State.DEPLOYED)
    b = release(2, {"dev": (30, 90)})
    assert kinds(find_conflicts(PIPELINE, [a, b], [], at(40)), ConflictKind.CAPACITY)  # open now: counts
    assert find_conflicts(PIPELINE, [a, b], [], NOW) == []  # not open yet, a is in dev: done
    rolled_back = replace(a, stage=PLANNED, state=State.PENDING)
    assert kinds(find_conflicts(PIPELINE, [rolled_back, b], [], NOW), ConflictKind.CAPACITY)


def test_done_window_in_a_frozen_environment_is_no_freeze_conflict() -> None:
    a = release(1, {"dev": (0, 60)}, stage="prod", state=State.DEPLOYED)
    assert find_conflicts(PIPELINE, [a], [one_off(1, ["dev"], 10, 20)], NOW) == []


# --- against a brute-force oracle -----------------------------------------------------------------

ENV_NAMES = ("dev", "test", "staging", "prod")
COMPONENTS = ("db", "cache", "web")
HORIZON = 60  # windows live in minutes [0, HORIZON + 30)


@st.composite
def boards(draw: st.DrawFn) -> tuple[list[Environment], list[Release], list[Freeze], datetime]:
    # On a coarse grid most endpoints coincide, which is where half-open mistakes hide.
    unit = draw(st.sampled_from([1, 5]))

    def span(low: int, high: int, longest: int) -> tuple[int, int]:
        start = draw(st.integers(low // unit, high // unit)) * unit
        return start, start + draw(st.integers(1, longest // unit)) * unit

    count = draw(st.integers(1, 4))
    # Usually a proper pipeline; sometimes two environments share a position (neither is earlier).
    ties = st.lists(st.integers(0, count - 1), min_size=count, max_size=count)
    positions = draw(st.one_of(st.permutations(range(count)), ties))
    environments = [
        Environment(ENV_NAMES[i], ENV_NAMES[i], positions[i] * 10, draw(st.sampled_from([1, 1, 2, 3])))
        for i in range(count)
    ]
    places = [env.name for env in environments] + ["ghost"]  # "ghost" is not on the board
    releases = []
    for rid in range(1, draw(st.integers(0, 9)) + 1):
        windows = []
        for place in draw(st.lists(st.sampled_from(places), unique=True, max_size=4)):
            start, end = span(0, HORIZON, 30)
            windows.append(Window(rid, place, at(start), at(end)))
        releases.append(
            Release(
                id=rid,
                name=f"r{rid}",
                version="1",
                components=tuple(draw(st.lists(st.sampled_from(COMPONENTS), max_size=3))),
                owner="o",
                risk=Risk.LOW,
                stage=draw(st.sampled_from([PLANNED, *places])),
                state=draw(st.sampled_from([State.PENDING, State.DEPLOYED, State.CANCELLED])),
                approved_by=None,
                approved_at=None,
                notes="",
                created_at=BASE,
                updated_at=BASE,
                rev=1,
                windows=tuple(windows),
            )
        )
    freezes = []
    for fid in range(1, draw(st.integers(0, 3)) + 1):
        where = tuple(draw(st.lists(st.sampled_from([*places, "all"]), min_size=1, max_size=2, unique=True)))
        if draw(st.booleans()):
            start, end = span(-20, HORIZON + 20, 40)
            freezes.append(Freeze(fid, where, "f", start=at(start), end=at(end)))
        else:
            every = draw(st.sampled_from([10, 15, 20, 30]))
            first = draw(st.integers(0, every - 1)) // unit * unit
            freezes.append(
                Freeze(
                    fid,
                    where,
                    "f",
                    cron=f"{first}-59/{every} * * * *",
                    duration=timedelta(minutes=draw(st.integers(1, 25 // unit)) * unit),
                    zone=draw(st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"])),
                )
            )
    now = at(draw(st.integers(0, (HORIZON + 30) // unit)) * unit)
    return environments, releases, freezes, now


Key = tuple[str, tuple[str, ...], tuple[int, ...], int, int]


def minutes(moment: datetime) -> int:
    return int((moment - BASE).total_seconds()) // 60


def oracle(
    environments: list[Environment], releases: list[Release], freezes: list[Freeze], now: datetime
) -> Counter[Key]:
    """Every conflict, by definition: minute by minute for capacity, pair by pair for the rest."""
    env = {e.name: e for e in environments}
    live = [r for r in releases if r.state is not State.CANCELLED]

    def done(r: Release, w: Window) -> bool:  # reached its environment, and not open now
        reached = r.stage in env and w.environment in env and env[r.stage].position >= env[w.environment].position
        return reached and not (w.start <= now < w.end)

    windows = [
        (r, w.environment, minutes(w.start), minutes(w.end))
        for r in live
        for w in r.windows
        if w.environment in env and not done(r, w)
    ]
    found: Counter[Key] = Counter()

    for name, e in env.items():
        mine = [(r, s, t) for r, where, s, t in windows if where == name]
        over = [sum(s <= m < t for _, s, t in mine) > e.capacity for m in range(-60, HORIZON + 60)]
        m = 0
        while m < len(over):
            if not over[m]:
                m += 1
                continue
            first = m
            while m < len(over) and over[m]:
                m += 1
            a, b = first - 60, m - 60
            ids = tuple(sorted({r.id for r, s, t in mine if s < b and t > a}))
            found[("capacity", (name,), ids, a, b)] += 1

    # A freeze's occurrences that overlap or touch are one cover span; one conflict per
    # window and freeze, from the first minute it holds in the window to the end of the last
    # span there. A day either side reaches well past every window.
    for freeze in freezes:
        spans: list[list[int]] = []
        for occ in expand([freeze], at(-24 * 60), at(24 * 60)):
            if spans and minutes(occ.start) <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], minutes(occ.end))
            else:
                spans.append([minutes(occ.start), minutes(occ.end)])
        for r, where, s, t in windows:
            met = [(max(s, low), min(t, high)) for low, high in spans if max(s, low) < min(t, high)]
            if freeze.covers(where) and met:
                found[("freeze", (where,), (r.id,), met[0][0], met[-1][1])] += 1

    for r, where, s, t in windows:
        for r2, where2, s2, t2 in windows:
            if r2 is r and env[where2].position < env[where].position and s < t2:
                found[("order", tuple(sorted((where, where2))), (r.id,), s, t2)] += 1
            if r.id < r2.id and where != where2 and max(s, s2) < min(t, t2) and set(r.components) & set(r2.components):
                key = ("component", tuple(sorted((where, where2))), (r.id, r2.id), max(s, s2), min(t, t2))
                found[key] += 1

    for r, where, s, t in windows:
        behind = r.stage == PLANNED or (r.stage in env and env[r.stage].position < env[where].position)
        if t <= minutes(now) and behind:
            found[("missed", (where,), (r.id,), s, t)] += 1
    return found


@settings(
    max_examples=1000, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(boards())
def test_engine_matches_brute_force_oracle(
    board: tuple[list[Environment], list[Release], list[Freeze], datetime],
) -> None:
    environments, releases, freezes, now = board
    found = find_conflicts(environments, releases, freezes, now)
    got = Counter((c.kind.value, c.environments, c.releases, minutes(c.start), minutes(c.end)) for c in found)
    assert got == oracle(environments, releases, freezes, now)
    assert [c.start for c in found] == sorted(c.start for c in found)
    order = [(c.start, c.kind.value, c.environments, c.releases) for c in found]
    assert order == sorted(order)
    for conflict in found:
        assert conflict.severity is SEVERITY[conflict.kind]
        assert conflict.start < conflict.end
        assert conflict.message and "\n" not in conflict.message


@settings(
    max_examples=500, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(boards())
def test_engine_matches_the_oracle_when_every_window_is_looked_up_on_its_own(
    board: tuple[list[Environment], list[Release], list[Freeze], datetime],
) -> None:
    # A window meeting more than a few of a freeze's stretches is looked up at its two ends
    # (held_within); with none allowed, every window of every recurring freeze goes that way.
    environments, releases, freezes, now = board
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conflicts, "_FEW", 0)
        found = find_conflicts(environments, releases, freezes, now)
    got = Counter((c.kind.value, c.environments, c.releases, minutes(c.start), minutes(c.end)) for c in found)
    assert got == oracle(environments, releases, freezes, now)


@settings(max_examples=1000, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(1, 12)), max_size=12),
    st.integers(-1, 3),
)
def test_crowded_spans_match_a_walk_over_every_instant(intervals: list[tuple[int, int]], limit: int) -> None:
    """The sweep under the capacity rule (and next_free) against counting each unit of time."""
    starts = [start for start, _ in intervals]
    ends = [start + length for start, length in intervals]
    count = [sum(s <= t < e for s, e in zip(starts, ends, strict=True)) for t in range(50)]
    expected = []
    t = 0
    while t < 50:
        if count[t] > max(limit, 0):
            first = t
            while count[t] > max(limit, 0):
                t += 1
            members = {i for i, (s, e) in enumerate(zip(starts, ends, strict=True)) if s < t and e > first}
            expected.append((first, t, max(count[first:t]), members))
        t += 1
    got = [(start, end, peak, set(members)) for start, end, peak, members in crowded_spans(starts, ends, limit)]
    assert got == expected
    assert all(len(members) == len(set(members)) for *_, members in crowded_spans(starts, ends, limit))
