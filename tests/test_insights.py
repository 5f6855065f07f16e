"""Delivery figures (`relman insights`): scripted histories on a fixed-clock board for every definition."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, Run, bad, release_record_of

from relman_tui import insights
from relman_tui.details import Details, checked
from relman_tui.model import Environment, Event
from relman_tui.service import Service
from relman_tui.store import BoardStore
from relman_tui.timeutil import FixedClock, to_stamp

H = timedelta(hours=1)
D = timedelta(days=1)
START = NOW - 60 * D  # where the scripted histories begin, well inside the default 90 days


class History:
    """A board whose clock is moved by the script: ``h.at(hours)`` then a service call."""

    def __init__(self, store: BoardStore, start: datetime = START) -> None:
        self.clock = FixedClock(start)
        self.start = start
        self.service = Service(store, self.clock, "alice")
        self.approver = Service(store, self.clock, "bob")

    def at(self, hours: float) -> Service:
        moment = self.start + timedelta(hours=hours)
        self.clock.advance(moment - self.clock.now())
        return self.service

    def add(self, hours: float, name: str, *components: str, changed_at: datetime | None = None) -> int:
        return self.at(hours).add_release(name, "1.0", components, changed_at=changed_at).id

    def figures(self, environment: str = "dev", days: int = 90, now: datetime = NOW) -> dict[str, Any]:
        self.clock.advance(now - self.clock.now())
        return self.service.insights(environment, days).figures.json()


@pytest.fixture
def history(store: BoardStore) -> History:
    return History(store)


def test_a_deployment_failed_and_rolled_back_counts_once(history: History) -> None:
    r = history.add(0, "payments")
    history.at(1).move(r, "dev")
    history.at(2).fail(r, "smoke tests red")
    history.at(5).rollback(r, "back out")
    out = history.figures()
    assert out["deployments"] == {"n": 1}
    assert out["change_failure_rate"] == {"n": 1, "numerator": 1, "denominator": 1, "value": 1.0}
    # from the failed mark (hour 2) to the rollback (hour 5)
    assert out["recovery_time"] == {"n": 1, "median": 3 * 3600, "p90": 3 * 3600, "unrecovered": 0}


def test_failed_rolled_back_redeployed_and_failed_again_counts_twice(history: History) -> None:
    r = history.add(0, "payments")
    history.at(1).move(r, "dev")
    history.at(2).fail(r, "red")
    history.at(3).rollback(r, "back out")
    history.at(10).move(r, "dev")
    history.at(12).fail(r, "red again")
    out = history.figures()
    assert out["deployments"] == {"n": 2}
    assert out["change_failure_rate"] == {"n": 2, "numerator": 2, "denominator": 2, "value": 1.0}
    assert out["recovery_time"] == {"n": 1, "median": 3600, "p90": 3600, "unrecovered": 1}


def test_a_rollback_without_a_failed_mark_is_a_failure_recovered_at_once(history: History) -> None:
    r = history.add(0, "payments")
    history.at(1).move(r, "dev")
    history.at(4).rollback(r, "customer complaints")
    ok = history.add(5, "ledger")
    history.at(6).move(ok, "dev")
    history.at(7).verify(ok)
    out = history.figures()
    assert out["change_failure_rate"] == {"n": 2, "numerator": 1, "denominator": 2, "value": 0.5}
    assert out["recovery_time"] == {"n": 1, "median": 0, "p90": 0, "unrecovered": 0}


def test_a_fix_of_another_release_sharing_a_component_ends_a_recovery(history: History) -> None:
    broken = history.add(0, "payments-api", "payments-api", "payments-db")
    early = history.add(0, "ledger", "payments-db")
    unrelated = history.add(0, "search", "search")
    fix = history.add(0, "payments-api-hotfix", "payments-db")
    history.at(1).move(broken, "dev")
    history.service.verify(broken)
    history.at(2).move(broken, "test")
    history.at(2.5).move(early, "dev")  # shares a component, but deployed before the failure mark
    history.at(3).fail(broken, "500s")
    history.at(4).verify(early)  # not a fix: it was deployed before the mark
    history.at(4.5).move(unrelated, "dev")
    history.service.move(unrelated, "test", force=True, reason="skip")
    history.at(5).verify(unrelated)  # not a fix: no shared component
    history.at(6).move(fix, "dev")
    history.service.verify(fix)
    history.at(7).move(fix, "test", force=True, reason="hotfix")
    assert history.figures("test")["recovery_time"]["unrecovered"] == 1  # deployed, not yet verified
    history.at(9).verify(fix)
    history.at(12).rollback(broken, "tidy up")  # later than the fix: the fix ended it
    out = history.figures("test")
    assert out["change_failure_rate"]["numerator"] == 1
    assert out["recovery_time"] == {"n": 1, "median": 6 * 3600, "p90": 6 * 3600, "unrecovered": 0}


def test_events_outside_the_period_do_not_count(history: History) -> None:
    old = history.add(0, "old")
    history.at(1).move(old, "dev")
    history.at(2).fail(old, "red")
    recent = history.add(40 * 24, "recent")
    history.at(40 * 24 + 1).move(recent, "dev")
    # the period is the 30 days before NOW; START is 60 days before it
    out = history.figures(days=30)
    assert out["deployments"] == {"n": 1}
    assert out["change_failure_rate"]["numerator"] == 0
    assert out["from"] == to_stamp(NOW - 30 * D) and out["to"] == to_stamp(NOW)
    assert history.figures(days=90)["deployments"] == {"n": 2}
    # events after *now* are not read either: at START + 1h30 the first deployment has not failed yet
    early = history.service.insights("dev", 1)  # (clock at NOW)
    assert early.figures.deployments == 0
    events = history.service.store.events()
    envs = history.service.environments()
    then = insights.compute(events, envs, START + 1.5 * H, "dev", 1).figures
    assert (then.deployments, then.failed) == (1, 0)


def test_no_deployments_gives_n_zero_and_nulls(history: History) -> None:
    history.add(0, "idle")
    assert history.figures("prod", days=7) == {
        "environment": "prod",
        "from": to_stamp(NOW - 7 * D),
        "to": to_stamp(NOW),
        "days": 7,
        "deployments": {"n": 0},
        "frequency": {"n": 0, "per_day": 0.0, "per_week": 0.0},
        "lead_time": {"n": 0, "median": None, "p90": None, "from_changed_at": 0, "from_created": 0},
        "change_failure_rate": {"n": 0, "numerator": 0, "denominator": 0, "value": None},
        "recovery_time": {"n": 0, "median": None, "p90": None, "unrecovered": 0},
        "forced": {"n": 0, "share": None, "break_glass": {"n": 0, "share": None}},
    }


def test_lead_time_from_changed_at_else_creation_first_deployment_only(history: History) -> None:
    a = history.add(10, "a", changed_at=START)  # changed 10h before it was created
    b = history.add(10, "b")
    history.at(20).move(a, "dev")  # 20h from its change
    history.at(24).move(b, "dev")  # 14h from its creation
    history.at(30).edit_release(a, changed_at=START + 2 * H)  # after its first deployment: no effect
    history.at(31).rollback(a, "again")
    history.at(32).move(a, "dev")  # a second deployment: not a first, no lead time
    out = history.figures()
    assert out["lead_time"] == {
        "n": 2,
        "median": (20 + 14) * 3600 / 2,
        "p90": 20 * 3600,
        "from_changed_at": 1,
        "from_created": 1,
    }
    assert out["frequency"] == {"n": 3, "per_day": 3 / 90, "per_week": 21 / 90}


def test_median_and_p90_nearest_rank() -> None:
    assert insights.median([5, 1, 3]) == 3
    assert insights.median([4, 1, 3, 2]) == 2.5
    assert insights.p90(list(range(1, 11))) == 9  # ⌈9⌉-th smallest
    assert insights.p90(list(range(1, 12))) == 10  # ⌈9.9⌉ = 10th smallest
    assert insights.p90([7]) == 7
    assert insights.median([]) is None and insights.p90([]) is None


def test_forced_and_break_glass(history: History) -> None:
    glass = history.add(0, "glass")
    history.at(1).move(glass, "prod", force=True, reason="outage")  # no approval: break-glass
    approved = history.add(2, "approved")
    history.approver.approve(approved)
    history.at(3).move(approved, "prod", force=True, reason="skip the queue")  # forced, approved
    out = history.figures("prod")
    assert out["deployments"] == {"n": 2}
    assert out["forced"] == {"n": 2, "share": 1.0, "break_glass": {"n": 1, "share": 0.5}}


def test_a_cancelled_release_deployments_still_count(history: History) -> None:
    r = history.add(0, "gone")
    history.at(1).move(r, "dev")
    history.at(2).cancel(r, "abandoned")
    assert history.figures()["deployments"] == {"n": 1}


def _scripted(history: History) -> None:
    rng = random.Random(5)
    ids = [history.add(i, f"svc-{i}", f"c{i % 3}") for i in range(6)]
    hour = 10.0
    for _ in range(40):
        rid = rng.choice(ids)
        hour += rng.choice([0.5, 1, 3])
        service = history.at(hour)
        release = service.release(rid)
        try:
            if release.stage == "planned" or release.state.value == "verified":
                service.move(rid, "dev" if release.stage == "planned" else "test", force=True, reason="go")
            elif rng.random() < 0.4:
                service.fail(rid, "red")
            elif rng.random() < 0.5:
                service.rollback(rid, "back")
            else:
                service.verify(rid)
        except Exception:  # a gate said no: the script goes on
            continue


def test_the_same_figures_whatever_order_the_events_are_read_in(history: History) -> None:
    _scripted(history)
    store = history.service.store
    events = store.events()
    envs = history.service.environments()
    expected = insights.compute(events, envs, NOW, "dev").figures.json()
    assert history.figures() == expected  # what the store's own rows give (the service's one query)
    assert expected["deployments"]["n"] > 5 and expected["change_failure_rate"]["numerator"] > 0
    for seed in range(5):
        shuffled = list(events)
        random.Random(seed).shuffle(shuffled)
        assert insights.compute(shuffled, envs, NOW, "dev").figures.json() == expected


def without_release(details: Details) -> Details:
    """The details as an event written before events carried the release's record."""
    return checked({k: v for k, v in details.items() if k != "release"})


def test_an_old_history_without_release_records_gives_the_same_figures(history: History) -> None:
    """Events written before they carried ``details["release"]`` are read through created/edited details."""
    _scripted(history)
    history.at(500).edit_release(1, components=["c1", "c2"], changed_at=START)
    events = history.service.store.events()
    envs = history.service.environments()
    old = [replace(e, details=without_release(e.details)) for e in events]
    assert any("release" in e.details for e in events) and not any("release" in e.details for e in old)
    for environment in ("dev", "test"):
        expected = insights.compute(events, envs, NOW, environment).figures
        assert insights.compute(old, envs, NOW, environment).figures == expected


def test_a_copy_of_the_board_gives_the_same_figures(board: Run, tmp_path: Path) -> None:
    def add(*args: str) -> str:
        return str(board.ok("release", "add", *args).stdout.strip())

    one = add("payments", "1.0", "--changed-at", "2026-11-20T09:00")
    two = add("ledger", "2.0")
    board.ok("move", one, "dev")
    board.ok("fail", one, "--reason", "red")
    board.ok("rollback", one, "--reason", "back")
    board.ok("move", two, "dev")
    board.ok("verify", two)
    before = board.json("insights", "--environment", "dev")
    target = tmp_path / "copy.db"
    board.ok("copy", str(board.db), str(target))
    assert board.json("insights", "--environment", "dev", db=target) == before
    assert before["deployments"]["n"] == 2 and before["lead_time"]["from_changed_at"] == 1


# -- the command line ----------------------------------------------------------------------------------------


def test_insights_text_and_json(board: Run) -> None:
    rid = board.ok("release", "add", "payments", "1.0").stdout.strip()
    board.ok("move", rid, "dev")
    out = board.json("insights", "--environment", "dev", "--days", "7")
    assert list(out) == [
        "environment", "from", "to", "days", "deployments", "frequency", "lead_time",
        "change_failure_rate", "recovery_time", "forced",
    ]  # fmt: skip
    assert out["days"] == 7 and out["deployments"] == {"n": 1}
    text = board.ok("insights", "--environment", "dev", "--days", "7").stdout
    assert "release lead time" in text  # no release said when its change began
    assert "0.0%" in text and "1 failed" not in text
    board.ok("release", "edit", rid, "--changed-at", "2026-11-30T10:00")
    board.ok("rollback", rid, "--reason", "again")
    second = board.ok("release", "add", "ledger", "1.0", "--changed-at", "2026-11-30T10:00").stdout.strip()
    board.ok("move", second, "dev")
    text = board.ok("insights", "--environment", "dev").stdout
    assert "\n  lead time " in text and "1 from changed-at, 1 from creation" in text


def test_insights_bad_input_exits_2(board: Run) -> None:
    assert "unknown environment 'nowhere'" in bad(board("insights", "--environment", "nowhere"))
    assert "--days must be between 1 and" in bad(board("insights", "--days", "0"))
    assert "--days must be between 1 and" in bad(board("insights", "--days", "100000"))
    bad(board("insights", "--days", "many"))


def test_insights_default_environment_is_the_last(board: Run) -> None:
    assert board.json("insights")["environment"] == "prod"


def test_changed_at_is_stored_shown_and_logged(board: Run) -> None:
    rid = board.ok("release", "add", "payments", "1.0", "--changed-at", "2026-11-30T09:15:00+01:00").stdout.strip()
    shown = board.json("release", "show", rid)
    assert shown["changed_at"] == "2026-11-30T08:15:00Z"
    assert board.json("release", "list")[0]["changed_at"] == "2026-11-30T08:15:00Z"
    board.ok("release", "edit", rid, "--changed-at", "2026-11-29T08:00")
    assert board.json("release", "show", rid)["changed_at"] == "2026-11-29T08:00:00Z"
    created, edited = board.json("log", rid)[:2]
    assert created["details"]["changed_at"] == "2026-11-30T08:15:00Z"
    assert created["details"]["release"]["changed_at"] == "2026-11-30T08:15:00Z"
    assert edited["details"]["changes"]["changed_at"] == ["2026-11-30T08:15:00Z", "2026-11-29T08:00:00Z"]
    assert edited["details"]["release"]["changed_at"] == "2026-11-29T08:00:00Z"
    assert "changed at" in board.ok("release", "show", rid).stdout


def test_changed_at_in_the_future_or_out_of_range_is_refused_and_changes_nothing(board: Run) -> None:
    rid = board.ok("release", "add", "payments", "1.0").stdout.strip()
    before = board.dump()
    assert "in the future" in bad(board("release", "add", "x", "1", "--changed-at", "+1h"))
    assert "in the future" in bad(board("release", "edit", rid, "--changed-at", "2026-12-02T00:00"))
    assert "out of range" in bad(board("release", "add", "x", "1", "--changed-at", "1999-12-31T00:00Z"))
    bad(board("release", "add", "x", "1", "--changed-at", "yesterday-ish"))
    assert board.dump() == before


@pytest.mark.both_backends
def test_figures_on_either_backend(store: BoardStore) -> None:
    history = History(store)
    r = history.add(0, "payments", changed_at=START - 2 * H)
    history.at(1).move(r, "dev")
    history.at(2).fail(r, "red")
    history.at(4).rollback(r, "back")
    out = history.figures()
    assert out["lead_time"]["median"] == 3 * 3600 and out["lead_time"]["from_changed_at"] == 1
    assert out["recovery_time"]["median"] == 2 * 3600
    assert json.loads(json.dumps(out)) == out


def test_the_period_is_half_open_from_excluded_to_included() -> None:
    """(from, to]: a deployment exactly N days ago belongs to the period before; one at *now* counts."""
    envs = [Environment("dev", "Dev", 1)]
    record = release_record_of(1, ["a"], to_stamp(NOW - 40 * D), None)
    events = [
        Event(1, NOW - 40 * D, "x", 1, "created", to="planned", details={"release": record}),
        Event(2, NOW - 7 * D, "x", 1, "moved", "planned", "dev", details={"release": record}),
        Event(3, NOW - 7 * D, "x", 1, "rolled_back", "dev", "planned", reason="r", details={"release": record}),
        Event(4, NOW, "x", 1, "moved", "planned", "dev", details={"release": record}),
    ]
    out = insights.compute(events, envs, NOW, "dev", 7).figures
    assert (out.deployments, out.failed, out.lead_times) == (1, 0, ())
    assert insights.compute(events, envs, NOW, "dev", 8).figures.deployments == 2


def test_the_generated_demo_has_a_delivery_history_to_count(run: Run) -> None:
    run.ok("demo", "--no-tui", "--releases", "300")
    out = run.json("insights")
    assert out["deployments"]["n"] > 20
    assert 0 < out["change_failure_rate"]["numerator"] < out["deployments"]["n"]
    assert out["recovery_time"]["n"] > 0 and out["forced"]["n"] > 0 and out["forced"]["break_glass"]["n"] > 0
    assert out["lead_time"]["from_changed_at"] > 0 and out["lead_time"]["from_created"] > 0
    assert run.json("insights", "--environment", "dev")["deployments"]["n"] > out["deployments"]["n"]
    run.ok("log", "--verify")
    # every release stands where its history leaves it, as the last event's record says
    last: dict[int, dict[str, Any]] = {}
    for event in run.json("log"):
        if event["release"] is not None and "release" in event["details"]:
            last[event["release"]] = event["details"]["release"]
    for release in run.json("release", "list", "--all"):
        record = last[release["id"]]
        fields = ("stage", "state", "approved_by", "unapproved", "components", "changed_at")
        assert {k: record[k] for k in fields} == {k: release[k] for k in fields}, release["id"]
    assert all(e["at"] <= "2026-12-01T10:00:00Z" for e in run.json("log"))


def test_an_older_board_gains_changed_at_and_keeps_its_releases(board: Run) -> None:
    rid = board.ok("release", "add", "payments", "1.0").stdout.strip()
    conn = sqlite3.connect(board.path)
    with conn:  # the board as the schema before m005 left it
        conn.execute("ALTER TABLE releases DROP COLUMN changed_at")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_changed_at'")
    conn.close()
    item = board.json("release", "show", rid)
    assert (item["name"], item["changed_at"]) == ("payments", None)
    board.ok("release", "edit", rid, "--changed-at", "2026-11-30T10:00")
    assert board.json("release", "show", rid)["changed_at"] == "2026-11-30T10:00:00Z"
