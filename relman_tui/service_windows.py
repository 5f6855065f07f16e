"""The service's scheduling: windows, the next free slot, a window's preview, and freezes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from relman_tui import conflicts as engine
from relman_tui import slots
from relman_tui.actions import Action
from relman_tui.details import ScheduledDetails, UnscheduledDetails
from relman_tui.errors import BadInput
from relman_tui.limits import WINDOW_MAX, check_span, clean_text
from relman_tui.model import Freeze, Release, Window
from relman_tui.records import window_record
from relman_tui.service_base import ServiceBase
from relman_tui.service_values import ConflictDiff, _freeze_details, _minus, build_freeze
from relman_tui.store.contract import NewEvent
from relman_tui.timeutil import to_stamp


class WindowUses(ServiceBase):
    """Placing and removing windows and freezes."""

    # -- windows ---------------------------------------------------------------------------

    def schedule(
        self, release_id: int, environment: str, start: datetime, end: datetime, rev: int | None = None
    ) -> Release:
        check_span(start, end, "a window", WINDOW_MAX)
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_environment(environment)
            self._check_not_cancelled(old)
            before = old.window_in(environment)
            window = Window(release_id, environment, start, end)
            if before == window:
                return old
            self.store.set_window(window)
            span = f"{environment} {to_stamp(start)}/{to_stamp(end)}"
            was = f"{environment} {to_stamp(before.start)}/{to_stamp(before.end)}" if before else None
            details: ScheduledDetails = {
                "environment": environment,
                "start": to_stamp(start),
                "end": to_stamp(end),
                "window": window_record(window),
            }
            if before:
                details |= {"old_start": to_stamp(before.start), "old_end": to_stamp(before.end)}
            return self._write(old, old, NewEvent(Action.SCHEDULED, release_id, was, span, details=details))

    def unschedule(self, release_id: int, environment: str, rev: int | None = None) -> Release:
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_environment(environment)
            before = old.window_in(environment)
            if before is None:
                raise BadInput(f"{old.label} has no window in {environment}")
            self.store.delete_window(release_id, environment)
            was = f"{environment} {to_stamp(before.start)}/{to_stamp(before.end)}"
            details: UnscheduledDetails = {
                "environment": environment,
                "old_start": to_stamp(before.start),
                "old_end": to_stamp(before.end),
                "window": window_record(before),
            }
            return self._write(old, old, NewEvent(Action.UNSCHEDULED, release_id, was, None, details=details))

    def next_free(
        self, release_id: int, environment: str, duration: timedelta, after: datetime | None = None
    ) -> datetime:
        """The earliest start of a window of ``duration`` that creates no error conflict."""
        release = self.release(release_id)
        self._check_environment(environment)
        self._check_not_cancelled(release)
        return slots.next_free(
            self.store.environments(),
            self.store.releases(),
            self.store.freezes(),
            release_id,
            environment,
            duration,
            after or self.now(),
            tz=self.zone,
        )

    def preview_window(
        self, release_id: int, environment: str, start: datetime | None, end: datetime | None
    ) -> ConflictDiff:
        """The conflicts that placing (or with ``start`` None, removing) a window would create and clear."""
        envs = self.store.environments()
        releases = self.store.releases()
        frozen = self.store.freezes()
        now = self.now()
        changed = []
        for release in releases:
            if release.id == release_id:
                kept = [w for w in release.windows if w.environment != environment]
                if start is not None and end is not None:
                    kept.append(Window(release_id, environment, start, end))
                release = replace(release, windows=tuple(kept))
            changed.append(release)
        before = engine.find_conflicts(envs, releases, frozen, now)
        after = engine.find_conflicts(envs, changed, frozen, now)
        # Only conflicts this release is part of count: moving one window out of a three-way
        # capacity clash leaves a smaller clash of the other two, which this change did not create.
        return ConflictDiff(
            tuple(c for c in _minus(after, before) if release_id in c.releases),
            tuple(c for c in _minus(before, after) if release_id in c.releases),
        )

    # -- freezes ---------------------------------------------------------------------------

    def add_freeze(
        self,
        environments: Sequence[str],
        reason: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        cron: str | None = None,
        duration: timedelta | None = None,
        zone: str | None = None,
    ) -> Freeze:
        why = clean_text(reason, "reason")
        if not why:
            raise BadInput("a freeze needs a reason (--reason TEXT)")
        freeze = build_freeze(0, environments, why, start=start, end=end, cron=cron, duration=duration, zone=zone)
        with self.store.write():
            self._check_freeze_environments(freeze.environments, {e.name for e in self.store.environments()})
            return self._add_freeze(freeze, self.now())

    def remove_freeze(self, freeze_id: int) -> None:
        with self.store.write():
            old = next((f for f in self.store.freezes() if f.id == freeze_id), None)
            if old is None or not self.store.delete_freeze(freeze_id):
                raise BadInput(f"no freeze with id {freeze_id}")
            self._log(
                NewEvent(Action.FREEZE_REMOVED, from_=str(freeze_id), reason=old.reason, details=_freeze_details(old)),
                self.now(),
            )
