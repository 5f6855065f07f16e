"""The scheduler's conflict engine: sweeps over sorted window and freeze endpoints (pure)."""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from heapq import heappop, heappush

from relman_tui.freezes import expand
from relman_tui.model import (
    ALL_ENVIRONMENTS,
    PLANNED,
    SEVERITY,
    Conflict,
    ConflictKind,
    Environment,
    Freeze,
    Release,
)
from relman_tui.timeutil import UTC, to_stamp

# Inside the engine a time is an int count of microseconds since the Unix epoch: exact for
# any aware datetime, and ints compare and sort far faster than datetimes.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)

NAME_CAP = 40  # a name longer than this is cut in a message, so a hostile name stays one short line
LIST_CAP = 5  # at most this many releases or components are named in one message

# A conflict before it becomes a Conflict: (start, kind, environments, release ids, end, message).
_Row = tuple[int, ConflictKind, tuple[str, ...], tuple[int, ...], int, str]


def ticks(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch."""
    return (moment - _EPOCH) // _TICK


def from_ticks(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def shorten(text: str, cap: int = NAME_CAP) -> str:
    """``text`` on one line, at most ``cap`` characters (cut with "…"), for a message."""
    if not text.isprintable():  # newlines, escapes, bidi overrides: a space each, runs collapsed
        text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= cap else text[: cap - 1] + "…"


def name_list(names: Sequence[str], cap: int = LIST_CAP) -> str:
    """``a, b and c``; past ``cap`` names, ``a, b, c, d, e and 3 more``."""
    shown = [shorten(name) for name in names[:cap]]
    rest = len(names) - len(shown)
    if rest:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def crowded_spans(
    by_start: Sequence[int], by_end: Sequence[int], starts: Sequence[int], ends: Sequence[int], limit: int
) -> list[tuple[int, int, int, list[int]]]:
    """Maximal spans in which more than ``limit`` of the intervals are open at once.

    ``starts[i]``/``ends[i]`` are interval ``i``; ``by_start`` and ``by_end`` list the same
    intervals sorted by start and by end. At one instant ends count before starts (intervals
    are half-open), and the count is judged only after every event at that instant, so a span
    does not split where one interval ends and another begins. Each span comes back as
    ``(start, end, peak count, the intervals that intersect it)``.
    """
    limit = max(limit, 0)
    n = len(by_start)
    spans: list[tuple[int, int, int, list[int]]] = []
    open_now: set[int] = set()
    span_start: int | None = None
    members: list[int] = []
    peak = 0
    i = j = 0
    while i < n or (span_start is not None and j < n):
        instant = ends[by_end[j]]
        if i < n and starts[by_start[i]] < instant:
            instant = starts[by_start[i]]
        while j < n and ends[by_end[j]] == instant:
            open_now.discard(by_end[j])
            j += 1
        first_new = i
        while i < n and starts[by_start[i]] == instant:
            open_now.add(by_start[i])
            i += 1
        count = len(open_now)
        if span_start is None:
            if count > limit:
                span_start, members, peak = instant, list(open_now), count
        elif count > limit:
            members.extend(by_start[first_new:i])
            peak = max(peak, count)
        else:
            spans.append((span_start, instant, peak, members))
            span_start = None
    return spans


class _Board:
    """The windows that count, as parallel lists indexed by window number."""

    def __init__(self, environments: Sequence[Environment], releases: Iterable[Release]) -> None:
        self.environments = list(environments)
        index = {env.name: i for i, env in enumerate(self.environments)}
        self.releases = [release for release in releases if not release.cancelled]
        self.ids = [release.id for release in self.releases]
        self.labels = [shorten(release.label) for release in self.releases]  # as named in messages
        self.names = [shorten(env.name) for env in self.environments]  # as named in messages
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.env: list[int] = []  # index into environments
        self.rel: list[int] = []  # index into releases
        self.of_release: list[list[int]] = []
        epoch, tick = _EPOCH, _TICK
        for r, release in enumerate(self.releases):
            mine: list[int] = []
            for window in release.windows:
                e = index.get(window.environment)
                if e is None:
                    continue
                start, end = (window.start - epoch) // tick, (window.end - epoch) // tick
                if start >= end:  # an empty window is bad input; it occupies no time
                    continue
                mine.append(len(self.starts))
                self.starts.append(start)
                self.ends.append(end)
                self.env.append(e)
                self.rel.append(r)
            self.of_release.append(mine)
        count = len(self.starts)
        self.by_start = sorted(range(count), key=self.starts.__getitem__)
        self.by_end = sorted(range(count), key=self.ends.__getitem__)

    def per_environment(self, order: list[int]) -> list[list[int]]:
        groups: list[list[int]] = [[] for _ in self.environments]
        env = self.env
        for w in order:
            groups[env[w]].append(w)
        return groups

    def label(self, w: int) -> str:
        """The release of window ``w`` as ``name version``, shortened for a message."""
        return self.labels[self.rel[w]]

    def env_name(self, w: int) -> str:
        return self.environments[self.env[w]].name


def find_conflicts(
    environments: Sequence[Environment],
    releases: Iterable[Release],
    freezes: Sequence[Freeze],
    now: datetime,
) -> list[Conflict]:
    """Every conflict on the board (DESIGN.md "Conflicts"), sorted by start, kind, environments.

    Cancelled releases and windows in environments not listed are left out. Ties after
    ``environments`` are broken by ``releases``, then ``end``, then ``message``.
    """
    board = _Board(environments, releases)
    rows: list[_Row] = []
    if board.starts:
        starts_by_env = board.per_environment(board.by_start)
        rows += _capacity(board, starts_by_env, board.per_environment(board.by_end))
        rows += _freeze(board, starts_by_env, freezes)
        rows += _order(board)
        rows += _component(board)
        rows += _missed(board, ticks(now))
    rows.sort()  # the row's own order: start, kind (a str: by name), environments, releases, end, message
    # Conflicts share endpoints: make each datetime once.
    moment = {value: from_ticks(value) for value in {row[0] for row in rows} | {row[4] for row in rows}}
    return [
        Conflict(kind, SEVERITY[kind], envs, ids, moment[start], moment[end], message)
        for start, kind, envs, ids, end, message in rows
    ]


def to_json(conflict: Conflict) -> dict[str, object]:
    """One item of ``relman conflicts --json``."""
    return {
        "kind": conflict.kind.value,
        "severity": conflict.severity.value,
        "environments": list(conflict.environments),
        "releases": list(conflict.releases),
        "start": to_stamp(conflict.start),
        "end": to_stamp(conflict.end),
        "message": conflict.message,
    }


def _capacity(board: _Board, starts_by_env: list[list[int]], ends_by_env: list[list[int]]) -> list[_Row]:
    rows: list[_Row] = []
    for e, env in enumerate(board.environments):
        by_start = starts_by_env[e]
        if len(by_start) <= env.capacity:
            continue
        for start, end, peak, members in crowded_spans(
            by_start, ends_by_env[e], board.starts, board.ends, env.capacity
        ):
            named = {board.ids[board.rel[w]]: board.label(w) for w in members}
            ids = tuple(sorted(named))
            labels = [named[i] for i in ids]
            message = (
                f"{board.names[e]} holds {peak} windows at once but its capacity is {env.capacity}: "
                f"move one of {name_list(labels)}"
            )
            rows.append((start, ConflictKind.CAPACITY, (env.name,), ids, end, message))
    return rows


def _freeze(board: _Board, starts_by_env: list[list[int]], freezes: Sequence[Freeze]) -> list[_Row]:
    if not freezes:
        return []
    occurrences = expand(freezes, from_ticks(min(board.starts)), from_ticks(max(board.ends)))
    index = {env.name: e for e, env in enumerate(board.environments)}
    # Per environment, the occurrences covering it as (start, end, freeze id, what to call it).
    covering: list[list[tuple[int, int, int, str]]] = [[] for _ in board.environments]
    for occ in occurrences:
        start, end = ticks(occ.start), ticks(occ.end)
        if start >= end:
            continue
        if ALL_ENVIRONMENTS in occ.environments:
            targets: Iterable[int] = range(len(board.environments))
        else:
            targets = {index[name] for name in occ.environments if name in index}
        advice = f" during freeze #{occ.freeze_id} ({shorten(occ.reason)}): move the window out of the freeze"
        for e in targets:
            covering[e].append((start, end, occ.freeze_id, advice))
    rows: list[_Row] = []
    starts, ends, rel, ids, labels = board.starts, board.ends, board.rel, board.ids, board.labels
    kind = ConflictKind.FREEZE
    for e, occs in enumerate(covering):
        if not occs:
            continue
        occs.sort()
        occ_starts = [item[0] for item in occs]
        env = (board.environments[e].name,)
        where = f" is scheduled in {board.names[e]}"
        active: list[tuple[int, int]] = []  # heap of (end, position in occs) of those begun so far
        begun = 0
        for w in starts_by_env[e]:
            ws, we = starts[w], ends[w]
            while begun < len(occs) and occ_starts[begun] <= ws:
                heappush(active, (occs[begun][1], begun))
                begun += 1
            while active and active[0][0] <= ws:
                heappop(active)
            # Each pair is met once: occurrences open at the window's start, then those starting inside it.
            hits = [k for _, k in active]
            hits.extend(range(begun, bisect_right(occ_starts, we - 1, begun)))
            if not hits:
                continue
            release, head = (ids[rel[w]],), labels[rel[w]] + where
            for k in hits:
                os, oe, _, advice = occs[k]
                rows.append((os if os > ws else ws, kind, env, release, oe if oe < we else we, head + advice))
    return rows


def _order(board: _Board) -> list[_Row]:
    """A window that starts before the release's window in an earlier environment has ended.

    The span is ``[later.start, earlier.end)``: from the moment the later environment is
    touched until the earlier one is done, which is never empty because the rule is exactly
    ``later.start < earlier.end``.
    """
    rows: list[_Row] = []
    position = [env.position for env in board.environments]
    starts, ends = board.starts, board.ends
    for r, mine in enumerate(board.of_release):
        if len(mine) < 2:
            continue
        mine = sorted(mine, key=lambda w: position[board.env[w]])
        earlier: list[tuple[int, int]] = []  # (end, window) of strictly earlier environments, by end
        pending: list[int] = []  # windows at the current position, added once it is passed
        for w in mine:
            if pending and position[board.env[pending[0]]] != position[board.env[w]]:
                for p in pending:
                    insort(earlier, (ends[p], p))
                pending = []
            pending.append(w)
            for end, d in earlier[bisect_right(earlier, (starts[w], len(starts))) :]:
                later, earlier_one = board.names[board.env[w]], board.names[board.env[d]]
                message = (
                    f"{board.labels[r]} starts in {later} before its window in {earlier_one} has ended: "
                    f"start the {later} window after the {earlier_one} one"
                )
                envs = tuple(sorted((board.env_name(w), board.env_name(d))))
                rows.append((starts[w], ConflictKind.ORDER, envs, (board.ids[r],), end, message))
    return rows


def _component(board: _Board) -> list[_Row]:
    components = [tuple(dict.fromkeys(release.components)) for release in board.releases]
    rel = board.rel
    by_start: dict[str, list[int]] = {}
    by_end: dict[str, list[int]] = {}
    for w in board.by_start:
        for name in components[rel[w]]:
            by_start.setdefault(name, []).append(w)
    for w in board.by_end:
        for name in components[rel[w]]:
            by_end.setdefault(name, []).append(w)
    shared: dict[tuple[int, int], list[str]] = {}
    starts, ends, env = board.starts, board.ends, board.env
    for name, order in by_start.items():
        if len(order) < 2:
            continue
        closing = by_end[name]
        active: dict[int, dict[int, None]] = {}  # environment -> windows open now
        j = 0
        for w in order:
            instant = starts[w]
            while ends[closing[j]] <= instant:
                x = closing[j]
                group = active[env[x]]
                del group[x]
                if not group:
                    del active[env[x]]
                j += 1
            e, r = env[w], rel[w]
            for other_env, group in active.items():
                if other_env == e:
                    continue  # same environment: capacity's business, not this rule's
                for x in group:
                    if rel[x] != r:
                        shared.setdefault((x, w) if x < w else (w, x), []).append(name)
            active.setdefault(e, {})[w] = None
    rows: list[_Row] = []
    ids = board.ids
    for (a, b), names in shared.items():
        if board.env_name(a) > board.env_name(b):
            a, b = b, a  # name them in the order of their environments
        ea, eb = board.env_name(a), board.env_name(b)
        ia, ib = ids[rel[a]], ids[rel[b]]
        touch = name_list(sorted(names))
        message = (
            f"{board.label(a)} in {board.names[env[a]]} and {board.label(b)} in {board.names[env[b]]} "
            f"overlap and both touch {touch}: move one of them"
        )
        rows.append(
            (
                max(starts[a], starts[b]),
                ConflictKind.COMPONENT,
                (ea, eb),
                (min(ia, ib), max(ia, ib)),
                min(ends[a], ends[b]),
                message,
            )
        )
    return rows


def _missed(board: _Board, now: int) -> list[_Row]:
    position = {env.name: env.position for env in board.environments}
    rows: list[_Row] = []
    for w, end in enumerate(board.ends):
        if end > now:
            continue
        release = board.releases[board.rel[w]]
        env = board.environments[board.env[w]]
        if release.stage == PLANNED:
            where = "still planned"
        elif release.stage in position and position[release.stage] < env.position:
            where = f"still in {shorten(release.stage)}"
        else:
            continue  # reached it (or a stage this board does not know: nothing to say)
        message = (
            f"{board.label(w)}'s window in {board.names[board.env[w]]} has passed but it is {where}: "
            f"reschedule the window or move the release"
        )
        rows.append((board.starts[w], ConflictKind.MISSED, (env.name,), (release.id,), end, message))
    return rows
