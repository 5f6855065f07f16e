"""The delivery figures against a brute-force count written straight from DESIGN's words, on random histories."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import release_record_of
from hypothesis import given, settings
from hypothesis import strategies as st

from relman_tui import insights
from relman_tui.details import Details, ReleaseRecord
from relman_tui.model import Environment, Event
from relman_tui.timeutil import to_stamp

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ENVS = [Environment("dev", "Dev", 1), Environment("test", "Test", 2), Environment("prod", "Prod", 3, 1, True)]
POOL = ["a", "b", "c", "d"]


def history(seed: int, size: int) -> list[Event]:
    """Random events (no gates: any order of anything), each carrying the release's record as DESIGN says."""
    rng = random.Random(seed)
    at = NOW - timedelta(days=rng.choice([5, 20, 40]))
    records: dict[int, ReleaseRecord] = {}
    events: list[Event] = []

    def log(release: int, action: str, **kw: Any) -> None:
        extra: Details = kw.pop("details", {})
        details: Details = {**extra, "release": records[release].copy()}
        events.append(Event(len(events) + 1, at, "x", release, action, details=details, **kw))

    for _ in range(size):
        at += timedelta(hours=rng.choice([0, 1, 2, 7, 30]))
        release = rng.randrange(1, 6)
        if release not in records:
            changed = rng.choice([None, to_stamp(at - timedelta(hours=rng.randrange(1, 100)))])
            comps = rng.sample(POOL, rng.randrange(1, 3))
            records[release] = release_record_of(release, comps, to_stamp(at), changed)
            log(release, "created", to="planned")
            continue
        env = rng.choice(["dev", "test", "prod"])
        other = rng.choice(["planned", "dev", "test"])
        action = rng.choice(["moved", "moved", "failed", "rolled_back", "verified", "verified", "edited"])
        if action == "moved":
            forced = rng.random() < 0.3
            extra = {"unapproved": True} if forced and env == "prod" and rng.random() < 0.5 else {}
            log(release, "moved", from_=other, to=env, forced=forced, reason="r" if forced else None, details=extra)
        elif action == "rolled_back":
            log(release, "rolled_back", from_=env, to=other, reason="r")
        elif action in ("failed", "verified"):
            log(release, action, from_="deployed", to=env)
        else:
            records[release]["components"] = rng.sample(POOL, rng.randrange(1, 3))
            records[release]["changed_at"] = to_stamp(at - timedelta(hours=rng.randrange(0, 50)))
            log(release, "edited")
    return events


def brute_force(events: list[Event], env: str, now: datetime, days: int) -> dict[str, Any]:
    """DESIGN "Insights", one sentence at a time, by looking at every event for every question."""
    log = sorted((e for e in events if e.at <= now), key=lambda e: e.seq)
    start = now - timedelta(days=days)

    def record(e: Event) -> dict[str, Any]:
        return dict(e.details["release"])

    deployments = [e for e in log if e.action == "moved" and e.to == env]
    counted = [d for d in deployments if start < d.at <= now]
    failed, recoveries, unrecovered = 0, [], 0
    for d in counted:
        later = [x.seq for x in deployments if x.release == d.release and x.seq > d.seq]
        until = min(later) if later else float("inf")
        marks = [
            x
            for x in log
            if x.release == d.release
            and d.seq < x.seq < until
            and ((x.action == "failed" and x.to == env) or (x.action == "rolled_back" and x.from_ == env))
        ]
        if not marks:
            continue
        failed += 1
        mark = marks[0]
        ends = [
            x
            for x in log
            if x.release == d.release and x.action == "rolled_back" and x.from_ == env and mark.seq <= x.seq < until
        ]
        for v in log:
            if v.action != "verified" or v.to != env or v.release == d.release:
                continue
            if not set(record(v)["components"]) & set(record(d)["components"]):
                continue
            before = [x for x in deployments if x.release == v.release and x.seq < v.seq]
            if before and before[-1].seq > mark.seq:
                ends.append(v)
        if ends:
            recoveries.append((min(ends, key=lambda x: x.seq).at - mark.at).total_seconds())
        else:
            unrecovered += 1
    leads, from_changed = [], 0
    for release in {d.release for d in deployments}:
        first = next(d for d in deployments if d.release == release)
        if start < first.at <= now:
            changed = record(first)["changed_at"]
            basis = changed or record(first)["created_at"]
            leads.append((first.at - datetime.fromisoformat(basis)).total_seconds())
            from_changed += changed is not None
    n = len(counted)
    forced = sum(d.forced for d in counted)
    glass = sum(d.forced and bool(d.details.get("unapproved")) for d in counted)

    def p90(values: list[float]) -> float | None:
        return min((v for v in values if 10 * sum(x <= v for x in values) >= 9 * len(values)), default=None)

    def rate(part: int) -> float | None:
        return part / n if n else None

    return {
        "environment": env,
        "from": to_stamp(start),
        "to": to_stamp(now),
        "days": days,
        "deployments": {"n": n},
        "frequency": {"n": n, "per_day": n / days, "per_week": 7 * n / days},
        "lead_time": {
            "n": len(leads),
            "median": statistics.median(leads) if leads else None,
            "p90": p90(leads),
            "from_changed_at": from_changed,
            "from_created": len(leads) - from_changed,
        },
        "change_failure_rate": {"n": n, "numerator": failed, "denominator": n, "value": rate(failed)},
        "recovery_time": {
            "n": len(recoveries),
            "median": statistics.median(recoveries) if recoveries else None,
            "p90": p90(recoveries),
            "unrecovered": unrecovered,
        },
        "forced": {"n": forced, "share": rate(forced), "break_glass": {"n": glass, "share": rate(glass)}},
    }


@settings(max_examples=300)
@given(
    seed=st.integers(0, 2**32),
    size=st.integers(0, 120),
    env=st.sampled_from(["dev", "test", "prod"]),
    days=st.sampled_from([1, 7, 30, 90, 90]),
    back=st.sampled_from([0, 3, 10]),
)
def test_figures_match_a_brute_force_count(seed: int, size: int, env: str, days: int, back: int) -> None:
    events = history(seed, size)
    now = NOW - timedelta(days=back)  # sometimes the log goes on after *now*: those events are not read
    expected = brute_force(events, env, now, days)
    assert insights.compute(events, ENVS, now, env, days).figures.json() == expected
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    assert insights.compute(shuffled, ENVS, now, env, days).figures.json() == expected


def test_the_random_histories_exercise_every_figure() -> None:
    """The generator is worth its salt: across a few seeds every figure is non-trivial somewhere."""
    seen: set[str] = set()
    for seed in range(40):
        out = brute_force(history(seed, 80), "dev", NOW, 30)
        if out["change_failure_rate"]["numerator"]:
            seen.add("failed")
        if out["recovery_time"]["n"]:
            seen.add("recovered")
        if out["recovery_time"]["unrecovered"]:
            seen.add("unrecovered")
        if out["lead_time"]["from_changed_at"] and out["lead_time"]["from_created"]:
            seen.add("both bases")
        if out["forced"]["n"]:
            seen.add("forced")
    prod = [brute_force(history(seed, 80), "prod", NOW, 30)["forced"]["break_glass"]["n"] for seed in range(40)]
    assert seen == {"failed", "recovered", "unrecovered", "both bases", "forced"} and any(prod)
