"""What the board draws, derived from a service snapshot: columns of cards (pure, no widgets)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import overload

from relman_tui.done import is_done
from relman_tui.done import positions as done_positions
from relman_tui.freezes import Frozen, by_environment, frozen_until
from relman_tui.model import PLANNED, Environment, Freeze, Release, Severity
from relman_tui.service import Snapshot
from relman_tui.status import next_step
from relman_tui.text import inert
from relman_tui.timeutil import in_zone, relative, zone_mark


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
    unapproved: bool  # forced into an approval environment without approval (break-glass), not yet approved
    hook_failed: bool  # the latest hook run for it failed
    next_step: str  # "needs verify", "needs approval", "ready for test", "live"
    next_window: str  # "prod in 3h", "overdue 20m", "" when none
    overdue: bool
    conflict: Severity | None
    conflict_count: int
    haystack: str  # lower-cased name, components and owner, for the filter


class Cards(Sequence[Card]):
    """A column's cards, each made the first time it is drawn or looked at.

    A column of 10,000 releases then costs what is on screen: the line-rendered list asks
    for a few dozen cards, the cursor and the filter look at ids and search text only.
    """

    __slots__ = ("_index", "_key", "_made", "_make", "_releases", "_version")

    def __init__(
        self,
        releases: Sequence[Release] = (),
        make: Callable[[Release], Card] | None = None,
        version: Callable[[Release], Hashable] | None = None,
    ) -> None:
        """``version(release)`` changes whenever the card ``make(release)`` would draw differently."""
        self._releases = tuple(releases)
        self._make = make
        self._version = version
        self._made: dict[int, Card] = {}
        self._index: dict[int, int] | None = None
        self._key: tuple[Hashable, ...] | None = None

    def same_as(self, other: Cards) -> bool:
        """Would these cards draw exactly as ``other`` does? (Then a live change elsewhere on
        the board need not redraw this column.)"""
        if self is other:
            return True
        if len(self) != len(other) or self._version is None or other._version is None:
            return False
        return self.key() == other.key()

    def key(self) -> tuple[Hashable, ...]:
        if self._key is None:
            version = self._version
            self._key = tuple(map(version, self._releases)) if version is not None else (id(self),)
        return self._key

    def __len__(self) -> int:
        return len(self._releases)

    @overload
    def __getitem__(self, index: int) -> Card: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Card, ...]: ...

    def __getitem__(self, index: int | slice) -> Card | tuple[Card, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self._releases)
        card = self._made.get(index)
        if card is None:
            assert self._make is not None
            card = self._made[index] = self._make(self._releases[index])  # IndexError when out of range
        return card

    def __iter__(self) -> Iterator[Card]:
        return (self[i] for i in range(len(self._releases)))

    def index_of(self, release_id: int) -> int | None:
        if self._index is None:
            self._index = {release.id: i for i, release in enumerate(self._releases)}
        return self._index.get(release_id)

    def release_id(self, index: int) -> int:
        return self._releases[index].id

    def matching(self, query: str) -> Cards:
        """The cards whose name, version, components or owner hold every word of ``query``."""
        words = query.lower().split()
        kept = [r for r in self._releases if all(word in _haystack(r) for word in words)]
        return self if len(kept) == len(self._releases) else Cards(kept, self._make, self._version)


@dataclass(frozen=True, slots=True)
class Column:
    stage: str
    title: str
    count: int
    capacity: int | None  # None for `planned`
    frozen_until: str | None  # when the current freeze ends, short and local ("Mon 07:00"), when frozen now
    frozen_reason: str | None
    requires_approval: bool
    cards: Cards = field(compare=False)  # a header draws the fields above, not the cards


def conflict_counts(snapshot: Snapshot) -> tuple[int, int]:
    """``(errors, warnings)`` on the board: what the top bar shows, and what a toast after a change says."""
    errors = sum(1 for c in snapshot.conflicts if c.severity is Severity.ERROR)
    return errors, len(snapshot.conflicts) - errors


def count_words(errors: int, warnings: int) -> str:
    return f"✖ {errors} error{'s' * (errors != 1)}  ⚠ {warnings} warning{'s' * (warnings != 1)}"


def with_new_counts(text: str, before: tuple[int, int], snapshot: Snapshot | None) -> str:
    """A toast for a change, with the board's counts as the top bar now shows them, if they changed."""
    if snapshot is None:
        return text
    after = conflict_counts(snapshot)
    return text if after == before else f"{text} · now {count_words(*after)}"


def short_time(moment: datetime, tz: str, now: datetime) -> str:
    """A time near ``now`` in few cells: ``14:00`` today, ``Mon 07:00`` within the week, else ``30 Nov 07:00``;
    in the repeated autumn hour with the zone that says which (``02:00 CET``)."""
    local, today = in_zone(moment, tz), in_zone(now, tz)
    if local.date() == today.date():
        text = local.strftime("%H:%M")
    elif abs((local.date() - today.date()).days) < 7:
        text = local.strftime("%a %H:%M")
    else:
        text = local.strftime("%d %b %H:%M")
    return text + zone_mark(moment, tz)


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
    by_stage: dict[str, list[Release]] = defaultdict(list)
    for release in snapshot.releases:
        by_stage[release.stage].append(release)

    failed_hooks = snapshot.hook_failures

    def make(release: Release) -> Card:
        return _card(
            release,
            now,
            severity.get(release.id),
            counts.get(release.id, 0),
            positions,
            snapshot.environments,
            release.id in failed_hooks,
        )

    minute = now.replace(second=0, microsecond=0)  # relative times ("in 3h") change by the minute

    def version(release: Release) -> Hashable:
        return (
            release.id,
            release.rev,
            severity.get(release.id),
            counts.get(release.id, 0),
            minute,
            release.id in failed_hooks,
        )

    columns = [
        Column(
            PLANNED, "Planned", len(by_stage[PLANNED]), None, None, None, False, Cards(by_stage[PLANNED], make, version)
        )
    ]
    covering = by_environment(snapshot.freezes, [env.name for env in snapshot.environments])
    for env in snapshot.environments:
        held = _frozen(tuple(covering[env.name]), env.name, now)
        until = held.until if held else None
        columns.append(
            Column(
                env.name,
                inert(env.title),
                len(by_stage[env.name]),
                env.capacity,
                (short_time(until, tz, now) if until else "further notice") if held else None,
                inert("; ".join(held.reasons)) if held else None,
                env.requires_approval,
                Cards(by_stage[env.name], make, version),
            )
        )
    return columns


@lru_cache(maxsize=256)  # the board draws its columns again at once (resize, conflict marks): same answer
def _frozen(freezes: tuple[Freeze, ...], environment: str, now: datetime) -> Frozen | None:
    return frozen_until(freezes, environment, now)


def _card(
    release: Release,
    now: datetime,
    conflict: Severity | None,
    conflict_count: int,
    positions: dict[str, int],
    environments: tuple[Environment, ...],
    hook_failed: bool = False,
) -> Card:
    reached = done_positions(environments)
    upcoming = [w for w in release.windows if w.end > now and not is_done(release, w, reached, now)]
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
        unapproved=release.unapproved,
        hook_failed=hook_failed,
        next_step=next_step(release, environments),
        next_window=inert(text),
        overdue=overdue,
        conflict=conflict,
        conflict_count=conflict_count,
        haystack=_haystack(release),
    )


def _haystack(release: Release) -> str:
    return " ".join([release.name, release.version, *release.components, release.owner]).lower()


def matches(card: Card, query: str) -> bool:
    return all(word in card.haystack for word in query.lower().split())
