"""The board's schedule as an iCalendar file (RFC 5545) for the change calendar managers and the CAB read."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from relman_tui import freezes as freeze_rules
from relman_tui.done import is_done, positions
from relman_tui.errors import BadInput
from relman_tui.model import Conflict, Release, Window
from relman_tui.outfile import real_target
from relman_tui.service import Service
from relman_tui.store import BoardStore, check_output
from relman_tui.text import one_line

if TYPE_CHECKING:
    import icalendar

PRODID = "-//relman//release calendar//EN"
DAYS_MAX = 3660


def build(service: Service, *, days: int = 60, environment: str | None = None) -> tuple[bytes, int]:
    """The calendar and how many events it holds: windows that end after *now*, and freeze
    occurrences in the next ``days`` days (recurring ones expanded, DST-correct, those that
    overlap or touch merged into one), times in UTC.

    UIDs depend only on what an event is (a release's window in an environment; a freeze's
    occurrence at its start), so a calendar client updates an event instead of adding another,
    and a window that is cancelled or unscheduled is gone from the next export.
    """
    import icalendar

    if not 1 <= days <= DAYS_MAX:
        raise BadInput(f"--days must be from 1 to {DAYS_MAX}, not {days}")
    if environment is not None and environment not in {e.name for e in service.environments()}:
        names = ", ".join(e.name for e in service.environments())
        raise BadInput(f"unknown environment {environment!r} (environments: {names})")
    snapshot = service.snapshot()
    now = snapshot.now
    board = service.store.board_id() or "board"
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "relman releases")
    count = 0
    reached = positions(snapshot.environments)
    for release in snapshot.releases:
        for window in release.windows:
            if window.end <= now or (environment is not None and window.environment != environment):
                continue
            if is_done(release, window, reached, now):  # history, not a plan
                continue
            cal.add_component(_window_event(board, release, window, snapshot.conflicts, now))
            count += 1
    horizon = now + timedelta(days=days)
    for freeze in snapshot.freezes:
        if environment is not None and not freeze.covers(environment):
            continue
        # one event per cover: occurrences that overlap or touch are one span (a `* * * * *` freeze is one)
        for occurrence in freeze_rules.covers([freeze], now, horizon):
            event = icalendar.Event()
            event.add("uid", _freeze_uid(board, freeze.id, occurrence.start, now))
            event.add("dtstamp", now)
            event.add("dtstart", occurrence.start)
            event.add("dtend", occurrence.end)
            where = ", ".join(freeze.environments)
            event.add("summary", f"❄ {where} frozen: {one_line(freeze.reason)}")
            event.add(
                "description",
                f"Change freeze #{freeze.id} on {where}: {freeze.reason}\n{freeze_rules.describe(freeze)}",
            )
            event.add("categories", ["relman", "freeze"])
            event.add("transp", "OPAQUE")
            cal.add_component(event)
            count += 1
    return cal.to_ical(), count


def _freeze_uid(board: str, freeze_id: int, start: datetime, now: datetime) -> str:
    """A freeze cover's UID: the freeze and where its cover starts. A cover that began beyond what is
    followed back (a `* * * * *` freeze: one cover for ever) has a start that moves with *now*, so it
    is named by the freeze's first occurrence, which never moves: the same UID in every export."""
    if start <= now - freeze_rules.REACH:
        return f"freeze-{freeze_id}-first-{board}@relman"
    return f"freeze-{freeze_id}-{start:%Y%m%dT%H%M%SZ}-{board}@relman"


def _window_event(
    board: str,
    release: Release,
    window: Window,
    conflicts: Iterable[Conflict],
    now: datetime,
) -> icalendar.Event:
    import icalendar

    event = icalendar.Event()
    event.add("uid", f"window-{release.id}-{window.environment}-{board}@relman")
    event.add("dtstamp", now)
    event.add("dtstart", window.start)
    event.add("dtend", window.end)
    event.add("summary", f"{release.name} {release.version} → {window.environment}")
    event.add("sequence", release.rev)  # every change to a release's windows bumps its rev
    event.add("last-modified", release.updated_at)
    mine = [
        c
        for c in conflicts
        if release.id in c.releases
        and window.environment in c.environments
        and c.start < window.end
        and window.start < c.end
    ]
    lines = [
        f"Owner: {release.owner}",
        f"Risk: {release.risk}",
        f"Stands in: {release.stage} ({release.state})",
        f"Approved by: {release.approved_by}" if release.approved_by else "Approved: no",
        f"Components: {', '.join(release.components)}",
    ]
    if release.unapproved:
        lines.append("UNAPPROVED: forced in without approval (break-glass)")
    lines += [f"{c.severity.upper()} {c.kind}: {c.message}" for c in mine] or ["No conflicts."]
    event.add("description", "\n".join(lines))
    event.add("categories", ["relman", window.environment])
    if any(c.severity == "error" for c in mine):
        event.add("status", "TENTATIVE")
    else:
        event.add("status", "CONFIRMED")
    return event


def write(path: Path, data: bytes, store: BoardStore | None = None) -> None:
    """Replace ``path`` by rename, so a calendar client polling it never reads half a file (never a
    database: not the board's own file, nor any other)."""
    check_output(path, "the calendar", store)
    named, path = path, real_target(path)  # a symlink stays one: its target is replaced
    directory = path.parent
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask  # a published calendar: readable as the user's files are
    except OSError as exc:
        raise BadInput(f"cannot write {named}: {exc.strerror}") from exc
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise BadInput(f"cannot write {named}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise BadInput(f"cannot write {named}: {exc.strerror}") from exc
