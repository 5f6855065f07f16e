"""The service's core: its account and clock, what it reads, and how every change is written and logged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from relman_tui import admins as admin_rules
from relman_tui import conflicts as engine
from relman_tui import gates, insights
from relman_tui.actions import Action
from relman_tui.details import Changes, EnvironmentDetails
from relman_tui.errors import BadInput, Refused
from relman_tui.limits import check_time, clean_login
from relman_tui.model import ALL_ENVIRONMENTS, BoardSettings, Conflict, Environment, Event, Freeze, Hook, Release
from relman_tui.records import environment_record, release_record
from relman_tui.service_values import Snapshot, _delegates, _freeze_details
from relman_tui.store.contract import BoardStore, NewEvent
from relman_tui.store.shared import hooks_from_setting
from relman_tui.timeutil import Clock


class ServiceBase:
    """The store, clock and account a service acts with; the readers and the plumbing its use cases share."""

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

    def _env_details(self, env: Environment) -> EnvironmentDetails:
        """An environment event's details: its record's keys, its full record and the pipeline's order after it."""
        return {
            "name": env.name,
            "title": env.title,
            "position": env.position,
            "capacity": env.capacity,
            "requires_approval": env.requires_approval,
            "environment": environment_record(env),
            "pipeline": self._pipeline(),
        }

    def _env_changed_details(self, env: Environment, changes: Changes) -> EnvironmentDetails:
        """An environment change's details: its name and what changed, its full record and the pipeline's order."""
        return {
            "name": env.name,
            "changes": changes,
            "environment": environment_record(env),
            "pipeline": self._pipeline(),
        }

    def _pipeline(self) -> list[str]:
        return [e.name for e in sorted(self.store.environments(), key=lambda e: e.position)]

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
