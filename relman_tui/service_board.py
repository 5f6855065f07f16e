"""The board's rules and settings: environments, import, hooks, admins, delegates, four-eyes, fixed-clock."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from relman_tui import admins as admin_rules
from relman_tui.actions import Action
from relman_tui.details import (
    BoardCreatedDetails,
    HookChangeDetails,
    HookOutcomeDetails,
    HookRecord,
    ImportedDetails,
    SettingDetails,
)
from relman_tui.errors import BadInput, Refused
from relman_tui.limits import ENV_NAME, ENVIRONMENTS_MAX, check_capacity, clean_login, clean_name
from relman_tui.model import ALL_ENVIRONMENTS, PLANNED, BoardSettings, Environment, Event, Freeze, Hook
from relman_tui.records import hook_record, listed_hook
from relman_tui.service_base import ServiceBase
from relman_tui.service_values import HookOutcome, _changes, _freeze_details, _freeze_key
from relman_tui.store.contract import NewEvent


class BoardUses(ServiceBase):
    """Changing the pipeline and the board's rules (mostly an admin's)."""

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
                details = self._env_changed_details(new, changes)
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
                    details = self._env_changed_details(env, changes)
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
            imported: ImportedDetails = {
                "added": counts["added"],
                "changed": counts["changed"],
                "removed": counts["removed"],
            }
            self._log(
                NewEvent(
                    Action.IMPORTED,
                    to=f"{len(environments)} environments, {len(freezes)} freezes",
                    details=imported,
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
            self._log(NewEvent(Action.HOOK_REMOVED, details=_hook_change(hook, listed_hook(hook))), at)
        result: list[Hook] = []
        added = 0
        for hook in hooks:
            if hook.id in have:
                result.append(have[hook.id])
                continue
            seq = self._log(NewEvent(Action.HOOK_ADDED, details=_hook_change(hook, hook_record(hook))), at)
            result.append(replace(hook, added_seq=seq))
            added += 1
        if added or removed or [h.id for h in result] != [h.id for h in old]:
            self.store.set_setting("hooks", json.dumps([listed_hook(h) for h in result]))
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
        flat = hook_record(hook)
        details: HookOutcomeDetails = {
            "hook": flat["hook"],
            "on": flat["on"],
            "environment": flat["environment"],
            "run": flat["run"],
            "timeout": flat["timeout"],
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
            details: SettingDetails = {
                "key": admin_rules.FIXED_CLOCK,
                "old": "on" if old else "off",
                "new": "on" if on else "off",
            }
            self._log(NewEvent(Action.SETTING_CHANGED, to=admin_rules.FIXED_CLOCK, details=details), self.now())
        return True

    def found_board(self, *, fixed_clock: bool = False, made_up_history: bool = False) -> bool:
        """Make this account the first admin of a board with no history yet (``init``, ``demo``, ``import`` into a
        fresh file): the ``board_created`` event. ``fixed_clock``: a demo or test board; ``made_up_history``: a
        demo's, whose history a checkpoint then vouches for (anywhere else replay checks every event). Whether it
        did."""
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
            details: BoardCreatedDetails = {"board_id": self.store.board_id(), "admins": admins, "fixed_clock": clock}
            if made_up_history:
                details["history"] = "made up"
            self._log(NewEvent(Action.BOARD_CREATED, details=details), self.now())
        return True

    def _set_list(self, key: str, old: Sequence[str], new: Sequence[str], at: datetime) -> bool:
        """Write a setting that lists accounts (admins, delegates), refusing a self-grant; logged with old and new."""
        if [d.casefold() for d in new] == [d.casefold() for d in old]:
            return False
        if problem := admin_rules.self_grant_problem(self.actor, self.via, key, old, new):
            raise Refused(problem)
        self.store.set_setting(key, json.dumps(list(new)))
        details: SettingDetails = {"key": key, "old": list(old), "new": list(new)}
        self._log(NewEvent(Action.SETTING_CHANGED, to=key, details=details), at)
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
                    details=SettingDetails(key="four_eyes", old=old.four_eyes, new=settings.four_eyes),
                ),
                at,
            )
            changed += 1
        new_delegates = tuple(clean_login(d, "delegate") for d in settings.delegates)
        if self._set_list("delegates", old.delegates, new_delegates, at):
            changed += 1
        return changed


def _hook_change(hook: Hook, record: HookRecord) -> HookChangeDetails:
    """A hook's addition or removal: its flat record, and ``record`` (its whole record) under ``hook``."""
    flat = hook_record(hook)
    return {
        "hook": record,
        "on": flat["on"],
        "environment": flat["environment"],
        "run": flat["run"],
        "timeout": flat["timeout"],
    }
