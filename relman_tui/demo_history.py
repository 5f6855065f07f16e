"""A delivery history for generated demo releases: deployments, failures, rollbacks, forced moves (for insights)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from relman_tui.actions import Action
from relman_tui.details import ApprovedDetails, CreatedDetails, Details, MovedDetails, ReleaseRecord, RolledBackDetails
from relman_tui.model import PLANNED, State
from relman_tui.store import NewEvent, NewRelease
from relman_tui.timeutil import to_stamp

Step = tuple[datetime, NewEvent, str]  # when, what, who


@dataclass
class _Walk:
    """One release walking the pipeline, writing its events as it goes."""

    rid: int
    new: NewRelease
    stages: list[str]
    approval: set[str]
    rng: random.Random
    frozen: Callable[[str, datetime], bool]
    at: datetime
    step: timedelta
    end: datetime
    stage: str = PLANNED
    state: str = str(State.PENDING)
    approved_by: str | None = None
    unapproved: bool = False
    rev: int = 1
    steps: list[Step] = field(default_factory=list)

    def record(self) -> ReleaseRecord:
        """The release as it stands after this step (CONTRACT.md ``details["release"]``)."""
        n = self.new
        return {
            "id": self.rid,
            "name": n.name,
            "version": n.version,
            "components": list(n.components),
            "owner": n.owner,
            "risk": str(n.risk),
            "stage": self.stage,
            "state": self.state,
            "approved_by": self.approved_by,
            "approved_at": to_stamp(self.at) if self.approved_by else None,
            "unapproved": self.unapproved,
            "notes": n.notes,
            "created_at": to_stamp(n.created_at or self.at),
            "created_by": n.owner,
            "updated_at": to_stamp(self.at),
            "rev": self.rev,
            "changed_at": to_stamp(n.changed_at) if n.changed_at else None,
        }

    def tick(self) -> None:
        self.at = min(self.end, (self.at + self.step * self.rng.uniform(0.3, 1.7)).replace(microsecond=0))

    def log(self, action: str, who: str, extra: Details | None = None, **kw: Any) -> None:
        if action != Action.CREATED:
            self.rev += 1
        details: Details = {**(extra or {}), "release": self.record()}
        self.steps.append((self.at, NewEvent(action, self.rid, details=details, **kw), who))

    def move(self, to: str) -> None:
        """One stage forward; forced, with the reason, past any gate it fails (as `relman move --force`)."""
        self.tick()
        waited, patient = 0, self.rng.random() < 0.9
        while patient and self.frozen(to, self.at) and self.at < self.end and waited < 12:
            self.at = min(self.end, self.at + timedelta(hours=6))  # most wait for the freeze to end
            waited += 1
        reasons = []
        if self.stage != PLANNED and self.state != str(State.VERIFIED):
            reasons.append("verified by hand, the test tooling is down")
        if to in self.approval and self.approved_by is None:
            reasons.append("outage: hotfix before the approver is back")
        if self.frozen(to, self.at):
            reasons.append("emergency change during the freeze")
        forced = "; ".join(reasons) or None
        was = self.stage
        self.stage, self.state = to, str(State.DEPLOYED)
        self.unapproved = to in self.approval and self.approved_by is None
        extra: MovedDetails | None = {"unapproved": True} if self.unapproved else None
        self.log(Action.MOVED, self.new.owner, extra, from_=was, to=to, forced=forced is not None, reason=forced)

    def verify(self) -> None:
        self.tick()
        self.state = str(State.VERIFIED)
        self.log(Action.VERIFIED, self.new.owner, from_=str(State.DEPLOYED), to=self.stage)

    def fail(self) -> None:
        self.tick()
        self.state = str(State.FAILED)
        self.log(Action.FAILED, self.new.owner, from_=str(State.DEPLOYED), to=self.stage, reason="smoke tests red")

    def rollback(self) -> None:
        self.tick()
        was = self.stage
        self.stage = self.stages[self.stages.index(was) - 1]
        self.state = str(State.PENDING if self.stage == PLANNED else State.DEPLOYED)
        withdrawn: RolledBackDetails | None = {"approval_withdrawn": self.approved_by} if self.approved_by else None
        self.approved_by = None
        self.unapproved = self.stage in self.approval
        self.log(Action.ROLLED_BACK, self.new.owner, withdrawn, from_=was, to=self.stage, reason="errors after deploy")

    def approve(self, who: str) -> None:
        self.tick()
        extra: ApprovedDetails | None = {"cleared_unapproved": True} if self.unapproved else None
        self.approved_by, self.unapproved = who, False
        self.log(Action.APPROVED, who, extra, to=self.stage)


def delivery_history(
    rid: int,
    new: NewRelease,
    stages: list[str],
    approval: set[str],
    frozen: Callable[[str, datetime], bool],
    span: tuple[datetime, datetime, datetime],
    seed: int,
) -> list[Step]:
    """Events taking ``new`` from its creation to its stage and state: ``span`` is its creation, when
    its history should end, and the latest it may (waiting out a freeze takes longer).

    On the way, some deployments fail and are rolled back and deployed again, some moves are
    forced past an unverified stage, and now and then one breaks the glass into an approval
    environment and is approved afterwards; a release that ends ``failed`` simply stays failed.
    """
    rng = random.Random(seed)
    start, end, limit = span
    target = stages.index(new.stage)
    walk = _Walk(
        rid, new, stages, approval, rng, frozen, start.replace(microsecond=0), (end - start) / (4 * target + 3), limit
    )
    created: CreatedDetails = {
        "name": new.name,
        "version": new.version,
        "components": list(new.components),
        "owner": new.owner,
        "risk": str(new.risk),
    }
    if new.changed_at:
        created["changed_at"] = to_stamp(new.changed_at)
    walk.log(Action.CREATED, new.owner, created, to=PLANNED)
    i = 1
    while i <= target:
        here = stages[i]
        if here in approval and walk.approved_by is None and new.approved_by and rng.random() < 0.9:
            walk.approve(new.approved_by)
        walk.move(here)
        if walk.unapproved and new.approved_by:
            walk.approve(new.approved_by)  # break-glass, approved after the fact
        last = i == target
        if rng.random() < 0.12 and not (last and new.state is State.FAILED):
            if rng.random() < 0.7:
                walk.fail()
            walk.rollback()
            if walk.stage != PLANNED:
                walk.verify()
            continue
        if last:
            break
        if rng.random() < 0.94:
            walk.verify()
        i += 1
    if new.state is State.VERIFIED:
        walk.verify()
    elif new.state is State.FAILED:
        walk.fail()
    if new.approved_by and walk.approved_by is None:
        walk.approve(new.approved_by)
    return walk.steps
