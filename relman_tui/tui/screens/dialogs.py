"""Modal dialogs: confirm, ask a reason, explain a refused move, pick a stage, edit and schedule, errors."""

from __future__ import annotations

from relman_tui.tui.screens.dialog_ask import (
    ConfirmDialog,
    ErrorDialog,
    HelpScreen,
    ReasonDialog,
    RefusedMoveDialog,
    StageList,
    StagePicker,
)
from relman_tui.tui.screens.dialog_base import Dialog, Saved, SavingDialog
from relman_tui.tui.screens.release_form import ReleaseForm
from relman_tui.tui.screens.schedule_dialog import ScheduleDialog, WindowChoice, read_window

__all__ = [
    "ConfirmDialog",
    "Dialog",
    "ErrorDialog",
    "HelpScreen",
    "ReasonDialog",
    "RefusedMoveDialog",
    "ReleaseForm",
    "Saved",
    "SavingDialog",
    "ScheduleDialog",
    "StageList",
    "StagePicker",
    "WindowChoice",
    "read_window",
]
