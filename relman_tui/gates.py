"""May this release move from its stage to another, and if not, which gate says no (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from relman_tui.freezes import frozen_until
from relman_tui.model import PLANNED, Environment, Freeze, Release, State
from relman_tui.timeutil import format_local


class Direction(StrEnum):
    FORWARD = "forward"  # exactly one stage on
    SKIP = "skip"  # more than one stage on
    BACKWARD = "backward"  # a rollback
    STAY = "stay"


@dataclass(frozen=True, slots=True)
class GateFailure:
    gate: str  # "verified", "frozen", "approval", "skip"
    message: str


@dataclass(frozen=True, slots=True)
class MoveCheck:
    direction: Direction
    failures: tuple[GateFailure, ...]

    @property
    def allowed(self) -> bool:
        return not self.failures and self.direction is not Direction.STAY

    def explain(self) -> str:
        return "; ".join(failure.message for failure in self.failures)


def stage_names(environments: Sequence[Environment]) -> list[str]:
    """The board's columns: ``planned``, then every environment in pipeline order."""
    return [PLANNED, *(env.name for env in sorted(environments, key=lambda e: e.position))]


def stage_index(environments: Sequence[Environment], stage: str) -> int:
    """0 for ``planned``, 1 for the first environment, …; -1 when unknown."""
    names = stage_names(environments)
    return names.index(stage) if stage in names else -1


def check_move(
    release: Release,
    target: str,
    environments: Sequence[Environment],
    freezes: Sequence[Freeze],
    now: datetime,
    tz: str = "UTC",
) -> MoveCheck:
    """Which gates a move of ``release`` to ``target`` at ``now`` fails (DESIGN.md "Moves — the gates").

    Only the freezes covering ``target`` matter; the "frozen" gate names the end of their
    merged cover, shown in ``tz``. Backwards moves pass no gates: they are rollbacks, which need a
    reason instead.
    """
    here = stage_index(environments, release.stage)
    there = stage_index(environments, target)
    if there == here:
        return MoveCheck(Direction.STAY, ())
    if there < here:
        return MoveCheck(Direction.BACKWARD, ())

    failures: list[GateFailure] = []
    direction = Direction.FORWARD if there == here + 1 else Direction.SKIP
    if direction is Direction.SKIP:
        skipped = stage_names(environments)[here + 1 : there]
        failures.append(
            GateFailure("skip", f"moving to {target} skips {', '.join(skipped)}; releases move one stage at a time")
        )
    if release.stage != PLANNED and release.state is not State.VERIFIED:
        failures.append(
            GateFailure(
                "verified",
                f"{release.label} is {release.state} in {release.stage}, not verified; verify it there first",
            )
        )
    held = frozen_until(freezes, target, now)
    if held is not None:
        until = format_local(held.until, tz) if held.until is not None else "further notice"
        failures.append(GateFailure("frozen", f"{target} is frozen until {until} ({'; '.join(held.reasons)})"))
    env = next((e for e in environments if e.name == target), None)
    if env is not None and env.requires_approval and release.approved_by is None:
        failures.append(GateFailure("approval", f"{target} requires approval and {release.label} is not approved"))
    return MoveCheck(direction, tuple(failures))


def check_approval(release: Release, actor: str, four_eyes: bool, via: str | None = None) -> str | None:
    """Why ``actor`` (acting through the delegate account ``via``) may not approve ``release``, or ``None``.

    With ``four_eyes`` the approver is neither the release's owner nor the account that created
    it (compared case-insensitively: names are login-like ASCII, so no look-alikes) — and the
    delegate account is held to the same rule: it cannot approve a release it created or owns
    by naming someone else.
    """
    if release.approved_by is not None:
        return f"{release.label} is already approved by {release.approved_by}"
    if not four_eyes:
        return None
    for account, who in ((actor, actor), (via, f"{via} (acting for {actor})")):
        if account is None:
            continue
        if account.casefold() == release.owner.casefold():
            return f"four-eyes rule: {who} owns {release.label} and cannot approve it; ask someone else"
        if release.created_by and account.casefold() == release.created_by.casefold():
            return f"four-eyes rule: {who} created {release.label} and cannot approve it; ask someone else"
    return None


def check_verify(release: Release) -> str | None:
    if release.stage == PLANNED:
        return f"{release.label} is not deployed anywhere yet; move it to an environment first"
    if release.state is State.VERIFIED:
        return f"{release.label} is already verified in {release.stage}"
    if release.state not in (State.DEPLOYED, State.FAILED):
        return f"{release.label} is {release.state}; only a deployed release can be verified"
    return None


def check_fail(release: Release) -> str | None:
    if release.stage == PLANNED:
        return f"{release.label} is not deployed anywhere yet; nothing to mark failed"
    if release.state is State.FAILED:
        return f"{release.label} is already marked failed in {release.stage}"
    return None
