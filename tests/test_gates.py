"""The gates of DESIGN.md "Moves — the gates", through the service and as the pure check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import NOW, default_environments

from relman_tui import gates
from relman_tui.errors import BadInput, GateRefused, Refused
from relman_tui.model import BoardSettings, Freeze, Release, Risk, State
from relman_tui.service import Service
from relman_tui.tui.viewmodel import build_columns

pytestmark = pytest.mark.both_backends  # the tests that go through a store run on SQLite and on PostgreSQL

HOUR = timedelta(hours=1)


def at_stage(
    service: Service, stage: str, state: State = State.VERIFIED, owner: str = "alice", approver: Service | None = None
) -> Release:
    """A release standing in ``stage`` with ``state``, got there by honest moves (``approver``, bob on a
    connection of his own, approves if needed)."""
    release = service.add_release("payments-api", "2.4.1", owner=owner)
    stages = service.stages()
    for target in stages[1 : stages.index(stage) + 1]:
        env = next(e for e in service.environments() if e.name == target)
        if env.requires_approval and service.release(release.id).approved_by is None:
            assert approver is not None, "an approval-requiring stage needs an approver"
            approver.approve(release.id)
        service.move(release.id, target)
        if target != stage or state is State.VERIFIED:
            service.verify(release.id)
    if state is State.FAILED:
        service.fail(release.id, "smoke tests red")
    return service.release(release.id)


def refused_gates(action: Callable[[], object]) -> tuple[tuple[str, ...], str]:
    with pytest.raises(GateRefused) as caught:
        action()
    return caught.value.gates, str(caught.value)


def events_of(service: Service, release_id: int) -> list[tuple[str, str | None, str | None]]:
    return [(e.action, e.from_, e.to) for e in service.events(release_id)]


# --- forward by one stage ------------------------------------------------------------------------


def test_planned_moves_forward_one_stage_and_is_deployed(service: Service) -> None:
    release = service.add_release("payments-api", "2.4.1")
    moved = service.move(release.id, "dev")
    assert (moved.stage, moved.state, moved.rev) == ("dev", State.DEPLOYED, 2)
    last = service.events(release.id)[-1]
    assert (last.action, last.from_, last.to, last.forced, last.reason, last.actor) == (
        "moved",
        "planned",
        "dev",
        False,
        None,
        "alice",
    )


def test_from_an_environment_only_when_verified(service: Service) -> None:
    release = at_stage(service, "dev", State.DEPLOYED)
    found, message = refused_gates(lambda: service.move(release.id, "test"))
    assert found == ("verified",)
    assert "not verified" in message and "deployed in dev" in message
    assert service.release(release.id) == release  # nothing written

    service.verify(release.id)
    assert service.move(release.id, "test").stage == "test"


def test_a_failed_release_cannot_go_forward(service: Service) -> None:
    release = at_stage(service, "test", State.FAILED)
    found, message = refused_gates(lambda: service.move(release.id, "staging"))
    assert found == ("verified",)
    assert "failed in test" in message


@pytest.mark.parametrize("environments", [["test"], ["all"]])
def test_a_frozen_target_is_refused_naming_the_gate(service: Service, environments: list[str]) -> None:
    service.add_freeze(environments, "quarter close", start=NOW - HOUR, end=NOW + 2 * HOUR)
    release = at_stage(service, "dev") if environments == ["test"] else service.add_release("ledger", "1.0")
    target = "test" if environments == ["test"] else "dev"
    before = service.release(release.id)
    found, message = refused_gates(lambda: service.move(release.id, target))
    assert found == ("frozen",)
    assert f"{target} is frozen until 2026-12-01 12:00 UTC (quarter close)" in message
    assert service.release(release.id) == before


def test_a_freeze_elsewhere_or_at_another_time_does_not_block(service: Service) -> None:
    service.add_freeze(["staging"], "other environment", start=NOW - HOUR, end=NOW + HOUR)
    service.add_freeze(["test"], "ended just now", start=NOW - 2 * HOUR, end=NOW)  # half-open: over at NOW
    service.add_freeze(["test"], "starts later", start=NOW + timedelta(seconds=1), end=NOW + HOUR)
    release = at_stage(service, "dev")
    assert service.move(release.id, "test").stage == "test"


def test_a_freeze_starting_now_blocks(service: Service) -> None:
    service.add_freeze(["dev"], "starts now", start=NOW, end=NOW + HOUR)
    release = service.add_release("ledger", "1.0")
    assert refused_gates(lambda: service.move(release.id, "dev"))[0] == ("frozen",)


def test_a_recurring_freeze_active_now_blocks(service: Service) -> None:
    # Tuesday 1 December 2026, 11:00 in Berlin: a daily 09:00-17:00 Berlin freeze is on
    service.add_freeze(["dev"], "office hours", cron="0 9 * * *", duration=8 * HOUR, zone="Europe/Berlin")
    release = service.add_release("ledger", "1.0")
    found, message = refused_gates(lambda: service.move(release.id, "dev"))
    assert found == ("frozen",)
    assert "until 2026-12-01 16:00 UTC" in message


def test_prod_needs_approval(service: Service, open_service: Callable[..., Service]) -> None:
    release = at_stage(service, "preprod")
    assert release.approved_by is None
    found, message = refused_gates(lambda: service.move(release.id, "prod"))
    assert found == ("approval",)
    assert "prod requires approval" in message

    open_service("bob").approve(release.id)
    moved = service.move(release.id, "prod")
    assert (moved.stage, moved.state, moved.approved_by) == ("prod", State.DEPLOYED, "bob")


def test_skipping_is_refused_naming_the_skipped_stages(service: Service) -> None:
    release = service.add_release("ledger", "1.0")
    found, message = refused_gates(lambda: service.move(release.id, "staging"))
    assert found == ("skip",)
    assert "skips dev, test" in message
    assert service.release(release.id).stage == "planned"


def test_every_failing_gate_is_named(service: Service) -> None:
    service.add_freeze(["prod"], "weekend", start=NOW - HOUR, end=NOW + HOUR)
    release = at_stage(service, "staging", State.DEPLOYED)
    found, message = refused_gates(lambda: service.move(release.id, "prod"))
    assert set(found) == {"skip", "verified", "frozen", "approval"}
    assert "skips preprod" in message and "frozen" in message and "approval" in message


# --- forcing ------------------------------------------------------------------------------------


def test_a_forced_move_with_a_reason_passes_and_is_marked(service: Service) -> None:
    release = service.add_release("ledger", "1.0")
    moved = service.move(release.id, "staging", force=True, reason="hotfix for incident 4711")
    assert (moved.stage, moved.state) == ("staging", State.DEPLOYED)
    last = service.events(release.id)[-1]
    assert (last.action, last.from_, last.to, last.forced, last.reason) == (
        "moved",
        "planned",
        "staging",
        True,
        "hotfix for incident 4711",
    )


def test_force_on_a_move_that_passes_every_gate_is_not_marked_forced(service: Service) -> None:
    release = service.add_release("ledger", "1.0")
    service.move(release.id, "dev", force=True, reason="belt and braces")
    last = service.events(release.id)[-1]
    assert (last.forced, last.reason) == (False, "belt and braces")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_forced_move_needs_a_reason(service: Service, reason: str | None) -> None:
    release = service.add_release("ledger", "1.0")
    with pytest.raises(BadInput, match="reason"):
        service.move(release.id, "staging", force=True, reason=reason)
    assert service.release(release.id) == release
    assert len(service.events(release.id)) == 1


def test_force_overrides_a_freeze_and_missing_approval(service: Service) -> None:
    service.add_freeze(["prod"], "weekend", start=NOW - HOUR, end=NOW + HOUR)
    release = at_stage(service, "preprod")
    moved = service.move(release.id, "prod", force=True, reason="outage fix, CAB by phone")
    assert moved.stage == "prod"
    assert service.events(release.id)[-1].forced is True


# --- backwards ----------------------------------------------------------------------------------


def test_backwards_is_a_rollback_that_needs_a_reason(service: Service) -> None:
    release = at_stage(service, "test", State.DEPLOYED)
    with pytest.raises(BadInput, match="rollback and needs a reason"):
        service.move(release.id, "dev")
    assert service.release(release.id) == release

    back = service.move(release.id, "dev", reason="smoke tests red")
    assert (back.stage, back.state) == ("dev", State.DEPLOYED)
    last = service.events(release.id)[-1]
    assert (last.action, last.from_, last.to, last.forced, last.reason) == (
        "rolled_back",
        "test",
        "dev",
        False,
        "smoke tests red",
    )


def test_a_rollback_withdraws_approval(service: Service, open_service: Callable[..., Service]) -> None:
    release = at_stage(service, "prod", State.DEPLOYED, approver=open_service("bob"))
    assert release.approved_by == "bob"
    back = service.rollback(release.id, "error rate up")
    assert (back.stage, back.state, back.approved_by, back.approved_at) == ("preprod", State.DEPLOYED, None, None)
    service.verify(release.id)
    assert refused_gates(lambda: service.move(release.id, "prod"))[0] == ("approval",)


def test_rollback_to_planned_is_pending_and_can_jump_back_several_stages(service: Service) -> None:
    release = at_stage(service, "staging")
    back = service.rollback(release.id, "wrong build", stage="planned")
    assert (back.stage, back.state) == ("planned", State.PENDING)
    assert events_of(service, release.id)[-1] == ("rolled_back", "staging", "planned")


def test_rollback_rules(service: Service) -> None:
    release = service.add_release("ledger", "1.0")
    with pytest.raises(Refused, match="nothing to roll back"):
        service.rollback(release.id, "why not")
    service.move(release.id, "dev")
    with pytest.raises(BadInput, match="reason"):
        service.rollback(release.id, "  ")
    with pytest.raises(BadInput, match="earlier stage"):
        service.rollback(release.id, "forwards is not back", stage="test")


def test_moving_to_the_same_stage_or_an_unknown_one(service: Service) -> None:
    release = service.add_release("ledger", "1.0")
    with pytest.raises(Refused, match="already in planned"):
        service.move(release.id, "planned")
    with pytest.raises(BadInput, match="unknown stage 'qa'"):
        service.move(release.id, "qa")
    with pytest.raises(BadInput, match="no release with id 99"):
        service.move(99, "dev")


# --- approval and four eyes -----------------------------------------------------------------------


def test_four_eyes_the_owner_cannot_approve(service: Service, open_service: Callable[..., Service]) -> None:
    release = service.add_release("ledger", "1.0")  # owned by alice, the actor
    with pytest.raises(Refused, match="four-eyes"):
        service.approve(release.id)
    assert service.release(release.id).approved_by is None

    approved = open_service("bob").approve(release.id)
    assert (approved.approved_by, approved.approved_at) == ("bob", NOW)
    assert service.events(release.id)[-1].action == "approved"
    assert service.events(release.id)[-1].actor == "bob"


def test_four_eyes_off_lets_the_owner_approve(service: Service, open_service: Callable[..., Service]) -> None:
    # the board's admin turns it off (on a server, only the admin role may)
    open_service("admin").replace_board(default_environments(), [], BoardSettings(four_eyes=False))
    assert service.four_eyes() is False
    release = service.add_release("ledger", "1.0")
    assert service.approve(release.id).approved_by == "alice"


def test_an_approved_release_is_not_approved_twice(service: Service, open_service: Callable[..., Service]) -> None:
    release = service.add_release("ledger", "1.0", owner="carol")
    open_service("dave").approve(release.id)
    with pytest.raises(Refused, match="already approved by dave"):
        open_service("bob").approve(release.id)


def test_changing_what_is_released_withdraws_approval(service: Service, open_service: Callable[..., Service]) -> None:
    release = service.add_release("ledger", "1.0", owner="carol")
    open_service("dave").approve(release.id)
    assert service.edit_release(release.id, notes="just a note").approved_by == "dave"
    assert service.edit_release(release.id, version="1.0.1").approved_by is None


# --- verify, fail, cancel ----------------------------------------------------------------------------


def test_verify_rules(service: Service) -> None:
    release = service.add_release("ledger", "1.0")
    with pytest.raises(Refused, match="not deployed anywhere"):
        service.verify(release.id)
    service.move(release.id, "dev")
    verified = service.verify(release.id)
    assert verified.state is State.VERIFIED
    assert events_of(service, release.id)[-1] == ("verified", "deployed", "dev")
    with pytest.raises(Refused, match="already verified"):
        service.verify(release.id)


def test_fail_rules(service: Service) -> None:
    release = service.add_release("ledger", "1.0")
    with pytest.raises(Refused, match="nothing to mark failed"):
        service.fail(release.id)
    service.move(release.id, "dev")
    failed = service.fail(release.id, "migration timed out")
    assert failed.state is State.FAILED
    last = service.events(release.id)[-1]
    assert (last.action, last.reason) == ("failed", "migration timed out")
    with pytest.raises(Refused, match="already marked failed"):
        service.fail(release.id)
    # fixed in place and checked again: a failed release may be verified
    assert service.verify(release.id).state is State.VERIFIED


def test_a_cancelled_release_leaves_the_board_and_cannot_be_moved(service: Service) -> None:
    release = at_stage(service, "dev")
    cancelled = service.cancel(release.id, "superseded by 2.4.2")
    assert cancelled.state is State.CANCELLED
    assert release.id not in [r.id for r in service.releases()]
    assert release.id in [r.id for r in service.releases(include_cancelled=True)]
    assert service.events(release.id)[-1].action == "cancelled"

    actions: list[Callable[[], object]] = [
        lambda: service.move(release.id, "test"),
        lambda: service.move(release.id, "test", force=True, reason="please"),
        lambda: service.move(release.id, "planned", reason="back"),
        lambda: service.rollback(release.id, "back"),
        lambda: service.verify(release.id),
        lambda: service.fail(release.id),
        lambda: service.approve(release.id),
        lambda: service.cancel(release.id),
        lambda: service.schedule(release.id, "test", NOW, NOW + HOUR),
    ]
    for action in actions:
        with pytest.raises(Refused, match="cancelled"):
            action()
    assert service.release(release.id) == cancelled


# --- the pure check -------------------------------------------------------------------------------


def release_in(stage: str, state: State, approved_by: str | None = None) -> Release:
    return Release(
        id=1,
        name="ledger",
        version="1.0",
        components=("ledger",),
        owner="alice",
        risk=Risk.LOW,
        stage=stage,
        state=state,
        approved_by=approved_by,
        approved_at=NOW if approved_by else None,
        notes="",
        created_at=NOW,
        updated_at=NOW,
        rev=1,
    )


def test_check_move_directions() -> None:
    envs = default_environments()
    verified_in_test = release_in("test", State.VERIFIED)
    assert gates.check_move(verified_in_test, "staging", envs, [], NOW).allowed
    assert gates.check_move(verified_in_test, "staging", envs, [], NOW).direction is gates.Direction.FORWARD
    assert gates.check_move(verified_in_test, "test", envs, [], NOW).direction is gates.Direction.STAY
    assert not gates.check_move(verified_in_test, "test", envs, [], NOW).allowed
    back = gates.check_move(verified_in_test, "planned", envs, [], NOW)
    assert (back.direction, back.failures) == (gates.Direction.BACKWARD, ())
    skip = gates.check_move(verified_in_test, "prod", envs, [], NOW)
    assert skip.direction is gates.Direction.SKIP
    assert [f.gate for f in skip.failures] == ["skip", "approval"]


def test_check_move_only_counts_freezes_covering_the_target() -> None:
    envs = default_environments()
    release = release_in("preprod", State.VERIFIED, approved_by="bob")
    elsewhere = Freeze(1, ("staging",), "elsewhere", start=NOW - HOUR, end=NOW + HOUR)
    here = Freeze(2, ("prod",), "weekend", start=NOW - HOUR, end=NOW + HOUR)
    everywhere = Freeze(3, ("all",), "year end", start=NOW - HOUR, end=NOW + 3 * HOUR)
    assert gates.check_move(release, "prod", envs, [elsewhere], NOW).allowed
    assert [f.gate for f in gates.check_move(release, "prod", envs, [elsewhere, here], NOW).failures] == ["frozen"]
    only = gates.check_move(release, "prod", envs, [everywhere, here], NOW).failures
    assert len(only) == 1 and "year end" in only[0].message


def test_approval_gate_follows_the_environment_setting() -> None:
    envs = [replace(e, requires_approval=e.name == "test") for e in default_environments()]
    release = release_in("dev", State.VERIFIED)
    assert [f.gate for f in gates.check_move(release, "test", envs, [], NOW).failures] == ["approval"]
    release_prod = release_in("preprod", State.VERIFIED)
    assert gates.check_move(release_prod, "prod", envs, [], NOW).allowed


def test_check_approval() -> None:
    release = release_in("dev", State.DEPLOYED)
    assert gates.check_approval(release, "bob", four_eyes=True) is None
    assert "four-eyes" in (gates.check_approval(release, "alice", four_eyes=True) or "")
    assert gates.check_approval(release, "alice", four_eyes=False) is None


def test_frozen_until_is_the_end_of_the_merged_cover(service: Service) -> None:
    # Two overlapping freezes: the environment is free when the later one ends, not the first.
    service.add_freeze(["dev"], "release train", start=NOW - HOUR, end=NOW + HOUR)
    service.add_freeze(["all"], "audit", start=NOW, end=NOW + 5 * HOUR)
    release = service.add_release("ledger", "1.0")
    _, message = refused_gates(lambda: service.move(release.id, "dev"))
    assert "dev is frozen until 2026-12-01 15:00 UTC (release train; audit)" in message
    # The board's column header says the same.
    dev = next(column for column in build_columns(service.snapshot(), "UTC") if column.stage == "dev")
    assert (dev.frozen_until, dev.frozen_reason) == ("15:00", "release train; audit")  # today, in few cells
