"""What the board draws, derived from a service snapshot: columns of cards (pure, no widgets)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from relman_tui.freezes import active_at
from relman_tui.model import PLANNED, Release, Severity
from relman_tui.service import Snapshot
from relman_tui.text import inert
from relman_tui.timeutil import format_local, relative


@dataclass(frozen=True, slots=True)
class Card:
    release_id: int
    rev: int
    title: str  # "name version", inert
    name: str  # inert
    version: str  # inert
    state: str
    risk: str
    approved: bool
    next_window: str  # "prod in 3h", "overdue 20m", "" when none
    overdue: bool
    conflict: Severity | None
    conflict_count: int
    haystack: str  # lower-cased name, components and owner, for the filter


@dataclass(frozen=True, slots=True)
class Column:
    stage: str
    title: str
    count: int
    capacity: int | None  # None for `planned`
    frozen_until: str | None  # local time the current freeze ends, when frozen now
    frozen_reason: str | None
    requires_approval: bool
    cards: tuple[Card, ...]


def build_columns(snapshot: Snapshot, tz: str, now: datetime | None = None) -> list[Column]:
    """One column per stage, cards in a stable order (risk, then id) within each."""
    now = now or snapshot.now
    severity: dict[int, Severity] = {}
    counts: dict[int, int] = defaultdict(int)
    for conflict in snapshot.conflicts:
        for release_id in conflict.releases:
            counts[release_id] += 1
            if severity.get(release_id) is not Severity.ERROR:
                severity[release_id] = conflict.severity
    positions = {PLANNED: 0, **{env.name: env.position for env in snapshot.environments}}
    by_stage: dict[str, list[Card]] = defaultdict(list)
    for release in snapshot.releases:
        by_stage[release.stage].append(
            _card(release, now, severity.get(release.id), counts[release.id], positions)
        )
    frozen = active_at(snapshot.freezes, now)
    columns = [Column(PLANNED, "Planned", len(by_stage[PLANNED]), None, None, None, False, tuple(by_stage[PLANNED]))]
    for env in snapshot.environments:
        occurrence = next((o for o in frozen if o.covers(env.name)), None)
        columns.append(
            Column(
                env.name,
                inert(env.title),
                len(by_stage[env.name]),
                env.capacity,
                format_local(occurrence.end, tz, with_zone=False)[5:] if occurrence else None,
                inert(occurrence.reason) if occurrence else None,
                env.requires_approval,
                tuple(by_stage[env.name]),
            )
        )
    return columns


def _card(
    release: Release, now: datetime, conflict: Severity | None, conflict_count: int, positions: dict[str, int]
) -> Card:
    upcoming = [w for w in release.windows if w.end > now]
    # the next window is the one in the stage after this one if it exists, else the soonest one
    window = min(upcoming, key=lambda w: w.start) if upcoming else None
    overdue = False
    text = ""
    if window is not None:
        if window.start <= now:
            text = f"{window.environment} open now"
        else:
            text = f"{window.environment} {relative(window.start, now)}"
    else:
        here = positions.get(release.stage, 0)
        missed = [w for w in release.windows if w.end <= now and positions.get(w.environment, 0) > here]
        if missed:
            last = max(missed, key=lambda w: w.end)
            overdue = True
            text = f"{last.environment} {relative(last.end, now)}"
    return Card(
        release_id=release.id,
        rev=release.rev,
        title=inert(release.label),
        name=inert(release.name),
        version=inert(release.version),
        state=str(release.state),
        risk=str(release.risk),
        approved=release.approved_by is not None,
        next_window=inert(text),
        overdue=overdue,
        conflict=conflict,
        conflict_count=conflict_count,
        haystack=" ".join([release.name, release.version, *release.components, release.owner]).lower(),
    )


def matches(card: Card, query: str) -> bool:
    return all(word in card.haystack for word in query.lower().split())
