"""Records: a release, window, freeze, environment or hook as one JSON object, as events carry them (pure)."""

from __future__ import annotations

from relman_tui.details import EnvironmentRecord, FreezeRecord, HookRecord, ReleaseRecord, WindowRecord
from relman_tui.model import Environment, Freeze, Hook, Release, Window
from relman_tui.timeutil import to_stamp


def release_record(release: Release) -> ReleaseRecord:
    """Every column of a release as the releases table holds it (times as UTC stamps, components a list).

    In the order of :class:`Release`'s fields (a difference is named in that order); a test holds the
    record's keys to the dataclass's fields, so a column added to :class:`Release` is added here too.
    """
    r = release
    return {
        "id": r.id,
        "name": r.name,
        "version": r.version,
        "components": list(r.components),
        "owner": r.owner,
        "risk": str(r.risk),
        "stage": r.stage,
        "state": str(r.state),
        "approved_by": r.approved_by,
        "approved_at": to_stamp(r.approved_at) if r.approved_at is not None else None,
        "notes": r.notes,
        "created_at": to_stamp(r.created_at),
        "updated_at": to_stamp(r.updated_at),
        "rev": r.rev,
        "created_by": r.created_by,
        "unapproved": r.unapproved,
        "changed_at": to_stamp(r.changed_at) if r.changed_at is not None else None,
    }


def window_record(window: Window) -> WindowRecord:
    return {"environment": window.environment, "start": to_stamp(window.start), "end": to_stamp(window.end)}


def environment_record(env: Environment) -> EnvironmentRecord:
    """An environment as an event's details (and as `env list --json` items)."""
    return {
        "name": env.name,
        "title": env.title,
        "position": env.position,
        "capacity": env.capacity,
        "requires_approval": env.requires_approval,
    }


def freeze_record(f: Freeze) -> FreezeRecord:
    """A freeze as an event's details (and as `freeze list --json` items)."""
    item: FreezeRecord = {"id": f.id, "environments": list(f.environments), "reason": f.reason}
    if f.recurring and f.duration is not None:
        item |= {"cron": f.cron, "duration": int(f.duration.total_seconds()), "zone": f.zone}
    elif f.start and f.end:
        item |= {"start": to_stamp(f.start), "end": to_stamp(f.end)}
    return item


def hook_record(hook: Hook) -> HookRecord:
    """A hook as an event's details (`hooks list --json` items add ``added_seq``: the seq of the adding event)."""
    return {
        "hook": hook.id,
        "on": hook.on,
        "environment": hook.environment,
        "run": list(hook.run),
        "timeout": int(hook.timeout.total_seconds()),
    }


def listed_hook(hook: Hook) -> HookRecord:
    """A hook as `hooks list --json` and the stored hooks setting list it: its record and ``added_seq``."""
    return hook_record(hook) | {"added_seq": hook.added_seq}
