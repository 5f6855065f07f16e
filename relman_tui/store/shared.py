"""What both stores share: the columns, the queries (the driver's placeholder the only difference), row readers
and writers, and the rules written once on top of :class:`~relman_tui.store.contract.BoardStore`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

from relman_tui import chain
from relman_tui.details import parse
from relman_tui.errors import BadInput, StaleWrite
from relman_tui.model import Environment, Event, Freeze, Hook, Release, Risk, State, Window
from relman_tui.store.contract import BoardDump, BoardStore, NewRelease
from relman_tui.timeutil import from_stamp, to_stamp

HOOK_FAILURES_SQL = """
    SELECT release FROM events AS e
    WHERE action IN ('hook_ran', 'hook_failed') AND release IS NOT NULL
    GROUP BY release
    HAVING (SELECT action FROM events WHERE release = e.release AND action IN ('hook_ran', 'hook_failed')
            ORDER BY seq DESC LIMIT 1) = 'hook_failed'
"""

RELEASE_COLUMNS = (
    "id, name, version, components, owner, risk, stage, state, approved_by, approved_at, "
    "notes, created_at, updated_at, rev, created_by, unapproved, changed_at"
)
EVENT_COLUMNS = 'seq, at, actor, via, release, action, "from", "to", forced, reason, details, hash'
WINDOWS_BY_ID_MAX = 500  # more releases than this: one scan of the windows beats asking by id


SETTINGS_SQL = "SELECT key, value FROM settings"
ENVIRONMENTS_SQL = "SELECT name, title, position, capacity, requires_approval FROM environments ORDER BY position"
FREEZES_SQL = 'SELECT id, environments, reason, start, "end", cron, duration, zone FROM freezes ORDER BY id'
HOOK_CURSOR_SQL = "SELECT seq, done FROM hook_cursor WHERE id = 1"
STORED_EVENTS_SQL = f"SELECT {EVENT_COLUMNS} FROM events ORDER BY seq"
WINDOWS_SQL = 'SELECT release_id, environment, start, "end" FROM windows'


def values(ph: str, count: int) -> str:
    """``count`` placeholders for a VALUES list: ``?, ?, ?`` or ``%s, %s, %s``."""
    return ", ".join([ph] * count)


def setting_query(ph: str) -> str:
    """One setting's value by its key (both stores)."""
    return f"SELECT value FROM settings WHERE key = {ph}"


def hook_cursor_upsert(ph: str) -> str:
    """Where the hook runner is, written as its one row (both stores); the parameters: ``seq, done``."""
    return (
        f"INSERT INTO hook_cursor (id, seq, done) VALUES (1, {ph}, {ph}) "
        "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, done = excluded.done"
    )


def copy_inserts(ph: str) -> tuple[str, str, str, str]:
    """What a copied board is written with, ids and all: releases, windows, freezes and events (both stores)."""
    return (
        f"INSERT INTO releases ({RELEASE_COLUMNS}) VALUES ({values(ph, 17)})",
        f'INSERT INTO windows (release_id, environment, start, "end") VALUES ({values(ph, 4)})',
        f'INSERT INTO freezes (id, environments, reason, start, "end", cron, duration, zone) VALUES ({values(ph, 8)})',
        f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({values(ph, 12)})",
    )


def bulk_inserts(ph: str) -> tuple[str, str]:
    """What a seeded board's new releases (each at rev 1) and their windows are written with (both stores)."""
    return (
        f"INSERT INTO releases ({RELEASE_COLUMNS}) VALUES ({values(ph, 13)}, 1, {values(ph, 3)})",
        f'INSERT INTO windows (release_id, environment, start, "end") VALUES ({values(ph, 4)})',
    )


def environment_from_row(r: Sequence[Any]) -> Environment:
    """An environments row (``ENVIRONMENTS_SQL``'s columns) as an Environment."""
    return Environment(r[0], r[1], r[2], r[3], bool(r[4]))


def window_from_row(w: Sequence[Any]) -> Window:
    """A windows row (``WINDOWS_SQL``'s columns) as a Window."""
    return Window(w[0], w[1], from_stamp(w[2]), from_stamp(w[3]))


def releases_query(ph: str, stage: str | None, include_cancelled: bool) -> tuple[str, list[Any]]:
    """``releases()``' query and parameters, ``ph`` the driver's placeholder (both stores)."""
    where: list[str] = []
    params: list[Any] = []
    if stage is not None:
        where.append(f"stage = {ph}")
        params.append(stage)
    if not include_cancelled:
        where.append("state <> 'cancelled'")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {RELEASE_COLUMNS} FROM releases{clause} ORDER BY id", params


def with_windows(
    rows: Sequence[Sequence[Any]], windows: Callable[[list[int] | None], dict[int, list[Window]]]
) -> list[Release]:
    """Release rows as Releases, with the windows ``windows`` reads: by id for a few, all for many."""
    if not rows:
        return []
    by_release = windows([row[0] for row in rows] if len(rows) < WINDOWS_BY_ID_MAX else None)
    return [release_from_row(row, by_release.get(row[0], ())) for row in rows]


def events_query(ph: str, release: int | None, limit: int | None, after_seq: int | None) -> tuple[str, list[Any]]:
    """``events()``' query and parameters (both stores): newest first when ``limit`` is given
    without ``after_seq``, otherwise oldest first."""
    where: list[str] = []
    params: list[Any] = []
    if release is not None:
        where.append(f"release = {ph}")
        params.append(release)
    if after_seq is not None:
        where.append(f"seq > {ph}")
        params.append(after_seq)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = "DESC" if limit is not None and after_seq is None else "ASC"
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    return f"SELECT {EVENT_COLUMNS} FROM events{clause} ORDER BY seq {order}{tail}", params


def delivery_rows_query(ph: str) -> str:
    """What the delivery figures of one environment read (both stores; the parameter: the environment).

    One query, only these columns, in log order: every ``created``, ``edited``, ``approved`` and
    ``rolled_back`` event, and the moves, failure marks and verifications into the environment;
    details only of those that carry what the figures need (creations, edits, moves, verifications).
    """
    return (
        'SELECT seq, at, release, action, "from", "to", forced, '
        "CASE WHEN action IN ('created', 'edited', 'moved', 'verified') THEN details END FROM events "
        "WHERE release IS NOT NULL AND (action IN ('created', 'edited', 'approved', 'rolled_back') "
        f"""OR ("to" = {ph} AND action IN ('moved', 'failed', 'verified'))) ORDER BY seq"""
    )


def updated(store: BoardStore, rowcount: int, release_id: int, expected_rev: int) -> Release:
    """The release as an UPDATE guarded by ``rev = expected_rev`` left it; a stale write (it
    matched no row) is refused with what changed."""
    if rowcount != 1:
        store.refuse_stale(release_id, expected_rev)
    fresh = store.release(release_id)
    assert fresh is not None
    return fresh


def dump_board(store: BoardStore) -> BoardDump:
    """The whole board, history and all, read in one snapshot (both stores)."""
    with store.read():
        return BoardDump(
            store.settings(),
            store.environments(),
            store.releases(include_cancelled=True),
            store.freezes(),
            store.stored_events(),
            store.hook_cursor(),
        )


def stored_event(r: Sequence[Any]) -> chain.StoredEvent:
    """An events row (in ``EVENT_COLUMNS`` order) exactly as stored."""
    return chain.StoredEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9], r[10], r[11])


def stored_event_row(e: chain.StoredEvent) -> tuple[Any, ...]:
    """The values of an events row in ``EVENT_COLUMNS`` order."""
    return (e.seq, e.at, e.actor, e.via, e.release, e.action, e.from_, e.to, e.forced, e.reason, e.details, e.hash)


def event_from_row(row: Sequence[Any]) -> Event:
    return Event(
        row[0],
        from_stamp(row[1]),
        row[2],
        row[4],
        row[5],
        row[6],
        row[7],
        bool(row[8]),
        row[9],
        via=row[3],
        details=parse(row[10]),
        hash=row[11],
    )


def release_from_row(row: Sequence[Any], windows: Iterable[Window] = ()) -> Release:
    # windows go in here, not through dataclasses.replace afterwards: a board of 10,000
    # releases is read at start and on every live change
    return Release(
        id=row[0],
        name=row[1],
        version=row[2],
        components=tuple(json.loads(row[3])),
        owner=row[4],
        risk=Risk(row[5]),
        stage=row[6],
        state=State(row[7]),
        approved_by=row[8],
        approved_at=from_stamp(row[9]) if row[9] else None,
        notes=row[10],
        created_at=from_stamp(row[11]),
        updated_at=from_stamp(row[12]),
        rev=row[13],
        windows=tuple(windows),
        created_by=row[14] or row[4],
        unapproved=bool(row[15]),
        changed_at=from_stamp(row[16]) if row[16] else None,
    )


def _described(r: Release | NewRelease) -> tuple[Any, ...]:
    """What a release says of itself, as stored: ``name`` to ``notes`` in ``RELEASE_COLUMNS`` order."""
    return (
        r.name,
        r.version,
        json.dumps(list(r.components)),
        r.owner,
        str(r.risk),
        r.stage,
        str(r.state),
        r.approved_by,
        to_stamp(r.approved_at) if r.approved_at else None,
        r.notes,
    )


def release_row(r: Release) -> tuple[Any, ...]:
    """Every column of a stored release in ``RELEASE_COLUMNS`` order (a copy keeps ids and revisions)."""
    return (
        r.id,
        *_described(r),
        to_stamp(r.created_at),
        to_stamp(r.updated_at),
        r.rev,
        r.created_by or r.owner,
        bool(r.unapproved),
        to_stamp(r.changed_at) if r.changed_at else None,
    )


def release_update_row(release: Release, now: datetime, expected_rev: int) -> tuple[Any, ...]:
    """The values of ``update_release``'s UPDATE, its ``WHERE id = … AND rev = …`` last (both stores)."""
    return (
        *_described(release),
        to_stamp(now),
        release.unapproved,
        to_stamp(release.changed_at) if release.changed_at else None,
        release.id,
        expected_rev,
    )


def freeze_from_row(r: Sequence[Any]) -> Freeze:
    """A freezes row (``id, environments, reason, start, end, cron, duration, zone``) as a Freeze."""
    return Freeze(
        id=r[0],
        environments=tuple(json.loads(r[1])),
        reason=r[2],
        start=from_stamp(r[3]) if r[3] else None,
        end=from_stamp(r[4]) if r[4] else None,
        cron=r[5],
        duration=timedelta(seconds=r[6]) if r[6] is not None else None,
        zone=r[7],
    )


def hook_cursor_from_row(row: Sequence[Any] | None) -> tuple[int, list[str]]:
    """The hook runner's ``(seq, done)`` from its one row (none yet: from the start)."""
    if row is None:
        return 0, []
    done = json.loads(row[1])
    return int(row[0]), [str(d) for d in done] if isinstance(done, list) else []


def freeze_row(freeze: Freeze) -> tuple[Any, ...]:
    """A freeze's stored columns after its id: environments, reason, start, end, cron, duration, zone."""
    return (
        json.dumps(list(freeze.environments)),
        freeze.reason,
        to_stamp(freeze.start) if freeze.start else None,
        to_stamp(freeze.end) if freeze.end else None,
        freeze.cron,
        int(freeze.duration.total_seconds()) if freeze.duration else None,
        freeze.zone,
    )


def new_release_row(new: NewRelease, now: datetime) -> tuple[Any, ...]:
    """A new release's columns after its id, in ``RELEASE_COLUMNS`` order less ``rev`` (it starts at 1)."""
    return (
        *_described(new),
        to_stamp(new.created_at or now),
        to_stamp(now),
        new.created_by or new.owner,
        bool(new.unapproved),
        to_stamp(new.changed_at) if new.changed_at else None,
    )


def refuse_stale(store: BoardStore, release_id: int, expected_rev: int) -> NoReturn:
    """Raise :class:`StaleWrite` naming who changed the release since ``expected_rev``."""
    fresh = store.release(release_id)
    if fresh is None:
        raise BadInput(f"no release with id {release_id}")
    last = store.events(release=release_id, limit=1)
    who = last[0].actor if last else None
    what = f" ({last[0].action})" if last else ""
    raise StaleWrite(
        f"{fresh.label} was changed by {who or 'someone'}{what} since you saw it "
        f"(rev {expected_rev}, now {fresh.rev}); nothing was written",
        fresh,
        who,
    )


def empty_problem(store: BoardStore) -> str | None:
    """Why ``store`` cannot take a copied board (it holds releases, events, environments or freezes)."""
    with store.read():
        held = {
            "releases": len(store.releases(include_cancelled=True)),
            "events": len(store.events(limit=1)),
            "environments": len(store.environments()),
            "freezes": len(store.freezes()),
        }
    found = [what for what, count in held.items() if count]
    if not found:
        return None
    return (
        f"{store.name} is not empty (it has {', '.join(found)}); relman copy needs a fresh file or a "
        "database after `relman pg setup`, so that nothing is overwritten"
    )


def hooks_from_setting(raw: str) -> list[Hook]:
    """The hooks as the ``hooks`` setting stores them (a hand-edited item nobody can rely on is left out)."""
    try:
        items = json.loads(raw)
    except ValueError:
        return []
    hooks = []
    for item in items if isinstance(items, list) else []:
        try:
            hooks.append(
                Hook(
                    str(item["on"]),
                    tuple(str(a) for a in item["run"]),
                    timedelta(seconds=int(item["timeout"])),
                    item.get("environment"),
                    int(item.get("added_seq", 0)),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a hand-edited row: not a hook anybody can rely on
    return hooks


def names_from_setting(raw: str) -> list[str]:
    """A settings value that lists accounts (``admins``, ``delegates``), or none."""
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []
