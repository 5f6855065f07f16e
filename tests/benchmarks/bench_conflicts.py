"""How fast the conflict engine is on a big board, and against a naive pairwise check.

Run: ``python tests/benchmarks/bench_conflicts.py`` (not collected by pytest; reports, never asserts).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from relman_tui.conflicts import find_conflicts, ticks
from relman_tui.freezes import expand
from relman_tui.model import PLANNED, Environment, Freeze, Release, Risk, State, Window
from relman_tui.timeutil import UTC

START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_HOURS = 2 * 365 * 24
ENVIRONMENTS = [
    Environment(name, name.title(), position, capacity)
    for position, (name, capacity) in enumerate(
        [
            ("dev", 6),
            ("int", 5),
            ("qa", 4),
            ("perf", 4),
            ("uat", 4),
            ("staging", 4),
            ("preprod", 3),
            ("canary", 3),
            ("prod-eu", 3),
            ("prod-us", 3),
        ]
    )
]
NOW = START + timedelta(days=60)


def board(windows: int, freezes: int, *, stress: bool = False, seed: int = 7) -> tuple[list[Release], list[Freeze]]:
    """``windows`` / 10 releases over two years, each walking the pipeline with one window per
    environment, and ``freezes`` freezes, one in ten recurring in a real zone.

    The planned board is what a team that uses the scheduler has: windows on working days in
    working hours, weekend and month-end freezes in prod, so conflicts are the exception. The
    stress board schedules round the clock and freezes every environment, so the output is
    large and its cost shows.
    """
    rng = random.Random(seed)
    services = [f"svc-{i:03d}" for i in range(500)]
    shared = [f"shared-db-{i:02d}" for i in range(50)]
    releases = []
    for rid in range(1, windows // len(ENVIRONMENTS) + 1):
        name = rng.choice(services)
        components = (name, rng.choice(shared)) if rng.random() < 0.3 else (name,)
        at = START + timedelta(minutes=5 * rng.randrange(SPAN_HOURS * 12))
        own = []
        for env in ENVIRONMENTS:
            if not stress and at.weekday() >= 5:  # not at the weekend: on to Monday
                at = (at + timedelta(days=7 - at.weekday())).replace(hour=rng.randrange(24))
            length = timedelta(minutes=15 * rng.randint(1, 8))
            if rng.random() < 0.02:  # now and then someone schedules out of order
                at -= timedelta(hours=rng.randint(1, 6))
            own.append(Window(rid, env.name, at, at + length))
            at += length + timedelta(hours=rng.randint(2, 72))
        releases.append(
            Release(
                id=rid,
                name=name,
                version=f"1.{rid}",
                components=components,
                owner="ops",
                risk=Risk.LOW,
                stage=rng.choice([PLANNED, *(e.name for e in ENVIRONMENTS)]),
                state=State.CANCELLED if rng.random() < 0.03 else State.PENDING,
                approved_by=None,
                approved_at=None,
                notes="",
                created_at=START,
                updated_at=START,
                rev=1,
                windows=tuple(own),
            )
        )
    routines = [("0 18 * * FRI", 62), ("0 0 1 * *", 24), ("0 2 * * *", 1), ("30 12 * * MON-FRI", 1)]
    if not stress:  # what a team plans around: weekends and month ends
        routines = [("0 0 * * SAT", 48), ("0 0 1 * *", 24)]
    prod = [env.name for env in ENVIRONMENTS if env.name.startswith("prod")]
    frozen = []
    for fid in range(1, freezes + 1):
        if stress:
            where = ("all",) if rng.random() < 0.05 else (rng.choice(ENVIRONMENTS).name,)
        else:
            where = ("all",) if rng.random() < 0.01 else (rng.choice(ENVIRONMENTS).name,)
        if (fid % 10 == 0) if stress else (fid <= 2 * len(prod)):  # the planned board: one of each per prod
            cron, hours = routines[fid % len(routines) if stress else (fid - 1) // len(prod)]
            zone = rng.choice(["Europe/Berlin", "America/New_York", "Asia/Kolkata"]) if stress else "UTC"
            where = where if stress else (prod[fid % len(prod)],)
            frozen.append(Freeze(fid, where, "routine", cron=cron, duration=timedelta(hours=hours), zone=zone))
        else:
            at = START + timedelta(hours=rng.randrange(SPAN_HOURS))
            hours = rng.randint(1, 12 if stress else 4)
            frozen.append(Freeze(fid, where, "change freeze", start=at, end=at + timedelta(hours=hours)))
    return releases, frozen


def naive(releases: Sequence[Release], freezes: Sequence[Freeze], now: datetime) -> Counter[str]:
    """The same rules checked pair by pair (on int times, to be fair to it)."""
    env = {e.name: e for e in ENVIRONMENTS}
    now_t = ticks(now)

    def done(r: Release, e: str, s: int, t: int) -> bool:  # DESIGN "Conflicts": reached, and not open now
        return r.stage in env and env[r.stage].position >= env[e].position and not s <= now_t < t

    ws = [
        (r, w.environment, ticks(w.start), ticks(w.end))
        for r in releases
        if not r.cancelled
        for w in r.windows
        if w.environment in env and not done(r, w.environment, ticks(w.start), ticks(w.end))
    ]
    occs = [
        (o, ticks(o.start), ticks(o.end))
        for o in expand(freezes, START - timedelta(days=30), START + timedelta(days=1200))
    ]
    found: Counter[str] = Counter()
    now_t = ticks(now)
    for i, (r, e, s, t) in enumerate(ws):
        open_at_start = sum(1 for _, e2, s2, t2 in ws if e2 == e and s2 <= s < t2)
        if open_at_start > env[e].capacity:
            found["capacity (instants)"] += 1
        for r2, e2, s2, t2 in ws[i + 1 :]:
            if r2 is r:
                if env[e].position != env[e2].position:
                    later_start, earlier_end = (s, t2) if env[e].position > env[e2].position else (s2, t)
                    found["order"] += later_start < earlier_end
            elif s < t2 and s2 < t and e != e2 and set(r.components) & set(r2.components):
                found["component"] += 1
        for o, os, oe in occs:
            if os < t and s < oe and o.covers(e):
                found["freeze"] += 1
        if t <= now_t and (r.stage == PLANNED or (r.stage in env and env[r.stage].position < env[e].position)):
            found["missed"] += 1
    return found


def median_time(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        run()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def machine_speed() -> float:
    """Seconds for ten million trips round a bare Python loop, to compare machines by."""
    begin = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - begin


def main() -> None:
    print(f"this machine: a 10,000,000-step Python loop takes {machine_speed():.2f}s")
    print()
    print(f"{'100,000 windows, 1,000 freezes':32}{'conflicts':>10}{'median':>9}{'expand':>9}  by kind")
    for stress in (False, True):
        releases, freezes = board(100_000, 1_000, stress=stress)
        found = find_conflicts(ENVIRONMENTS, releases, freezes, NOW)
        by_kind = Counter(c.kind.value for c in found)
        engine = median_time(lambda: find_conflicts(ENVIRONMENTS, releases, freezes, NOW), 5)  # noqa: B023
        starts = [w.start for r in releases for w in r.windows]
        ends = [w.end for r in releases for w in r.windows]
        occurrences = expand(freezes, min(starts), max(ends))
        expansion = median_time(lambda: expand(freezes, min(starts), max(ends)), 5)  # noqa: B023
        name = f"{'stress' if stress else 'planned'} board ({len(occurrences):,} occurrences)"
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(by_kind.items()))
        print(f"{name:32}{len(found):>10,}{engine * 1000:>7.0f}ms{expansion * 1000:>7.0f}ms  {kinds}")
    print("(expand: the part of the median spent in freezes.expand)")
    print()

    small_releases, small_freezes = board(5_000, 50, seed=11)
    fast = median_time(lambda: find_conflicts(ENVIRONMENTS, small_releases, small_freezes, NOW), 5)
    slow = median_time(lambda: naive(small_releases, small_freezes, NOW), 1)
    print(f"{'5,000 windows, planned board':32}{'median':>10}")
    print(f"{'  find_conflicts':32}{fast * 1000:>8.1f}ms")
    print(f"{'  naive pairwise':32}{slow * 1000:>8.0f}ms")
    print(f"{'  speed-up':32}{slow / fast:>9.0f}x")
    engine_kinds = Counter(c.kind.value for c in find_conflicts(ENVIRONMENTS, small_releases, small_freezes, NOW))
    checked = naive(small_releases, small_freezes, NOW)
    same = all(engine_kinds[k] == checked[k] for k in ("freeze", "order", "component", "missed"))
    print(f"  pairwise freeze/order/component/missed counts agree with the engine: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
