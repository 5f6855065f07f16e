"""How an audit event is put into words, once, for the CLI, the board and the detail screen (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from relman_tui.actions import Action
from relman_tui.details import Details, EnvironmentRecord
from relman_tui.errors import BadInput
from relman_tui.model import Event, Release
from relman_tui.text import inert, one_line
from relman_tui.timeutil import format_duration, format_local, from_stamp, relative

ACTION_WORDS = {
    Action.CREATED: "created",
    Action.EDITED: "edited",
    Action.MOVED: "moved",
    Action.ROLLED_BACK: "rolled back",
    Action.SCHEDULED: "scheduled",
    Action.UNSCHEDULED: "unscheduled",
    Action.VERIFIED: "verified",
    Action.FAILED: "marked failed",
    Action.APPROVED: "approved",
    Action.CANCELLED: "cancelled",
    Action.ENV_ADDED: "added environment",
    Action.ENV_CHANGED: "changed environment",
    Action.ENV_REMOVED: "removed environment",
    Action.FREEZE_ADDED: "added freeze",
    Action.FREEZE_REMOVED: "removed freeze",
    Action.SETTING_CHANGED: "changed setting",
    Action.IMPORTED: "imported a board file",
    "log_chain_started": "started the log's hash chain",
    Action.HOOK_ADDED: "added hook",
    Action.HOOK_REMOVED: "removed hook",
    Action.HOOK_RAN: "ran hook",
    Action.HOOK_FAILED: "hook failed",
}


def verb(action: str) -> str:
    """``rolled_back`` → ``rolled back``; unknown actions read as their own words."""
    return ACTION_WORDS.get(action, action.replace("_", " "))


def what_happened(event: Event, tz: str | None = None) -> str:
    """The event without its actor, for history tables: ``moved planned → dev (forced) — why``.

    Times in it are shown in ``tz`` (UTC when not given).
    """
    tz = tz or "UTC"
    d = event.details
    action = event.action
    text = _WORDERS.get(action, _plain)(event, d, tz)
    if event.forced:
        text += " (forced)"
    if d.get("unapproved"):
        text += " — break-glass: entered without approval"
    if event.reason and action not in (Action.FREEZE_ADDED, Action.FREEZE_REMOVED):
        text += f" — {one_line(event.reason)}"
    return inert(text)


def sentence(event: Event, label: str | None, tz: str | None = None) -> str:
    """Who did what to which release, for notifications: ``bob moved payments-api 2.4.1 → prod``;
    a window event says where and when, in ``tz``."""
    tz = tz or "UTC"
    what = label or (f"release #{event.release}" if event.release is not None else "")
    text = f"{actor_text(event)} {verb(event.action)} {what}".rstrip()
    if event.action in (Action.MOVED, Action.ROLLED_BACK) and event.to:
        text += f" → {event.to}"
    elif event.action == Action.SCHEDULED and event.details.get("start"):
        text += f" in {event.details.get('environment')} {_span(event.details['start'], event.details['end'], tz)}"
    elif event.release is None:
        text = f"{actor_text(event)} {what_happened(event, tz)}"
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


def actor_text(event: Event) -> str:
    """``alice``, or ``alice via ci-runner`` for a change a delegate made for her."""
    return f"{event.actor} via {event.via}" if event.via else event.actor


# -- one wording per action ---------------------------------------------------------------------


def _plain(event: Event, d: Details, tz: str) -> str:
    parts = [verb(event.action)]
    if event.from_ or event.to:
        parts.append(f"{event.from_ or ''} → {event.to or ''}".strip())
    return " ".join(parts)


def _created(event: Event, d: Details, tz: str) -> str:
    return f"created in {event.to or 'planned'}" + (f" (owner {d['owner']})" if d.get("owner") else "")


def _moved(event: Event, d: Details, tz: str) -> str:
    return f"{verb(event.action)} {event.from_ or '?'} → {event.to or '?'}"


def _in_stage(event: Event, d: Details, tz: str) -> str:
    where = event.to or event.from_
    return f"{verb(event.action)} in {where}" if where else verb(event.action)


def _rolled_back(event: Event, d: Details, tz: str) -> str:
    text = _moved(event, d, tz)
    if d.get("approval_withdrawn"):
        text += f"; approval by {d['approval_withdrawn']} withdrawn"
    return text


def _approved(event: Event, d: Details, tz: str) -> str:
    text = f"approved in {event.to}" if event.to else "approved"
    if d.get("cleared_unapproved"):
        text += " (clears the break-glass mark)"
    return text


def _edited(event: Event, d: Details, tz: str) -> str:
    changes = d.get("changes")
    if not isinstance(changes, Mapping) or not changes:
        return _plain(event, d, tz)
    parts = [
        f"{field} {_value(pair[0])} → {_value(pair[1])}"
        for field, pair in changes.items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    ]
    text = "edited " + ", ".join(parts)
    if d.get("approval_withdrawn"):
        text += f"; approval by {d['approval_withdrawn']} withdrawn"
    return text


def _scheduled(event: Event, d: Details, tz: str) -> str:
    if not d.get("start"):
        return _plain(event, d, tz)
    text = f"scheduled {d.get('environment')} {_span(d['start'], d['end'], tz)}"
    if d.get("old_start"):
        text += f" (was {_span(d['old_start'], d['old_end'], tz)})"
    return text


def _unscheduled(event: Event, d: Details, tz: str) -> str:
    if not d.get("old_start"):
        return _plain(event, d, tz)
    return f"unscheduled {d.get('environment')} (was {_span(d['old_start'], d['old_end'], tz)})"


def _environment(event: Event, d: Details, tz: str) -> str:
    name = d.get("name") or event.to or event.from_ or "?"
    text = f"{verb(event.action)} {name}"
    changes = d.get("changes")
    if isinstance(changes, Mapping) and changes:
        text += ": " + ", ".join(f"{field} {_value(pair[0])} → {_value(pair[1])}" for field, pair in changes.items())
    elif event.action == Action.ENV_ADDED and "capacity" in d:
        text += f" (capacity {d['capacity']}{', requires approval' if d.get('requires_approval') else ''})"
    return text


def _freeze(event: Event, d: Details, tz: str) -> str:
    if "environments" not in d:
        return _plain(event, d, tz)
    where = ", ".join(d["environments"])
    if d.get("cron"):
        when = f"cron {d['cron']} for {format_duration(timedelta(seconds=int(d['duration'])))} ({d.get('zone')})"
    else:
        when = _span(d.get("start", ""), d.get("end", ""), tz)
    reason = f" — {one_line(str(d['reason']))}" if d.get("reason") else ""
    return f"{verb(event.action)} #{d.get('id', '?')} on {where}: {when}{reason}"


def _setting(event: Event, d: Details, tz: str) -> str:
    if "key" not in d:
        return _plain(event, d, tz)
    return f"changed {d['key']}: {_value(d.get('old'))} → {_value(d.get('new'))}"


def _imported(event: Event, d: Details, tz: str) -> str:
    if not d:
        return _plain(event, d, tz)
    return (
        f"imported a board file ({event.to}): {d.get('added', 0)} added, {d.get('changed', 0)} changed, "
        f"{d.get('removed', 0)} removed"
    )


def _chain(event: Event, d: Details, tz: str) -> str:
    return f"started the log's hash chain (it vouches for the {d.get('events_before', 0)} events before it)"


def _hook(event: Event, d: Details, tz: str) -> str:
    hook = d.get("hook")
    hook_id: str | None
    on: str | None
    environment: str | EnvironmentRecord | None
    if isinstance(hook, dict):  # hook_added / hook_removed carry the hook's whole record
        hook_id, on, environment, argv = hook["hook"], hook["on"], hook["environment"], hook["run"]
    else:
        hook_id, on, environment, argv = hook, d.get("on"), d.get("environment"), d.get("run", [])
    run = " ".join(map(str, argv))
    if event.action in (Action.HOOK_ADDED, Action.HOOK_REMOVED):
        where = f" into {environment}" if environment else ""
        return f"{verb(event.action)} {hook_id or '?'} on {on}{where}: {run}"
    took = f" in {int(d.get('duration_ms', 0)) / 1000:.1f}s"
    about = f" for #{d.get('event_seq')} {d.get('event_action', '')}".rstrip()
    if event.action == Action.HOOK_RAN:
        return f"ran hook {run}{about}: ok{took}"
    output = str(d.get("output") or "").strip().splitlines()
    last = f"; last output: {one_line(output[-1])[:120]}" if output else ""
    return f"hook {run}{about} failed: {d.get('problem') or 'failed'}{took}{last}"


_WORDERS = {
    Action.CREATED: _created,
    Action.MOVED: _moved,
    Action.ROLLED_BACK: _rolled_back,
    Action.VERIFIED: _in_stage,
    Action.FAILED: _in_stage,
    Action.CANCELLED: _in_stage,
    Action.APPROVED: _approved,
    Action.EDITED: _edited,
    Action.SCHEDULED: _scheduled,
    Action.UNSCHEDULED: _unscheduled,
    Action.ENV_ADDED: _environment,
    Action.ENV_CHANGED: _environment,
    Action.ENV_REMOVED: _environment,
    Action.FREEZE_ADDED: _freeze,
    Action.FREEZE_REMOVED: _freeze,
    Action.SETTING_CHANGED: _setting,
    Action.IMPORTED: _imported,
    "log_chain_started": _chain,
    Action.HOOK_ADDED: _hook,
    Action.HOOK_REMOVED: _hook,
    Action.HOOK_RAN: _hook,
    Action.HOOK_FAILED: _hook,
}


def _value(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        text = one_line(value)
        return repr(text if len(text) <= 40 else text[:39] + "…") if (" " in text or not text) else text
    return str(value)


def _span(start: str, end: str, tz: str) -> str:
    """``2026-12-01 11:00 → 13:00 CET`` on one local day, else both in full."""
    try:
        first, last = format_local(from_stamp(start), tz, with_zone=False), format_local(from_stamp(end), tz)
    except (BadInput, ValueError, OverflowError):  # a hand-edited database: show what is stored
        return f"{start} → {end}"
    if first[:10] == last[:10] and len(first) == 16:
        last = last[11:]  # the same local day: the end's time and zone only
    return f"{first} → {last}"


def counted(count: int, word: str) -> str:
    """``1 conflict``, ``2 conflicts``, ``0 errors``."""
    return f"{count} {word}{'s' * (count != 1)}"


def moved_words(before: Release, after: Release, forced: bool, now: datetime, tz: str) -> str:
    """What a move did, after the release's label, for the CLI and the board's toast:
    ``→ prod (deployed), forced; UNAPPROVED (break-glass: approve it)``, and a word when the
    release went in before its window there opens (``dev window opens in 20h``)."""
    text = f"→ {after.stage} ({after.state})"
    if forced:
        text += ", forced"
    if after.unapproved and not before.unapproved:
        text += "; UNAPPROVED (break-glass: entered without approval, needs approval)"
    elif after.unapproved:
        text += "; still UNAPPROVED"
    window = after.window_in(after.stage)
    if window is not None and now < window.start:
        text += f"; its {after.stage} window opens {relative(window.start, now)} ({format_local(window.start, tz)})"
    return text
