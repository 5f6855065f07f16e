"""Every action an event in the log can have: one enum, whose values are the strings stored and shown."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """An event's ``action``. A StrEnum: it is stored, hashed, printed and compared as its plain value."""

    # a release
    CREATED = "created"
    EDITED = "edited"
    MOVED = "moved"
    ROLLED_BACK = "rolled_back"
    VERIFIED = "verified"
    FAILED = "failed"
    APPROVED = "approved"
    CANCELLED = "cancelled"
    SCHEDULED = "scheduled"
    UNSCHEDULED = "unscheduled"
    # the board's rules
    FREEZE_ADDED = "freeze_added"
    FREEZE_REMOVED = "freeze_removed"
    ENV_ADDED = "env_added"
    ENV_CHANGED = "env_changed"
    ENV_REMOVED = "env_removed"
    SETTING_CHANGED = "setting_changed"
    IMPORTED = "imported"
    HOOK_ADDED = "hook_added"
    HOOK_REMOVED = "hook_removed"
    # hooks at work
    HOOK_RAN = "hook_ran"
    HOOK_FAILED = "hook_failed"
    # the board itself
    BOARD_CREATED = "board_created"
    BOARD_COPIED = "board_copied"
    STATE_CHECKPOINT = "state_checkpoint"  # the whole state at one moment: replay starts from the latest one


# A hook's own outcome: a hook never reacts to one (a failing hook would run for ever).
HOOK_OUTCOMES = frozenset({Action.HOOK_RAN, Action.HOOK_FAILED})

# What a hook may react to: the changes to releases and to the board's rules made by people.
HOOK_ACTIONS = frozenset(
    {
        Action.CREATED,
        Action.EDITED,
        Action.MOVED,
        Action.ROLLED_BACK,
        Action.SCHEDULED,
        Action.UNSCHEDULED,
        Action.VERIFIED,
        Action.FAILED,
        Action.APPROVED,
        Action.CANCELLED,
        Action.FREEZE_ADDED,
        Action.FREEZE_REMOVED,
        Action.ENV_ADDED,
        Action.ENV_CHANGED,
        Action.ENV_REMOVED,
        Action.SETTING_CHANGED,
        Action.IMPORTED,
    }
)

# Changes to the rules every release is judged by (admin-only).
RULE_CHANGES = frozenset(
    {
        Action.SETTING_CHANGED,
        Action.ENV_ADDED,
        Action.ENV_CHANGED,
        Action.ENV_REMOVED,
        Action.HOOK_ADDED,
        Action.HOOK_REMOVED,
        Action.IMPORTED,
    }
)
