"""The service's values and free functions: snapshots, diffs, hook outcomes, event records, freezes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from relman_tui import freezes as freeze_rules
from relman_tui.details import Changes, EventRecord, FreezeDetails, Value
from relman_tui.errors import BadInput
from relman_tui.limits import FREEZE_MAX, check_duration, check_span
from relman_tui.model import ALL_ENVIRONMENTS, Conflict, Environment, Event, Freeze, Release, Risk, Severity
from relman_tui.records import freeze_record
from relman_tui.store.contract import BoardStore
from relman_tui.timeutil import to_stamp


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a view draws, read in one go."""

    environments: tuple[Environment, ...]
    releases: tuple[Release, ...]
    freezes: tuple[Freeze, ...]
    conflicts: tuple[Conflict, ...]
    last_seq: int
    now: datetime
    hook_failures: frozenset[int] = frozenset()  # releases whose latest hook run failed
    checked: bool = True  # False: read without looking for conflicts yet (a board's first frame)


@dataclass(frozen=True, slots=True)
class ConflictDiff:
    """What a proposed change to a window would add and clear."""

    created: tuple[Conflict, ...]
    resolved: tuple[Conflict, ...]

    @property
    def creates_error(self) -> bool:
        return any(c.severity is Severity.ERROR for c in self.created)


def build_freeze(
    freeze_id: int,
    environments: Sequence[str],
    reason: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    cron: str | None = None,
    duration: timedelta | None = None,
    zone: str | None = None,
) -> Freeze:
    """A validated one-off or recurring freeze (bad input raises :class:`BadInput`)."""
    envs = tuple(dict.fromkeys(environments))
    if not envs:
        raise BadInput("a freeze needs an environment (or all)")
    if ALL_ENVIRONMENTS in envs:
        envs = (ALL_ENVIRONMENTS,)
    if cron is not None:
        if start is not None or end is not None:
            raise BadInput("a freeze is either one-off (--start/--end) or recurring (--cron/--for), not both")
        if duration is None:
            raise BadInput("a recurring freeze needs a duration (--for DURATION)")
        check_duration(duration, "a recurring freeze's duration", FREEZE_MAX)
        freeze_rules.parse_cron(cron)
        zone_name = zone or "UTC"
        freeze_rules.validate_zone(zone_name)
        return Freeze(freeze_id, envs, reason, cron=" ".join(cron.split()), duration=duration, zone=zone_name)
    if start is None or end is None:
        raise BadInput("a one-off freeze needs --start and --end (or use --cron and --for)")
    check_span(start, end, "a freeze", FREEZE_MAX)
    return Freeze(freeze_id, envs, reason, start=start, end=end)


APPROVAL_FIELDS = ("name", "version", "components", "owner")  # a change to any withdraws an approval


def event_record(e: Event) -> EventRecord:
    """An event as `relman log --json` prints it, and as a hook reads it on stdin."""
    return {
        "seq": e.seq,
        "at": to_stamp(e.at),
        "actor": e.actor,
        "via": e.via,
        "release": e.release,
        "action": e.action,
        "from": e.from_,
        "to": e.to,
        "forced": e.forced,
        "reason": e.reason,
        "details": e.details.copy(),
        "hash": e.hash,
    }


def _freeze_details(f: Freeze) -> FreezeDetails:
    """A freeze event's details: the record's keys as before, and the full record under ``freeze``."""
    record = freeze_record(f)
    details: FreezeDetails = {"id": f.id, "environments": record["environments"], "reason": f.reason, "freeze": record}
    if "cron" in record:
        details |= {"cron": record["cron"], "duration": record["duration"], "zone": record["zone"]}
    elif "start" in record:
        details |= {"start": record["start"], "end": record["end"]}
    return details


def _freeze_key(f: Freeze) -> tuple[tuple[str, object], ...]:
    """What makes two freezes the same freeze (all but the id), comparable."""
    items = ((k, tuple(v) if isinstance(v, list) else v) for k, v in freeze_record(f).items() if k != "id")
    return tuple(sorted(items, key=lambda item: item[0]))


def _changes(old: object, new: object, fields: Sequence[str]) -> Changes:
    """``{field: [old, new]}`` for each field that differs (tuples as lists, enums as text)."""
    out: Changes = {}
    for name in fields:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            out[name] = [_plain(before), _plain(after)]
    return out


def _plain(value: object) -> Value:
    if isinstance(value, tuple):
        return [str(v) for v in value]
    if isinstance(value, datetime):
        return to_stamp(value)
    if isinstance(value, StrEnum):
        return str(value)
    if value is None or isinstance(value, str | int):
        return value
    raise TypeError(f"a field of type {type(value).__name__} in an edit's changes")


@dataclass(frozen=True, slots=True)
class HookOutcome:
    """What running a hook came to."""

    exit_status: int | None  # None: it could not start, or was killed at its timeout
    duration_ms: int
    output: str  # the last lines it wrote, made inert
    problem: str = ""  # why it failed, in words ("timed out after 30s", "exit status 3", …)

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and not self.problem


def board_delegates(store: BoardStore) -> tuple[str, ...]:
    """The OS accounts that may act for others with ``--as`` (read before the actor is known)."""
    return _delegates(store.setting("delegates", "[]"))


def _delegates(raw: str) -> tuple[str, ...]:
    try:
        value = json.loads(raw)
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _risk(value: Risk | str) -> Risk:
    try:
        return Risk(value)
    except ValueError as exc:
        raise BadInput(f"bad risk {value!r} (use low, medium or high)") from exc


def _minus(items: Sequence[Conflict], others: Sequence[Conflict]) -> list[Conflict]:
    remaining = Counter((c.kind, c.environments, c.releases) for c in others)
    out = []
    for conflict in items:
        key = (conflict.kind, conflict.environments, conflict.releases)
        if remaining[key]:
            remaining[key] -= 1
        else:
            out.append(conflict)
    return out
