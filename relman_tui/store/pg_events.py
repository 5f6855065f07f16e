"""What the PostgreSQL store sends its write functions: an event with everything its effect is read from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from relman_tui.actions import HOOK_OUTCOMES, Action
from relman_tui.details import Details, FreezeRecord, ReleaseRecord, WindowRecord
from relman_tui.store.contract import NewEvent
from relman_tui.timeutil import to_stamp

# which write function takes an event: the release's, the freezes', or the runner's (the rest are the admin's)
RELEASE_ACTIONS: frozenset[str] = frozenset(
    {
        Action.CREATED,
        Action.EDITED,
        Action.MOVED,
        Action.ROLLED_BACK,
        Action.VERIFIED,
        Action.FAILED,
        Action.APPROVED,
        Action.CANCELLED,
        Action.SCHEDULED,
        Action.UNSCHEDULED,
    }
)
FREEZE_ACTIONS: frozenset[str] = frozenset({Action.FREEZE_ADDED, Action.FREEZE_REMOVED})
RUNNER_ACTIONS: frozenset[str] = HOOK_OUTCOMES


@dataclass
class Pending:
    """What a transaction changed since its last event: sent with the next event, which carries it."""

    release: ReleaseRecord | None = None
    window: WindowRecord | None = None
    freeze: FreezeRecord | None = None
    seeding: bool = False  # the demo's bulk history (the admin's, written as the table's owner)

    def clear(self) -> None:
        self.release = self.window = self.freeze = None


Payload = TypedDict(
    "Payload",
    {
        "action": str,
        "release": int | None,
        "from": str | None,
        "to": str | None,
        "forced": bool,
        "reason": str | None,
        "actor": str,
        "via": str | None,
        "at": str,
        "details": Details | None,
    },
)
"""An event as the write functions read it (``event jsonb``)."""


def payload(event: NewEvent, actor: str, at: datetime, via: str | None, pending: Pending) -> Payload:
    """The event as the functions read it, ``details`` completed with what changed (contract keys)."""
    details: Details = event.details or {}
    if pending.release is not None and "release" not in details:
        details = {**details, "release": pending.release}
    if pending.window is not None and "window" not in details:
        details = {**details, "window": pending.window}
    if pending.freeze is not None and "freeze" not in details:
        details = {**details, "freeze": pending.freeze}
    return {
        "action": event.action,
        "release": event.release,
        "from": event.from_,
        "to": event.to,
        "forced": event.forced,
        "reason": event.reason,
        "actor": actor,
        "via": via,
        "at": to_stamp(at),
        "details": details or None,
    }


def function_for(action: str, seeding: bool) -> str:
    """Which write function takes an event of ``action``."""
    if seeding:
        return "relman.admin_event(%s::jsonb, '[]'::jsonb)"
    if action in RELEASE_ACTIONS:
        return "relman.release_event(%s::jsonb)"
    if action in FREEZE_ACTIONS:
        return "relman.freeze_event(%s::jsonb)"
    if action in RUNNER_ACTIONS:
        return "relman.runner_event(%s::jsonb, NULL, NULL)"
    return "relman.admin_event(%s::jsonb, '[]'::jsonb)"


def as_json(value: Mapping[str, Any] | list[Any]) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
