"""What undoes what (relman_tui.undo): the policy alone, and its steps run against a real service."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from conftest import NOW

from relman_tui.model import Release, Risk, State, Window
from relman_tui.service import Service
from relman_tui.undo import (
    CancelIt,
    Change,
    EditBack,
    MoveBack,
    ScheduleBack,
    Undo,
    UnscheduleIt,
    Write,
    undo_for,
)

STAGES = ["planned", "dev", "test", "prod"]
H = timedelta(hours=1)
BEFORE = Release(
    id=7,
    name="payments-api",
    version="2.4.1",
    components=("api",),
    owner="bob",
    risk=Risk.LOW,
    stage="dev",
    state=State.DEPLOYED,
    approved_by=None,
    approved_at=None,
    notes="",
    created_at=NOW,
    updated_at=NOW,
    rev=3,
)


def after(**changes: object) -> Release:
    return replace(BEFORE, rev=BEFORE.rev + 1, **changes)  # type: ignore[arg-type]


def test_an_added_release_is_undone_by_cancelling_it() -> None:
    added = replace(BEFORE, rev=1)
    assert undo_for(Change(Write.ADD), None, added, STAGES) == Undo("payments-api 2.4.1 created", CancelIt(7), rev=1)


def test_a_move_forward_is_undone_by_moving_back() -> None:
    undo = undo_for(Change(Write.MOVE, 7), BEFORE, after(stage="test"), STAGES)
    assert undo == Undo("payments-api 2.4.1 moved to test", MoveBack(7, "dev"), rev=4)


def test_a_rollback_is_not_undone_it_goes_forward_through_the_gates() -> None:
    for change in (Change(Write.MOVE, 7), Change(Write.ROLLBACK, 7)):
        undo = undo_for(change, BEFORE, after(stage="planned"), STAGES)
        assert undo.step is None
        assert undo.label == "the rollback of payments-api 2.4.1"
        assert undo.why_not == "move it forward again, through the gates"


def test_an_edit_is_undone_by_editing_every_field_back() -> None:
    edited = after(name="billing", version="3.0", components=("x",), owner="carol", risk=Risk.HIGH, notes="n")
    undo = undo_for(Change(Write.EDIT, 7), BEFORE, edited, STAGES)
    assert undo == Undo(
        "the edit of payments-api 2.4.1", EditBack(7, "payments-api", "2.4.1", ("api",), "bob", Risk.LOW, ""), rev=4
    )


def test_a_new_window_is_undone_by_removing_it_and_a_moved_one_by_putting_it_back() -> None:
    window = Window(7, "test", NOW, NOW + H)
    undo = undo_for(Change(Write.SCHEDULE, 7, "test"), BEFORE, after(windows=(window,)), STAGES)
    assert undo == Undo("payments-api 2.4.1 scheduled in test", UnscheduleIt(7, "test"), rev=4)
    had = replace(BEFORE, windows=(window,))
    for change in (Change(Write.SCHEDULE, 7, "test"), Change(Write.UNSCHEDULE, 7, "test")):
        undo = undo_for(change, had, after(), STAGES)
        assert undo == Undo("the window of payments-api 2.4.1 in test", ScheduleBack(7, "test", NOW, NOW + H), rev=4)


def test_verify_fail_approve_and_cancel_stay_in_the_log() -> None:
    words = {
        Write.VERIFY: "verified",
        Write.FAIL: "marked failed",
        Write.APPROVE: "approved",
        Write.CANCEL: "cancelled",
    }
    for write, word in words.items():
        undo = undo_for(Change(write, 7), BEFORE, after(), STAGES)
        assert undo == Undo(
            f"payments-api 2.4.1 {word}", None, "the audit log keeps it; make the opposite change yourself"
        )


def test_an_undo_step_is_a_logged_write_made_against_the_revision_given(service: Service) -> None:
    added = service.add_release("payments-api", "2.4.1", components=["api"], owner="bob")
    moved = service.move(added.id, "dev")
    undo = undo_for(Change(Write.MOVE, added.id), added, moved, service.stages())
    assert undo.step is not None and undo.step.change == Change(Write.MOVE, added.id)
    back = undo.step.run(service, undo.rev)
    assert back.stage == "planned"
    last = service.events(added.id)[-1]
    assert (last.action, last.reason) == ("rolled_back", "undo")
    edited = service.edit_release(back.id, rev=back.rev, name="billing", risk=Risk.HIGH)
    undo = undo_for(Change(Write.EDIT, added.id), back, edited, service.stages())
    assert undo.step is not None
    restored = undo.step.run(service, undo.rev)
    assert (restored.name, restored.risk, restored.components) == ("payments-api", Risk.LOW, ("api",))
    cancel = undo_for(Change(Write.ADD), None, restored, service.stages())
    assert cancel.step == CancelIt(restored.id)
    assert cancel.step.run(service, restored.rev).cancelled
