"""How an audit event is put into words, once, for the CLI, the board and the detail screen (pure)."""

from __future__ import annotations

from relman_tui.model import Event
from relman_tui.text import inert, one_line

ACTION_WORDS = {
    "created": "created",
    "edited": "edited",
    "moved": "moved",
    "rolled_back": "rolled back",
    "scheduled": "scheduled",
    "unscheduled": "unscheduled",
    "verified": "verified",
    "failed": "marked failed",
    "approved": "approved",
    "cancelled": "cancelled",
}


def verb(action: str) -> str:
    """``rolled_back`` → ``rolled back``; unknown actions read as their own words."""
    return ACTION_WORDS.get(action, action.replace("_", " "))


def what_happened(event: Event) -> str:
    """The event without its actor, for history tables: ``moved planned → dev (forced) — why``."""
    parts = [verb(event.action)]
    if event.from_ or event.to:
        parts.append(f"{event.from_ or ''} → {event.to or ''}".strip())
    if event.forced:
        parts.append("(forced)")
    if event.reason:
        parts.append(f"— {one_line(event.reason)}")
    return inert(" ".join(parts))


def sentence(event: Event, label: str | None) -> str:
    """Who did what to which release, for notifications: ``bob moved payments-api 2.4.1 → prod``."""
    what = label or (f"release #{event.release}" if event.release is not None else "")
    text = f"{event.actor} {verb(event.action)} {what}".rstrip()
    if event.action in ("moved", "rolled_back") and event.to:
        text += f" → {event.to}"
    if event.forced:
        text += " (forced)"
    return inert(text)
