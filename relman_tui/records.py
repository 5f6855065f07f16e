"""Records: a release, window, freeze, environment or hook as one JSON object, as events carry them (pure)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from relman_tui.model import Environment, Freeze, Hook, Release, Window
from relman_tui.timeutil import to_stamp

# Release fields that are not columns of the releases table: the windows have their own table.
_NOT_COLUMNS = frozenset({"windows"})


def release_record(release: Release) -> dict[str, Any]:
    """Every column of a release as the releases table holds it (times as UTC stamps, components a list).

    Built from the dataclass's fields, so a column added to :class:`Release` flows into every event.
    """
    record: dict[str, Any] = {}
    for item in fields(release):
        if item.name in _NOT_COLUMNS:
            continue
        record[item.name] = plain(getattr(release, item.name))
    return record


def window_record(window: Window) -> dict[str, Any]:
    return {"environment": window.environment, "start": to_stamp(window.start), "end": to_stamp(window.end)}


def environment_record(env: Environment) -> dict[str, Any]:
    """An environment as an event's details (and as `env list --json` items)."""
    return {
        "name": env.name,
        "title": env.title,
        "position": env.position,
        "capacity": env.capacity,
        "requires_approval": env.requires_approval,
    }


def freeze_record(f: Freeze) -> dict[str, Any]:
    """A freeze as an event's details (and as `freeze list --json` items)."""
    item: dict[str, Any] = {"id": f.id, "environments": list(f.environments), "reason": f.reason}
    if f.recurring and f.duration is not None:
        item |= {"cron": f.cron, "duration": int(f.duration.total_seconds()), "zone": f.zone}
    elif f.start and f.end:
        item |= {"start": to_stamp(f.start), "end": to_stamp(f.end)}
    return item


def hook_record(hook: Hook) -> dict[str, Any]:
    """A hook as an event's details (`hooks list --json` items add ``added_seq``: the seq of the adding event)."""
    return {
        "hook": hook.id,
        "on": hook.on,
        "environment": hook.environment,
        "run": list(hook.run),
        "timeout": int(hook.timeout.total_seconds()),
    }


def plain(value: Any) -> Any:
    """A field's value as JSON holds it: tuples as lists, enums as text, times as UTC stamps."""
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, datetime):
        return to_stamp(value)
    return value
