"""What an event's ``details`` hold, as types: the records events carry and each action family's keys (pure)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

if TYPE_CHECKING:  # PEP 705 (typing 3.13): the wide type's keys are read-only, so each family narrows them
    from typing_extensions import ReadOnly

Value = str | int | bool | list[str] | None
"""A field's value in an edit's ``changes`` (tuples as lists, enums as text, times as stamps)."""
Changes = dict[str, list[Value]]
"""``{field: [old, new]}`` for each field an edit changed."""
SettingValue = bool | str | list[str]
"""A setting's value: four_eyes a bool, delegates and admins lists of accounts, fixed_clock "on"/"off"."""

# -- the records (CONTRACT.md "Event content"; the `… list --json` items) ---------------------------------


class ReleaseRecord(TypedDict):
    """Every column of the releases table, times as stored UTC stamps (``records.release_record``)."""

    id: int
    name: str
    version: str
    components: list[str]
    owner: str
    risk: str
    stage: str
    state: str
    approved_by: str | None
    approved_at: str | None
    notes: str
    created_at: str
    updated_at: str
    rev: int
    created_by: str
    unapproved: bool
    changed_at: NotRequired[str | None]  # a record written before the column existed has none


class WindowRecord(TypedDict):
    environment: str
    start: str
    end: str


class EnvironmentRecord(TypedDict):
    name: str
    title: str
    position: int
    capacity: int
    requires_approval: bool


class FreezeRecord(TypedDict):
    """A one-off freeze has ``start``/``end``; a recurring one ``cron``/``duration`` (seconds)/``zone``."""

    id: int
    environments: list[str]
    reason: str
    cron: NotRequired[str | None]
    duration: NotRequired[int]
    zone: NotRequired[str | None]
    start: NotRequired[str]
    end: NotRequired[str]


class HookRecord(TypedDict):
    """A hook (``hook`` is its id); ``added_seq`` in `hooks list --json` and in a removal's record."""

    hook: str
    on: str
    environment: str | None
    run: list[str]
    timeout: int  # seconds
    added_seq: NotRequired[int]


class WindowRow(WindowRecord):
    """A window in a state checkpoint: the window's record and its release."""

    release: int


class StateRecord(TypedDict, total=False):
    """The whole board at one moment, as a ``state_checkpoint`` event carries it (hooks with ``added_seq``)."""

    releases: list[ReleaseRecord]
    windows: list[WindowRow]
    environments: list[EnvironmentRecord]
    freezes: list[FreezeRecord]
    settings: dict[str, SettingValue]  # four_eyes, delegates, admins, fixed_clock
    hooks: list[HookRecord]


# -- the details of events ---------------------------------------------------------------------------------

# Every key any action writes, each with the one type it has (a key two families share with different
# types has their union). Readers read this; each family below narrows it to what its builders write.
Details = TypedDict(
    "Details",
    {
        # every event about a release: the release after the change
        "release": "ReadOnly[ReleaseRecord]",
        # created (and an environment's flat record, an environment change: its name)
        "name": "ReadOnly[str]",
        "version": "ReadOnly[str]",
        "components": "ReadOnly[list[str]]",
        "owner": "ReadOnly[str]",
        "risk": "ReadOnly[str]",
        "changed_at": "ReadOnly[str]",
        # edited, env_changed
        "changes": "ReadOnly[Changes]",
        # edited, rolled_back / moved / approved
        "approval_withdrawn": "ReadOnly[str]",
        "unapproved": "ReadOnly[bool]",
        "cleared_unapproved": "ReadOnly[bool]",
        # scheduled / unscheduled (start/end: a one-off freeze's too); a window event's environment is its name,
        # an environment event's its record, a hook's the stage it watches (or None)
        "environment": "ReadOnly[str | EnvironmentRecord | None]",
        "start": "ReadOnly[str]",
        "end": "ReadOnly[str]",
        "old_start": "ReadOnly[str]",
        "old_end": "ReadOnly[str]",
        "window": "ReadOnly[WindowRecord]",
        # env_added / env_changed / env_removed (the flat record beside the full one)
        "title": "ReadOnly[str]",
        "position": "ReadOnly[int]",
        "capacity": "ReadOnly[int]",
        "requires_approval": "ReadOnly[bool]",
        "pipeline": "ReadOnly[list[str]]",
        # freeze_added / freeze_removed (the flat record beside the full one)
        "freeze": "ReadOnly[FreezeRecord]",
        "id": "ReadOnly[int]",
        "environments": "ReadOnly[list[str]]",
        "reason": "ReadOnly[str]",
        "cron": "ReadOnly[str | None]",
        "duration": "ReadOnly[int]",
        "zone": "ReadOnly[str | None]",
        # setting_changed
        "key": "ReadOnly[str]",
        "old": "ReadOnly[SettingValue]",
        "new": "ReadOnly[SettingValue]",
        # imported
        "added": "ReadOnly[int]",
        "changed": "ReadOnly[int]",
        "removed": "ReadOnly[int]",
        # hook_added / hook_removed: the hook's record; hook_ran / hook_failed: its id (both: the flat record)
        "hook": "ReadOnly[str | HookRecord]",
        "on": "ReadOnly[str]",
        "run": "ReadOnly[list[str]]",
        "timeout": "ReadOnly[int]",
        "event_seq": "ReadOnly[int]",
        "event_action": "ReadOnly[str]",
        "exit_status": "ReadOnly[int | None]",
        "duration_ms": "ReadOnly[int]",
        "output": "ReadOnly[str]",
        "problem": "ReadOnly[str]",
        # board_created / board_copied / state_checkpoint / log_chain_started
        "board_id": "ReadOnly[str]",
        "admins": "ReadOnly[list[str]]",
        "fixed_clock": "ReadOnly[str]",
        "history": "ReadOnly[str]",
        "from": "ReadOnly[str]",
        "old_admins": "ReadOnly[list[str]]",
        "state": "ReadOnly[StateRecord]",
        "events_before": "ReadOnly[int]",
        "digest": "ReadOnly[str]",
    },
    total=False,
)


EventRecord = TypedDict(
    "EventRecord",
    {
        "seq": int,
        "at": str,
        "actor": str,
        "via": "str | None",
        "release": "int | None",
        "action": str,
        "from": "str | None",
        "to": "str | None",
        "forced": bool,
        "reason": "str | None",
        "details": Details,
        "hash": "str | None",
    },
)
"""An event as `relman log --json` prints it, and as a hook reads it on stdin."""


class CreatedDetails(Details):
    """``created``: what was asked for (the record, added when stored, says what was stored)."""

    name: str
    version: str
    components: list[str]
    owner: str
    risk: str
    changed_at: NotRequired[str]
    release: NotRequired[ReleaseRecord]  # the service adds it when stored (the demo's seeded history has none)


class EditedDetails(Details):
    changes: Changes
    approval_withdrawn: NotRequired[str]


class MovedDetails(Details):
    unapproved: NotRequired[bool]  # break-glass: forced into an environment that requires approval


class RolledBackDetails(Details):
    approval_withdrawn: NotRequired[str]


class ApprovedDetails(Details):
    cleared_unapproved: NotRequired[bool]


class ScheduledDetails(Details):
    environment: str
    start: str
    end: str
    window: WindowRecord
    old_start: NotRequired[str]  # a window moved: where it was
    old_end: NotRequired[str]


class UnscheduledDetails(Details):
    environment: str
    old_start: str
    old_end: str
    window: WindowRecord  # the window removed


class EnvironmentDetails(Details):
    """``env_added`` / ``env_removed`` (with the flat record), ``env_changed`` (with ``name`` and ``changes``)."""

    environment: EnvironmentRecord
    pipeline: list[str]  # the environments' names in order, after the change


class FreezeDetails(Details):
    """``freeze_added`` / ``freeze_removed``: the record's keys, and the full record under ``freeze``."""

    freeze: FreezeRecord
    id: int
    environments: list[str]
    reason: str
    cron: NotRequired[str | None]
    duration: NotRequired[int]
    zone: NotRequired[str | None]
    start: NotRequired[str]
    end: NotRequired[str]


class SettingDetails(Details):
    key: str
    old: SettingValue
    new: SettingValue


class ImportedDetails(Details):
    added: int
    changed: int
    removed: int


class HookChangeDetails(Details):
    """``hook_added`` / ``hook_removed``: the hook's flat record, and its whole record under ``hook``."""

    hook: HookRecord
    on: str
    environment: str | None
    run: list[str]
    timeout: int


class HookOutcomeDetails(Details):
    """``hook_ran`` / ``hook_failed``: the hook's flat record (``hook`` its id) and what came of running it."""

    hook: str
    on: str
    environment: str | None
    run: list[str]
    timeout: int
    event_seq: int
    event_action: str
    exit_status: int | None
    duration_ms: int
    output: str
    problem: str


class BoardCreatedDetails(Details):
    board_id: str
    admins: list[str]
    fixed_clock: str
    history: NotRequired[str]  # "made up": a demo's, which a checkpoint replaces (replay starts there)


class CheckpointDetails(Details):
    board_id: str
    state: StateRecord
    reason: str


class ChainStartedDetails(Details):
    events_before: int
    digest: str


# -- details read back: the one way in from stored text ---------------------------------------------------

Check = Callable[[object], bool]


def parse(text: str | None) -> Details:
    """An event's stored details as :class:`Details`: ``{}`` for none or for text that is not a JSON
    object, and without any key whose value has not the shape its type says (a hand-edited or
    damaged row): a reader finds it missing and says so as it says for an event without it."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return checked(value) if isinstance(value, dict) else {}


def checked(value: Mapping[str, object]) -> Details:
    """``value`` without the keys :class:`Details` names whose values have another shape (other keys stay)."""
    kept = {k: v for k, v in value.items() if k not in _CHECKS or _CHECKS[k](v)}
    return cast(Details, kept)  # each named key was checked above; the rest Details does not speak of


def _str(v: object) -> bool:
    return isinstance(v, str)


def _int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _bool(v: object) -> bool:
    return isinstance(v, bool)


def _optional(check: Check) -> Check:
    return lambda v: v is None or check(v)


def _strings(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _value(v: object) -> bool:
    return v is None or _str(v) or _int(v) or _bool(v) or _strings(v)


def _changes(v: object) -> bool:
    return isinstance(v, dict) and all(isinstance(p, list) and all(_value(x) for x in p) for p in v.values())


def _setting(v: object) -> bool:
    return _bool(v) or _str(v) or _strings(v)


def record_check(required: Mapping[str, Check], optional: Mapping[str, Check] | None = None) -> Check:
    """A check that a value is a JSON object with each ``required`` key, and each key of either of the shape named."""
    extra = optional or {}

    def check(v: object) -> bool:
        if not isinstance(v, dict) or not all(k in v for k in required):
            return False
        return all(c(v[k]) for k, c in (*required.items(), *extra.items()) if k in v)

    return check


RELEASE_FIELDS: dict[str, Check] = {
    "id": _int,
    "name": _str,
    "version": _str,
    "components": _strings,
    "owner": _str,
    "risk": _str,
    "stage": _str,
    "state": _str,
    "approved_by": _optional(_str),
    "approved_at": _optional(_str),
    "notes": _str,
    "created_at": _str,
    "updated_at": _str,
    "rev": _int,
    "created_by": _str,
    "unapproved": _bool,
}
RELEASE_OPTIONAL: dict[str, Check] = {"changed_at": _optional(_str)}
WINDOW_FIELDS: dict[str, Check] = {"environment": _str, "start": _str, "end": _str}
ENVIRONMENT_FIELDS: dict[str, Check] = {
    "name": _str,
    "title": _str,
    "position": _int,
    "capacity": _int,
    "requires_approval": _bool,
}
FREEZE_FIELDS: dict[str, Check] = {"id": _int, "environments": _strings, "reason": _str}
FREEZE_OPTIONAL: dict[str, Check] = {
    "cron": _optional(_str),
    "duration": _int,
    "zone": _optional(_str),
    "start": _str,
    "end": _str,
}
HOOK_FIELDS: dict[str, Check] = {
    "hook": _str,
    "on": _str,
    "environment": _optional(_str),
    "run": _strings,
    "timeout": _int,
}
HOOK_OPTIONAL: dict[str, Check] = {"added_seq": _int}

is_release = record_check(RELEASE_FIELDS, RELEASE_OPTIONAL)
is_window = record_check(WINDOW_FIELDS)
is_environment = record_check(ENVIRONMENT_FIELDS)
is_freeze = record_check(FREEZE_FIELDS, FREEZE_OPTIONAL)
is_hook = record_check(HOOK_FIELDS, HOOK_OPTIONAL)
is_state = record_check(
    {},
    {
        "releases": lambda v: isinstance(v, list) and all(is_release(x) for x in v),
        "windows": lambda v: isinstance(v, list) and all(is_window(x) and _int(x.get("release")) for x in v),
        "environments": lambda v: isinstance(v, list) and all(is_environment(x) for x in v),
        "freezes": lambda v: isinstance(v, list) and all(is_freeze(x) for x in v),
        "settings": lambda v: isinstance(v, dict) and all(_setting(x) for x in v.values()),
        "hooks": lambda v: isinstance(v, list) and all(is_hook(x) for x in v),
    },
)

_CHECKS: dict[str, Check] = {
    "release": is_release,
    "name": _str,
    "version": _str,
    "components": _strings,
    "owner": _str,
    "risk": _str,
    "changed_at": _str,
    "changes": _changes,
    "approval_withdrawn": _str,
    "unapproved": _bool,
    "cleared_unapproved": _bool,
    "environment": lambda v: v is None or _str(v) or is_environment(v),
    "start": _str,
    "end": _str,
    "old_start": _str,
    "old_end": _str,
    "window": is_window,
    "title": _str,
    "position": _int,
    "capacity": _int,
    "requires_approval": _bool,
    "pipeline": _strings,
    "freeze": is_freeze,
    "id": _int,
    "environments": _strings,
    "reason": _str,
    "cron": _optional(_str),
    "duration": _int,
    "zone": _optional(_str),
    "key": _str,
    "old": _setting,
    "new": _setting,
    "added": _int,
    "changed": _int,
    "removed": _int,
    "hook": lambda v: _str(v) or is_hook(v),
    "on": _str,
    "run": _strings,
    "timeout": _int,
    "event_seq": _int,
    "event_action": _str,
    "exit_status": _optional(_int),
    "duration_ms": _int,
    "output": _str,
    "problem": _str,
    "board_id": _str,
    "admins": _strings,
    "fixed_clock": _str,
    "history": _str,
    "from": _str,
    "old_admins": _strings,
    "state": is_state,
    "events_before": _int,
    "digest": _str,
}
