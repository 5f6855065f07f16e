"""How an audit event is put into words, once, for the CLI, the board and the detail screen (pure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from relman_tui.model import Event
from relman_tui.text import inert, one_line
from relman_tui.timeutil import format_local

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


def what_happened(event: Event, tz: str | None = None) -> str:
    """The event without its actor, for history tables: ``moved planned → dev (forced) — why``.

    With ``tz``, stored times in it (a window's ``prod 2026-11-28T09:00:00Z/…``) read in that zone.
    """
    parts = [verb(event.action)]
    if event.from_ or event.to:
        parts.append(f"{event.from_ or ''} → {event.to or ''}".strip())
    if event.forced:
        parts.append("(forced)")
    if event.reason:
        parts.append(f"— {one_line(event.reason)}")
    text = " ".join(parts)
    return inert(localize(text, tz) if tz else text)


def sentence(event: Event, label: str | None, tz: str | None = None) -> str:
    """Who did what to which release, for notifications: ``bob moved payments-api 2.4.1 → prod``.

    With ``tz``, a window event says where and when, in that zone:
    ``bob scheduled x 1.0 in prod 2026-12-01 10:00 → 12:00 CET``.
    """
    what = label or (f"release #{event.release}" if event.release is not None else "")
    text = f"{event.actor} {verb(event.action)} {what}".rstrip()
    if event.action in ("moved", "rolled_back") and event.to:
        text += f" → {event.to}"
    if tz and event.action in ("scheduled", "unscheduled") and (event.to or event.from_):
        text += f" in {localize(event.to or event.from_ or '', tz)}"
    if event.forced:
        text += " (forced)"
    return inert(text)


_STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"
_SPAN_OR_STAMP = re.compile(rf"({_STAMP})(?:/({_STAMP}))?")


def localize(text: str, tz: str) -> str:
    """Every stored UTC stamp in ``text`` (``2026-11-30T07:00:00Z``, or a window ``start/end``) written
    in ``tz`` the way the rest of relman shows times: ``2026-11-30 08:00 CET``, ``… 10:00 → 12:00 CET``."""

    def local(match: re.Match[str]) -> str:
        start = _parse(match[1])
        if match[2] is None:
            return format_local(start, tz)
        end = _parse(match[2])
        first, last = format_local(start, tz, with_zone=False), format_local(end, tz)
        if first[:10] == last[:10]:
            last = last[11:]  # the same local day: the end's time and zone only
        return f"{first} → {last}"

    return _SPAN_OR_STAMP.sub(local, text)


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
