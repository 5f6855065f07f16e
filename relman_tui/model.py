"""The words of release management as frozen dataclasses and enums (see DESIGN.md)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from relman_tui.details import Details

PLANNED = "planned"
ALL_ENVIRONMENTS = "all"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class State(StrEnum):
    PENDING = "pending"
    DEPLOYED = "deployed"
    VERIFIED = "verified"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class ConflictKind(StrEnum):
    CAPACITY = "capacity"
    FREEZE = "freeze"
    ORDER = "order"
    COMPONENT = "component"
    MISSED = "missed"


SEVERITY: dict[ConflictKind, Severity] = {
    ConflictKind.CAPACITY: Severity.ERROR,
    ConflictKind.FREEZE: Severity.ERROR,
    ConflictKind.ORDER: Severity.ERROR,
    ConflictKind.COMPONENT: Severity.WARNING,
    ConflictKind.MISSED: Severity.WARNING,
}


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    title: str
    position: int
    capacity: int = 1
    requires_approval: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """A planned deployment of one release into one environment: ``[start, end)`` in UTC."""

    release_id: int
    environment: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Release:
    id: int
    name: str
    version: str
    components: tuple[str, ...]
    owner: str
    risk: Risk
    stage: str
    state: State
    approved_by: str | None
    approved_at: datetime | None
    notes: str
    created_at: datetime
    updated_at: datetime
    rev: int
    windows: tuple[Window, ...] = field(default=())
    created_by: str = ""  # who added it: with the owner, the one who may not approve it (four-eyes)
    unapproved: bool = False  # forced into an environment that requires approval, not yet approved
    changed_at: datetime | None = None  # the oldest change it carries (`--changed-at`): where lead time starts

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def cancelled(self) -> bool:
        return self.state is State.CANCELLED

    def window_in(self, environment: str) -> Window | None:
        for window in self.windows:
            if window.environment == environment:
                return window
        return None


@dataclass(frozen=True, slots=True)
class Freeze:
    """A one-off freeze has ``start``/``end``; a recurring one has ``cron``/``duration``/``zone``."""

    id: int
    environments: tuple[str, ...]  # ("all",) for every environment
    reason: str
    start: datetime | None = None
    end: datetime | None = None
    cron: str | None = None
    duration: timedelta | None = None
    zone: str | None = None

    @property
    def recurring(self) -> bool:
        return self.cron is not None

    def covers(self, environment: str) -> bool:
        return ALL_ENVIRONMENTS in self.environments or environment in self.environments


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One concrete ``[start, end)`` span of a freeze, in UTC."""

    freeze_id: int
    environments: tuple[str, ...]
    reason: str
    start: datetime
    end: datetime

    def covers(self, environment: str) -> bool:
        return ALL_ENVIRONMENTS in self.environments or environment in self.environments


@dataclass(frozen=True, slots=True)
class BoardSettings:
    """The board's own rules, kept in the database and in the board file: who may approve, who may delegate."""

    four_eyes: bool = True  # the approver is neither the release's owner nor its creator
    delegates: tuple[str, ...] = ()  # OS accounts that may act for others with --as


@dataclass(frozen=True, slots=True)
class Hook:
    """A command the hook runner starts for each new event it matches (board file ``[[hooks]]``)."""

    on: str  # an event action: moved, approved, rolled_back, scheduled, …
    run: tuple[str, ...]  # argv, no shell
    timeout: timedelta
    environment: str | None = None  # only events whose destination stage is this
    added_seq: int = 0  # the event that added it: it handles the events after that one, never history

    @property
    def id(self) -> str:
        """Stable while the hook is unchanged: what the runner's progress is recorded against."""
        text = "\x1f".join((self.on, self.environment or "", *self.run, str(int(self.timeout.total_seconds()))))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def describe(self) -> str:
        where = f" into {self.environment}" if self.environment else ""
        return f"on {self.on}{where}: {' '.join(self.run)}"


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    at: datetime
    actor: str
    release: int | None
    action: str
    from_: str | None = None
    to: str | None = None
    forced: bool = False
    reason: str | None = None
    via: str | None = None  # the OS account that acted for ``actor`` (delegation), if any
    details: Details = field(default_factory=lambda: Details())  # what changed: old and new values, …
    hash: str | None = None  # its link in the log's hash chain (None: written before the chain)


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: ConflictKind
    severity: Severity
    environments: tuple[str, ...]
    releases: tuple[int, ...]
    start: datetime
    end: datetime
    message: str
