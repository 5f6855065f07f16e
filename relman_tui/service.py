"""The use cases of relman (move, schedule, approve, …), shared by the CLI and the TUI."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from relman_tui import conflicts as engine
from relman_tui import freezes as freeze_rules
from relman_tui import gates, slots
from relman_tui.errors import BadInput, GateRefused, Refused
from relman_tui.limits import (
    ENV_NAME,
    ENVIRONMENTS_MAX,
    FREEZE_MAX,
    WINDOW_MAX,
    check_capacity,
    check_duration,
    check_span,
    check_time,
    clean_name,
    clean_text,
)
from relman_tui.model import (
    ALL_ENVIRONMENTS,
    PLANNED,
    Conflict,
    Environment,
    Event,
    Freeze,
    Occurrence,
    Release,
    Risk,
    Severity,
    State,
    Window,
)
from relman_tui.store import NewEvent, NewRelease, Store
from relman_tui.timeutil import Clock, to_stamp


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a view draws, read in one go."""

    environments: tuple[Environment, ...]
    releases: tuple[Release, ...]
    freezes: tuple[Freeze, ...]
    conflicts: tuple[Conflict, ...]
    last_seq: int
    now: datetime


@dataclass(frozen=True, slots=True)
class ConflictDiff:
    """What a proposed change to a window would add and clear."""

    created: tuple[Conflict, ...]
    resolved: tuple[Conflict, ...]

    @property
    def creates_error(self) -> bool:
        return any(c.severity is Severity.ERROR for c in self.created)


class Service:
    """The one place the rules are applied to the store; every change is one transaction."""

    def __init__(self, store: Store, clock: Clock, actor: str) -> None:
        self.store = store
        self.clock = clock
        self.actor = clean_name(actor, "actor")
        self.written_seqs: set[int] = set()  # events this process wrote, so live views can tell them apart

    def now(self) -> datetime:
        """The clock's *now*, refused when outside the years relman stores (a bad ``$RELMAN_NOW``)."""
        return check_time(self.clock.now(), "now")

    # -- reading ---------------------------------------------------------------------------

    def environments(self) -> list[Environment]:
        return self.store.environments()

    def stages(self) -> list[str]:
        return gates.stage_names(self.store.environments())

    def releases(self, stage: str | None = None, include_cancelled: bool = False) -> list[Release]:
        if stage is not None:
            self._check_stage(stage, self.store.environments())
        return self.store.releases(stage=stage, include_cancelled=include_cancelled)

    def release(self, release_id: int) -> Release:
        found = self.store.release(release_id)
        if found is None:
            raise BadInput(f"no release with id {release_id}")
        return found

    def freezes(self) -> list[Freeze]:
        return self.store.freezes()

    def frozen_now(self, now: datetime | None = None) -> list[Occurrence]:
        return freeze_rules.active_at(self.store.freezes(), now or self.now())

    def events(self, release_id: int | None = None, limit: int | None = None) -> list[Event]:
        if release_id is not None:
            self.release(release_id)
        return self.store.events(release=release_id, limit=limit)

    def changes_since(self, seq: int) -> list[Event]:
        return self.store.events(after_seq=seq)

    def four_eyes(self) -> bool:
        return self.store.setting("four_eyes", "true") == "true"

    def conflicts(self, now: datetime | None = None) -> list[Conflict]:
        return engine.find_conflicts(
            self.store.environments(), self.store.releases(), self.store.freezes(), now or self.now()
        )

    def snapshot(self) -> Snapshot:
        now = self.now()
        with self.store.read():
            envs = self.store.environments()
            releases = self.store.releases()
            frozen = self.store.freezes()
            last_seq = self.store.last_seq()
        return Snapshot(
            tuple(envs),
            tuple(releases),
            tuple(frozen),
            tuple(engine.find_conflicts(envs, releases, frozen, now)),
            last_seq,
            now,
        )

    # -- environments ----------------------------------------------------------------------

    def add_environment(
        self, name: str, title: str | None = None, capacity: int = 1, after: str | None = None,
        approval: bool = False,
    ) -> Environment:
        name = name.strip()
        if not ENV_NAME.fullmatch(name) or name in (PLANNED, ALL_ENVIRONMENTS):
            raise BadInput(
                f"bad environment name {name!r}: use a lowercase slug such as 'staging' (not 'planned' or 'all')"
            )
        check_capacity(capacity)
        with self.store.write():
            envs = self.store.environments()
            if len(envs) >= ENVIRONMENTS_MAX:
                raise BadInput(
                    f"the pipeline already has {len(envs)} environments; at most {ENVIRONMENTS_MAX} are allowed"
                )
            if any(env.name == name for env in envs):
                raise BadInput(f"environment {name!r} already exists")
            index = len(envs)
            if after is not None:
                names = [env.name for env in envs]
                if after not in names:
                    raise BadInput(f"no environment named {after!r} (known: {', '.join(names) or 'none'})")
                index = names.index(after) + 1
            new = Environment(name, clean_name(title or name.capitalize(), "title"), 0, capacity, approval)
            ordered = [*envs[:index], new, *envs[index:]]
            self.store.save_environments([replace(env, position=i + 1) for i, env in enumerate(ordered)])
            self._log(NewEvent("env_added", to=name), self.now())
        return next(env for env in self.store.environments() if env.name == name)

    def replace_board(self, environments: Sequence[Environment], freezes: Sequence[Freeze], four_eyes: bool) -> None:
        """Make the pipeline, freezes and gate settings exactly these (``relman import``)."""
        with self.store.write():
            keep = {env.name for env in environments}
            for env in self.store.environments():
                if env.name not in keep and self.store.stage_in_use(env.name):
                    raise BadInput(
                        f"environment {env.name!r} is missing from the file but still has releases or windows; "
                        "nothing was imported"
                    )
            self.store.save_environments([replace(env, position=i + 1) for i, env in enumerate(environments)])
            self.store.delete_all_freezes()
            for freeze in freezes:
                self._check_freeze_environments(freeze.environments, keep)
                self.store.insert_freeze(freeze)
            self.store.set_setting("four_eyes", "true" if four_eyes else "false")
            self._log(NewEvent("imported", to=f"{len(environments)} environments, "
                                             f"{len(freezes)} freezes"), self.now())

    # -- releases --------------------------------------------------------------------------

    def add_release(
        self, name: str, version: str, components: Iterable[str] = (), owner: str | None = None,
        risk: Risk | str = Risk.LOW, notes: str = "",
    ) -> Release:
        name = clean_name(name, "release name")
        version = clean_name(version, "version", 60)
        comps = tuple(dict.fromkeys(clean_name(c, "component") for c in components)) or (name,)
        new = NewRelease(
            name=name,
            version=version,
            components=comps,
            owner=clean_name(owner or self.actor, "owner"),
            risk=_risk(risk),
            notes=clean_text(notes, "notes"),
            stage=PLANNED,
            state=State.PENDING,
        )
        now = self.now()
        with self.store.write():
            release_id = self.store.insert_release(new, now)
            self._log(NewEvent("created", release=release_id, to=PLANNED), now)
        return self.release(release_id)

    def edit_release(
        self, release_id: int, *, rev: int | None = None, name: str | None = None, version: str | None = None,
        components: Iterable[str] | None = None, owner: str | None = None, risk: Risk | str | None = None,
        notes: str | None = None,
    ) -> Release:
        """Change descriptive fields; a change to what is released withdraws its approval."""
        with self.store.write():
            old = self._fresh(release_id, rev)
            new = replace(
                old,
                name=clean_name(name, "release name") if name is not None else old.name,
                version=clean_name(version, "version", 60) if version is not None else old.version,
                components=(
                    tuple(dict.fromkeys(clean_name(c, "component") for c in components)) or old.components
                    if components is not None else old.components
                ),
                owner=clean_name(owner, "owner") if owner is not None else old.owner,
                risk=_risk(risk) if risk is not None else old.risk,
                notes=clean_text(notes, "notes") if notes is not None else old.notes,
            )
            changed = [f for f in ("name", "version", "components", "owner", "risk", "notes")
                       if getattr(new, f) != getattr(old, f)]
            if not changed:
                return old
            if {"name", "version", "components"} & set(changed) and old.approved_by:
                new = replace(new, approved_by=None, approved_at=None)
                changed.append("approval withdrawn")
            return self._write(old, new, NewEvent("edited", release_id, to=", ".join(changed)))

    def move(
        self, release_id: int, stage: str, *, force: bool = False, reason: str | None = None,
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
            check = gates.check_move(old, stage, envs, self.store.freezes(), now)
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
            new = replace(old, stage=stage, state=State.DEPLOYED)
            event = NewEvent("moved", release_id, old.stage, stage, forced=bool(check.failures), reason=why)
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
        new = replace(old, stage=stage, state=state, approved_by=None, approved_at=None)
        return self._write(old, new, NewEvent("rolled_back", old.id, old.stage, stage, reason=reason))

    def verify(self, release_id: int, rev: int | None = None) -> Release:
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            if problem := gates.check_verify(old):
                raise Refused(problem)
            new = replace(old, state=State.VERIFIED)
            return self._write(old, new, NewEvent("verified", release_id, str(old.state), old.stage))

    def fail(self, release_id: int, reason: str | None = None, rev: int | None = None) -> Release:
        why = clean_text(reason, "reason") or None
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            if problem := gates.check_fail(old):
                raise Refused(problem)
            new = replace(old, state=State.FAILED)
            return self._write(old, new, NewEvent("failed", release_id, str(old.state), old.stage, reason=why))

    def approve(self, release_id: int, rev: int | None = None) -> Release:
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            if problem := gates.check_approval(old, self.actor, self.four_eyes()):
                raise Refused(problem)
            new = replace(old, approved_by=self.actor, approved_at=self.now())
            return self._write(old, new, NewEvent("approved", release_id, to=old.stage))

    def cancel(self, release_id: int, reason: str | None = None, rev: int | None = None) -> Release:
        why = clean_text(reason, "reason") or None
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            new = replace(old, state=State.CANCELLED)
            return self._write(old, new, NewEvent("cancelled", release_id, old.stage, reason=why))

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
            return self._write(old, old, NewEvent("scheduled", release_id, was, span))

    def unschedule(self, release_id: int, environment: str, rev: int | None = None) -> Release:
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_environment(environment)
            before = old.window_in(environment)
            if before is None:
                raise BadInput(f"{old.label} has no window in {environment}")
            self.store.delete_window(release_id, environment)
            was = f"{environment} {to_stamp(before.start)}/{to_stamp(before.end)}"
            return self._write(old, old, NewEvent("unscheduled", release_id, was, None))

    def next_free(
        self, release_id: int, environment: str, duration: timedelta, after: datetime | None = None
    ) -> datetime:
        """The earliest start of a window of ``duration`` that creates no error conflict."""
        release = self.release(release_id)
        self._check_environment(environment)
        self._check_not_cancelled(release)
        return slots.next_free(
            self.store.environments(), self.store.releases(), self.store.freezes(), release_id, environment,
            duration, after or self.now(),
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
        self, environments: Sequence[str], reason: str, *, start: datetime | None = None,
        end: datetime | None = None, cron: str | None = None, duration: timedelta | None = None,
        zone: str | None = None,
    ) -> Freeze:
        why = clean_text(reason, "reason")
        if not why:
            raise BadInput("a freeze needs a reason (--reason TEXT)")
        freeze = build_freeze(0, environments, why, start=start, end=end, cron=cron, duration=duration, zone=zone)
        with self.store.write():
            self._check_freeze_environments(freeze.environments, {e.name for e in self.store.environments()})
            freeze_id = self.store.insert_freeze(freeze)
            self._log(NewEvent("freeze_added", to=",".join(freeze.environments), reason=why), self.now())
        return replace(freeze, id=freeze_id)

    def remove_freeze(self, freeze_id: int) -> None:
        with self.store.write():
            if not self.store.delete_freeze(freeze_id):
                raise BadInput(f"no freeze with id {freeze_id}")
            self._log(NewEvent("freeze_removed", to=str(freeze_id)), self.now())

    # -- plumbing --------------------------------------------------------------------------

    def _fresh(self, release_id: int, rev: int | None) -> Release:
        release = self.release(release_id)
        if rev is not None and rev != release.rev:
            self.store.refuse_stale(release_id, rev)
        return release

    def _log(self, event: NewEvent, at: datetime) -> int:
        seq = self.store.append_event(event, self.actor, at)
        self.written_seqs.add(seq)
        return seq

    def _write(self, old: Release, new: Release, event: NewEvent) -> Release:
        now = self.now()
        saved = self.store.update_release(new, old.rev, now)
        self._log(event, now)
        return saved

    def _check_stage(self, stage: str, envs: Sequence[Environment]) -> None:
        names = gates.stage_names(envs)
        if stage not in names:
            raise BadInput(f"unknown stage {stage!r} (stages: {', '.join(names)})")

    def _check_environment(self, environment: str) -> None:
        names = [env.name for env in self.store.environments()]
        if environment not in names:
            raise BadInput(f"unknown environment {environment!r} (environments: {', '.join(names) or 'none'})")

    @staticmethod
    def _check_freeze_environments(environments: Sequence[str], known: set[str]) -> None:
        for name in environments:
            if name != ALL_ENVIRONMENTS and name not in known:
                raise BadInput(f"unknown environment {name!r} (environments: {', '.join(sorted(known))}, or all)")

    @staticmethod
    def _check_not_cancelled(release: Release) -> None:
        if release.cancelled:
            raise Refused(f"{release.label} is cancelled")


def build_freeze(
    freeze_id: int, environments: Sequence[str], reason: str, *, start: datetime | None = None,
    end: datetime | None = None, cron: str | None = None, duration: timedelta | None = None, zone: str | None = None,
) -> Freeze:
    """A validated one-off or recurring freeze (bad input raises :class:`BadInput`)."""
    envs = tuple(dict.fromkeys(environments))
    if not envs:
        raise BadInput("a freeze needs an environment (or all)")
    if ALL_ENVIRONMENTS in envs:
        envs = (ALL_ENVIRONMENTS,)
    if cron is not None:
        if start is not None or end is not None:
            raise BadInput("a freeze is either one-off (--start/--end) or recurring (--cron/--for), not both")
        if duration is None:
            raise BadInput("a recurring freeze needs a duration (--for DURATION)")
        check_duration(duration, "a recurring freeze's duration", FREEZE_MAX)
        freeze_rules.parse_cron(cron)
        zone_name = zone or "UTC"
        freeze_rules.validate_zone(zone_name)
        return Freeze(freeze_id, envs, reason, cron=" ".join(cron.split()), duration=duration, zone=zone_name)
    if start is None or end is None:
        raise BadInput("a one-off freeze needs --start and --end (or use --cron and --for)")
    check_span(start, end, "a freeze", FREEZE_MAX)
    return Freeze(freeze_id, envs, reason, start=start, end=end)


def _risk(value: Risk | str) -> Risk:
    try:
        return Risk(value)
    except ValueError as exc:
        raise BadInput(f"bad risk {value!r} (use low, medium or high)") from exc


def _minus(items: Sequence[Conflict], others: Sequence[Conflict]) -> list[Conflict]:
    remaining = Counter((c.kind, c.environments, c.releases) for c in others)
    out = []
    for conflict in items:
        key = (conflict.kind, conflict.environments, conflict.releases)
        if remaining[key]:
            remaining[key] -= 1
        else:
            out.append(conflict)
    return out
