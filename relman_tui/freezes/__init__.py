"""Freeze occurrences: a small cron parser, DST-correct expansion of recurring freezes, their covers (pure)."""

from relman_tui.freezes.cron import CronSpec, describe, parse_cron, validate_zone
from relman_tui.freezes.queries import (
    Frozen,
    active_at,
    blocks,
    by_environment,
    check,
    cover_spans,
    covers,
    daily_stretches,
    expand,
    frozen_until,
    held_within,
    occurrences,
)
from relman_tui.freezes.ticks import OCCURRENCES_MAX, REACH

__all__ = [
    "OCCURRENCES_MAX",
    "REACH",
    "CronSpec",
    "Frozen",
    "active_at",
    "blocks",
    "by_environment",
    "check",
    "cover_spans",
    "covers",
    "daily_stretches",
    "describe",
    "expand",
    "frozen_until",
    "held_within",
    "occurrences",
    "parse_cron",
    "validate_zone",
]
