"""What undoes what: the write that puts a release back as it was before one change (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from relman_tui.model import Release, Risk

if TYPE_CHECKING:
    from relman_tui.service import Service

UNDO_REASON = "undo"  # the reason an undo logs, where its write takes one


class Write(StrEnum):
    """The service's writes to a release (the value is the service method's name)."""

    ADD = "add_release"
    EDIT = "edit_release"
    MOVE = "move"
    ROLLBACK = "rollback"
    VERIFY = "verify"
    FAIL = "fail"
    APPROVE = "approve"
    CANCEL = "cancel"
    SCHEDULE = "schedule"
    UNSCHEDULE = "unschedule"


@dataclass(frozen=True)
class Change:
    """One write, as much of it as the policy needs: which, to which release, in which environment."""

    write: Write
    release_id: int | None = None  # None: a release being added
    environment: str | None = None  # schedule and unschedule

    @property
    def needs_before(self) -> bool:
        """Whether the policy needs the release as it was before the write."""
        return self.write is not Write.ADD and self.release_id is not None

    @property
    def needs_stages(self) -> bool:
        return self.write is Write.MOVE


@dataclass(frozen=True)
class CancelIt:
    release_id: int

    @property
    def change(self) -> Change:
        return Change(Write.CANCEL, self.release_id)

    def run(self, service: Service, rev: int | None) -> Release:
        return service.cancel(self.release_id, reason=UNDO_REASON, rev=rev)


@dataclass(frozen=True)
class MoveBack:
    release_id: int
    stage: str

    @property
    def change(self) -> Change:
        return Change(Write.MOVE, self.release_id)

    def run(self, service: Service, rev: int | None) -> Release:
        return service.move(self.release_id, self.stage, rev=rev, reason=UNDO_REASON)


@dataclass(frozen=True)
class EditBack:
    release_id: int
    name: str
    version: str
    components: tuple[str, ...]
    owner: str
    risk: Risk
    notes: str

    @property
    def change(self) -> Change:
        return Change(Write.EDIT, self.release_id)

    def run(self, service: Service, rev: int | None) -> Release:
        return service.edit_release(
            self.release_id,
            rev=rev,
            name=self.name,
            version=self.version,
            components=self.components,
            owner=self.owner,
            risk=self.risk,
            notes=self.notes,
        )


@dataclass(frozen=True)
class ScheduleBack:
    release_id: int
    environment: str
    start: datetime
    end: datetime

    @property
    def change(self) -> Change:
        return Change(Write.SCHEDULE, self.release_id, self.environment)

    def run(self, service: Service, rev: int | None) -> Release:
        return service.schedule(self.release_id, self.environment, self.start, self.end, rev=rev)


@dataclass(frozen=True)
class UnscheduleIt:
    release_id: int
    environment: str

    @property
    def change(self) -> Change:
        return Change(Write.UNSCHEDULE, self.release_id, self.environment)

    def run(self, service: Service, rev: int | None) -> Release:
        return service.unschedule(self.release_id, self.environment, rev=rev)


Step = CancelIt | MoveBack | EditBack | ScheduleBack | UnscheduleIt


@dataclass(frozen=True)
class Undo:
    """What would undo one change (``step``, made against revision ``rev``), or why it cannot be undone."""

    label: str  # "payments-api 2.4.1 moved to prod"
    step: Step | None
    why_not: str = ""
    rev: int | None = None  # the release's revision right after the change


WORDS = {
    Write.VERIFY: "verified",
    Write.FAIL: "marked failed",
    Write.APPROVE: "approved",
    Write.CANCEL: "cancelled",
}


def undo_for(change: Change, before: Release | None, after: Release, stages: Sequence[str]) -> Undo:
    """The write that puts things back as they were before ``change`` (``before`` → ``after``)."""
    if change.write is Write.ADD:
        return Undo(f"{after.label} created", CancelIt(after.id), rev=after.rev)
    if before is None:
        return Undo(str(change.write), None, "nothing to put back")
    label = before.label
    if change.write in (Write.SCHEDULE, Write.UNSCHEDULE) and change.environment is not None:
        env = change.environment
        was = before.window_in(env)
        if was is None:
            return Undo(f"{label} scheduled in {env}", UnscheduleIt(before.id, env), rev=after.rev)
        return Undo(f"the window of {label} in {env}", ScheduleBack(before.id, env, was.start, was.end), rev=after.rev)
    forward = (
        before.stage in stages and after.stage in stages and stages.index(after.stage) > stages.index(before.stage)
    )
    if change.write is Write.MOVE and forward:
        # a move forward is undone as a rollback, logged with the reason "undo"
        return Undo(f"{label} moved to {after.stage}", MoveBack(before.id, before.stage), rev=after.rev)
    if change.write in (Write.MOVE, Write.ROLLBACK):
        return Undo(f"the rollback of {label}", None, "move it forward again, through the gates")
    if change.write is Write.EDIT:
        step = EditBack(
            before.id, before.name, before.version, before.components, before.owner, before.risk, before.notes
        )
        return Undo(f"the edit of {label}", step, rev=after.rev)
    return Undo(
        f"{label} {WORDS.get(change.write, change.write)}",
        None,
        "the audit log keeps it; make the opposite change yourself",
    )
