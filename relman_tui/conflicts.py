"""The scheduler's conflict engine: sweeps over sorted window and freeze endpoints (pure)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import accumulate, chain, compress, groupby, repeat
from operator import add, and_, attrgetter, eq, floordiv, gt, le, lt, or_, sub
from typing import cast

from relman_tui.done import is_done, positions
from relman_tui.freezes import check, cover_spans, daily_stretches, held_within
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
_DAY = 86_400_000_000  # a day in ticks
_NEAR = 2 * _DAY  # windows closer than this share one walk over the days
_FEW = 4  # a window meeting more of a freeze's stretches than this is looked up on its own
_FOREVER = 1 << 62  # longer than any window

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
    found: list[tuple[int, int, int, list[int]]] = []
    i = 0
    while i < len(hot):
        start = hot[i]
        # The span ends at the first end instant after which the count is back within the
        # limit; the ends passed on the way are of intervals in the span, so this is output.
        k = bisect_right(e_sorted, start)
        while True:
            end = e_sorted[k]
            k = bisect_right(e_sorted, end, k)
            if bisect_right(s_sorted, end) - k <= limit:
                break
        first, last = bisect_left(s_sorted, start), bisect_left(s_sorted, end)
        # The count peaks just after a start: i + 1 - #(E <= S[i]).
        peak = max(map(sub, range(first + 1, last + 1), map(bisect_right, repeat(e_sorted), s_sorted[first:last])))
        found.append((start, end, peak, order[first:last]))  # those starting inside it, and ...
        i = bisect_left(hot, end, i)
    # ... those already open when it starts: i with start_i < span start < end_i.
    span_starts = [span[0] for span in found]
    lows = list(map(bisect_right, repeat(span_starts, n), starts))
    highs = list(map(bisect_left, repeat(span_starts, n), ends))
    for i in compress(range(n), map(lt, lows, highs)):
        for k in range(lows[i], highs[i]):
            found[k][3].append(i)
    return found


class _Board:
    """The windows that count (not cancelled, not done), as parallel lists indexed by window number."""

    def __init__(self, environments: Sequence[Environment], releases: Iterable[Release], now: datetime) -> None:
        self.environments = list(environments)
        index = {env.name: i for i, env in enumerate(self.environments)}
        self.releases = [release for release in releases if not release.cancelled]
        self.ids = [release.id for release in self.releases]
        self.labels = [shorten(release.label) for release in self.releases]  # as named in messages
        self.names = [shorten(env.name) for env in self.environments]  # as named in messages
        # Mostly map() over attrgetter and operator functions: this part touches every window,
        # and keeping it in C is most of what makes 100,000 windows cheap.
        per_release = list(map(attrgetter("windows"), self.releases))
        # Done windows are history (DESIGN "Conflicts"); only a release standing in an environment has any.
        where = positions(self.environments)
        for r, release in enumerate(self.releases):
            if release.stage in where and per_release[r]:
                per_release[r] = tuple(w for w in per_release[r] if not is_done(release, w, where, now))
        windows = list(chain.from_iterable(per_release))
        rel = list(chain.from_iterable(map(repeat, range(len(per_release)), map(len, per_release))))
        found: list[int | None] = list(map(index.get, map(attrgetter("environment"), windows)))
        starts = list(map(floordiv, map(sub, map(attrgetter("start"), windows), repeat(_EPOCH)), repeat(_TICK)))
        ends = list(map(floordiv, map(sub, map(attrgetter("end"), windows), repeat(_EPOCH)), repeat(_TICK)))
        if None in found or not all(map(lt, starts, ends)):
            # Windows in environments not on the board are not our business; an empty window is
            # bad input and takes no time.
            keep = [i for i, e in enumerate(found) if e is not None and starts[i] < ends[i]]
            found, rel = [found[i] for i in keep], [rel[i] for i in keep]
            starts, ends = [starts[i] for i in keep], [ends[i] for i in keep]
        self.starts: list[int] = starts
        self.ends: list[int] = ends
        self.env = cast("list[int]", found)  # index into environments; no None is left
        self.rel: list[int] = rel  # index into releases, ascending: one release's windows are adjacent
        self.by_start = sorted(range(len(starts)), key=starts.__getitem__)

    def lanes(self) -> list[tuple[list[int], list[int], list[int]]]:
        """Per environment: its windows by start, their starts and their ends."""
        groups: list[list[int]] = [[] for _ in self.environments]
        env = self.env
        for w in self.by_start:
            groups[env[w]].append(w)
        starts, ends = self.starts.__getitem__, self.ends.__getitem__
        return [(group, list(map(starts, group)), list(map(ends, group))) for group in groups]

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

    Cancelled releases, done windows and windows in environments not listed are left out. Ties after
    ``environments`` are broken by ``releases``, then ``end``, then ``message``.
    """
    board = _Board(environments, releases, now)
    rows: list[_Row] = []
    if board.starts:
        lanes = board.lanes()
        rows += _capacity(board, lanes)
        rows += _freeze(board, lanes, freezes)
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


def _capacity(board: _Board, lanes: list[tuple[list[int], list[int], list[int]]]) -> list[_Row]:
    rows: list[_Row] = []
    for e, env in enumerate(board.environments):
        mine, starts, ends = lanes[e]
        if len(mine) <= env.capacity:
            continue
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


def _freeze(
    board: _Board, lanes: list[tuple[list[int], list[int], list[int]]], freezes: Sequence[Freeze]
) -> list[_Row]:
    """One conflict per (window, freeze that holds during it): from the first instant it holds
    there to the end of its last stretch there (DESIGN.md "Limits": the work and the answer
    follow the windows and freezes involved, never the occurrences between)."""
    if not freezes:
        return []
    index = {env.name: e for e, env in enumerate(board.environments)}
    # Per environment, the cover spans to pair with its windows: (start, end, freeze number).
    covering: list[list[tuple[int, int, int]]] = [[] for _ in board.environments]
    # Per environment, its windows longest first, and their lengths negated (ascending).
    longest_first: list[tuple[list[int], list[int]] | None] = [None] * len(board.environments)
    walks: dict[tuple[tuple[int, ...], int], list[tuple[int, int]]] = {}  # per set of environments
    board_span = (min(board.starts), max(board.ends))  # a one-off freeze is one span: no walk
    held: dict[tuple[int, int], tuple[int, int, bool]] = {}  # (window, freeze number) -> start, end, on and off
    longest: list[int] = []  # per freeze number: a longer window is looked up on its own
    for f, freeze in enumerate(freezes):
        check(freeze)  # a broken freeze is bad input even where it touches no window
        if ALL_ENVIRONMENTS in freeze.environments:
            targets: tuple[int, ...] = tuple(range(len(board.environments)))
        else:
            targets = tuple(sorted({index[name] for name in freeze.environments if name in index}))
        targets = tuple(e for e in targets if lanes[e][0])
        longest.append(_FOREVER)
        if not targets:
            continue
        if freeze.recurring:
            # A window that would meet more than a few of the freeze's stretches is looked up on
            # its own, at its two ends; the others are paired with the stretches found over them.
            limit = longest[f] = _DAY * _FEW // daily_stretches(freeze)
            for e in targets:
                mine, starts, ends = lanes[e]
                if longest_first[e] is None:
                    order = sorted(range(len(mine)), key=lambda i: starts[i] - ends[i])
                    longest_first[e] = (order, [starts[i] - ends[i] for i in order])
                order, lengths = cast("tuple[list[int], list[int]]", longest_first[e])
                for i in order[: bisect_left(lengths, -limit)]:
                    found = held_within(freeze, starts[i], ends[i])
                    if found is not None:
                        held[mine[i], f] = found
            # Short windows: looked up where they are, never over the span between the first and the last.
            if (targets, limit) not in walks:
                walks[targets, limit] = _walks(board, lanes, targets, limit)
            spans = [span for start, end in walks[targets, limit] for span in cover_spans(freeze, start, end)]
        else:
            spans = list(cover_spans(freeze, *board_span))
        for e in targets:
            covering[e].extend((start, end, f) for start, end in spans)
    for e, occs in enumerate(covering):
        mine, starts, ends = lanes[e]  # starts sorted
        if not occs or not mine:
            continue
        occs.sort()
        occ_starts = [occ[0] for occ in occs]  # sorted
        pairs: list[tuple[int, int]] = []  # (window position in mine, cover span position in occs)
        # A window and a span meet when one starts inside the other. The window starts inside
        # (span.start <= window.start < span.end): a run of ``starts``, found by bisection.
        for k, (occ_start, occ_end, _) in enumerate(occs):
            first, last = bisect_left(starts, occ_start), bisect_left(starts, occ_end)
            pairs.extend(zip(range(first, last), repeat(k)))
        # The span starts inside (window.start < span.start < window.end): a run of occ_starts.
        firsts = list(map(bisect_right, repeat(occ_starts), starts))
        lasts = list(map(bisect_left, repeat(occ_starts), ends))
        for i in compress(range(len(mine)), map(lt, firsts, lasts)):
            pairs.extend(zip(repeat(i), range(firsts[i], lasts[i])))
        for i, k in pairs:
            occ_start, occ_end, f = occs[k]
            if ends[i] - starts[i] > longest[f]:
                continue  # looked up on its own above
            low, high = max(starts[i], occ_start), min(ends[i], occ_end)
            seen = held.get((mine[i], f))
            held[mine[i], f] = (low, high, False) if seen is None else (min(seen[0], low), max(seen[1], high), True)
    rows: list[_Row] = []
    rel, ids, labels, env = board.rel, board.ids, board.labels, board.env
    kind = ConflictKind.FREEZE
    for (w, f), (low, high, again) in held.items():
        freeze = freezes[f]
        e = env[w]
        during = ", which holds on and off through it" if again else ""
        message = (
            f"{labels[rel[w]]} is scheduled in {board.names[e]} during freeze #{freeze.id} "
            f"({shorten(freeze.reason)}){during}: move the window out of the freeze"
        )
        rows.append((low, kind, (board.environments[e].name,), (ids[rel[w]],), high, message))
    return rows


def _walks(
    board: _Board, lanes: list[tuple[list[int], list[int], list[int]]], targets: tuple[int, ...], longest: int
) -> list[tuple[int, int]]:
    """The stretches of time to expand a freeze over for the windows of ``targets`` no longer than
    ``longest``: those windows merged, and joined across gaps shorter than two days, where walking
    the days between costs less than starting a new walk. Each such window lies inside one of them.
    """
    if len(targets) == 1:
        order = lanes[targets[0]][0]
    elif len(targets) == len(board.environments):
        order = board.by_start
    else:
        order = sorted(chain.from_iterable(lanes[e][0] for e in targets), key=board.starts.__getitem__)
    order = [w for w in order if board.ends[w] - board.starts[w] <= longest]
    if not order:
        return []
    starts = [board.starts[w] for w in order]
    ends = [board.ends[w] for w in order]
    reach = list(accumulate(ends, max))  # the latest end so far
    breaks = list(compress(range(1, len(starts)), map(gt, starts[1:], map(add, reach, repeat(_NEAR)))))
    firsts = [0, *breaks]
    lasts = [*breaks, len(starts)]
    return [(starts[i], reach[j - 1]) for i, j in zip(firsts, lasts, strict=True)]


def _order(board: _Board) -> list[_Row]:
    """A window that starts before the release's window in an earlier environment has ended.

    The span is ``[later.start, earlier.end)``: from the moment the later environment is
    touched until the earlier one is done, which is never empty because the rule is exactly
    ``later.start < earlier.end``.
    """
    rows: list[_Row] = []
    position = [env.position for env in board.environments]
    starts, ends = board.starts, board.ends
    rel, env = board.rel, board.env
    # Most releases go through the pipeline in order, each window after the one before it:
    # find the few that do not with one pass in C, and look closely only at those.
    pos = [position[e] for e in env]
    in_order = map(and_, map(lt, pos, pos[1:]), map(le, ends, starts[1:]))
    same_release = map(eq, rel, rel[1:])
    suspects = {rel[k] for k in compress(range(len(rel)), map(gt, same_release, in_order))}
    for r, run in groupby(range(len(starts)), key=rel.__getitem__):
        if r not in suspects:
            continue
        mine = list(run)
        mine.sort(key=lambda w: position[env[w]])
        earlier: list[tuple[int, int]] = []  # (end, window) of strictly earlier environments, by end
        pending: list[int] = []  # windows at the current position, added once it is passed
        for w in mine:
            if pending and position[env[pending[0]]] != position[env[w]]:
                for p in pending:
                    insort(earlier, (ends[p], p))
                pending = []
            pending.append(w)
            for end, d in earlier[bisect_right(earlier, (starts[w], len(starts))) :]:
                later, earlier_one = board.names[env[w]], board.names[env[d]]
                message = (
                    f"{board.labels[r]} starts in {later} before its window in {earlier_one} has ended: "
                    f"start the {later} window after the {earlier_one} one"
                )
                envs = tuple(sorted((board.env_name(w), board.env_name(d))))
                rows.append((starts[w], ConflictKind.ORDER, envs, (board.ids[r],), end, message))
    return rows


def _component(board: _Board) -> list[_Row]:
    components = []
    for release in board.releases:
        listed = release.components
        components.append(listed if len(set(listed)) == len(listed) else tuple(dict.fromkeys(listed)))
    starts, ends, env, rel = board.starts, board.ends, board.env, board.rel
    # Release r's windows are firsts[r]:firsts[r + 1]; a component gathers its releases' runs.
    firsts = list(map(bisect_left, repeat(rel), range(len(components) + 1)))
    groups: dict[str, list[int]] = {}  # component -> its windows, by start
    for r, listed in enumerate(components):
        mine = range(firsts[r], firsts[r + 1])
        if mine:
            for name in listed:
                if name in groups:
                    groups[name].extend(mine)
                else:
                    groups[name] = list(mine)
    for group in groups.values():
        group.sort(key=starts.__getitem__)
    shared: dict[tuple[int, int], list[str]] = {}
    for name, group in groups.items():
        if len(group) < 2:
            continue
        # Only windows that overlap another of the group can be in a pair; finding them is a
        # pass in C (the next one starts before this one ends, or an earlier one ends after this
        # one starts), and most windows of most components overlap nothing.
        group_starts = [starts[w] for w in group]
        group_ends = [ends[w] for w in group]
        reach = list(accumulate(group_ends, max))
        touches_next = map(lt, [*group_starts[1:], reach[-1]], group_ends)
        touched = map(gt, [group_starts[0], *reach[:-1]], group_starts)
        order = list(compress(group, map(or_, touches_next, touched)))
        if not order:
            continue
        # A sweep over those: each window meets the ones still open in other environments.
        closing = sorted(order, key=ends.__getitem__)
        active: dict[int, dict[int, None]] = {}  # environment -> windows open now
        j = 0
        for w in order:
            instant = starts[w]
            while ends[closing[j]] <= instant:
                x = closing[j]
                open_here = active[env[x]]
                del open_here[x]
                if not open_here:
                    del active[env[x]]
                j += 1
            e, r = env[w], rel[w]
            for other_env, open_there in active.items():
                if other_env == e:
                    continue  # one environment: capacity's business, not this rule's
                for x in open_there:
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
    for w in compress(range(len(board.ends)), map(le, board.ends, repeat(now))):
        end = board.ends[w]
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
