"""The use cases of relman (move, schedule, approve, …), shared by the CLI and the TUI: one class of its parts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from relman_tui import gates
from relman_tui.actions import Action
from relman_tui.details import ApprovedDetails, CreatedDetails, EditedDetails, MovedDetails, RolledBackDetails
from relman_tui.errors import BadInput, GateRefused, Refused
from relman_tui.limits import check_time, clean_login, clean_name, clean_text
from relman_tui.model import PLANNED, Release, Risk, State
from relman_tui.records import environment_record as environment_record  # re-exported: callers import it from here
from relman_tui.records import freeze_record as freeze_record
from relman_tui.records import hook_record as hook_record
from relman_tui.records import release_record
from relman_tui.service_board import BoardUses
from relman_tui.service_log import LogUses
from relman_tui.service_values import APPROVAL_FIELDS as APPROVAL_FIELDS  # re-exported: callers import these from here
from relman_tui.service_values import ConflictDiff as ConflictDiff
from relman_tui.service_values import HookOutcome as HookOutcome
from relman_tui.service_values import Snapshot as Snapshot
from relman_tui.service_values import _changes, _risk
from relman_tui.service_values import board_delegates as board_delegates
from relman_tui.service_values import build_freeze as build_freeze
from relman_tui.service_values import event_record as event_record
from relman_tui.service_windows import WindowUses
from relman_tui.store.contract import NewEvent, NewRelease
from relman_tui.timeutil import to_stamp


class Service(BoardUses, WindowUses, LogUses):
    """The one place the rules are applied to the store; every change is one transaction."""

    # -- releases --------------------------------------------------------------------------

    def add_release(
        self,
        name: str,
        version: str,
        components: Iterable[str] = (),
        owner: str | None = None,
        risk: Risk | str = Risk.LOW,
        notes: str = "",
        changed_at: datetime | None = None,
    ) -> Release:
        """A new release in ``planned``; ``changed_at`` is the oldest change it carries (where lead time starts)."""
        name = clean_name(name, "release name")
        version = clean_name(version, "version", 60)
        comps = tuple(dict.fromkeys(clean_name(c, "component") for c in components)) or (name,)
        new = NewRelease(
            name=name,
            version=version,
            components=comps,
            owner=clean_login(owner, "owner") if owner else self.actor,
            risk=_risk(risk),
            notes=clean_text(notes, "notes"),
            stage=PLANNED,
            state=State.PENDING,
            created_by=self.actor,
        )
        now = self.now()
        if changed_at is not None:
            new = replace(new, changed_at=self._changed_at(changed_at, now))
        details: CreatedDetails = {
            "name": new.name,
            "version": new.version,
            "components": list(new.components),
            "owner": new.owner,
            "risk": str(new.risk),
        }
        if new.changed_at is not None:
            details["changed_at"] = to_stamp(new.changed_at)
        with self.store.write():
            release_id = self.store.insert_release(new, now)
            details["release"] = release_record(new.stored(release_id, now))
            self._log(NewEvent(Action.CREATED, release=release_id, to=PLANNED, details=details), now)
        return self.release(release_id)

    def _changed_at(self, moment: datetime, now: datetime) -> datetime:
        """A release's ``changed_at``: a stored time, and not after *now* (a change cannot come from the future)."""
        check_time(moment, "--changed-at")
        if moment > now:
            raise BadInput(f"--changed-at {to_stamp(moment)} is in the future (now is {to_stamp(now)})")
        return moment.replace(microsecond=0)

    def edit_release(
        self,
        release_id: int,
        *,
        rev: int | None = None,
        name: str | None = None,
        version: str | None = None,
        components: Iterable[str] | None = None,
        owner: str | None = None,
        risk: Risk | str | None = None,
        notes: str | None = None,
        changed_at: datetime | None = None,
    ) -> Release:
        """Change descriptive fields; a change to what is released withdraws its approval."""
        with self.store.write():
            if changed_at is not None:
                changed_at = self._changed_at(changed_at, self.now())
            old = self._fresh(release_id, rev)
            new = replace(
                old,
                name=clean_name(name, "release name") if name is not None else old.name,
                version=clean_name(version, "version", 60) if version is not None else old.version,
                components=(
                    tuple(dict.fromkeys(clean_name(c, "component") for c in components)) or old.components
                    if components is not None
                    else old.components
                ),
                owner=clean_login(owner, "owner") if owner is not None and owner != old.owner else old.owner,
                risk=_risk(risk) if risk is not None else old.risk,
                notes=clean_text(notes, "notes") if notes is not None else old.notes,
                changed_at=changed_at if changed_at is not None else old.changed_at,
            )
            changes = _changes(old, new, ("name", "version", "components", "owner", "risk", "notes", "changed_at"))
            if not changes:
                return old
            changed = list(changes)
            details: EditedDetails = {"changes": changes}
            # Four-eyes: an approval is of this owner's this release. A new owner (who might be the
            # approver) or a change to what is released needs a new approval.
            if set(APPROVAL_FIELDS) & set(changed) and old.approved_by:
                new = replace(new, approved_by=None, approved_at=None)
                changed.append("approval withdrawn")
                details["approval_withdrawn"] = old.approved_by
            return self._write(old, new, NewEvent(Action.EDITED, release_id, to=", ".join(changed), details=details))

    def move(
        self,
        release_id: int,
        stage: str,
        *,
        force: bool = False,
        reason: str | None = None,
        rev: int | None = None,
    ) -> Release:
        """Move a release to ``stage`` through the gates; backwards is a rollback."""
        why = clean_text(reason, "reason") or None
        if force and not why:
            raise BadInput("a forced move needs a reason (--reason TEXT)")
        with self.store.write():
            old = self._fresh(release_id, rev)
            envs = self.store.environments()
            self._check_stage(stage, envs)
            self._check_not_cancelled(old)
            now = self.now()
            check = gates.check_move(old, stage, envs, self.store.freezes(), now, self.zone)
            if check.direction is gates.Direction.STAY:
                raise Refused(f"{old.label} is already in {stage}")
            if check.direction is gates.Direction.BACKWARD:
                if not why:
                    raise BadInput(
                        f"moving {old.label} back to {stage} is a rollback and needs a reason (--reason TEXT)"
                    )
                return self._rollback(old, stage, why)
            if check.failures and not force:
                raise GateRefused(
                    f"cannot move {old.label} to {stage}: {check.explain()}",
                    tuple(f.gate for f in check.failures),
                    "; ".join(f.message for f in check.failures) + ".",
                )
            target = next(env for env in envs if env.name == stage)
            # Break-glass: a forced entry into an environment that requires approval is allowed, and
            # marked until someone allowed to approve the release does.
            unapproved = target.requires_approval and old.approved_by is None
            new = replace(old, stage=stage, state=State.DEPLOYED, unapproved=unapproved)
            details: MovedDetails | None = {"unapproved": True} if unapproved else None
            event = NewEvent(
                Action.MOVED, release_id, old.stage, stage, forced=bool(check.failures), reason=why, details=details
            )
            return self._write(old, new, event)

    def rollback(self, release_id: int, reason: str, *, stage: str | None = None, rev: int | None = None) -> Release:
        """Send a release back one stage (or to ``stage``); a reason is required."""
        why = clean_text(reason, "reason")
        if not why:
            raise BadInput("a rollback needs a reason (--reason TEXT)")
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            names = gates.stage_names(self.store.environments())
            here = names.index(old.stage) if old.stage in names else 0
            if stage is None:
                if here == 0:
                    raise Refused(f"{old.label} is planned; there is nothing to roll back")
                stage = names[here - 1]
            elif stage not in names or names.index(stage) >= here:
                raise BadInput(f"cannot roll {old.label} back to {stage}: it must be an earlier stage than {old.stage}")
            return self._rollback(old, stage, why)

    def _rollback(self, old: Release, stage: str, reason: str) -> Release:
        # A rollback withdraws approval: what comes forward again must be approved again.
        state = State.PENDING if stage == PLANNED else State.DEPLOYED
        target = next((env for env in self.store.environments() if env.name == stage), None)
        unapproved = target is not None and target.requires_approval
        new = replace(old, stage=stage, state=state, approved_by=None, approved_at=None, unapproved=unapproved)
        details: RolledBackDetails | None = {"approval_withdrawn": old.approved_by} if old.approved_by else None
        return self._write(
            old, new, NewEvent(Action.ROLLED_BACK, old.id, old.stage, stage, reason=reason, details=details)
        )

    def verify(self, release_id: int, rev: int | None = None) -> Release:
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            if problem := gates.check_verify(old):
                raise Refused(problem)
            new = replace(old, state=State.VERIFIED)
            return self._write(old, new, NewEvent(Action.VERIFIED, release_id, str(old.state), old.stage))

    def fail(self, release_id: int, reason: str | None = None, rev: int | None = None) -> Release:
        why = clean_text(reason, "reason") or None
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            if problem := gates.check_fail(old):
                raise Refused(problem)
            new = replace(old, state=State.FAILED)
            return self._write(old, new, NewEvent(Action.FAILED, release_id, str(old.state), old.stage, reason=why))

    def approve(self, release_id: int, rev: int | None = None) -> Release:
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            if problem := gates.check_approval(old, self.actor, self.four_eyes(), self.via):
                raise Refused(problem)
            new = replace(old, approved_by=self.actor, approved_at=self.now(), unapproved=False)
            details: ApprovedDetails | None = {"cleared_unapproved": True} if old.unapproved else None
            return self._write(old, new, NewEvent(Action.APPROVED, release_id, to=old.stage, details=details))

    def cancel(self, release_id: int, reason: str | None = None, rev: int | None = None) -> Release:
        why = clean_text(reason, "reason") or None
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            new = replace(old, state=State.CANCELLED)
            return self._write(old, new, NewEvent(Action.CANCELLED, release_id, old.stage, reason=why))
