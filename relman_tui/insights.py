"""Delivery figures (the four DORA keys) computed from the event log alone (pure; DESIGN "Insights").

One pass over the events in ``seq`` order turns the log into :class:`Deployment` facts for one
environment E; the figures of a period are sums over the deployments in it. Definitions, as
DESIGN.md pins them:

- a deployment is a ``moved`` event into E; it is in the period ``(from, to]`` when its own time is;
- it failed if, before that release's next deployment into E, the release was marked ``failed``
  in E or rolled back out of E (each failed deployment counts once, however many marks);
- its recovery runs from its first failure mark to the earlier (in log order) of that release's
  rollback out of E, or the ``verified`` event in E of another release sharing a component whose
  deployment into E came after the mark;
- lead time, per release whose first deployment into E is in the period: from the ``changed_at``
  the release had at that moment, else its creation, to that deployment.

The release's components, ``changed_at`` and creation are read as each event recorded them
(``details["release"]``, CONTRACT.md). Older events, written before that record existed, are
followed through the ``created``/``edited`` events' own details: components and ``changed_at``
as created and as each edit changed them, creation as the ``created`` event's time. That is an
approximation only where an old history lacks even those (a release with no ``created`` event
has no known creation and is left out of the lead time; one with no known components fixes no
other release's failure), and break-glass for an old ``moved`` event without a record is read
as "forced, into an environment that requires approval now, while the log shows no standing
approval".
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from relman_tui.actions import Action
from relman_tui.details import Details, ReleaseRecord, parse
from relman_tui.errors import BadInput
from relman_tui.model import Environment, Event
from relman_tui.timeutil import from_stamp, to_stamp

DEFAULT_DAYS = 90
DAYS_MAX = 3660  # ten years: the log holds times from 2000 to 2099, a figure over more says little


@dataclass(slots=True)
class Deployment:
    """One ``moved`` event into E, and what became of it (as far as the log goes)."""

    seq: int
    at: datetime
    release: int
    forced: bool
    break_glass: bool
    components: frozenset[str]
    lead: float | None = None  # seconds, on the release's first deployment into E only
    lead_from_changed_at: bool = False
    mark_seq: int | None = None  # the first failure mark: a `failed` in E or a rollback out of E
    mark_at: datetime | None = None
    recovered_at: datetime | None = None

    @property
    def failed(self) -> bool:
        return self.mark_at is not None

    @property
    def recovery(self) -> float | None:
        if self.mark_at is None or self.recovered_at is None:
            return None
        return (self.recovered_at - self.mark_at).total_seconds()


@dataclass(slots=True)
class _Known:
    """What the log says about one release so far."""

    components: frozenset[str] = frozenset()
    changed_at: datetime | None = None
    created_at: datetime | None = None
    approved: bool = False
    latest: Deployment | None = None  # its latest deployment into E
    deployed_before: bool = False


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of one period; ``json()`` is DESIGN's ``insights --json`` object."""

    environment: str
    start: datetime  # the period is (start, end]
    end: datetime
    days: int
    deployments: int
    lead_times: tuple[float, ...]
    from_changed_at: int
    from_created: int
    failed: int
    recoveries: tuple[float, ...]
    unrecovered: int
    forced: int
    break_glass: int

    def json(self) -> dict[str, Any]:
        n = self.deployments
        return {
            "environment": self.environment,
            "from": to_stamp(self.start),
            "to": to_stamp(self.end),
            "days": self.days,
            "deployments": {"n": n},
            "frequency": {"n": n, "per_day": n / self.days, "per_week": 7 * n / self.days},
            "lead_time": {
                "n": len(self.lead_times),
                "median": median(self.lead_times),
                "p90": p90(self.lead_times),
                "from_changed_at": self.from_changed_at,
                "from_created": self.from_created,
            },
            "change_failure_rate": {"n": n, "numerator": self.failed, "denominator": n, "value": share(self.failed, n)},
            "recovery_time": {
                "n": len(self.recoveries),
                "median": median(self.recoveries),
                "p90": p90(self.recoveries),
                "unrecovered": self.unrecovered,
            },
            "forced": {
                "n": self.forced,
                "share": share(self.forced, n),
                "break_glass": {"n": self.break_glass, "share": share(self.break_glass, n)},
            },
        }


@dataclass(frozen=True, slots=True)
class Trend:
    """One value per week, oldest first (``None``: nothing to say that week), for the board's sparklines."""

    deployments: tuple[float, ...] = ()
    lead_time: tuple[float | None, ...] = ()
    change_failure_rate: tuple[float | None, ...] = ()
    recovery_time: tuple[float | None, ...] = ()
    forced: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Insights:
    figures: Figures
    trend: Trend = field(default_factory=Trend)


def median(values: Sequence[float]) -> float | int | None:
    """The middle value, or the mean of the two middle ones; ``None`` over no values."""
    if not values:
        return None
    ordered = sorted(values)
    half = len(ordered) // 2
    middle = ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2
    return _number(middle)


def p90(values: Sequence[float]) -> float | int | None:
    """Nearest rank: the ⌈0.9·n⌉-th smallest; ``None`` over no values."""
    if not values:
        return None
    rank = (9 * len(values) + 9) // 10  # ⌈0.9·n⌉ in whole numbers: 0.9 is not exact in binary
    return _number(sorted(values)[rank - 1])


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _number(value: float) -> float | int:
    """Whole seconds as an int (the log's times are whole seconds), a half as a float."""
    return int(value) if float(value).is_integer() else float(value)


def choose_environment(environments: Sequence[Environment], name: str | None) -> str:
    """``name`` if the pipeline has it, else (``None``) the pipeline's last environment."""
    names = [env.name for env in sorted(environments, key=lambda e: e.position)]
    if not names:
        raise BadInput("the board has no environments, so nothing is deployed anywhere")
    if name is None:
        return names[-1]
    if name not in names:
        raise BadInput(f"unknown environment {name!r} (environments: {', '.join(names)})")
    return name


def check_days(days: int) -> int:
    if not 1 <= days <= DAYS_MAX:
        raise BadInput(f"--days must be between 1 and {DAYS_MAX}, not {days}")
    return days


Row = tuple[int, str, int, str, "str | None", "str | None", Any, "str | None"]
"""An event as the figures read it: ``seq, at, release, action, from, to, forced, details`` with the time
and the details as stored text (``BoardStore.delivery_rows``): most rows are never parsed."""

_RECORD = '"release":'  # how a details text holding the release's record begins it (a value's quotes are escaped)


def rows_of(events: Iterable[Event]) -> list[Row]:
    """Events as the rows the figures read (what the store reads straight from its table)."""
    return [
        (e.seq, to_stamp(e.at), e.release, e.action, e.from_, e.to, e.forced, json.dumps(dict(e.details)))
        for e in events
        if e.release is not None
    ]


def deployments(rows: Iterable[Row], environments: Sequence[Environment], environment: str) -> list[Deployment]:
    """Every deployment into ``environment`` with its lead time, failure mark and recovery, in log order.

    The rows may come in any order; they are read by ``seq``. Pass only the events up to *now*.
    Only the rows that matter to ``environment`` have their time and details parsed.
    """
    approval_now = any(env.name == environment and env.requires_approval for env in environments)
    known: dict[int, _Known] = {}
    found: list[Deployment] = []
    waiting: dict[str, list[Deployment]] = {}  # failed, not yet recovered, by component
    for seq, at, rid, action, from_, to, forced, text in sorted(rows):
        facts = known.get(rid)
        if facts is None:
            facts = known[rid] = _Known()
        if action == Action.CREATED or action == Action.EDITED:
            if text and _RECORD not in text:  # an old event: what it says is all there is
                details = parse(text)
                if action == Action.CREATED:
                    _from_created(facts, details, from_stamp(at))
                else:
                    _from_edit(facts, details)
                    if details.get("approval_withdrawn"):
                        facts.approved = False
            elif action == Action.CREATED:
                facts.approved = False
            continue
        if action == Action.APPROVED:
            facts.approved = True
            continue
        if action == Action.ROLLED_BACK:
            facts.approved = False  # a rollback withdraws an approval
            if from_ == environment and facts.latest is not None:
                latest = facts.latest
                moment = from_stamp(at)
                if latest.mark_seq is None:
                    _mark(latest, seq, moment, waiting)
                if latest.recovered_at is None:
                    latest.recovered_at = moment
            continue
        if to != environment:
            continue
        if action == Action.MOVED:
            details = parse(text)
            record = details.get("release")
            if record is not None:
                _from_record(facts, record)
                break_glass = bool(forced) and bool(details.get("unapproved") or record["unapproved"])
            else:
                break_glass = bool(forced) and approval_now and not facts.approved
            moment = from_stamp(at)
            new = Deployment(seq, moment, rid, bool(forced), break_glass, facts.components)
            if not facts.deployed_before:
                facts.deployed_before = True
                start = facts.changed_at or facts.created_at
                if start is not None:
                    new.lead = (moment - start).total_seconds()
                    new.lead_from_changed_at = facts.changed_at is not None
            facts.latest = new
            found.append(new)
        elif action == Action.FAILED:
            if facts.latest is not None and facts.latest.mark_seq is None:
                _mark(facts.latest, seq, from_stamp(at), waiting)
        elif action == Action.VERIFIED and facts.latest is not None:
            record = parse(text).get("release")
            if record is not None:
                _from_record(facts, record)
            fix = facts.latest
            moment = from_stamp(at)
            for component in facts.components:
                for failed in waiting.get(component, ()):
                    if (
                        failed.recovered_at is None
                        and failed.release != rid
                        and failed.mark_seq is not None
                        and fix.seq > failed.mark_seq
                    ):
                        failed.recovered_at = moment
            for component in facts.components:
                if component in waiting:
                    waiting[component] = [d for d in waiting[component] if d.recovered_at is None]
    return found


def _mark(deployment: Deployment, seq: int, at: datetime, waiting: dict[str, list[Deployment]]) -> None:
    deployment.mark_seq = seq
    deployment.mark_at = at
    for component in deployment.components:
        waiting.setdefault(component, []).append(deployment)


def _from_record(facts: _Known, record: ReleaseRecord) -> None:
    facts.components = frozenset(record["components"])
    if "changed_at" in record:  # a record written before the column existed leaves what the edits said
        facts.changed_at = _stamp(record["changed_at"])
    created = _stamp(record["created_at"])
    if created is not None:
        facts.created_at = created


def _from_created(facts: _Known, details: Details, at: datetime) -> None:
    components = details.get("components")
    if components is not None:
        facts.components = frozenset(components)
    elif "name" in details:
        facts.components = frozenset((details["name"],))  # the default: the release's own name
    facts.changed_at = _stamp(details.get("changed_at"))
    facts.created_at = at
    facts.approved = False


def _from_edit(facts: _Known, details: Details) -> None:
    changes = details.get("changes")
    if changes is None:
        return
    components = changes.get("components")
    if isinstance(components, list) and len(components) == 2 and isinstance(components[1], list):
        facts.components = frozenset(str(c) for c in components[1])
    changed_at = changes.get("changed_at")
    if isinstance(changed_at, list) and len(changed_at) == 2:
        facts.changed_at = _stamp(changed_at[1])


def _stamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return from_stamp(value)
    except BadInput:
        return None


def figures(found: Sequence[Deployment], environment: str, end: datetime, days: int) -> Figures:
    """The figures of the deployments in ``(end - days, end]``; recoveries as known at ``end``."""
    start = end - timedelta(days=days)
    lead_times: list[float] = []
    recoveries: list[float] = []
    n = failed = unrecovered = forced = break_glass = from_changed_at = 0
    for d in found:
        if not start < d.at <= end:
            continue
        n += 1
        forced += d.forced
        break_glass += d.break_glass
        if d.lead is not None:
            lead_times.append(d.lead)
            from_changed_at += d.lead_from_changed_at
        if d.failed:
            failed += 1
            recovery = d.recovery
            if recovery is None:
                unrecovered += 1
            else:
                recoveries.append(recovery)
    return Figures(
        environment,
        start,
        end,
        days,
        n,
        tuple(lead_times),
        from_changed_at,
        len(lead_times) - from_changed_at,
        failed,
        tuple(recoveries),
        unrecovered,
        forced,
        break_glass,
    )


def weekly(found: Sequence[Deployment], end: datetime, days: int) -> Trend:
    """Each week's figures, oldest first, over the period ending at ``end`` (the last week ends there).

    A week's deployments are judged as the log knows them now: one that failed the week after
    still counts as failed in its own week.
    """
    weeks = max(1, math.ceil(days / 7))
    buckets: list[list[Deployment]] = [[] for _ in range(weeks)]
    start = end - timedelta(days=days)
    for d in found:
        if start < d.at <= end:
            back = int((end - d.at) / timedelta(days=7))
            if back < weeks:
                buckets[weeks - 1 - back].append(d)
    deployed, lead, cfr, recovery, forced = [], [], [], [], []
    for bucket in buckets:
        deployed.append(float(len(bucket)))
        lead.append(_float(median([d.lead for d in bucket if d.lead is not None])))
        cfr.append(share(sum(d.failed for d in bucket), len(bucket)))
        recovery.append(_float(median([r for d in bucket if (r := d.recovery) is not None])))
        forced.append(float(sum(d.forced for d in bucket)))
    return Trend(tuple(deployed), tuple(lead), tuple(cfr), tuple(recovery), tuple(forced))


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def compute(
    events: Iterable[Event],
    environments: Sequence[Environment],
    now: datetime,
    environment: str | None = None,
    days: int = DEFAULT_DAYS,
) -> Insights:
    """The figures for ``environment`` (default: the pipeline's last) over the ``days`` ending ``now``.

    Events after ``now`` are not read: the figures are those the log gave at ``now``.
    """
    return compute_rows(rows_of(events), environments, now, environment, days)


def compute_rows(
    rows: Iterable[Row],
    environments: Sequence[Environment],
    now: datetime,
    environment: str | None = None,
    days: int = DEFAULT_DAYS,
) -> Insights:
    """:func:`compute` over the rows the store reads (``BoardStore.delivery_rows``)."""
    name = choose_environment(environments, environment)
    check_days(days)
    until = to_stamp(now)  # stored times are this fixed form: as text they sort as times do
    found = deployments((r for r in rows if r[1] <= until), environments, name)
    return Insights(figures(found, name, now, days), weekly(found, now, days))
