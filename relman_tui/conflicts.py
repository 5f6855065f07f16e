"""The scheduler's conflict engine: sweeps over sorted window and freeze endpoints (pure)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from heapq import heappop, heappush
from itertools import compress, groupby, repeat
from operator import gt, le, lt, sub

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


def crowded_spans(starts: Sequence[int], ends: Sequence[int], limit: int) -> list[tuple[int, int, int, list[int]]]:
    """Maximal spans in which more than ``limit`` of the intervals ``[starts[i], ends[i])`` are open.

    Ends count before starts at one instant (intervals are half-open), and the count is judged
    after every event at an instant, so a span does not split where one interval ends and
    another begins. Each span comes back as ``(start, end, peak count, the indices of the
    intervals that intersect it)``, sorted by start.

    This is the sweep done with sorted arrays and binary search, so that the per-interval work
    runs in C and only the spans found cost Python steps: with ``S`` the sorted starts and ``E``
    the sorted ends, the count just after instant ``t`` is ``#(S <= t) - #(E <= t)``.
    """
    limit = max(limit, 0)
    n = len(starts)
    if n <= limit:
        return []
    order = sorted(range(n), key=starts.__getitem__)
    s_sorted = [starts[i] for i in order]
    e_sorted = sorted(ends)
    # The count after the i-th start (i counted from 0) is i + 1 - #(E <= S[i]); it exceeds the
    # limit exactly when E[i - limit] > S[i]. Where starts tie, the last of them sees the count.
    hot = list(compress(s_sorted[limit:], map(gt, e_sorted, s_sorted[limit:])))
    if not hot:
        return []
    # End instants after which the count is back within the limit: #(S <= E[k]) - (k + 1) <= limit.
    after_end = map(sub, map(bisect_right, repeat(s_sorted, n), e_sorted), range(1, n + 1))
    calm = list(compress(e_sorted, map(le, after_end, repeat(limit, n))))  # never empty: the last end
    spans: list[list[int]] = []
    i = 0
    while i < len(hot):
        start = hot[i]
        end = calm[bisect_right(calm, start)]
        spans.append([start, end])
        i = bisect_left(hot, end, i)
    counts = list(map(sub, range(1, n + 1), map(bisect_right, repeat(e_sorted, n), s_sorted)))
    found: list[tuple[int, int, int, list[int]]] = []
    for start, end in spans:
        first, last = bisect_left(s_sorted, start), bisect_left(s_sorted, end)
        found.append((start, end, max(counts[first:last]), order[first:last]))  # those starting inside
    # ... and those already open when a span starts: i with start_i < span start < end_i.
    span_starts = [span[0] for span in spans]
    lows = list(map(bisect_right, repeat(span_starts, n), starts))
    highs = list(map(bisect_left, repeat(span_starts, n), ends))
    for i in compress(range(n), map(lt, lows, highs)):
        for k in range(lows[i], highs[i]):
            found[k][3].append(i)
    return found


class _Board:
    """The windows that count, as parallel lists indexed by window number."""

    def __init__(self, environments: Sequence[Environment], releases: Iterable[Release]) -> None:
        self.environments = list(environments)
        index = {env.name: i for i, env in enumerate(self.environments)}
        self.releases = [release for release in releases if not release.cancelled]
        self.ids = [release.id for release in self.releases]
        self.labels = [shorten(release.label) for release in self.releases]  # as named in messages
        self.names = [shorten(env.name) for env in self.environments]  # as named in messages
        epoch, tick = _EPOCH, _TICK
        # Comprehensions rather than one loop of appends: this runs once per window.
        flat = [
            (window, r)
            for r, release in enumerate(self.releases)
            for window in release.windows
            if window.environment in index
        ]
        self.starts = [(window.start - epoch) // tick for window, _ in flat]
        self.ends = [(window.end - epoch) // tick for window, _ in flat]
        if not all(map(lt, self.starts, self.ends)):  # an empty window is bad input; it takes no time
            keep = [i for i, (start, end) in enumerate(zip(self.starts, self.ends, strict=True)) if start < end]
            flat = [flat[i] for i in keep]
            self.starts = [self.starts[i] for i in keep]
            self.ends = [self.ends[i] for i in keep]
        self.env = [index[window.environment] for window, _ in flat]  # index into environments
        self.rel = [r for _, r in flat]  # index into releases; one release's windows are adjacent
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
        mine = starts_by_env[e]
        starts, ends = [board.starts[w] for w in mine], [board.ends[w] for w in mine]
        for start, end, peak, members in crowded_spans(starts, ends, env.capacity):
            named = {board.ids[board.rel[mine[i]]]: board.label(mine[i]) for i in members}
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
    for r, run in groupby(range(len(starts)), key=board.rel.__getitem__):
        mine = list(run)
        if len(mine) < 2:
            continue
        mine.sort(key=lambda w: position[board.env[w]])
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
