"""A realistic demo board, laid out relative to *now*, with a conflict of every kind."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from relman_tui import freezes as freeze_rules
from relman_tui.actions import Action
from relman_tui.demo_history import delivery_history
from relman_tui.errors import BadInput
from relman_tui.model import PLANNED, Risk, State
from relman_tui.service import Service
from relman_tui.store import BoardStore, NewEvent, NewRelease, Store
from relman_tui.timeutil import FixedClock

DEFAULT_PIPELINE: list[tuple[str, str, int, bool]] = [
    ("dev", "Development", 1, False),
    ("test", "Test", 1, False),
    ("staging", "Staging", 2, False),
    ("preprod", "Pre-production", 1, False),
    ("prod", "Production", 1, True),
]

SERVICES = [
    ("payments-api", ("payments-api", "payments-db")),
    ("checkout-web", ("checkout-web",)),
    ("ledger", ("ledger", "payments-db")),
    ("auth-service", ("auth-service",)),
    ("search-indexer", ("search-indexer", "search-cluster")),
    ("catalog-api", ("catalog-api", "search-cluster")),
    ("notifications", ("notifications",)),
    ("inventory", ("inventory",)),
    ("reporting-etl", ("reporting-etl", "warehouse")),
    ("mobile-bff", ("mobile-bff",)),
    ("fraud-scoring", ("fraud-scoring", "payments-db")),
    ("customer-portal", ("customer-portal",)),
]
OWNERS = ["alice", "bob", "carol", "dave", "erin"]
DEMO_MARK = "demo"


def add_default_pipeline(service: Service) -> None:
    """dev, test, staging (capacity 2), preprod, prod (approval): `relman init` and the demo.

    On a board with no history yet, the service's account becomes its first admin; a board made at a
    fixed *now* (a demo, a test) is a fixed-clock board."""
    service.found_board(fixed_clock=isinstance(service.clock, FixedClock))
    for name, title, capacity, approval in DEFAULT_PIPELINE:
        service.add_environment(name, title, capacity, None, approval)


def prepare_demo_file(path: Path) -> None:
    """Make way for a fresh demo: replace an earlier demo file, refuse to touch anything else."""
    if not path.exists() or path.stat().st_size == 0:
        return
    store = Store.open(path)
    try:
        is_demo = store.setting(DEMO_MARK, "false") == "true"
    finally:
        store.close()
    if not is_demo:
        raise BadInput(f"{path} holds a board that is not a demo; give `relman demo` another --db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def seed(service: Service, count: int | None = None) -> str:
    """Fill an empty database: the curated demo, or ``count`` generated releases."""
    store = service.store
    if store.environments():
        raise BadInput(
            f"{store.name} already has a pipeline; the demo needs a fresh file (or, on PostgreSQL, a "
            "database after `relman pg setup`)"
        )
    now = service.clock.now().replace(minute=0, second=0, microsecond=0)
    # The board was set up before its releases' history begins: its pipeline and freezes are logged
    # then (with their details, like any change), so the log reads in time order.
    setup = Service(store, FixedClock(now - timedelta(days=5)), service.actor, service.via)
    setup.found_board(fixed_clock=True, made_up_history=True)  # its times and changes are the demo's own
    add_default_pipeline(setup)
    setup.add_freeze(
        ["prod"], "weekend change freeze", cron="0 18 * * FRI", duration=timedelta(hours=62), zone="Europe/Berlin"
    )
    setup.add_freeze(
        ["all"], "year-end trading peak", start=now + timedelta(days=12), end=now + timedelta(days=13, hours=12)
    )
    with store.write():
        store.set_setting(DEMO_MARK, "true")
        releases = (
            _curated(store, now, service.actor) if count is None else _generated(store, now, count, service.actor)
        )
        Service(store, FixedClock(now), service.actor, service.via).checkpoint("the demo's seeded releases")
    return f"{releases} releases"


def _history(
    release_id: int,
    new: NewRelease,
    stages: list[str],
    start: datetime,
    end: datetime,
) -> list[tuple[datetime, NewEvent, str]]:
    """A believable past for a seeded release: created, then through every stage it passed, one
    step at a time, verified before each promotion, approved before an approval gate; all in order
    between ``start`` and ``end``, (The caller records them as their actors via the account that seeds the demo.)"""
    steps: list[tuple[NewEvent, str]] = [
        (
            NewEvent(
                Action.CREATED,
                release_id,
                to=PLANNED,
                details={
                    "name": new.name,
                    "version": new.version,
                    "components": list(new.components),
                    "owner": new.owner,
                    "risk": str(new.risk),
                },
            ),
            new.owner,
        )
    ]
    here = stages.index(new.stage)
    for i in range(1, here + 1):
        if i > 1:
            steps.append((NewEvent(Action.VERIFIED, release_id, "deployed", stages[i - 1]), new.owner))
        if i == len(stages) - 1 and new.approved_by:  # prod requires approval: approved before going in
            steps.append((NewEvent(Action.APPROVED, release_id, to=stages[i - 1]), new.approved_by))
        steps.append((NewEvent(Action.MOVED, release_id, stages[i - 1], stages[i]), new.owner))
    if new.state is State.VERIFIED:
        steps.append((NewEvent(Action.VERIFIED, release_id, "deployed", new.stage), new.owner))
    elif new.state is State.FAILED:
        steps.append((NewEvent(Action.FAILED, release_id, "deployed", new.stage, reason="smoke tests red"), new.owner))
    if new.approved_by and here < len(stages) - 1:
        steps.append((NewEvent(Action.APPROVED, release_id, to=new.stage), new.approved_by))
    gap = (end - start) / len(steps)
    return [((start + k * gap).replace(microsecond=0), event, actor) for k, (event, actor) in enumerate(steps)]


def _curated(store: BoardStore, now: datetime, via: str) -> int:
    """About thirty releases across every stage and state, with deliberate conflicts."""
    h = timedelta(hours=1)
    d = timedelta(days=1)

    def at(days: float, hour: int) -> datetime:
        return (now + timedelta(days=days)).replace(hour=hour)

    # (service index, version, stage, state, risk, approved, windows [(env, start, length)])
    plan: list[tuple[int, str, str, State, Risk, bool, list[tuple[str, datetime, timedelta]], str]] = [
        (
            0,
            "2.4.1",
            "preprod",
            State.VERIFIED,
            Risk.HIGH,
            True,
            [("prod", at(1, 9), 2 * h)],
            "Adds 3-D Secure v2 for card payments.",
        ),
        (
            1,
            "5.12.0",
            "staging",
            State.VERIFIED,
            Risk.MEDIUM,
            False,
            [("preprod", at(1, 10), 3 * h), ("prod", at(3, 9), 2 * h)],
            "",
        ),
        (
            2,
            "1.9.3",
            "staging",
            State.DEPLOYED,
            Risk.MEDIUM,
            False,
            [("staging", at(0, 8) - d, 6 * h), ("preprod", at(1, 8), 2 * h)],
            "Shares payments-db with payments-api.",
        ),
        (
            3,
            "3.0.0",
            "test",
            State.VERIFIED,
            Risk.HIGH,
            False,
            [("staging", at(1, 13), 4 * h), ("preprod", at(2, 9), 2 * h), ("prod", at(4, 9), 2 * h)],
            "OAuth 2.1 migration; breaking change for legacy clients.",
        ),
        (4, "0.18.2", "test", State.DEPLOYED, Risk.LOW, False, [("staging", at(1, 14), 3 * h)], ""),
        (
            5,
            "4.2.0",
            "dev",
            State.VERIFIED,
            Risk.LOW,
            False,
            [("test", at(1, 10), 2 * h), ("staging", at(1, 12), 4 * h)],
            "",
        ),
        (6, "1.4.0", "dev", State.DEPLOYED, Risk.LOW, False, [("test", at(2, 10), 2 * h)], ""),
        (7, "2.0.0-rc1", "dev", State.FAILED, Risk.MEDIUM, False, [], "Migration script timed out in dev."),
        (
            8,
            "7.1.4",
            "planned",
            State.PENDING,
            Risk.LOW,
            False,
            [("dev", at(0, 9) - 2 * d, 2 * h)],
            "Window was missed: the team was at an offsite.",
        ),
        (9, "3.3.0", "planned", State.PENDING, Risk.MEDIUM, False, [("dev", at(2, 11), 2 * h)], ""),
        (
            10,
            "0.9.0",
            "staging",
            State.VERIFIED,
            Risk.HIGH,
            False,
            [("preprod", at(1, 9), 3 * h)],
            "New model; shadow mode only.",
        ),
        (11, "2.2.0", "prod", State.VERIFIED, Risk.LOW, True, [], ""),
        (0, "2.5.0", "test", State.DEPLOYED, Risk.MEDIUM, False, [("staging", at(2, 14), 3 * h)], ""),
        (1, "5.13.0", "dev", State.VERIFIED, Risk.LOW, False, [("test", at(3, 10), 2 * h)], ""),
        (2, "1.10.0", "planned", State.PENDING, Risk.MEDIUM, False, [("dev", at(3, 9), 2 * h)], ""),
        (3, "3.0.1", "planned", State.PENDING, Risk.LOW, False, [], "Hotfix candidate."),
        (4, "0.19.0", "planned", State.PENDING, Risk.LOW, False, [("dev", at(4, 10), 2 * h)], ""),
        (5, "4.1.3", "prod", State.DEPLOYED, Risk.LOW, True, [], "Verify after the morning traffic peak."),
        (6, "1.3.2", "prod", State.VERIFIED, Risk.LOW, True, [], ""),
        (7, "1.9.9", "preprod", State.DEPLOYED, Risk.MEDIUM, False, [("prod", at(5, 9), 2 * h)], ""),
        (
            8,
            "7.1.3",
            "preprod",
            State.VERIFIED,
            Risk.LOW,
            True,
            [("prod", _next_saturday(now, 10), 2 * h)],
            "Scheduled into the weekend freeze by mistake.",
        ),
        (9, "3.2.1", "test", State.FAILED, Risk.MEDIUM, False, [], "Contract tests failing against catalog-api."),
        (10, "0.8.5", "prod", State.VERIFIED, Risk.MEDIUM, True, [], ""),
        (
            11,
            "2.3.0",
            "staging",
            State.DEPLOYED,
            Risk.LOW,
            False,
            [("preprod", at(6, 10), 2 * h), ("prod", at(7, 9), 2 * h)],
            "",
        ),
        (0, "2.6.0-beta", "planned", State.PENDING, Risk.HIGH, False, [("dev", at(6, 9), 3 * h)], ""),
        (
            4,
            "0.18.1",
            "staging",
            State.VERIFIED,
            Risk.LOW,
            False,
            [("preprod", at(3, 14), 2 * h), ("prod", at(3, 15), 2 * h)],
            "prod window starts before preprod ends.",
        ),
        (5, "4.2.1", "planned", State.PENDING, Risk.LOW, False, [("dev", at(8, 10), 2 * h)], ""),
        (
            6,
            "1.5.0",
            "planned",
            State.PENDING,
            Risk.MEDIUM,
            False,
            [("dev", at(9, 10), 2 * h), ("test", at(10, 10), 2 * h)],
            "",
        ),
        (9, "3.4.0-alpha", "dev", State.DEPLOYED, Risk.LOW, False, [("test", at(11, 10), 2 * h)], ""),
        (
            11,
            "2.4.0",
            "test",
            State.VERIFIED,
            Risk.MEDIUM,
            False,
            [("staging", at(12, 9), 4 * h), ("preprod", at(13, 9), 2 * h)],
            "Lands in the year-end freeze.",
        ),
    ]
    releases: list[NewRelease] = []
    windows = []
    rng = random.Random(7)
    for service_index, version, stage, state, risk, approved, spans, notes in plan:
        name, components = SERVICES[service_index]
        owner = OWNERS[(service_index + len(version)) % len(OWNERS)]
        approver = next(o for o in OWNERS[rng.randrange(len(OWNERS)) :] + OWNERS if o != owner)
        releases.append(
            NewRelease(
                name=name,
                version=version,
                components=components,
                owner=owner,
                risk=risk,
                notes=notes,
                stage=stage,
                state=state,
                approved_by=approver if approved else None,
                approved_at=now - 5 * h if approved else None,
                created_at=now - 4 * d + len(releases) * 10 * timedelta(minutes=1),
            )
        )
        windows.append([(env, start, start + length) for env, start, length in spans])
    stages = [PLANNED, *(name for name, _, _, _ in DEFAULT_PIPELINE)]
    first = 1  # the demo seeds a fresh board: its releases are numbered from 1
    history = []
    for number, new in enumerate(list(releases)):
        assert new.created_at is not None
        steps = _history(first + number, new, stages, new.created_at, now - 5 * h)
        approvals = [when for when, event, _ in steps if event.action == Action.APPROVED]
        if approvals:  # the release says when it was approved as its history does
            releases[number] = replace(new, approved_at=approvals[-1])
        history += steps
    ids = store.insert_releases_bulk(releases, windows, now)
    assert ids == list(range(first, first + len(ids)))
    history.sort(key=lambda step: step[0])  # the log in time order, as if it had happened
    for when, event, actor in history:
        store.append_event(event, actor, when, via)
    return len(ids)


def _generated(store: BoardStore, now: datetime, count: int, via: str) -> int:
    """``count`` releases of many services, about two windows each, over the next ninety days, each with a
    delivery history over the last ninety (:mod:`relman_tui.demo_history`), so that insights have figures."""
    rng = random.Random(count)
    stages = [PLANNED, *(name for name, _, _, _ in DEFAULT_PIPELINE)]
    envs = stages[1:]
    approval_stages = {name for name, _, _, approval in DEFAULT_PIPELINE if approval}
    services = [f"service-{i:03d}" for i in range(max(12, count // 40))]
    releases, windows = [], []
    for n in range(count):
        name = rng.choice(services)
        stage_index = rng.randrange(len(stages))
        stage = stages[stage_index]
        state = (
            State.PENDING
            if stage == PLANNED
            else rng.choice([State.DEPLOYED, State.VERIFIED, State.VERIFIED, State.FAILED])
        )
        owner = rng.choice(OWNERS)
        # a release stands in an environment that requires approval only once someone else approved it
        approver = OWNERS[(OWNERS.index(owner) + 1) % len(OWNERS)] if stage in approval_stages else None
        releases.append(
            NewRelease(
                name=name,
                version=f"{n // 100}.{n % 100}.{rng.randrange(10)}",
                components=(name,),
                owner=owner,
                risk=rng.choice(list(Risk)),
                notes="",
                stage=stage,
                state=state,
                approved_by=approver,
                approved_at=now - timedelta(days=1) if approver else None,
            )
        )
        start = now + timedelta(hours=rng.randrange(-48, 90 * 24))
        spans = []
        for env in envs[stage_index : stage_index + 2]:
            length = timedelta(hours=rng.choice([1, 2, 2, 3, 4]))
            spans.append((env, start, start + length))
            start += length + timedelta(hours=rng.randrange(2, 72))
        windows.append(spans)
    releases, history = _delivery(store, now, releases, stages, approval_stages)
    ids = store.insert_releases_bulk(releases, windows, now)
    assert ids == list(range(1, count + 1))  # a fresh board: numbered from 1, as the history says
    history.sort(key=lambda step: step[0])
    for when, event, actor in history:
        store.append_event(event, actor, when, via)
    return count


def _delivery(
    store: BoardStore, now: datetime, releases: list[NewRelease], stages: list[str], approval: set[str]
) -> tuple[list[NewRelease], list[tuple[datetime, NewEvent, str]]]:
    """The releases with a creation (and for most, a first change) in the last ninety days, and their history."""
    frozen_now = store.freezes()

    def frozen(environment: str, moment: datetime) -> bool:
        return freeze_rules.frozen_until(frozen_now, environment, moment) is not None

    rng = random.Random(len(releases) + 1)
    dated, history = [], []
    for number, new in enumerate(releases, start=1):
        start = now - timedelta(hours=rng.randrange(2, 89 * 24))
        end = min(now - timedelta(hours=1), start + timedelta(hours=rng.randrange(6, 10 * 24)))
        changed = start - timedelta(hours=rng.randrange(1, 5 * 24)) if rng.random() < 0.6 else None
        new = replace(new, created_at=start, changed_at=changed)
        span = (start, end, now - timedelta(hours=1))
        steps = delivery_history(number, new, stages, approval, frozen, span, rng.randrange(2**32))
        approvals = [when for when, event, _ in steps if event.action == Action.APPROVED]
        if approvals:  # the release says when it was approved as its history does
            new = replace(new, approved_at=approvals[-1])
        dated.append(new)
        history += steps
    return dated, history


def _next_saturday(now: datetime, hour: int) -> datetime:
    days = (5 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=hour)
