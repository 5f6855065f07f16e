"""The use cases of relman (move, schedule, approve, …), shared by the CLI and the TUI."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from relman_tui import admins as admin_rules
from relman_tui import chain, gates, insights, replay, slots
from relman_tui import conflicts as engine
from relman_tui import freezes as freeze_rules
from relman_tui.actions import Action
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
    clean_login,
    clean_name,
    clean_text,
)
from relman_tui.model import (
    ALL_ENVIRONMENTS,
    PLANNED,
    BoardSettings,
    Conflict,
    Environment,
    Event,
    Freeze,
    Hook,
    Release,
    Risk,
    Severity,
    State,
    Window,
)
from relman_tui.records import environment_record as environment_record  # re-exported: callers import it from here
from relman_tui.records import freeze_record as freeze_record
from relman_tui.records import hook_record as hook_record
from relman_tui.records import release_record, window_record
from relman_tui.store.contract import BoardStore, NewEvent, NewRelease
from relman_tui.store.shared import hooks_from_setting
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
    hook_failures: frozenset[int] = frozenset()  # releases whose latest hook run failed
    checked: bool = True  # False: read without looking for conflicts yet (a board's first frame)


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

    def __init__(
        self,
        store: BoardStore,
        clock: Clock,
        actor: str,
        via: str | None = None,
        zone: str | Callable[[], str] = "UTC",
    ) -> None:
        """``actor`` (and ``via``, the account acting for them) come from :mod:`relman_tui.identity`;
        ``zone`` is the operator's, for times in messages (or how to find it, when first needed)."""
        self.store = store
        self.clock = clock
        self._zone = zone
        self.actor = clean_login(actor, "actor")
        self.via = clean_login(via, "the delegating account") if via else None
        self.written_seqs: set[int] = set()  # events this process wrote, so live views can tell them apart

    @property
    def zone(self) -> str:
        if callable(self._zone):
            self._zone = self._zone()
        return self._zone

    @zone.setter
    def zone(self, name: str) -> None:
        self._zone = name

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

    def events(self, release_id: int | None = None, limit: int | None = None) -> list[Event]:
        if release_id is not None:
            self.release(release_id)
        return self.store.events(release=release_id, limit=limit)

    def insights(self, environment: str | None = None, days: int = insights.DEFAULT_DAYS) -> insights.Insights:
        """The delivery figures for ``environment`` (default: the pipeline's last) over the ``days`` ending now."""
        now = self.now()
        insights.check_days(days)
        with self.store.read():
            envs = self.store.environments()
            chosen = insights.choose_environment(envs, environment)
            rows = self.store.delivery_rows(chosen)
        return insights.compute_rows(rows, envs, now, environment, days)

    def changes_since(self, seq: int) -> list[Event]:
        return self.store.events(after_seq=seq)

    def four_eyes(self) -> bool:
        return self.store.setting("four_eyes", "true") == "true"

    def delegates(self) -> tuple[str, ...]:
        return _delegates(self.store.setting("delegates", "[]"))

    def board_settings(self) -> BoardSettings:
        return BoardSettings(self.four_eyes(), self.delegates())

    def admins(self) -> tuple[str, ...]:
        """The accounts that may change the board's rules (DESIGN "Who acts")."""
        return admin_rules.accounts(self.store.setting(admin_rules.ADMINS, "[]"))

    def fixed_clock(self) -> bool:
        """Whether writes may carry a fixed *now* (``$RELMAN_NOW``): an admin's choice, for demos and tests."""
        return self.store.setting(admin_rules.FIXED_CLOCK, "off") == "on"

    def require_admin(self, what: str) -> None:
        """Refuse (exit 1) unless the acting account is one of the board's admins; on a server, its admin role
        (of which the server itself is the judge: it refuses the same again)."""
        if self.store.server_account() is not None:
            if not self.store.is_admin():
                role = getattr(self.store, "admin", "admin")
                raise Refused(f"only the board's admin role ({role}) may {what}; {self.actor} is not a member of it")
            return
        if problem := admin_rules.admin_problem(self.actor, self.via, self.admins(), what):
            raise Refused(problem)

    def hooks(self) -> list[Hook]:
        """The board's hooks, in the order the board file lists them."""
        return hooks_from_setting(self.store.setting("hooks", "[]"))

    def verify_log(self, seen: Sequence[tuple[int, str, str, bool]] = ()) -> chain.Verdict:
        """Check the log (`relman log --verify`): its hash chain, what this account saw before, time order,
        the rules at each event's time, and that replaying it gives the stored tables.

        ``seen`` holds ``(seq, hash, when, whole)`` points this account verified before: the event at that
        seq must still carry that hash, or the log was rewritten since — chain and all; with ``whole``
        it must still be there (a point seen in another copy of the board may lie past this log's end).
        """
        from relman_tui import audit

        with self.store.read():
            events = self.store.stored_events()
            board_id = self.store.board_id()
            verdict = chain.verify(board_id, events)
            table = self.table_state()
        if not verdict.ok:
            return verdict
        by_seq = {e.seq: e for e in events}
        for seq, known, when, whole in seen:
            found = by_seq.get(seq)
            if found is None and not whole:
                continue
            if found is None:
                problem = f"event #{seq}, which you verified at {when}, is gone: the log was cut short"
            elif found.hash != known:
                problem = (
                    f"event #{seq} no longer has the hash you verified at {when}: the log was rewritten "
                    "and its chain recomputed"
                )
            else:
                continue
            return replace(verdict, broken_at=seq, problem=problem, last_hash=None, check="witness")
        return audit.judge(verdict, events, table, board_id, server=self.store.server_account() is not None)

    def table_state(self) -> replay.BoardState:
        """The stored tables as replay sees them (inside the caller's read or write)."""
        return replay.table_state(
            self.store.settings(),
            self.store.environments(),
            self.store.releases(include_cancelled=True),
            self.store.freezes(),
            self.hooks(),
        )

    def checkpoint(self, reason: str) -> int:
        """Log the whole state as it stands (``state_checkpoint``): what a seeded demo's history cannot replay.
        Inside the caller's write."""
        details = {"board_id": self.store.board_id(), "state": self.table_state().as_json(), "reason": reason}
        return self._log(NewEvent(Action.STATE_CHECKPOINT, details=details), self.now())

    def conflicts(self, now: datetime | None = None) -> list[Conflict]:
        return engine.find_conflicts(
            self.store.environments(), self.store.releases(), self.store.freezes(), now or self.now()
        )

    def snapshot(self, *, conflicts: bool = True) -> Snapshot:
        """Everything a view draws. Without ``conflicts`` the engine is not run: a board paints its
        first frame from that, and adds the conflict marks a moment later."""
        now = self.now()
        with self.store.read():
            envs = self.store.environments()
            releases = self.store.releases()
            frozen = self.store.freezes()
            last_seq = self.store.last_seq()
            failed_hooks = self.store.hook_failures()
        return Snapshot(
            tuple(envs),
            tuple(releases),
            tuple(frozen),
            tuple(engine.find_conflicts(envs, releases, frozen, now)) if conflicts else (),
            last_seq,
            now,
            failed_hooks,
            conflicts,
        )

    # -- environments ----------------------------------------------------------------------

    def add_environment(
        self,
        name: str,
        title: str | None = None,
        capacity: int = 1,
        after: str | None = None,
        approval: bool = False,
    ) -> Environment:
        name = name.strip()
        if not ENV_NAME.fullmatch(name) or name in (PLANNED, ALL_ENVIRONMENTS):
            raise BadInput(
                f"bad environment name {name!r}: use a lowercase slug such as 'staging' (not 'planned' or 'all')"
            )
        check_capacity(capacity)
        with self.store.write():
            self.require_admin("add, change or remove environments")
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
            saved = next(env for env in self.store.environments() if env.name == name)
            self._log(NewEvent(Action.ENV_ADDED, to=name, details=self._env_details(saved)), self.now())
        return saved

    def edit_environment(
        self,
        name: str,
        *,
        title: str | None = None,
        capacity: int | None = None,
        approval: bool | None = None,
    ) -> Environment:
        """Change an environment's title, capacity or approval rule (logged with old and new values)."""
        with self.store.write():
            self.require_admin("add, change or remove environments")
            envs = self.store.environments()
            old = self._environment(name, envs)
            new = replace(
                old,
                title=clean_name(title, "title") if title is not None else old.title,
                capacity=check_capacity(capacity) if capacity is not None else old.capacity,
                requires_approval=approval if approval is not None else old.requires_approval,
            )
            changes = _changes(old, new, ("title", "capacity", "requires_approval"))
            if changes:
                self.store.save_environments([new if env.name == name else env for env in envs])
                details = {"name": name, "changes": changes} | self._env_details(new, flat=False)
                self._log(NewEvent(Action.ENV_CHANGED, to=name, details=details), self.now())
        return new

    def remove_environment(self, name: str) -> None:
        """Take an environment out of the pipeline; refused while releases stand or are scheduled in it."""
        with self.store.write():
            self.require_admin("add, change or remove environments")
            envs = self.store.environments()
            old = self._environment(name, envs)
            if self.store.stage_in_use(name):
                raise Refused(f"environment {name} still has releases or windows; move or unschedule them first")
            rest = [replace(env, position=i + 1) for i, env in enumerate(e for e in envs if e.name != name)]
            self.store.save_environments(rest)
            self._log(NewEvent(Action.ENV_REMOVED, from_=name, details=self._env_details(old)), self.now())

    def replace_board(
        self,
        environments: Sequence[Environment],
        freezes: Sequence[Freeze],
        settings: BoardSettings,
        hooks: Sequence[Hook] | None = None,
    ) -> dict[str, int]:
        """Make the pipeline, freezes and board settings exactly these (``relman import``).

        Every environment, freeze and setting added, changed or removed is its own event with
        the old and new values; freezes the file keeps unchanged keep their ids. All or nothing.
        """
        counts = {"added": 0, "changed": 0, "removed": 0}
        with self.store.write():
            self.require_admin("import a board file")
            now = self.now()
            keep = {env.name for env in environments}
            before = {env.name: env for env in self.store.environments()}
            for env in before.values():
                if env.name not in keep and self.store.stage_in_use(env.name):
                    raise BadInput(
                        f"environment {env.name!r} is missing from the file but still has releases or windows; "
                        "nothing was imported"
                    )
            ordered = [replace(env, position=i + 1) for i, env in enumerate(environments)]
            self.store.save_environments(ordered)
            for env in ordered:
                old = before.get(env.name)
                if old is None:
                    self._log(NewEvent(Action.ENV_ADDED, to=env.name, details=self._env_details(env)), now)
                    counts["added"] += 1
                elif changes := _changes(old, env, ("title", "position", "capacity", "requires_approval")):
                    details = {"name": env.name, "changes": changes} | self._env_details(env, flat=False)
                    self._log(NewEvent(Action.ENV_CHANGED, to=env.name, details=details), now)
                    counts["changed"] += 1
            for name, env in before.items():
                if name not in keep:
                    self._log(NewEvent(Action.ENV_REMOVED, from_=name, details=self._env_details(env)), now)
                    counts["removed"] += 1
            wanted = [_freeze_key(f) for f in freezes]
            for freeze in freezes:
                self._check_freeze_environments(freeze.environments, keep)
            remaining = list(wanted)
            for old_freeze in self.store.freezes():
                key = _freeze_key(old_freeze)
                if key in remaining:
                    remaining.remove(key)  # unchanged: keeps its id
                    continue
                self.store.delete_freeze(old_freeze.id)
                self._log(
                    NewEvent(Action.FREEZE_REMOVED, from_=str(old_freeze.id), details=_freeze_details(old_freeze)), now
                )
                counts["removed"] += 1
            for freeze in freezes:
                key = _freeze_key(freeze)
                if key not in remaining:
                    continue
                remaining.remove(key)
                self._add_freeze(freeze, now)
                counts["added"] += 1
            counts["changed"] += self._apply_settings(settings, now)
            if hooks is not None:
                added, removed = self._replace_hooks(hooks, now)
                counts["added"] += added
                counts["removed"] += removed
            self._log(
                NewEvent(
                    Action.IMPORTED,
                    to=f"{len(environments)} environments, {len(freezes)} freezes",
                    details=dict(counts),
                ),
                now,
            )
        return counts

    def _replace_hooks(self, hooks: Sequence[Hook], at: datetime) -> tuple[int, int]:
        """Make the hooks exactly ``hooks``; a new hook handles only events after the one adding it."""
        old = self.hooks()
        keep = {h.id for h in hooks}
        have = {h.id: h for h in old}
        removed = [h for h in old if h.id not in keep]
        for hook in removed:
            record = hook_record(hook) | {"added_seq": hook.added_seq}
            self._log(NewEvent(Action.HOOK_REMOVED, details=hook_record(hook) | {"hook": record}), at)
        result: list[Hook] = []
        added = 0
        for hook in hooks:
            if hook.id in have:
                result.append(have[hook.id])
                continue
            seq = self._log(NewEvent(Action.HOOK_ADDED, details=hook_record(hook) | {"hook": hook_record(hook)}), at)
            result.append(replace(hook, added_seq=seq))
            added += 1
        if added or removed or [h.id for h in result] != [h.id for h in old]:
            self.store.set_setting("hooks", json.dumps([hook_record(h) | {"added_seq": h.added_seq} for h in result]))
        return added, len(removed)

    def add_hook(self, hook: Hook) -> Hook:
        """Add one hook (`relman hooks add`, logged with its record); it handles the events after this one."""
        with self.store.write():
            self.require_admin("add hooks")
            hooks = self.hooks()
            if any(h.id == hook.id for h in hooks):
                raise BadInput(f"the board has this hook already (id {hook.id})")
            self._replace_hooks([*hooks, hook], self.now())
            return next(h for h in self.hooks() if h.id == hook.id)

    def remove_hook(self, hook_id: str) -> Hook:
        """Remove the hook ``hook_id`` (`relman hooks remove`, logged with its record)."""
        with self.store.write():
            self.require_admin("remove hooks")
            hooks = self.hooks()
            found = next((h for h in hooks if h.id == hook_id), None)
            if found is None:
                ids = ", ".join(h.id for h in hooks) or "none"
                raise BadInput(f"no hook with id {hook_id!r} (hooks: {ids})")
            self._replace_hooks([h for h in hooks if h.id != hook_id], self.now())
            return found

    def record_hook_outcome(self, event: Event, hook: Hook, outcome: HookOutcome, done: Sequence[str]) -> int:
        """The outcome of running ``hook`` for ``event``, and the runner's progress, in one transaction:
        a runner killed after this never runs that hook for that event again."""
        details = hook_record(hook) | {
            "event_seq": event.seq,
            "event_action": event.action,
            "exit_status": outcome.exit_status,
            "duration_ms": outcome.duration_ms,
            "output": outcome.output,
            "problem": outcome.problem,
        }
        action = Action.HOOK_RAN if outcome.ok else Action.HOOK_FAILED
        with self.store.write():
            seq = self._log(NewEvent(action, release=event.release, to=event.to, details=details), self.now())
            self.store.set_hook_cursor(event.seq, list(done))
        return seq

    def advance_hook_cursor(self, seq: int) -> None:
        """Every event before ``seq`` is handled (none of them had a hook to run)."""
        with self.store.write():
            self.store.set_hook_cursor(seq, [])

    def set_four_eyes(self, on: bool) -> bool:
        """Turn the four-eyes rule on or off; logged with the old and new value. Returns whether it changed."""
        with self.store.write():
            self.require_admin("change the board's settings")
            return bool(self._apply_settings(replace(self.board_settings(), four_eyes=on), self.now()))

    def set_delegates(self, accounts: Iterable[str]) -> tuple[str, ...]:
        """Make the delegates exactly ``accounts`` (OS accounts that may act for others with ``--as``)."""
        names = tuple(dict.fromkeys(clean_login(a, "delegate") for a in accounts))
        with self.store.write():
            self.require_admin("change the board's settings")
            self._apply_settings(replace(self.board_settings(), delegates=names), self.now())
        return names

    def set_admins(self, accounts: Iterable[str]) -> tuple[str, ...]:
        """Make the admins exactly ``accounts``; an admin adds others, never themselves, and one stays."""
        names = tuple(dict.fromkeys(clean_login(a, "admin") for a in accounts))
        with self.store.write():
            self.require_admin("change the board's admins")
            if not names:
                raise Refused("a board keeps at least one admin; add another before removing the last")
            self._set_list(admin_rules.ADMINS, self.admins(), names, self.now())
        return names

    def set_fixed_clock(self, on: bool) -> bool:
        """Let writes carry ``$RELMAN_NOW``'s time (a demo or test board); logged. Returns whether it changed."""
        with self.store.write():
            self.require_admin("change the board's settings")
            old = self.fixed_clock()
            if old == on:
                return False
            self.store.set_setting(admin_rules.FIXED_CLOCK, "on" if on else "off")
            details = {"key": admin_rules.FIXED_CLOCK, "old": "on" if old else "off", "new": "on" if on else "off"}
            self._log(NewEvent(Action.SETTING_CHANGED, to=admin_rules.FIXED_CLOCK, details=details), self.now())
        return True

    def found_board(self, *, fixed_clock: bool = False) -> bool:
        """Make this account the first admin of a board with no history yet (``init``, ``demo``, ``import`` into a
        fresh file): the ``board_created`` event. ``fixed_clock``: a demo or test board. Whether it did."""
        if self.store.server_account() is not None and not self.store.is_admin():
            return False  # a server board's first admin is the role `relman pg setup` named: the server refuses
        with self.store.write():
            if self.store.last_seq():
                return False
            # a server board's admins were named by `pg setup`: the event records them as they stand
            admins = list(self.admins()) or [self.actor]
            clock = "on" if fixed_clock or self.store.setting(admin_rules.FIXED_CLOCK, "off") == "on" else "off"
            if admins != list(self.admins()):
                self.store.set_setting(admin_rules.ADMINS, json.dumps(admins))
            if clock != self.store.setting(admin_rules.FIXED_CLOCK, "off"):
                self.store.set_setting(admin_rules.FIXED_CLOCK, clock)
            details = {"board_id": self.store.board_id(), "admins": admins, "fixed_clock": clock}
            self._log(NewEvent(Action.BOARD_CREATED, details=details), self.now())
        return True

    def _set_list(self, key: str, old: Sequence[str], new: Sequence[str], at: datetime) -> bool:
        """Write a setting that lists accounts (admins, delegates), refusing a self-grant; logged with old and new."""
        if [d.casefold() for d in new] == [d.casefold() for d in old]:
            return False
        if problem := admin_rules.self_grant_problem(self.actor, self.via, key, old, new):
            raise Refused(problem)
        self.store.set_setting(key, json.dumps(list(new)))
        self._log(
            NewEvent(Action.SETTING_CHANGED, to=key, details={"key": key, "old": list(old), "new": list(new)}), at
        )
        return True

    def _apply_settings(self, settings: BoardSettings, at: datetime) -> int:
        """Write the settings that differ, one ``setting_changed`` event each; the number changed."""
        changed = 0
        old = self.board_settings()
        if settings.four_eyes != old.four_eyes:
            self.store.set_setting("four_eyes", "true" if settings.four_eyes else "false")
            self._log(
                NewEvent(
                    Action.SETTING_CHANGED,
                    to="four_eyes",
                    details={"key": "four_eyes", "old": old.four_eyes, "new": settings.four_eyes},
                ),
                at,
            )
            changed += 1
        new_delegates = tuple(clean_login(d, "delegate") for d in settings.delegates)
        if self._set_list("delegates", old.delegates, new_delegates, at):
            changed += 1
        return changed

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
        details: dict[str, Any] = {
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
            details: dict[str, Any] = {"changes": changes}
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
            details = {"unapproved": True} if unapproved else None
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
        details = {"approval_withdrawn": old.approved_by} if old.approved_by else None
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
            details = {"cleared_unapproved": True} if old.unapproved else None
            return self._write(old, new, NewEvent(Action.APPROVED, release_id, to=old.stage, details=details))

    def cancel(self, release_id: int, reason: str | None = None, rev: int | None = None) -> Release:
        why = clean_text(reason, "reason") or None
        with self.store.write():
            old = self._fresh(release_id, rev)
            self._check_not_cancelled(old)
            new = replace(old, state=State.CANCELLED)
            return self._write(old, new, NewEvent(Action.CANCELLED, release_id, old.stage, reason=why))

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
            details: dict[str, Any] = {"environment": environment, "start": to_stamp(start), "end": to_stamp(end)}
            details["window"] = window_record(window)
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
            details = {
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

    def _add_freeze(self, freeze: Freeze, at: datetime) -> Freeze:
        saved = replace(freeze, id=self.store.insert_freeze(freeze))
        self._log(
            NewEvent(
                Action.FREEZE_ADDED,
                to=",".join(freeze.environments),
                reason=freeze.reason,
                details=_freeze_details(saved),
            ),
            at,
        )
        return saved

    def remove_freeze(self, freeze_id: int) -> None:
        with self.store.write():
            old = next((f for f in self.store.freezes() if f.id == freeze_id), None)
            if old is None or not self.store.delete_freeze(freeze_id):
                raise BadInput(f"no freeze with id {freeze_id}")
            self._log(
                NewEvent(Action.FREEZE_REMOVED, from_=str(freeze_id), reason=old.reason, details=_freeze_details(old)),
                self.now(),
            )

    # -- plumbing --------------------------------------------------------------------------

    def _fresh(self, release_id: int, rev: int | None) -> Release:
        release = self.release(release_id)
        if rev is not None and rev != release.rev:
            self.store.refuse_stale(release_id, rev)
        return release

    def _log(self, event: NewEvent, at: datetime) -> int:
        if getattr(self.clock, "from_environment", False) and not self.fixed_clock():
            raise BadInput(
                "$RELMAN_NOW is set: it fixes now for reading only, and this board writes at the real time "
                "(unset it, or an admin turns `relman settings fixed-clock on` for a demo or test board)"
            )
        seq = self.store.append_event(event, self.actor, at, self.via)
        self.written_seqs.add(seq)
        return seq

    def _write(self, old: Release, new: Release, event: NewEvent) -> Release:
        now = self.now()
        saved = self.store.update_release(new, old.rev, now)
        self._log(replace(event, details={**(event.details or {}), "release": release_record(saved)}), now)
        return saved

    def _env_details(self, env: Environment, *, flat: bool = True) -> dict[str, Any]:
        """An environment event's details: its full record and the pipeline's order after the change."""
        record = environment_record(env)
        pipeline = [e.name for e in sorted(self.store.environments(), key=lambda e: e.position)]
        return (record if flat else {}) | {"environment": record, "pipeline": pipeline}

    def _check_stage(self, stage: str, envs: Sequence[Environment]) -> None:
        names = gates.stage_names(envs)
        if stage not in names:
            raise BadInput(f"unknown stage {stage!r} (stages: {', '.join(names)})")

    @staticmethod
    def _environment(name: str, envs: Sequence[Environment]) -> Environment:
        found = next((env for env in envs if env.name == name), None)
        if found is None:
            raise BadInput(f"unknown environment {name!r} (environments: {', '.join(e.name for e in envs) or 'none'})")
        return found

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
    freeze_id: int,
    environments: Sequence[str],
    reason: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    cron: str | None = None,
    duration: timedelta | None = None,
    zone: str | None = None,
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


APPROVAL_FIELDS = ("name", "version", "components", "owner")  # a change to any withdraws an approval


def event_record(e: Event) -> dict[str, Any]:
    """An event as `relman log --json` prints it, and as a hook reads it on stdin."""
    return {
        "seq": e.seq,
        "at": to_stamp(e.at),
        "actor": e.actor,
        "via": e.via,
        "release": e.release,
        "action": e.action,
        "from": e.from_,
        "to": e.to,
        "forced": e.forced,
        "reason": e.reason,
        "details": dict(e.details),
        "hash": e.hash,
    }


def _freeze_details(f: Freeze) -> dict[str, Any]:
    """A freeze event's details: the record's keys as before, and the full record under ``freeze``."""
    return freeze_record(f) | {"freeze": freeze_record(f)}


def _freeze_key(f: Freeze) -> tuple[Any, ...]:
    record = freeze_record(f)
    record.pop("id")
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in record.items()))


def _changes(old: Any, new: Any, fields: Sequence[str]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for each field that differs (tuples as lists, enums as text)."""
    out: dict[str, list[Any]] = {}
    for name in fields:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            out[name] = [_plain(before), _plain(after)]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):
        return to_stamp(value)
    if isinstance(value, StrEnum):
        return str(value)
    return value


@dataclass(frozen=True, slots=True)
class HookOutcome:
    """What running a hook came to."""

    exit_status: int | None  # None: it could not start, or was killed at its timeout
    duration_ms: int
    output: str  # the last lines it wrote, made inert
    problem: str = ""  # why it failed, in words ("timed out after 30s", "exit status 3", …)

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and not self.problem


def board_delegates(store: BoardStore) -> tuple[str, ...]:
    """The OS accounts that may act for others with ``--as`` (read before the actor is known)."""
    return _delegates(store.setting("delegates", "[]"))


def _delegates(raw: str) -> tuple[str, ...]:
    try:
        value = json.loads(raw)
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


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
